"""Read what a run directory holds, defensively (runs from other versions hold other fields).

Everything optional is optional: a missing ``metrics.jsonl`` gives no KPI rows, a trace without
a ``report`` tree shows its training pairs instead, a proxy card without a loss shows "-".  A
file that is there but unreadable is an error naming the file (never a silently empty report).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..errors import IdaNsError


class ReportError(IdaNsError):
    """The run directory cannot be reported on (missing, or a file in it is unreadable)."""


@dataclass
class RunData:
    path: str
    config: dict = field(default_factory=dict)
    state: dict = field(default_factory=dict)
    metrics: list = field(default_factory=list)  # one dict per round
    problems: list = field(default_factory=list)  # {"id", "label", "attempts": [trace...]}
    lineage: list = field(default_factory=list)  # one dict per proxy generation
    audit: dict = field(default_factory=dict)  # {"ok", "records", "broken_at", "reason"}
    human: list = field(default_factory=list)  # per round: human steps / expansions
    warnings: list = field(default_factory=list)


def _jsonl(path: Path) -> list:
    from ..storage import StorageError, read_jsonl

    try:
        return list(read_jsonl(path, missing_ok=True).records)
    except StorageError as e:
        raise ReportError(str(e)) from None


def _json(path: Path):
    from ..storage import StorageError, read_json

    if not path.exists():
        return None
    try:
        return read_json(path)
    except (StorageError, OSError, ValueError) as e:
        raise ReportError(f"{path}: {e}") from None


def load_run(run_dir: str | Path) -> RunData:
    run = Path(run_dir)
    if not run.is_dir():
        raise ReportError(f"{run}: not a run directory (no such folder)")
    known = ("metrics.jsonl", "traces.jsonl", "audit.jsonl", "state.json", "config.json")
    if not any((run / k).exists() for k in known):
        raise ReportError(f"{run}: not a run directory (none of {', '.join(known)})")
    data = RunData(str(run))
    data.config = _dict(_json(run / "config.json"))
    data.state = _dict(_json(run / "state.json"))
    data.metrics = [m for m in _jsonl(run / "metrics.jsonl") if isinstance(m, dict)]
    data.metrics.sort(key=lambda m: _num(m.get("round"), 0))
    traces = [t for t in _jsonl(run / "traces.jsonl") if isinstance(t, dict)]
    by_problem: dict[str, dict] = {}
    seen: set = set()
    for t in traces:
        pid = str(t.get("problem", "?"))
        key = (t.get("round"), pid)
        if key in seen:
            continue  # first record per (round, problem), as the loop reads them
        seen.add(key)
        p = by_problem.setdefault(pid, {"id": pid, "label": t.get("label"), "attempts": []})
        p["attempts"].append(_attempt(t))
    data.problems = sorted(by_problem.values(), key=lambda p: p["id"])
    data.human = _human_kpis(traces)
    data.lineage = _lineage(run / "proxies", data)
    data.audit = _audit(run / "audit.jsonl")
    return data


def _dict(x) -> dict:
    return x if isinstance(x, dict) else {}


def _num(x, default=None):
    return x if isinstance(x, (int, float)) and not isinstance(x, bool) else default


def _attempt(t: dict) -> dict:
    out = {k: t.get(k) for k in ("round", "status", "time_s", "false_nodes") if k in t}
    stats = _dict(t.get("stats"))
    out["stats"] = {k: stats.get(k) for k in ("expanded", "proposed", "accepted", "rejected",
                                              "used", "overrides", "leaves") if k in stats}
    rep = t.get("report")
    if isinstance(rep, dict):
        out["report"] = rep
    pairs = t.get("pairs")
    if isinstance(pairs, list) and not isinstance(rep, dict):
        out["pairs"] = [p for p in pairs if isinstance(p, list)][:200]
    for k in ("origin", "source", "h_alone"):  # fields newer loops may add
        if k in t:
            out[k] = t[k]
    return out


def _human_kpis(traces: list) -> list:
    """Per round: steps proposed by a person, goals expanded, and their ratio."""
    rounds: dict = {}
    for t in traces:
        r = t.get("round")
        if not isinstance(r, int):
            continue
        s = _dict(t.get("stats"))
        row = rounds.setdefault(r, {"round": r, "human_steps": 0, "human_used": 0,
                                    "expanded": 0})
        row["human_steps"] += _num(_dict(s.get("proposed")).get("human"), 0)
        row["human_used"] += _num(_dict(s.get("used")).get("human"), 0)
        row["expanded"] += _num(s.get("expanded"), 0)
    out = []
    for r in sorted(rounds):
        row = rounds[r]
        row["human_override_rate"] = round(row["human_steps"] / row["expanded"], 4) \
            if row["expanded"] else 0.0
        out.append(row)
    return out


def _lineage(root: Path, data: RunData) -> list:
    if not root.is_dir():
        return []
    out = []
    for d in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.endswith(".tmp")):
        try:
            card = _dict(_json(d / "card.json"))
        except ReportError as e:
            data.warnings.append(str(e))
            card = {}
        m = _dict(card.get("metrics"))
        ds = _dict(card.get("dataset"))
        parent = card.get("parent")
        out.append({
            "generation": d.name,
            "parent": Path(parent).name if isinstance(parent, str) and parent else "-",
            "pairs": ds.get("trained", "-"),
            "loss": m.get("final_loss"),
            "dataset_sha256": card.get("dataset_sha256") or "-",
            "model_sha256": card.get("model_sha256") or "-",
        })
    return out


def _audit(path: Path) -> dict:
    from ..audit import verify_log

    if not path.exists():
        return {"ok": None, "records": 0, "broken_at": None, "reason": "no audit log"}
    rep = verify_log(path)
    counts: dict = {}
    if rep.ok:
        # how many steps each source had accepted, by the log's own records
        try:
            from ..storage import read_jsonl

            for rec in read_jsonl(path).records:
                if isinstance(rec, dict) and rec.get("kind") == "amplify":
                    src = _dict(rec.get("data")).get("source", "?")
                    counts[src] = counts.get(src, 0) + 1
        except IdaNsError:
            pass
    return {"ok": rep.ok, "records": rep.records, "broken_at": rep.broken_at,
            "reason": rep.reason, "accepted_by_source": counts}
