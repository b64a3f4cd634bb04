"""Overhead of the ida-ns checking path against raw z3, on the same files in one run.

    python benchmarks/bench_checker.py [--tip DIR] [--timeout 0.3] [--workers 2]

For every ``*.smt2`` file under DIR (default: the TIP isaplanner folder of ../shared):

1. raw z3: ``z3.Solver(ctx=z3.Context())``, ``from_file``, ``check`` with the same timeout;
2. ida-ns in process: ``parse_file`` -> ``Query.from_problem`` -> z3 backend ``prove``;
3. ida-ns pool, 1 worker: the same through a worker process (pickling, pipes, hard limit);
   (1-3 run one after the other on each file, so machine load hits them alike)
4. ida-ns pool, N workers: ``prove_many`` over all queries (throughput);
5. repeated checks on cached theories: every query again through the warm pool, against raw
   z3 re-checking an already loaded solver (the prover's steady state);
6. optionally (``--cvc5``) the same pool path for cvc5 and cvc5-ind.

Prints wall times, the overhead ratio (target <= 1.3x), checks/s, and where verdicts differ.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections import Counter
from pathlib import Path

DEFAULT_TIP = (Path(__file__).resolve().parents[2] / "shared" / "benchmarks" / "tip" / "smtlib"
               / "isaplanner")


def raw_z3_one(f: str, timeout_s: float) -> str:
    import z3

    # A fresh context per file: from_file's define-fun-rec lives in the context, and a second
    # file defining ``++`` in the same one is an error.
    s = z3.Solver(ctx=z3.Context())
    s.set("timeout", int(timeout_s * 1000))
    try:
        s.from_file(f)  # z3's parser rejects some TIP names, e.g. a function ``&&``
    except z3.Z3Exception:
        return "error"
    # TIP smtlib files assert the negated goal: unsat = proved.
    return {"unsat": "proved", "sat": "refuted"}.get(str(s.check()), "unknown")


def interleaved(files: list[str], timeout_s: float):
    """Raw z3, in-process backend and a one-worker pool on each file in turn, so that load
    from other processes on the machine hits all three alike."""
    from ida_ns.logic.parser import parse_file
    from ida_ns.solvers import Query, SolverPool, get_backend

    backend = get_backend("z3")
    t = {"raw": 0.0, "in": 0.0, "parse": 0.0, "pool": 0.0}
    st: dict[str, list[str]] = {"raw": [], "in": [], "pool": []}
    queries = []
    with SolverPool("z3", workers=1, timeout_s=timeout_s) as pool:
        for f in files:
            t0 = time.perf_counter()
            st["raw"].append(raw_z3_one(f, timeout_s))
            t1 = time.perf_counter()
            q = Query.from_problem(parse_file(f))
            t2 = time.perf_counter()
            st["in"].append(backend.prove(q, timeout_s).status)
            t3 = time.perf_counter()
            st["pool"].append(pool.prove(Query.from_problem(parse_file(f))).status)
            t4 = time.perf_counter()
            t["raw"] += t1 - t0
            t["parse"] += t2 - t1
            t["in"] += t3 - t1
            t["pool"] += t4 - t3
            queries.append(q)
    return t, st, queries


def raw_z3_warm(files: list[str], timeout_s: float, skip: set[int]) -> tuple[float, int]:
    """Load each file once, then time only a second ``check``: the floor for cached work."""
    import z3

    total, n = 0.0, 0
    for i, f in enumerate(files):
        if i in skip:
            continue
        s = z3.Solver(ctx=z3.Context())
        s.set("timeout", int(timeout_s * 1000))
        s.from_file(f)
        s.check()
        t0 = time.perf_counter()
        s.check()
        total += time.perf_counter() - t0
        n += 1
    return total, n


def ours_pool(files: list[str], solver: str, workers: int, timeout_s: float):
    from ida_ns.logic.parser import parse_file
    from ida_ns.solvers import Query, SolverPool

    with SolverPool(solver, workers=workers, timeout_s=timeout_s) as pool:
        t0 = time.perf_counter()
        if workers == 1:
            out = [pool.prove(Query.from_problem(parse_file(f))).status for f in files]
        else:
            queries = [Query.from_problem(parse_file(f)) for f in files]
            out = [v.status for v in pool.prove_many(queries)]
        return time.perf_counter() - t0, out


def warm_pool(queries, timeout_s: float, skip: set[int]) -> tuple[float, int]:
    from ida_ns.solvers import SolverPool

    keep = [q for i, q in enumerate(queries) if i not in skip]
    with SolverPool("z3", workers=1, timeout_s=timeout_s) as pool:
        for q in keep:  # load every theory into the worker
            pool.prove(q)
        t0 = time.perf_counter()
        for q in keep:
            pool.prove(q)
        return time.perf_counter() - t0, len(keep)


def counts(statuses: list[str]) -> str:
    c = Counter(statuses)
    return " ".join(f"{k}={c[k]}" for k in ("proved", "refuted", "unknown") if c[k])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--tip", type=Path, default=DEFAULT_TIP, help="folder of .smt2 files")
    ap.add_argument("--timeout", type=float, default=0.3, help="seconds per check")
    ap.add_argument("--workers", type=int, default=2, help="workers for the throughput run")
    ap.add_argument("--limit", type=int, default=None, help="first N files only")
    ap.add_argument("--cvc5", action="store_true", help="also run cvc5 and cvc5-ind pools")
    args = ap.parse_args(argv)
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    if not args.tip.is_dir():
        print(f"no benchmark folder at {args.tip} (pass --tip DIR)", file=sys.stderr)
        return 2
    files = sorted(str(p) for p in args.tip.rglob("*.smt2"))[: args.limit]
    n, to = len(files), args.timeout
    import z3

    print(f"{n} files from {args.tip}, timeout {to:g} s per check, z3 "
          f"{z3.get_version_string()}, {os.cpu_count()} CPUs")

    t, st, queries = interleaved(files, to)
    t_raw, raw = t["raw"], st["raw"]
    t_pn, pooln = ours_pool(files, "z3", args.workers, to)

    def row(name: str, t: float, statuses: list[str]) -> None:
        print(f"  {name:<34} {t:8.2f} s  {t / t_raw:5.2f}x  {n / t:7.1f} checks/s  "
              f"{counts(statuses)}")

    print("wall time for all files (ratio against raw z3; first three interleaved per file):")
    row("raw z3 (from_file + check)", t_raw, raw)
    row("ida-ns in-process (parse+prove)", t["in"], st["in"])
    print(f"  {'  of which parsing':<34} {t['parse']:8.2f} s")
    row("ida-ns pool, 1 worker", t["pool"], st["pool"])
    row(f"ida-ns pool, {args.workers} workers (prove_many)", t_pn, pooln)
    diff = [(Path(f).name, a, b) for f, a, b in zip(files, raw, st["pool"]) if a != b]
    print(f"verdicts differing raw z3 vs pool: {len(diff)} {diff[:10]}")

    # Steady state: checks that finish quickly (no timeouts), theory already loaded.
    quick = {i for i, s in enumerate(raw) if s != "proved"}
    t_rw, k = raw_z3_warm(files, to, quick)
    t_pw, _ = warm_pool(queries, to, quick)
    if k:
        print(f"repeated checks on {k} loaded theories (solved ones): raw z3 "
              f"{1e3 * t_rw / k:.2f} ms/check, pool {1e3 * t_pw / k:.2f} ms/check "
              f"(+{1e3 * (t_pw - t_rw) / k:.2f} ms: pickling, pipe, push/pop), "
              f"{k / t_pw:.0f} checks/s")
    print(f"overhead ratio, one worker vs raw z3: {t['pool'] / t_raw:.2f}x (target <= 1.3x)")

    if args.cvc5:
        for solver in ("cvc5", "cvc5-ind"):
            t, st = ours_pool(files, solver, args.workers, to)
            row(f"{solver} pool, {args.workers} workers", t, st)
    return 0


if __name__ == "__main__":
    sys.exit(main())
