"""Safety campaigns and conformance throughput, printed as figures.

    python benchmarks/bench_safety.py [--n 90] [--budget 1.0]

1. hostile theories (ida_ns.safety) through ida-ns's own pipeline and through cvc5 with
   induction run directly on each problem (no consistency gate): tried / accepted per family
   (every goal is a non-theorem, so each acceptance is unsound);
2. hostile steps offered to the step rule (parse_step + apply_step) and to an accept-all
   checker;
3. conformance: inputs checked per second by ``conforms`` (insertion sort vs the TIP-style
   isort spec of examples/pbt) and the size of the shrunk input for the buggy reverse.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=90, help="hostile theories per verifier")
    ap.add_argument("--budget", type=float, default=1.0, help="ida-ns seconds per problem")
    args = ap.parse_args()

    from ida_ns.logic.parser import parse_text
    from ida_ns.safety import check_step_checker, check_verifier, ida_ns_verifier
    from ida_ns.solvers import Query, get_backend

    verify = ida_ns_verifier(budget_s=args.budget)
    try:
        print(check_verifier(verify, n=args.n).render())
    finally:
        verify.close()
    cvc5 = get_backend("cvc5-ind")

    def cvc5_direct(text: str):
        return cvc5.prove(Query.from_problem(parse_text(text)), args.budget)

    print(check_verifier(cvc5_direct, n=args.n).render())

    from ida_ns.prover.goal import Goal
    from ida_ns.prover.steps import StepError, apply_step, parse_step

    p = parse_text((ROOT / "examples/pbt/reverse.smt2").read_text())
    goal = Goal(p.theory, p.goal)

    def step_rule(goal_text: str, step: str) -> bool:
        try:
            apply_step(parse_step(step, goal), goal)
            return True
        except StepError:
            return False

    print(check_step_checker(step_rule, goal, n=500).render())
    print(check_step_checker(lambda g, s: True, goal, n=500, target="accept-all").render())

    import sys

    sys.path.insert(0, str(ROOT / "examples/pbt"))
    from insertion_sort import insertion_sort
    from list_reverse import reverse_off_by_one

    from ida_ns.hypothesis import NonConformance, conforms

    t0 = time.perf_counter()
    n = conforms(insertion_sort, ROOT / "examples/pbt/sorting.smt2", "isort",
                 max_examples=500).examples
    dt = time.perf_counter() - t0
    print(f"conforms(insertion_sort, isort): {n} inputs in {dt:.2f}s ({n / dt:.0f}/s)")
    t0 = time.perf_counter()
    try:
        conforms(reverse_off_by_one, ROOT / "examples/pbt/reverse.smt2", "rev")
    except NonConformance as e:
        print(f"buggy reverse: shrunk input {e.inputs} "
              f"(length {len(e.inputs[0])}) in {time.perf_counter() - t0:.2f}s")


if __name__ == "__main__":
    main()
