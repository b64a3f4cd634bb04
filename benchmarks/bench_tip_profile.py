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

    def trace(owner, attr: str, label: str, before=None, after=None, count=None) -> None:
        """Replace ``owner.attr`` by a wrapper that adds its time (and ``count(args, out)``
        calls, 1 by default) to ``label``; ``before``/``after`` print timeline lines."""
        inner = getattr(owner, attr)

        def wrapped(self, *a, **kw):
            if before is not None:
                before(self, *a)
            t = time.perf_counter()
            out = inner(self, *a, **kw)
            add(label, time.perf_counter() - t, count(a, out) if count else 1)
            if after is not None:
                after(self, a, out)
            return out

        setattr(owner, attr, wrapped)

    def leaves_done(self, a, out):
        for (g, _), v in zip(a[0], out):
            say(f"z3 {v.status:8} {S._brief(g, 150)}")

    trace(Checker, "close_leaves", "z3 leaves", after=leaves_done,
          count=lambda a, out: len(a[0]))
    trace(S.StrongLeaves, "close", "strong leaves",
          after=lambda self, a, v: say(f"cvc5-ind {getattr(v, 'status', 'skipped'):8} "
                                       f"{S._brief(a[1], 150)}"))
    trace(S.Search, "run", "searches",
          before=lambda self, goal: say(f"search start ({self.budget.wall_s:.1f} s) "
                                        f"{S._brief(goal, 150)}"),
          after=lambda self, a, r: say(f"search end: {'proved' if r.proved else r.reason}, "
                                       f"{r.stats.expanded} expanded"))
    trace(K.StuckLemmas, "__call__", "calculating lemmas")
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
