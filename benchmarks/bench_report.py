"""How fast the HTML report is written and opened: a generated run of N problems (default
1,000 and 5,000) is reported with ``write_run_report`` and opened in headless Chromium via the
DevTools protocol; printed: write time, file size, time to the page's ready mark, time for a
search to narrow the table, time to open a problem's tree.

    python benchmarks/bench_report.py [--problems 1000 5000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ida_ns.report.html import write_run_report  # noqa: E402
from ida_ns.report.synthetic import make_run  # noqa: E402
from ida_ns.testing.browser import Browser, find_chromium  # noqa: E402

READY = "document.body.dataset.ready === '1'"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--problems", type=int, nargs="+", default=[1000, 5000])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--repeat", type=int, default=3, help="page opens per size (median shown)")
    args = ap.parse_args()
    if find_chromium() is None:
        print("Chromium not found (apt-get install -y chromium)")
        return 1
    print(f"{'problems':>8} {'write s':>8} {'MB':>6} {'open+ready s':>13} {'search s':>9} "
          f"{'open tree s':>11} {'errors':>6}")
    with tempfile.TemporaryDirectory() as tmp, Browser() as b:
        for n in args.problems:
            run = make_run(Path(tmp) / f"run{n}", problems=n, rounds=args.rounds)
            out = Path(tmp) / f"r{n}.html"
            t0 = time.perf_counter()
            write_run_report(run, out)
            write_s = time.perf_counter() - t0
            opens, searches, trees = [], [], []
            for i in range(args.repeat):
                b.errors.clear()
                t0 = time.perf_counter()
                b.open(out.as_uri())
                b.wait_for(READY, timeout=120)
                opens.append(time.perf_counter() - t0)
                pid = f"gen_{(n // 2 + i):05d}"
                t0 = time.perf_counter()
                b.type_into("#search", pid)
                b.wait_for("document.querySelectorAll('#problems tr.row').length === 1",
                           timeout=120)
                searches.append(time.perf_counter() - t0)
                t0 = time.perf_counter()
                b.click("#problems tr.row")
                b.wait_for(f"document.getElementById('detail').textContent.includes('{pid}')",
                           timeout=120)
                trees.append(time.perf_counter() - t0)
            med = lambda xs: sorted(xs)[len(xs) // 2]  # noqa: E731
            print(f"{n:>8} {write_s:>8.2f} {out.stat().st_size / 1e6:>6.1f} {med(opens):>13.2f} "
                  f"{med(searches):>9.3f} {med(trees):>11.3f} {len(b.errors):>6}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
