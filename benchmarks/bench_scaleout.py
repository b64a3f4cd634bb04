"""Scale-out figures: ``bench tip`` throughput with the local pool and with Ray, in one run, and
an estimate of TIP at 60 s per problem on a cluster, from the measured per-problem costs.

    python benchmarks/bench_scaleout.py DIR [--budget 2] [--jobs 2] [--limit N]
        [--systems ida-ns,z3,cvc5-ind] [--nodes 100] [--cores-per-node 2,32] [--json OUT]

Both executors run the same (problem, system) tasks with the same budget and the same number
of parallel jobs, one after the other; problems/s = problems / wall time of the whole bench
(pool or Ray start included).  The verdicts of the two runs are compared (they must agree,
except where a time budget decides: both counts are printed).  Ray must be installed
(``pip install 'ida-ns[ray]'``).

The cluster estimate: for each system, a measured share ``p`` of problems is settled (proved or
refuted) in a mean time ``t_settled``; at a 60 s budget an unsettled problem is charged the
full 60 s (an upper bound: some would settle between the measured budget and 60 s, and those
then cost less).  CPU-seconds for all of TIP = sum over systems of
``n * (p * t_settled + (1 - p) * 60)``; one task occupies one core, so the wall time on
``nodes * cores`` slots is about ``max(CPU-seconds / slots, 60 s)`` plus the per-task
scheduling overhead measured here (Ray wall minus local wall, per task, per wave of tasks)
plus one Ray start (measured here for a local Ray; joining a running cluster costs less).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ida_ns.bench import run_tip_bench  # noqa: E402

SETTLED = ("proved", "refuted")


def timed(folder: Path, executor: str, args) -> tuple[list[dict], float]:
    t0 = time.perf_counter()
    rows = run_tip_bench(folder, budget_s=args.budget, jobs=args.jobs, limit=args.limit,
                         systems=tuple(args.systems.split(",")), executor=executor)
    return rows, time.perf_counter() - t0


def per_system_costs(rows: list[dict]) -> dict[str, dict]:
    out = {}
    for s in sorted({r["system"] for r in rows}):
        rs = [r for r in rows if r["system"] == s]
        settled = [r["time_s"] for r in rs if r["status"] in SETTLED]
        out[s] = {"n": len(rs), "settled": len(settled),
                  "p_settled": len(settled) / len(rs) if rs else 0.0,
                  "t_settled_s": sum(settled) / len(settled) if settled else 0.0,
                  "mean_task_s": sum(r["time_s"] for r in rs) / len(rs) if rs else 0.0}
    return out


def estimate(costs: dict[str, dict], n_problems: int, budget_s: float, nodes: int,
             cores: int, overhead_s: float, start_s: float) -> dict:
    cpu_s = sum(n_problems * (c["p_settled"] * c["t_settled_s"] +
                              (1 - c["p_settled"]) * budget_s) for c in costs.values())
    tasks = n_problems * len(costs)
    slots = nodes * cores
    waves = -(-tasks // slots)
    wall = max(cpu_s / slots, budget_s) + waves * overhead_s + start_s
    return {"problems": n_problems, "tasks": tasks, "cpu_hours": cpu_s / 3600,
            "slots": slots, "wall_s": wall, "wall_min": wall / 60,
            "one_machine_like_this_h": cpu_s / 2 / 3600,
            # every task running the full budget: the bound no measurement can beat
            "worst_wall_min": (max(tasks * budget_s / slots, budget_s) + waves * overhead_s +
                               start_s) / 60}


def count_tip(root: Path) -> dict[str, int]:
    return {d.name: len(list(d.rglob("*.smt2"))) for d in sorted(root.iterdir()) if d.is_dir()}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("dir", help="a TIP folder (e.g. .../tip/native/isaplanner)")
    ap.add_argument("--budget", type=float, default=2.0)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--limit", type=int, default=None)
    ap.add_argument("--systems", default="ida-ns,z3,cvc5-ind")
    ap.add_argument("--nodes", type=int, default=100)
    ap.add_argument("--cores-per-node", default="2,32")
    ap.add_argument("--full-budget", type=float, default=60.0)
    ap.add_argument("--tip-root", default=None,
                    help="folder of all TIP folders to count (default: DIR's parent)")
    ap.add_argument("--json", default=None, help="write the figures here")
    args = ap.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    folder = Path(args.dir)

    from ida_ns.executors import make_executor

    local, t_local = timed(folder, "local", args)
    t0 = time.perf_counter()
    with make_executor("ray", args.jobs):  # started here so its start-up is timed apart
        t_start = time.perf_counter() - t0
        ray_rows, t_ray = timed(folder, "ray", args)
    n = len({r["file"] for r in local})
    tasks = len(local)
    v_local = {(r["file"], r["system"]): r["status"] for r in local}
    v_ray = {(r["file"], r["system"]): r["status"] for r in ray_rows}
    differ = sorted(k for k in v_local if v_local[k] != v_ray.get(k))
    print(f"\n== bench tip {folder.name}: {n} problems x {len(args.systems.split(','))} "
          f"systems, budget {args.budget:g}s, {args.jobs} jobs (machine shared with other "
          "jobs: wall times are noisy)")
    print(f"{'executor':16} {'wall s':>8} {'problems/s':>11} {'tasks/s':>8}  verdicts")
    for name, rows, t in (("local", local, t_local), ("ray", ray_rows, t_ray),
                          ("ray + its start", ray_rows, t_ray + t_start)):
        c = Counter(r["status"] for r in rows)
        print(f"{name:16} {t:8.1f} {n / t:11.3f} {tasks / t:8.3f}  {dict(sorted(c.items()))}")
    print(f"ray / local throughput: {t_local / t_ray:.3f} ({t_local / (t_ray + t_start):.3f} "
          f"counting the {t_start:.1f}s local Ray start)")
    t_l = {(r["file"], r["system"]): r["time_s"] for r in local}
    t_r = {(r["file"], r["system"]): r["time_s"] for r in ray_rows}
    near = [k for k in differ
            if max([t_l[k]] * (v_local[k] in SETTLED) +
                   [t_r.get(k, 0)] * (v_ray.get(k) in SETTLED) + [0]) >= 0.5 * args.budget]
    print(f"verdicts that differ: {len(differ)} ({len(near)} decided near the budget: the "
          "settled side took at least half of it)" +
          "".join(f"\n  {Path(f).name} {s}: local {v_local[(f, s)]} ({t_l[(f, s)]:.2f}s), "
                  f"ray {v_ray.get((f, s))} ({t_r.get((f, s), 0):.2f}s)" for f, s in differ))
    overhead = max(0.0, (t_ray - t_local) * args.jobs / tasks)
    print(f"Ray overhead per task (its start-up excluded): {overhead:.3f}s")

    costs = per_system_costs(local)
    print("\nper-problem costs (local run):")
    for s, c in costs.items():
        print(f"  {s:9} settled {c['settled']}/{c['n']} in {c['t_settled_s']:.2f}s mean; "
              f"mean task {c['mean_task_s']:.2f}s")
    root = Path(args.tip_root) if args.tip_root else folder.parent
    counts = count_tip(root)
    total = sum(counts.values())
    print(f"\nall of TIP here ({root}): {counts} = {total} problems; "
          f"{args.full_budget:g}s per problem, {len(costs)} systems; the measured shares "
          f"settled at {args.budget:g}s applied to every folder; unsettled charged the full "
          "budget")
    ests = []
    for cores in (int(c) for c in args.cores_per_node.split(",")):
        e = estimate(costs, total, args.full_budget, args.nodes, cores, overhead,
                     t_start)
        ests.append({"cores_per_node": cores, **e})
        print(f"  {args.nodes} nodes x {cores} cores: {e['tasks']} tasks, "
              f"{e['cpu_hours']:.1f} CPU-hours, wall about {e['wall_min']:.1f} min "
              f"(worst case, every task {args.full_budget:g}s: {e['worst_wall_min']:.1f} min; "
              f"this 2-core machine alone: {e['one_machine_like_this_h']:.1f} h)")
    if args.json:
        Path(args.json).write_text(json.dumps({
            "folder": str(folder), "problems": n, "tasks": tasks, "budget_s": args.budget,
            "jobs": args.jobs, "local_wall_s": t_local, "ray_wall_s": t_ray, "ray_start_s": t_start,
            "ratio_ray_over_local": t_local / t_ray, "differ": differ, "costs": costs,
            "rows": {"local": local, "ray": ray_rows},
            "tip_counts": counts, "estimates": ests}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
