"""``ida-ns bench tip DIR``: a TIP folder through ida-ns, z3 direct and cvc5 with induction,
in the same run and with the same per-problem budget."""

from __future__ import annotations

import json
import os
import time
from collections import Counter
from pathlib import Path

_STATE: dict = {}


def _init(budget_s: float, cert_dir: str | None, systems: tuple[str, ...]) -> None:
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    from solvers.pool import SolverPool

    _STATE["budget"] = budget_s
    _STATE["cert_dir"] = cert_dir
    _STATE["pools"] = {}
    names = [n for s in systems for n in (("z3", "cvc5-ind") if s == "ida-ns" else (s,))]
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
    if system == "ida-ns":
        from .prover.certificate import save_certificate
        from .prover.prover import ProverConfig, prove_problem
        from .prover.verify import Checker

        pool = _STATE["pools"]["z3"]
        checker = Checker.from_pool(pool, leaf_timeout_s=0.25)
        strong = _STATE["pools"]["cvc5-ind"]
        result = prove_problem(problem, checker, ProverConfig(budget_s=budget * 0.97),
                               strong=("cvc5-ind", strong.prove_many))
        row.update(status=result.status, time_s=round(time.perf_counter() - t0, 4))
        if result.proof is not None:
            row["steps"] = result.proof.size()
            row["leaf_solvers"] = sorted({n.solver for n in result.proof.nodes()
                                          if not n.children and n.solver})
            row["lemmas"] = len(result.lemmas)
            if _STATE["cert_dir"]:
                cert = Path(_STATE["cert_dir"]) / (Path(path).parent.name + "__" +
                                                   Path(path).stem + ".json")
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
                  executor: str = "local", ray_address: str | None = None) -> list[dict]:
    files = sorted(str(p) for p in Path(folder).rglob("*.smt2"))
    if limit:
        files = files[:limit]
    if not files:
        raise SystemExit(f"no .smt2 files under {folder}")
    if cert_dir:
        Path(cert_dir).mkdir(parents=True, exist_ok=True)
    tasks = [(f, s) for f in files for s in systems]
    rows: list[dict] = []
    t0 = time.perf_counter()
    from .executors import make_executor

    with make_executor(executor, jobs, address=ray_address) as ex:
        results = ex.map_unordered(_one, tasks, init=_init,
                                   init_args=(budget_s, cert_dir, systems))
        for i, res in enumerate(results, 1):
            f, s = tasks[res.index]
            # a crashed job is a row, not a lost run (a lost worker was retried first)
            row = res.value if res.ok else {"file": f, "system": s, "status": "error",
                                            "time_s": budget_s, "reason": res.failure}
            if res.attempts > 1:
                row["attempts"] = res.attempts
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
    return "\n".join(lines)
