"""What a run's proxy memory offers on its held-out goals: the per-goal diagnosis.

    python benchmarks/bench_ida_memory.py RUN_DIR [--gen N] [--round R]

For every held-out goal of the run's evaluation round R (default: the last one evaluated) it
prints H alone / proxy+H / proxy alone (status and nodes, from ``RUN/eval/round-R.json``),
and what generation N's lemma memory (default: the generation evaluated in round R) offers at
the goal's root: the memory lemmas that apply (fingerprint match) and parse as steps of the
goal, and whether the recall table holds the root goal.  Then the memory's size by origin and
the recall table's size.  Reads files only (no solver calls, no search).
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("run", type=Path)
    ap.add_argument("--gen", type=int, default=None)
    ap.add_argument("--round", type=int, default=None)
    args = ap.parse_args(argv)

    from ida_ns.errors import IdaNsError
    from ida_ns.policies import goal_prompt
    from ida_ns.prover.goal import Goal
    from ida_ns.prover.steps import parse_step
    from ida_ns.proxy.candidates import LemmaMemory
    from ida_ns.sources import load_sources
    from ida_ns.storage import read_json

    evals = sorted((args.run / "eval").glob("round-*.json"))
    if not evals:
        raise SystemExit(f"{args.run}: no eval/round-*.json (is this a run directory?)")
    r = args.round if args.round is not None else int(evals[-1].stem.split("-")[1])
    rows = json.loads((args.run / "eval" / f"round-{r:03d}.json").read_text())
    gen = args.gen if args.gen is not None else r
    gdir = args.run / "proxies" / f"gen-{gen:03d}"
    memory = LemmaMemory.load(gdir) if gdir.is_dir() else LemmaMemory()
    cfg = read_json(args.run / "config.json")
    held = {sp.id: sp for sp in load_sources(cfg["heldout"], cfg["heldout_limit"], cfg["seed"])}
    by = {}
    for row in rows:
        by.setdefault(row["problem"], {})[row["policy"]] = row
    print(f"{args.run}: round {r}, memory of {gdir.name}: {len(memory)} lemmas "
          f"({dict(Counter(e.get('origin', '?') for e in memory.entries))}), recall table "
          f"{len(memory.recall)} goals")
    print(f"{'goal':16} {'H':>9} {'proxy+H':>9} {'proxy':>9} {'offered':>7} {'recall':>6}  "
          "first lemmas offered")
    for pid, pols in sorted(by.items()):
        cells = []
        for pol in ("H", "proxy+H", "proxy"):
            x = pols.get(pol)
            cells.append(f"{x['status'][:7]}/{x['nodes']}" if x else "-")
        offered, recall = [], False
        sp = held.get(pid)
        if sp is not None:
            try:
                p = sp.problem()
                g = Goal(p.theory, p.goal)
                for t in memory.candidates(g):
                    try:
                        parse_step(t, g)
                        offered.append(t[len("lemma "):])
                    except (IdaNsError, RecursionError):
                        continue
                recall = bool(memory.recalled(*goal_prompt(g)))
            except IdaNsError:
                pass
        print(f"{pid:16} {cells[0]:>9} {cells[1]:>9} {cells[2]:>9} {len(offered):>7} "
              f"{'yes' if recall else 'no':>6}  " + " | ".join(o[:70] for o in offered[:2]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
