"""``ida-ns bench tip DIR``: a TIP folder through ida-ns, z3 direct and cvc5 with induction,
in the same run and with the same per-problem budget.

Fair and robust by construction:

- every (problem, system) pair runs in its own fresh child process
  (:func:`ida_ns.budget.run_limited`) with fresh solvers: nothing a system or an earlier
  problem did can change an answer or its time.  The z3 and cvc5-ind baselines are exactly a
  user's run of the solver alone on the problem (same options, one fresh solver);
- a hard per-problem limit (``hard_limit_s``, default ``1.5 × budget + 2 s``, start-up
  included) and a memory cap
  cover every system: a runaway problem becomes a row with the reason and the phase, and the
  bench goes on;
- each row is appended to the JSON Lines output (fsynced) as soon as its problem ends; rows
  record the time actually spent (``time_s``: the work; ``wall_s``: including the child's
  start-up); a summary line ``{"summary": ...}`` closes the file.  A bench killed halfway keeps
  every finished row, and ``resume=True`` skips them.

Row fields: ``file``, ``system``, ``status`` (proved | refuted | unknown | error), ``time_s``
(time spent on the problem), ``wall_s`` (including the child's start-up), ``peak_mb`` (the
child's processes, summed, sampled), ``reason``; when a limit ended the problem, ``limit``
(timeout | memory | crash) and ``phase`` (parse, sortcheck, solver start-up, gate, random
testing, strong root, exploration, search, lemma exploration, solver NAME, ...); for ida-ns
proofs ``steps``, ``leaf_solvers``, ``lemmas`` and ``certificate``.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

from .budget import DEFAULT_MEMORY_MB, STARTUP_GRACE_S, kill_all, phase, run_limited
from .errors import IdaNsError

SYSTEMS = ("ida-ns", "ida-ns-decomp", "z3", "cvc5-ind", "cvc5")
# ida-ns, and the same without the root strong leaf (decomposition alone: the ablation as a
# system of its own, so that one run measures both)
IDA_SYSTEMS = ("ida-ns", "ida-ns-decomp")


class BenchError(IdaNsError):
    """Bad bench arguments or an unreadable output file to resume from."""


def _task(path: str, system: str, budget_s: float, cert_dir: str | None,
          strong_root: bool = True, proxy: str | None = None,
          lemma_library: str | None = None) -> dict:
    """One problem through one system, in a fresh budgeted child (see :func:`run_tip_bench`)."""
    from .logic.parser import parse_file
    from .logic.sortcheck import sortcheck_problem

    t0 = time.perf_counter()
    row: dict = {"file": path, "system": system}

    def finish(**kw) -> dict:
        row.update(kw)
        row["time_s"] = round(time.perf_counter() - t0, 4)
        return row

    try:
        phase("parse")
        problem = parse_file(path)
        phase("sortcheck")
        sortcheck_problem(problem)
    except IdaNsError as e:
        return finish(status="error", reason=str(e))
    except OSError as e:
        return finish(status="error", reason=f"{path}: cannot read: {e.strerror or e}")
    if system in IDA_SYSTEMS:
        return _ida_ns(problem, path, budget_s, cert_dir, row, finish,
                       time.perf_counter() - t0, system,
                       strong_root and system == "ida-ns", proxy,
                       _library_file(lemma_library, system))
    from ida_ns.solvers import get_backend
    from ida_ns.solvers.query import Query

    phase(f"solver {system}")
    v = get_backend(system).prove(Query.from_problem(problem), budget_s)
    return finish(status=v.status, **({"reason": v.reason} if hasattr(v, "reason") else {}))


def _library_file(base: str | None, system: str) -> str | None:
    """The lemma library file of ``system`` (one per system: ida-ns and ida-ns-decomp must
    not feed each other)."""
    if not base:
        return None
    return base if system == "ida-ns" else f"{base}.{system}"


def _ida_ns(problem, path, budget_s, cert_dir, row, finish, spent, system="ida-ns",
            strong_root=True, proxy=None, library_file=None) -> dict:
    from .prover.certificate import save_certificate
    from .prover.prover import ProverConfig, prove_problem
    from .prover.verify import Checker

    from contextlib import ExitStack

    from .limited import _start_pools

    phase("solver start-up")
    with ExitStack() as stack:
        z3, strong = _start_pools(stack, ("z3", 1, budget_s), ("cvc5-ind", 1, budget_s))
        checker = Checker.from_pool(z3, leaf_timeout_s=0.25)
        # The budget is for proving, as for the baselines (whose solver gets the whole budget
        # after its import): parsing counts, starting the solver workers does not.
        left = budget_s - spent
        policy = None
        if proxy:
            from .prover.proxy_policy import proxy_policy_factory

            phase("proxy start-up")
            policy = proxy_policy_factory(proxy)[1]
        store = None
        if library_file:
            from .prover.lemma_store import LemmaStore

            phase("lemma library")
            store = LemmaStore.load(library_file)
        phase("prove")
        cfg = ProverConfig.for_budget(max(0.1, left * 0.97), strong_root=strong_root)
        result = prove_problem(problem, checker, cfg, strong=("cvc5-ind", strong.prove_many),
                               policy=policy, store=store)
    finish(status=result.status)
    if store is not None:
        row["library"] = {"loaded": store.loaded, "replayed": store.replayed,
                          "failed": store.failed}
    if result.proof is not None:
        row["steps"] = result.proof.size()
        row.update(result.attribution)  # closed_by, leaf_solvers, lemmas, proxy_steps
        if cert_dir:
            phase("certificate")
            tag = "" if system == "ida-ns" else "__" + system
            cert = Path(cert_dir) / (Path(path).parent.name + "__" + Path(path).stem + tag
                                     + ".json")
            save_certificate(cert, problem, result, "z3")
            row["certificate"] = str(cert)
    if hasattr(result.verdict, "reason"):
        row["reason"] = result.verdict.reason
    return row


def read_rows(path: str | Path) -> list[dict]:
    """The finished rows of a JSON Lines bench output (summary lines and a torn last line
    from a killed bench are skipped)."""
    rows = []
    p = Path(path)
    if not p.exists():
        return rows
    with open(p, encoding="utf-8") as f:
        lines = f.read().split("\n")
    for i, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError:
            if i >= len(lines) - 1:  # the last line, torn by a kill
                continue
            raise BenchError(f"{path}:{i}: not a JSON Lines bench output "
                             f"(line is not JSON: {line[:60]!r})") from None
        if not isinstance(obj, dict):
            raise BenchError(f"{path}:{i}: not a JSON Lines bench output (expected objects, "
                             f"one per line)")
        if "file" in obj and "system" in obj:
            rows.append(obj)
    return rows


def run_tip_bench(folder: Path, budget_s: float = 5.0, jobs: int = 2, out: str | None = None,
                  systems: tuple[str, ...] = ("ida-ns", "z3", "cvc5-ind"),
                  cert_dir: str | None = None, limit: int | None = None,
                  hard_limit_s: float | None = None,
                  memory_mb: int | None = DEFAULT_MEMORY_MB,
                  resume: bool = False, quiet: bool = False, executor: str = "local",
                  ray_address: str | None = None, strong_root: bool = True,
                  proxy: str | None = None, lemma_library: str | None = None
                  ) -> list[dict]:
    """Run the bench; returns every row (resumed ones included).  ``executor`` is where the
    (problem, system) tasks run: ``local`` (threads here, each starting a budgeted child) or
    ``ray`` (each task a Ray task that starts its budgeted child on its node; a lost worker
    costs that task a retry)."""
    bad = [s for s in systems if s not in SYSTEMS]
    if bad or not systems:
        raise BenchError(f"unknown system(s) {', '.join(bad) or '(none)'}; "
                         f"choose from {', '.join(SYSTEMS)}")
    if budget_s <= 0 or jobs < 1:
        raise BenchError(f"--budget must be positive and --jobs at least 1 "
                         f"(got {budget_s:g}, {jobs})")
    folder = Path(folder)
    if not folder.is_dir():
        raise BenchError(f"{folder}: not a folder")
    files = sorted(str(p) for p in folder.rglob("*.smt2"))
    if limit:
        files = files[:limit]
    if not files:
        raise BenchError(f"no .smt2 files under {folder}")
    if cert_dir:
        Path(cert_dir).mkdir(parents=True, exist_ok=True)
    if proxy:
        from .prover.proxy_policy import resolve_generation

        proxy = str(resolve_generation(proxy))  # a clear error before any task starts
        if not quiet:
            print(f"ida-ns policy: proxy {proxy}, escalating to H", flush=True)
    if lemma_library:
        lib = Path(lemma_library)
        if not lib.parent.is_dir() or lib.is_dir():
            raise BenchError(f"{lemma_library}: cannot keep the lemma library there (no such "
                             f"folder, or it is a folder)")
        if not resume:  # a fresh run starts from an empty library
            for system in IDA_SYSTEMS:
                Path(_library_file(str(lib), system)).unlink(missing_ok=True)
        lemma_library = str(lib.resolve())
    extra = (strong_root, proxy, lemma_library)
    hard = hard_limit_s if hard_limit_s is not None else 1.5 * budget_s + STARTUP_GRACE_S
    done: list[dict] = []
    if out:
        if not Path(out).parent.is_dir() or Path(out).is_dir():
            raise BenchError(f"{out}: cannot write the rows there (no such folder, or it is a "
                             f"folder)")
        if resume:
            done = read_rows(out)
            _drop_torn_tail(out)
        elif Path(out).exists():
            Path(out).unlink()
    finished = {(r["file"], r["system"]) for r in done}
    tasks = [(f, s) for f in files for s in systems if (f, s) not in finished]
    rows: list[dict] = list(done)
    lock = threading.Lock()
    t0 = time.perf_counter()

    def one(f: str, s: str) -> dict:
        return limited_row(f, s, budget_s, cert_dir, hard, memory_mb, *extra)

    if resume and done and not quiet:
        print(f"resuming: {len(done)} finished rows kept, {len(tasks)} to run", flush=True)
    if executor != "local":
        results = _remote_rows(executor, ray_address, jobs, tasks, budget_s, cert_dir, hard,
                               memory_mb, extra)
    ex = ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="ida-ns-bench")
    try:
        if executor == "local":
            futs = {ex.submit(one, f, s): (f, s) for f, s in tasks}
            results = ((futs[fut], fut) for fut in as_completed(futs))
        for i, ((f, s), fut) in enumerate(results, 1):
            try:
                row = fut.result()
            except Exception as e:  # no child could be started: still a row
                row = {"file": f, "system": s, "status": "error", "time_s": 0.0,
                       "reason": f"{type(e).__name__}: {e}"}
            with lock:
                rows.append(row)
                if out:
                    from .storage import append_line_durable

                    append_line_durable(out, json.dumps(row, sort_keys=True))
            if not quiet:
                print(f"[{i}/{len(tasks)}] {s:9} {row['status']:8} {row['time_s']:6.2f}s "
                      f"{Path(f).name}", flush=True)
    except BaseException:  # Ctrl-C: finished rows are on disk; stop everything else now
        ex.shutdown(wait=False, cancel_futures=True)
        for _ in range(50):  # a thread may have started one more child meanwhile
            if not kill_all():
                break
            time.sleep(0.1)
        raise
    ex.shutdown()
    wall = time.perf_counter() - t0
    rows.sort(key=lambda r: (r["file"], r["system"]))
    if out:
        from .storage import append_line_durable

        summary = {s: dict(Counter(r["status"] for r in rows if r["system"] == s))
                   for s in systems}
        append_line_durable(out, json.dumps({"summary": summary, "n": len(files),
                                             "budget_s": budget_s, "jobs": jobs,
                                             "hard_limit_s": hard,
                                             "wall_s": round(wall, 2)}, sort_keys=True))
    if not quiet:
        print(summary_table(rows, systems, wall))
    return rows


def limited_row(f: str, s: str, budget_s: float, cert_dir: str | None, hard: float,
                memory_mb: int | None, strong_root: bool = True,
                proxy: str | None = None, lemma_library: str | None = None) -> dict:
    """One (problem, system) task: a fresh budgeted child, its row (a limit is a row too)."""
    o = run_limited("ida_ns.bench:_task", (f, s, budget_s, cert_dir, strong_root, proxy,
                                           lemma_library),
                    wall_s=hard, memory_mb=memory_mb)
    if o.ok:
        row = dict(o.value)
    else:
        row = {"file": f, "system": s, "status": "error" if o.kind == "error" else
               "unknown", "reason": o.reason, "time_s": round(o.time_s, 4),
               "phase": o.phase, "limit": o.kind}
    row["wall_s"] = round(o.time_s, 4)
    if o.peak_mb is not None:
        row["peak_mb"] = o.peak_mb
    return row


class _Done:
    """A finished remote task in the shape of a future (``result()``)."""

    def __init__(self, res, f: str, s: str):
        self.res, self.f, self.s = res, f, s

    def result(self) -> dict:
        if self.res.ok:
            row = dict(self.res.value)
        else:  # a task that failed on every attempt: still a row
            row = {"file": self.f, "system": self.s, "status": "error", "time_s": 0.0,
                   "reason": self.res.failure}
        if self.res.attempts > 1:
            row["attempts"] = self.res.attempts
        return row


def _remote_rows(executor: str, address, jobs: int, tasks, budget_s, cert_dir, hard,
                 memory_mb, extra=()):
    """Yield ``((file, system), future-like)`` as tasks finish on a remote executor."""
    from .executors import make_executor

    with make_executor(executor, jobs, address=address) as ex:
        args = [(f, s, budget_s, cert_dir, hard, memory_mb, *extra) for f, s in tasks]
        for res in ex.map_unordered(limited_row, args):
            f, s = tasks[res.index]
            yield (f, s), _Done(res, f, s)


def _drop_torn_tail(path: str | Path) -> None:
    """Cut a last line without its newline (a kill mid-write) so appends start clean."""
    p = Path(path)
    if not p.exists():
        return
    data = p.read_bytes()
    if data and not data.endswith(b"\n"):
        cut = data.rfind(b"\n") + 1
        with open(p, "r+b") as f:
            f.truncate(cut)
            f.flush()
            os.fsync(f.fileno())


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
