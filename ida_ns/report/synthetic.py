"""A generated run directory of any size, in the format ``ida-ns run`` writes, for load tests of
the report (``benchmarks/bench_report.py``) — not a stand-in for a real run's results: its
problems, trees and KPIs are made up, and it says so in ``config.json``."""

from __future__ import annotations

import json
import random
from pathlib import Path


def _tree(rng: random.Random, i: int, depth: int = 0) -> dict:
    var = rng.choice(["xs", "ys", "n", "m", "t"])
    goal = (f"(forall (({var} list)) (= (f{i % 37} (g{i % 11} {var} {var}) nil) "
            f"(h{i % 7} {var} (cons Z nil))))")
    if depth >= 3 or rng.random() < 0.35:
        return {"goal": goal, "hyps": [], "fixed": [], "step": "direct",
                "source": "H", "solver": "z3", "time_s": round(rng.random() * 0.05, 4),
                "uses": [], "children": []}
    kind = rng.choice(["induct", "lemma", "cases", "generalize"])
    src = rng.choice(["proxy", "proxy", "H", "H-override", "human", "hindsight"])
    step = {"induct": f"induct {var}", "cases": f"cases {var}",
            "lemma": f"lemma (forall ((a list)) (= (rev{i % 5} (rev a)) a))",
            "generalize": f"generalize (g{i % 11} {var} {var})"}[kind]
    n = 2 if kind in ("induct", "lemma", "cases") else 1
    node = {"goal": goal, "hyps": [f"(= (f{i % 37} {var}) {var})"] if depth else [],
            "fixed": [f"{var} : list"] if depth else [], "step": step, "source": src,
            "children": [_tree(rng, i, depth + 1) for _ in range(n)]}
    if rng.random() < 0.2:
        node["rejected"] = [{"step": f"lemma (= (f{i % 37} {var}) nil)", "source": "proxy",
                             "reason": "lemma has a counterexample",
                             "cex": {var: "(cons Z nil)"}}]
    return node


def make_run(out: str | Path, problems: int = 1000, rounds: int = 3, seed: int = 0) -> Path:
    """Write a run directory with ``problems`` training problems over ``rounds`` rounds:
    config, state, metrics, traces with proof trees, proxy cards and a real audit chain."""
    from ..audit import AuditLog
    from ..storage import atomic_write_json

    rng = random.Random(seed)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_json(out / "config.json", {"spec": "generated", "rounds": rounds,
                                            "note": "generated load-test run (made-up data)"})
    atomic_write_json(out / "state.json", {"round": rounds, "phase": "done", "generation": ""})
    audit = AuditLog(out / "audit.jsonl")
    audit.append("run", {"generated": True, "problems": problems})
    traces, metrics = [], []
    solved: set[int] = set()
    for r in range(rounds + 1):
        for i in range(problems):
            if i in solved:
                continue
            p_solve = 0.45 + 0.1 * r
            status = "proved" if rng.random() < p_solve else rng.choice(["unknown", "refuted"])
            rec = {"round": r, "problem": f"gen_{i:05d}", "label": status != "refuted",
                   "status": status, "pairs": [], "time_s": round(rng.random() * 2, 3),
                   "false_nodes": 0,
                   "stats": {"expanded": rng.randint(1, 12),
                             "proposed": {"proxy": rng.randint(0, 6), "H": rng.randint(0, 4)},
                             "accepted": {"proxy": rng.randint(0, 3)},
                             "used": {"H": rng.randint(1, 4)}, "overrides": rng.randint(0, 2)}}
            if status == "proved":
                solved.add(i)
                rec["report"] = {"status": "proved", "tree": _tree(rng, i)}
            elif status == "refuted":
                rec["report"] = {"status": "refuted", "counterexample": {"xs": "(cons Z nil)"}}
            else:
                rec["report"] = {"status": "unknown", "reason": "budget: wall time",
                                 "rejected": [{"step": "induct ys", "reason": "induct: "
                                               "unknown variable 'ys'"}]}
            traces.append(json.dumps(rec))
            if i % 50 == 0:
                audit.append("trace", {"round": r, "problem": rec["problem"],
                                       "status": status})
        metrics.append({"round": r, "train_solved": len(solved), "train_total": problems,
                        "heldout_solved": 20 + 2 * r, "heldout_total": 42,
                        "h_alone_solved": 20, "proxy_only_solved": 4 + 5 * r,
                        "proxy_precision": round(0.2 + 0.1 * r, 3),
                        "overrides": round(0.9 - 0.1 * r, 3), "agree_H": 0.3 + 0.1 * r,
                        "accepted_but_false": 0, "pairs": 100 * (r + 1), "time_s": 60.0})
        audit.append("metrics", metrics[-1])
    (out / "traces.jsonl").write_text("\n".join(traces) + "\n")
    (out / "metrics.jsonl").write_text("".join(json.dumps(m) + "\n" for m in metrics))
    for g in range(rounds + 1):
        d = out / "proxies" / f"gen-{g:03d}"
        d.mkdir(parents=True, exist_ok=True)
        atomic_write_json(d / "card.json", {
            "parent": str(out / "proxies" / f"gen-{g - 1:03d}") if g else None,
            "dataset_sha256": f"{rng.getrandbits(256):064x}",
            "model_sha256": f"{rng.getrandbits(256):064x}",
            "dataset": {"trained": 100 * g}, "metrics": {"final_loss": 2.0 / (g + 1)}})
    audit.append("done", {"rounds": rounds + 1})
    audit.close()
    return out
