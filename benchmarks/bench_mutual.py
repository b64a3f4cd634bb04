"""Mutual / nested datatype induction (``induct x with C``) on ``specs/mutual_nested``.

Proves every file of ``specs/mutual_nested/{true,false}`` with the overseer H (theory
exploration on, root strong leaf off, so decomposition alone is measured), once as shipped and
once with the overseer's companion derivation switched off (it then never proposes the new
step: the ablation), each variant in its own process.  Prints one row per file and the
counts; every proof's certificate is re-checked, and a proof of a ``false/`` goal is counted
(it must stay 0).

    python benchmarks/bench_mutual.py [--budget 5] [--dir specs/mutual_nested]

Figures are wall-clock on whatever machine runs it (2 shared cores here): compare variants
of one run only.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _run_variant(folder: Path, budget: float, mutual: bool) -> list[dict]:
    from ida_ns import check_certificate, prove
    import ida_ns.prover.overseer as overseer

    if not mutual:
        overseer.companion_properties = lambda goal, name: ()
    rows = []
    for f in sorted(folder.glob("*/*.smt2")):
        t0 = time.perf_counter()
        r = prove(str(f), budget_s=budget, strong_root=False)
        row = {"file": f"{f.parent.name}/{f.name}", "status": r.status,
               "time_s": round(time.perf_counter() - t0, 2), "mutual_steps": 0,
               "cert": None}
        if r.proved:
            row["mutual_steps"] = sum(" with " in line for line in r.render().splitlines()
                                      if "[induct " in line)
            row["cert"] = check_certificate(r.certificate(), problem=r.problem).ok
        rows.append(row)
        print(json.dumps(row), flush=True)
    return rows


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--budget", type=float, default=5.0)
    ap.add_argument("--dir", default=str(ROOT / "specs" / "mutual_nested"))
    ap.add_argument("--variant", choices=["with", "without"], help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    folder = Path(a.dir)
    if a.variant:
        _run_variant(folder, a.budget, a.variant == "with")
        return 0
    results = {}
    for variant in ("with", "without"):
        t0 = time.perf_counter()
        out = subprocess.run([sys.executable, __file__, "--variant", variant, "--budget",
                              str(a.budget), "--dir", str(folder)], capture_output=True,
                             text=True, check=True).stdout
        rows = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
        results[variant] = (rows, time.perf_counter() - t0)
    names = [r["file"] for r in results["with"][0]]
    by = {v: {r["file"]: r for r in rows} for v, (rows, _) in results.items()}
    print(f"{'file':40} {'with induct-with':>18} {'without':>10}")
    for n in names:
        w, o = by["with"][n], by["without"].get(n, {})
        print(f"{n:40} {w['status'] + ' ' + str(w['time_s']):>18} "
              f"{o.get('status', '-') + ' ' + str(o.get('time_s', '')):>10}")
    for v, (rows, wall) in results.items():
        true_rows = [r for r in rows if r["file"].startswith("true/")]
        false_rows = [r for r in rows if r["file"].startswith("false/")]
        proved = sum(r["status"] == "proved" for r in true_rows)
        bad_certs = [r["file"] for r in rows if r["cert"] is False]
        print(f"{v:8} new step: true proved {proved}/{len(true_rows)}, "
              f"false proved {sum(r['status'] == 'proved' for r in false_rows)}"
              f"/{len(false_rows)} (refuted {sum(r['status'] == 'refuted' for r in false_rows)}),"
              f" certificates failing {len(bad_certs)} {bad_certs or ''}, wall {wall:.0f} s "
              f"(budget {a.budget:g} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
