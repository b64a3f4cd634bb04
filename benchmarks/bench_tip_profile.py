"""Where one TIP problem's prover time goes: a timeline and totals per component.

    python benchmarks/bench_tip_profile.py FILE [--budget 60] [--no-strong-root] [--timeline]

Runs ``prove_problem`` as ``bench tip`` does (one z3 worker, one cvc5-with-induction
worker, ``ProverConfig.for_budget``) and prints: the verdict and time, the attribution, the
seconds and calls spent in z3 leaves, in strong (cvc5-ind) leaves and the root attempt, in
calculating lemmas from stuck subgoals (testing included), and per search (the main search,
each lemma search, each re-search of the goal).  ``--timeline`` prints every leaf verdict and
search start/end with its time.  This is how prop_30 at 60 s was found to spend 56 of its 60 s
in failing leaves (z3 0.45 s, cvc5 1.05 s each) while the lemma it needed (``== x x``) was
never calculated.
"""

from __future__ import annotations

import argparse
import time
from contextlib import ExitStack


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("file")
    ap.add_argument("--budget", type=float, default=60.0)
    ap.add_argument("--no-strong-root", action="store_true")
    ap.add_argument("--timeline", action="store_true")
    args = ap.parse_args()

    from ida_ns.api import load_problem
    from ida_ns.limited import _start_pools
    from ida_ns.prover import search as S
    from ida_ns.prover import stuck as K
    from ida_ns.prover.prover import ProverConfig, prove_problem
    from ida_ns.prover.verify import Checker

    problem = load_problem(args.file)
    t0 = [0.0]
    tot: dict = {}

    def add(kind, dt, n=1):
        a = tot.setdefault(kind, [0, 0.0])
        a[0] += n
        a[1] += dt

    def say(text):
        if args.timeline:
            print(f"{time.perf_counter() - t0[0]:7.2f} {text[:200]}")

    close_leaves = Checker.close_leaves

    def traced_leaves(self, items, timeout=None):
        t = time.perf_counter()
        out = close_leaves(self, items, timeout)
        add("z3 leaves", time.perf_counter() - t, len(items))
        for (g, _), v in zip(items, out):
            say(f"z3 {v.status:8} {S._brief(g, 150)}")
        return out

    strong_close = S.StrongLeaves.close

    def traced_strong(self, checker, goal, lemmas, end):
        t = time.perf_counter()
        v = strong_close(self, checker, goal, lemmas, end)
        add("strong leaves", time.perf_counter() - t)
        say(f"cvc5-ind {getattr(v, 'status', 'skipped'):8} {S._brief(goal, 150)}")
        return v

    run = S.Search.run

    def traced_run(self, goal):
        t = time.perf_counter()
        say(f"search start ({self.budget.wall_s:.1f} s) {S._brief(goal, 150)}")
        r = run(self, goal)
        add("searches", time.perf_counter() - t)
        say(f"search end: {'proved' if r.proved else r.reason}, {r.stats.expanded} expanded")
        return r

    calc = K.StuckLemmas.__call__

    def traced_calc(self, goal):
        t = time.perf_counter()
        out = calc(self, goal)
        add("calculating lemmas", time.perf_counter() - t)
        return out

    Checker.close_leaves = traced_leaves
    S.StrongLeaves.close = traced_strong
    S.Search.run = traced_run
    K.StuckLemmas.__call__ = traced_calc
    with ExitStack() as stack:
        z3, strong = _start_pools(stack, ("z3", 1, args.budget), ("cvc5-ind", 1, args.budget))
        checker = Checker.from_pool(z3, leaf_timeout_s=0.25)
        cfg = ProverConfig.for_budget(args.budget, strong_root=not args.no_strong_root)
        t0[0] = time.perf_counter()
        res = prove_problem(problem, checker, cfg, strong=("cvc5-ind", strong.prove_many))
    wall = time.perf_counter() - t0[0]
    print(f"{args.file}: {res.status} in {wall:.2f} s (budget {args.budget:g} s)")
    if res.proof is not None:
        print("attribution:", res.attribution)
    print(f"lemmas proved {res.lemmas_proved}, conjectures tried {res.conjectures_tried}")
    for kind, (n, s) in tot.items():
        print(f"  {kind:20} {n:5} calls {s:8.2f} s")
    print("  (searches overlap the leaves inside them; the lemma searches are searches)")


if __name__ == "__main__":
    main()
