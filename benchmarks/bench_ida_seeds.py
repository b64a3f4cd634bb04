"""Per-round figures of IDA runs over several seeds: mean, spread (population sd), min..max.

    python benchmarks/bench_ida_seeds.py RUN_DIR...        # each an `ida-ns run --out` (or a
                                                            # --seeds parent holding seed-N/)

Prints one row per round: held-out solved by H alone, proxy+H, proxy alone (of the true
held-out goals), proxy+H / H alone, overrides per node, ECE, accepted-but-false, pairs kept;
then, per seed, the held-out proxy+H sequence (to see whether it ever falls).  Reads only
``metrics.jsonl``; the runs may still be in progress (rounds every seed has finished).
"""

from __future__ import annotations

import json
import statistics
import sys
from pathlib import Path

KEYS = (("heldout_H", "H alone"), ("heldout_solved", "proxy+H"),
        ("proxy_only_solved", "proxy alone"), ("overrides", "overrides/node"),
        ("ece", "ECE"), ("accepted_but_false", "acc-but-false"), ("pairs", "pairs"),
        ("train_solved", "train proved"))


def runs(paths: list[str]) -> dict[str, list[dict]]:
    out = {}
    for p in map(Path, paths):
        dirs = [p] if (p / "metrics.jsonl").exists() else sorted(p.glob("seed-*"))
        for d in dirs:
            f = d / "metrics.jsonl"
            if f.exists():
                out[str(d)] = [json.loads(line) for line in f.read_text().splitlines()
                               if line.strip()]
    return out


def fmt(vals: list[float]) -> str:
    if not vals:
        return "-"
    m, sd = statistics.fmean(vals), statistics.pstdev(vals)
    return f"{m:.2f} ± {sd:.2f} ({min(vals):g}..{max(vals):g})"


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__)
        return 3
    data = runs(argv)
    if not data:
        print("no metrics.jsonl under the given paths")
        return 3
    n_rounds = min(len(ms) for ms in data.values())
    total = {m.get("heldout_total") for ms in data.values() for m in ms}
    print(f"{len(data)} runs, rounds 0..{n_rounds - 1} finished by all; held-out true goals: "
          f"{sorted(t for t in total if t is not None)}")
    print("| round | " + " | ".join(h for _, h in KEYS) + " | proxy+H / H |")
    print("|---" * (len(KEYS) + 2) + "|")
    for r in range(n_rounds):
        rows = [ms[r] for ms in data.values()]
        cells = []
        for k, _ in KEYS:
            vals = [x[k] for x in rows if isinstance(x.get(k), (int, float))]
            cells.append(fmt(vals))
        h = sum(x.get("heldout_H", 0) for x in rows)
        ph = sum(x.get("heldout_solved", 0) for x in rows)
        ratio = f"{ph / h:.2f}" if h else "-"
        print(f"| {r} | " + " | ".join(cells) + f" | {ratio} |")
    for d, ms in data.items():
        seq = [m.get("heldout_solved") for m in ms[:n_rounds]]
        h = [m.get("heldout_H") for m in ms[:n_rounds]]
        p = [m.get("proxy_only_solved") for m in ms[:n_rounds]]
        falls = any(b < a for a, b in zip(seq, seq[1:]))
        print(f"{d}: proxy+H {seq}, H alone {h}, proxy alone {p}"
              + ("  (falls)" if falls else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
