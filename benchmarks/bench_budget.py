"""Budgets on hostile-but-valid input: for each family of
:mod:`ida_ns.testing.budget_gen`, run ``ida-ns prove F --budget B`` and ``ida-ns check F
--timeout B`` as a user would (a subprocess each), and report the wall time over the budget,
the peak memory of the whole process tree (the command, its budgeted child and the solver
workers, summed, sampled every 20 ms), the exit code and the verdict line.  Then one ``bench tip`` over the
folder of all families, against the promise "within 2 x problems x budget / jobs".

    python benchmarks/bench_budget.py [--budget 5] [--memory-mb 4096] [--jobs 2]
        [--families tower,nested_lets,...] [--no-bench] [--json OUT]

Wall times are noisy on a shared machine; the ratios are what to read.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def tree_rss_mb(root: int) -> float:
    """Resident memory (MiB) of ``root`` and all its descendants, summed (Linux /proc)."""
    parent, rss = {}, {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as f:
                data = f.read()
        except OSError:
            continue
        fields = data[data.rfind(b")") + 2:].split()
        parent[int(name)], rss[int(name)] = int(fields[1]), int(fields[21])
    total = 0
    for pid in rss:
        p = pid
        while p and p != root and p in parent:
            p = parent[p]
        if p == root:
            total += rss[pid]
    return total * os.sysconf("SC_PAGE_SIZE") / 2**20


def run_cmd(args: list[str], limit_s: float) -> dict:
    """Run ``python -m ida_ns.cli ARGS``; wall time, peak RSS of the tree, exit code, output."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    t0 = time.perf_counter()
    with tempfile.TemporaryFile() as out:
        proc = subprocess.Popen([sys.executable, "-m", "ida_ns.cli", *args], env=env,
                                stdout=out, stderr=subprocess.STDOUT, cwd=ROOT)
        killed = False
        tree_peak = 0.0
        while True:
            pid, status, ru = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            tree_peak = max(tree_peak, tree_rss_mb(proc.pid))
            if time.perf_counter() - t0 > limit_s:
                proc.kill()
                killed = True
                pid, status, ru = os.wait4(proc.pid, 0)
                break
            time.sleep(0.02)
        proc.returncode = os.waitstatus_to_exitcode(status)
        wall = time.perf_counter() - t0
        out.seek(0)
        text = out.read().decode("utf-8", "replace")
    lines = [x for x in text.splitlines() if x.strip()]
    return {"wall_s": round(wall, 2), "peak_mb": round(max(ru.ru_maxrss / 1024, tree_peak), 1),
            "exit": proc.returncode, "killed_by_bench": killed,
            "line": (lines[0] if lines else "")[:160], "traceback": "Traceback" in text}


def main(argv=None) -> int:
    from ida_ns.testing.budget_gen import FAMILIES, write_family_files

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--budget", type=float, default=5.0)
    ap.add_argument("--memory-mb", type=int, default=4096)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--families", default=",".join(f.name for f in FAMILIES))
    ap.add_argument("--no-bench", action="store_true")
    ap.add_argument("--json", help="write the figures here")
    args = ap.parse_args(argv)
    names = args.families.split(",")
    fams = [f for f in FAMILIES if f.name in names]
    b = args.budget
    report = {"budget_s": b, "memory_mb": args.memory_mb, "rows": []}
    with tempfile.TemporaryDirectory() as d:
        paths = write_family_files(d, fams)
        print(f"{'family':20} {'command':7} {'exit':>4} {'wall s':>7} {'x budget':>8} "
              f"{'peak MB':>8}  verdict / reason", flush=True)
        for fam, path in zip(fams, paths):
            for cmd, extra in (("prove", ["--budget", str(b)]),
                               ("check", ["--timeout", str(b)])):
                r = run_cmd([cmd, str(path), *extra, "--memory-mb", str(args.memory_mb)],
                            limit_s=10 * b + 30)
                r.update(family=fam.name, command=cmd, ratio=round(r["wall_s"] / b, 2))
                report["rows"].append(r)
                flag = "  TRACEBACK" if r["traceback"] else ""
                print(f"{fam.name:20} {cmd:7} {r['exit']:4} {r['wall_s']:7.2f} "
                      f"{r['ratio']:8.2f} {r['peak_mb']:8.1f}  {r['line'][:90]}{flag}",
                      flush=True)
        worst = max(r["ratio"] for r in report["rows"])
        peak = max(r["peak_mb"] for r in report["rows"])
        print(f"worst wall/budget {worst:.2f} (promise: <= 2); peak memory {peak:.0f} MB "
              f"(cap {args.memory_mb} MB per process)")
        report["worst_ratio"], report["peak_mb"] = worst, peak
        if not args.no_bench:
            for systems in ("ida-ns", "ida-ns,z3,cvc5-ind"):
                out = Path(d) / f"bench-{systems.count(',')}.jsonl"
                r = run_cmd(["bench", "tip", d, "--budget", str(b), "--jobs", str(args.jobs),
                             "--systems", systems, "--json", str(out)],
                            limit_s=20 * b * len(fams))
                rows = [json.loads(x) for x in out.read_text().splitlines()
                        if '"summary"' not in x]
                k = systems.count(",") + 1
                promise = 2 * len(fams) * k * b / args.jobs
                print(f"bench tip ({systems}): {len(rows)} rows for {len(fams)} problems x {k} "
                      f"system(s), wall {r['wall_s']:.1f} s, promise <= {promise:.0f} s "
                      f"(2 x problems x systems x budget / jobs); peak {r['peak_mb']:.0f} MB; "
                      f"exit {r['exit']}", flush=True)
                report.setdefault("bench", []).append(
                    {"systems": systems, "rows": len(rows), "wall_s": r["wall_s"],
                     "promise_s": promise, "statuses": [x["status"] for x in rows]})
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
