"""``ida-ns bench tip DIR``: a TIP folder through ida-ns, z3 direct and cvc5 with induction,
in the same run and with the same per-problem budget."""

from __future__ import annotations

import json
import os
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

_STATE: dict = {}
# ida-ns, and the same without the root strong leaf (decomposition alone: the ablation as a
# system of its own, so that one run measures both)
IDA_SYSTEMS = ("ida-ns", "ida-ns-decomp")


def _init(budget_s: float, cert_dir: str | None, systems: tuple[str, ...],
          strong_root: bool = True, proxy: str | None = None) -> None:
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    from solvers.pool import SolverPool

    from .prover.lemma_store import LemmaStore

    _STATE["strong_root"] = strong_root
    _STATE["store"] = LemmaStore()  # lemmas persist across this worker's problems
    _STATE["policy"] = None
    if proxy and any(s in IDA_SYSTEMS for s in systems):
        from .prover.proxy_policy import proxy_policy_factory

        _STATE["policy"] = proxy_policy_factory(proxy)[1]
    _STATE["budget"] = budget_s
    _STATE["cert_dir"] = cert_dir
    _STATE["pools"] = {}
    names = [n for s in systems for n in (("z3", "cvc5-ind") if s in IDA_SYSTEMS else (s,))]
    for name in names:
        if name not in _STATE["pools"]:
            pool = SolverPool(name, workers=1, timeout_s=budget_s)
            pool.__enter__()
            _STATE["pools"][name] = pool


def _one(path: str, system: str) -> dict:
    from .errors import IdaNsError
    from .logic.parser import parse_file
    from .logic.sortcheck import sortcheck_problem

    t0 = time.perf_counter()
    budget = _STATE["budget"]
    row = {"file": path, "system": system}
    try:
        problem = parse_file(path)
        sortcheck_problem(problem)
    except IdaNsError as e:
        row.update(status="error", time_s=round(time.perf_counter() - t0, 4), reason=str(e))
        return row
    if system in IDA_SYSTEMS:
        from .prover.certificate import save_certificate
        from .prover.prover import ProverConfig, prove_problem
        from .prover.verify import Checker

        pool = _STATE["pools"]["z3"]
        checker = Checker.from_pool(pool, leaf_timeout_s=0.25)
        strong = _STATE["pools"]["cvc5-ind"]
        cfg = ProverConfig.for_budget(budget * 0.97, strong_root=_STATE["strong_root"]
                                      and system == "ida-ns")
        result = prove_problem(problem, checker, cfg, strong=("cvc5-ind", strong.prove_many),
                               store=_STATE["store"], policy=_STATE["policy"])
        row.update(status=result.status, time_s=round(time.perf_counter() - t0, 4))
        if result.proof is not None:
            row["steps"] = result.proof.size()
            row.update(result.attribution)  # closed_by, leaf_solvers, lemmas, proxy_steps
            if _STATE["cert_dir"]:
                tag = "" if system == "ida-ns" else "__" + system
                cert = Path(_STATE["cert_dir"]) / (Path(path).parent.name + "__" +
                                                   Path(path).stem + tag + ".json")
                save_certificate(cert, problem, result, "z3")
                row["certificate"] = str(cert)
        if hasattr(result.verdict, "reason"):
            row["reason"] = result.verdict.reason
        return row
    from solvers.query import Query

    pool = _STATE["pools"][system]
    v = pool.prove(Query.from_problem(problem), budget)
    row.update(status=v.status, time_s=round(time.perf_counter() - t0, 4))
    if hasattr(v, "reason"):
        row["reason"] = v.reason
    return row


def run_tip_bench(folder: Path, budget_s: float = 5.0, jobs: int = 2, out: str | None = None,
                  systems: tuple[str, ...] = ("ida-ns", "z3", "cvc5-ind"),
                  cert_dir: str | None = None, limit: int | None = None,
                  strong_root: bool = True, proxy: str | None = None) -> list[dict]:
    files = sorted(str(p) for p in Path(folder).rglob("*.smt2"))
    if limit:
        files = files[:limit]
    if not files:
        raise SystemExit(f"no .smt2 files under {folder}")
    if cert_dir:
        Path(cert_dir).mkdir(parents=True, exist_ok=True)
    if proxy:
        from .prover.proxy_policy import resolve_generation

        proxy = str(resolve_generation(proxy))  # a clear error before any worker starts
        print(f"ida-ns policy: proxy {proxy}, escalating to H", flush=True)
    tasks = [(f, s) for f in files for s in systems]
    rows: list[dict] = []
    t0 = time.perf_counter()
    with ProcessPoolExecutor(max_workers=jobs, initializer=_init,
                             initargs=(budget_s, cert_dir, systems, strong_root,
                                       proxy)) as ex:
        futs = {ex.submit(_one, f, s): (f, s) for f, s in tasks}
        for i, fut in enumerate(as_completed(futs), 1):
            f, s = futs[fut]
            try:
                row = fut.result()
            except Exception as e:  # a crashed job is a row, not a lost run
                row = {"file": f, "system": s, "status": "error", "time_s": budget_s,
                       "reason": f"{type(e).__name__}: {e}"}
            rows.append(row)
            print(f"[{i}/{len(tasks)}] {s:9} {row['status']:8} {row['time_s']:6.2f}s "
                  f"{Path(f).name}", flush=True)
    rows.sort(key=lambda r: (r["file"], r["system"]))
    if out:
        from .storage import atomic_write_json

        atomic_write_json(out, rows)
    print(summary_table(rows, systems, time.perf_counter() - t0))
    return rows


def summary_table(rows: list[dict], systems, wall_s: float) -> str:
    counts = {s: Counter(r["status"] for r in rows if r["system"] == s) for s in systems}
    n = len({r["file"] for r in rows})
    lines = [f"{'system':10} {'proved':>7} {'refuted':>8} {'unknown':>8} {'error':>6}   (n={n}, "
             f"wall {wall_s:.0f}s)"]
    for s in systems:
        c = counts[s]
        lines.append(f"{s:10} {c['proved']:7} {c['refuted']:8} {c['unknown']:8} {c['error']:6}")
    for s in systems:
        by = Counter(r["closed_by"] for r in rows if r["system"] == s and r.get("closed_by"))
        if by:
            lines.append(f"{s} proofs closed by: " + ", ".join(f"{k} {v}" for k, v in
                                                             sorted(by.items())))
    return "\n".join(lines)
