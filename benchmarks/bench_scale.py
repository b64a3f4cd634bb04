"""How the front end and the gate scale with the number of definitions.

Generated theories of N small recursive definitions over Nat (each calls the previous one;
``ida_ns.testing.budget_gen.many_defs``), N from 100 to 10,000 (about 1 MB of SMT-LIB at
10,000).  For each N: seconds spent reading + elaborating + monomorphising (``parse``), sort
checking (``sortcheck``) and the consistency gate's termination analysis (``gate``), each
phase in a fresh child process under a hard limit (a phase that blows it is reported, not
waited for).  The fitted growth exponent k of time ~ N^k (least squares on log-log, over the
sizes that finished) is printed per phase: k near 1 is linear.

    python benchmarks/bench_scale.py [--sizes 100,300,1000,3000,10000] [--limit 300]
        [--polymorphic] [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

PHASES = ("parse", "sortcheck", "gate")


def measure(path: str, upto: str) -> dict:
    """In the child: time the phases up to ``upto`` on ``path``."""
    from ida_ns.budget import phase
    from ida_ns.consistency import check_consistency
    from ida_ns.logic.parser import parse_file
    from ida_ns.logic.sortcheck import sortcheck_problem

    out = {}
    t = time.perf_counter()
    phase("parse")
    problem = parse_file(path)
    out["parse"] = time.perf_counter() - t
    out["defs"] = sum(len(g) for g in problem.theory.defs)
    if upto == "parse":
        return out
    t = time.perf_counter()
    phase("sortcheck")
    sortcheck_problem(problem)
    out["sortcheck"] = time.perf_counter() - t
    if upto == "sortcheck":
        return out
    t = time.perf_counter()
    phase("gate")
    rep = check_consistency(problem.theory)  # termination analysis only (no solver)
    out["gate"] = time.perf_counter() - t
    out["gate_status"] = rep.status
    return out


def fit(points: list[tuple[int, float]]) -> float | None:
    pts = [(math.log(n), math.log(max(t, 1e-4))) for n, t in points if t is not None]
    if len(pts) < 2:
        return None
    mx = sum(x for x, _ in pts) / len(pts)
    my = sum(y for _, y in pts) / len(pts)
    sxx = sum((x - mx) ** 2 for x, _ in pts)
    return sum((x - mx) * (y - my) for x, y in pts) / sxx if sxx else None


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="100,300,1000,3000,10000")
    ap.add_argument("--limit", type=float, default=300.0, help="hard seconds per size")
    ap.add_argument("--polymorphic", action="store_true",
                    help="definitions over a polymorphic list instead of Nat")
    ap.add_argument("--json", help="write the figures here")
    args = ap.parse_args(argv)
    from ida_ns.budget import run_limited
    from ida_ns.testing.budget_gen import many_defs, many_poly_defs

    sizes = [int(s) for s in args.sizes.split(",")]
    rows = []
    with tempfile.TemporaryDirectory() as d:
        print(f"{'N':>6} {'MB':>6} " + " ".join(f"{p:>10}" for p in PHASES) + "  (seconds)",
              flush=True)
        for n in sizes:
            text = many_poly_defs(n) if args.polymorphic else many_defs(n)
            path = os.path.join(d, f"defs_{n}.smt2")
            with open(path, "w") as f:
                f.write(text)
            o = run_limited("bench_scale:measure", (path, "gate"), wall_s=args.limit,
                            memory_mb=8192)
            row = {"n": n, "mb": round(len(text) / 1e6, 2)}
            if o.ok:
                row.update({k: (round(v, 4) if isinstance(v, float) else v)
                            for k, v in o.value.items()})
            else:
                row["failed"] = o.reason
                done = dict(o.phases)
                # phases that finished before the failure still count
                names = [p for p, _ in o.phases]
                for i, p in enumerate(names[:-1]):
                    row[p] = round(done[names[i + 1]] - done[p], 4)
            rows.append(row)
            cells = " ".join(f"{row[p]:10.3f}" if isinstance(row.get(p), float) else
                             f"{'-':>10}" for p in PHASES)
            print(f"{n:6} {row['mb']:6.2f} {cells}" +
                  (f"  FAILED: {row['failed']}" if "failed" in row else ""), flush=True)
    print("fitted growth exponent k (time ~ N^k):")
    fits = {}
    for p in PHASES:
        k = fit([(r["n"], r[p]) for r in rows if isinstance(r.get(p), float)])
        fits[p] = k
        print(f"  {p:10} " + (f"{k:.2f}" if k is not None else "n/a"))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"rows": rows, "exponents": fits}, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    sys.exit(main())
