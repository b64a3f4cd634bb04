"""The consistency gate's figures: verdict counts and time on every TIP file, the termination
corpus, and the hostile-theory adversary.

    python benchmarks/bench_gate.py [--tip DIR] [--hostile N] [--timeout S]

Prints one line per TIP folder (consistent / inconsistent / unknown / error, total and max
seconds), the corpus against its manifest, and the hostile count with wrong "terminates"."""

from __future__ import annotations

import argparse
import collections
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tip", default=str(ROOT.parent.parent / "shared" / "benchmarks" / "tip"))
    ap.add_argument("--hostile", type=int, default=10_000)
    ap.add_argument("--timeout", type=float, default=10.0, help="seconds per file")
    ap.add_argument("--skip-tip", action="store_true")
    args = ap.parse_args()

    from ida_ns.gate import gate_file
    from ida_ns.testing.hostile_theories import hostile_theory_text, judge
    from ida_ns.solvers.pool import SolverPool

    tip = Path(args.tip)
    if not tip.exists():
        tip = Path("/work/shared/benchmarks/tip")
    with SolverPool("z3", workers=1, timeout_s=2.0) as pool:
        if not args.skip_tip and tip.exists():
            for folder in sorted(p for p in tip.glob("*/*") if p.is_dir()):
                counts: collections.Counter = collections.Counter()
                total = worst = 0.0
                unknown = []
                for f in sorted(folder.glob("*.smt2")):
                    t0 = time.perf_counter()
                    row = gate_file(f, pool.prove_many, args.timeout)
                    dt = time.perf_counter() - t0
                    total += dt
                    worst = max(worst, dt)
                    counts[row["status"]] += 1
                    if row["status"] != "consistent":
                        unknown.append(f"{f.name}: {row['status']}: {row['reason'][:150]}")
                print(f"{folder.relative_to(tip)}: n={sum(counts.values())} {dict(counts)} "
                      f"total {total:.1f}s max {worst:.2f}s", flush=True)
                for u in unknown:
                    print("   ", u)
        corpus = ROOT / "specs" / "termination"
        manifest = json.loads((corpus / "manifest.json").read_text())["files"]
        ok = bad = gaps = 0
        rechecked = recheck_fail = 0
        for name, spec in sorted(manifest.items()):
            row = gate_file(corpus / name, pool.prove_many, args.timeout)
            if row["status"] == "consistent" and row["evidence"]:
                # stable evidence: re-checked in a fresh solver process (check-proof's path)
                from ida_ns.gate import recheck_evidence
                from ida_ns.logic.parser import parse_file

                with SolverPool("z3", workers=1, timeout_s=2.0) as fresh:
                    fails = recheck_evidence(parse_file(corpus / name), row["evidence"],
                                             fresh.prove_many)
                rechecked += 1
                if fails:
                    recheck_fail += 1
                    print(f"   corpus {name}: evidence did not re-check: {fails[0][:150]}")
            if spec["expect"] == "refused":
                good = row["status"] != "consistent"
            else:
                good = row["status"] == "consistent"
                gaps += not good and not spec.get("reached")
            ok += good
            bad += not good and (spec["expect"] == "refused" or spec.get("reached"))
            if not good:
                print(f"   corpus {name}: {row['status']}: {row['reason'][:150]}")
        print(f"corpus: {ok}/{len(manifest)} as expected, {bad} regressions, "
              f"{gaps} known gaps (terminating, not reached); evidence re-checked in a fresh "
              f"process: {rechecked - recheck_fail}/{rechecked}", flush=True)
    t0 = time.perf_counter()
    wrong = term = 0
    for s in range(args.hostile):
        j = judge(hostile_theory_text(s)[0])
        wrong += j.wrong
        term += j.terminates
    print(f"hostile: {args.hostile} theories, {term} judged terminating (each evaluated on "
          f"small inputs under fuel), {wrong} wrong 'terminates' or tracebacks, "
          f"{time.perf_counter() - t0:.1f}s")
    return 1 if wrong else 0


if __name__ == "__main__":
    raise SystemExit(main())
