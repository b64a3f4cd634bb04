"""Theory exploration's effect on the prover: TIP problems proved with and without it.

    python benchmarks/bench_explore.py [DIR ...] [--budget 5] [--modes off,on] [--jobs 1]
                                       [--limit N] [--out rows.json] [--quiet]
                                       [--set FIELD=VALUE ...]

For every ``*.smt2`` file under each DIR (default: the native isaplanner and prod folders of
../shared/benchmarks/tip), ``prove_problem`` runs with ``ProverConfig(budget_s=B,
explore=False)`` and with ``explore=True`` (``--modes``), each job with its own one-worker z3
``SolverPool``.  Prints per folder and mode: proved / refuted / unknown, conjectures tried,
lemmas proved, and for ``on`` the problems it gained or lost against ``off``.

Run it from the repository root (or any directory without a ``solvers.py`` of its own): the
solver workers are fresh interpreters that import the repository's ``solvers`` package.  With
``--jobs 2`` two problems run at once; on a 2-core machine the timings then compete with each
other (and with anything else running), so compare modes within one run.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections import defaultdict
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TIP = ROOT.parent / "shared" / "benchmarks" / "tip" / "native"
DEFAULT_DIRS = [TIP / "isaplanner", TIP / "prod"]

_STATE: dict = {}


def _init(budget_s: float, overrides: dict) -> None:
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from ida_ns.solvers.pool import SolverPool

    _STATE["pool"] = SolverPool("z3", workers=1, timeout_s=1)
    _STATE["budget"] = budget_s
    _STATE["overrides"] = overrides


def _one(path: str, mode: str) -> dict:
    from ida_ns.errors import IdaNsError
    from ida_ns.logic.parser import parse_file
    from ida_ns.prover.prover import ProverConfig, prove_problem
    from ida_ns.prover.verify import Checker

    row = {"file": path, "folder": Path(path).parent.name, "mode": mode}
    t0 = time.perf_counter()
    try:
        problem = parse_file(path)
    except IdaNsError as e:
        row.update(status="error", reason=str(e)[:200], time_s=0.0)
        return row
    cfg = ProverConfig(budget_s=_STATE["budget"], explore=(mode == "on"), **_STATE["overrides"])
    if hasattr(Checker, "from_pool"):
        checker = Checker.from_pool(_STATE["pool"], leaf_timeout_s=cfg.leaf_timeout_s)
    else:
        checker = Checker(_STATE["pool"].prove_many, "z3", cfg.leaf_timeout_s)
    try:
        r = prove_problem(problem, checker, cfg)
    except Exception as e:  # a crash is a row, not a lost run
        row.update(status="error", reason=f"{type(e).__name__}: {e}"[:300],
                   time_s=round(time.perf_counter() - t0, 3))
        return row
    from ida_ns.logic.printer import print_term

    row.update(status=r.status, time_s=round(time.perf_counter() - t0, 3),
               tried=r.conjectures_tried, lemmas_proved=r.lemmas_proved,
               lemmas_used=[print_term(l) for l in r.lemmas])
    return row


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("dirs", nargs="*", type=Path, default=DEFAULT_DIRS)
    ap.add_argument("--budget", type=float, default=5.0, help="seconds per problem")
    ap.add_argument("--modes", default="off,on", help="comma list of off (no exploration), on")
    ap.add_argument("--jobs", type=int, default=1, help="problems run at once")
    ap.add_argument("--limit", type=int, default=0, help="first N files per folder")
    ap.add_argument("--out", default="", help="write all rows as JSON here")
    ap.add_argument("--quiet", action="store_true", help="no per-problem lines")
    ap.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE",
                    help="override a ProverConfig field (float), e.g. --set lemma_budget_s=1.0")
    args = ap.parse_args(argv)
    overrides = {}
    for item in args.set:
        k, _, v = item.partition("=")
        overrides[k] = float(v)
    modes = [m for m in args.modes.split(",") if m]
    if not set(modes) <= {"off", "on"}:
        ap.error(f"--modes must list off and/or on, got {args.modes!r}")
    tasks = []
    for d in args.dirs:
        files = sorted(str(p) for p in Path(d).glob("*.smt2"))
        if not files:
            ap.error(f"no .smt2 files in {d}")
        if args.limit:
            files = files[: args.limit]
        tasks += [(f, m) for f in files for m in modes]
    rows: list[dict] = []
    t0 = time.perf_counter()

    def report(row: dict) -> None:
        rows.append(row)
        if not args.quiet:
            extra = ""
            if row["mode"] == "on":
                extra = f" tried={row.get('tried', 0)} lemmas={row.get('lemmas_proved', 0)}"
                if row.get("lemmas_used"):
                    extra += " used: " + " | ".join(row["lemmas_used"])[:300]
            print(f"[{len(rows)}/{len(tasks)}] {row['mode']:3} {row['status']:8} "
                  f"{row['time_s']:5.2f}s {row['folder']}/{Path(row['file']).name}{extra}",
                  flush=True)

    if args.jobs <= 1:
        _init(args.budget, overrides)
        try:
            for f, m in tasks:
                report(_one(f, m))
        finally:
            _STATE["pool"].close()
    else:
        with ProcessPoolExecutor(args.jobs, initializer=_init,
                                 initargs=(args.budget, overrides)) as ex:
            for row in ex.map(_one, *zip(*tasks)):
                report(row)
    print(summary(rows, modes, time.perf_counter() - t0))
    if args.out:
        Path(args.out).write_text(json.dumps(rows, indent=1))
    return 0


def summary(rows: list[dict], modes: list[str], wall_s: float) -> str:
    by = defaultdict(list)
    for r in rows:
        by[(r["folder"], r["mode"])].append(r)
    lines = [f"{'folder':12} {'mode':4} {'n':>4} {'proved':>7} {'refuted':>8} {'unknown':>8} "
             f"{'error':>6} {'tried':>6} {'lemmas':>7}   (wall {wall_s:.0f}s)"]
    for folder in sorted({r["folder"] for r in rows}):
        for m in modes:
            rs = by[(folder, m)]
            c = defaultdict(int)
            for r in rs:
                c[r["status"]] += 1
            lines.append(f"{folder:12} {m:4} {len(rs):4} {c['proved']:7} {c['refuted']:8} "
                         f"{c['unknown']:8} {c['error']:6} "
                         f"{sum(r.get('tried', 0) for r in rs):6} "
                         f"{sum(r.get('lemmas_proved', 0) for r in rs):7}")
        if "off" in modes and "on" in modes:
            off = {r["file"] for r in by[(folder, "off")] if r["status"] == "proved"}
            on = {r["file"] for r in by[(folder, "on")] if r["status"] == "proved"}
            name = lambda fs: " ".join(sorted(Path(f).stem for f in fs)) or "-"  # noqa: E731
            lines.append(f"  gained with exploration: {name(on - off)}")
            lines.append(f"  lost with exploration:   {name(off - on)}")
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
