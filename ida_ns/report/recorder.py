"""What a search tried, for the report: every gate decision (accepted steps with their
subgoals, rejected steps with the reason and the counterexample) and who proposed each step.

    rec = SearchRecorder(checker)
    with rec:
        result = prove_problem(..., on_event=rec.wrap(on_event))
    record = result_tree(result, rec)

The recorder wraps the checker's ``gate`` for the duration (an instance attribute, removed on
exit; the gate's decisions are passed through unchanged) and listens to the search's
``amplify`` events for the proposer of each accepted step.  It keeps at most ``max_goals``
goals, so a long search cannot make a report record unbounded.  Recorders nest (each puts
back what it found); a checker shared by concurrent searches would mix their records, so give
each concurrent search its own checker (or no recorder)."""

from __future__ import annotations

from ..prover.steps import step_text


class SearchRecorder:
    def __init__(self, checker, max_goals: int = 400, max_rejected: int = 20):
        self.checker = checker
        self.max_goals = max_goals
        self.max_rejected = max_rejected
        self.goals: dict = {}  # goal key -> Goal
        self.accepted: dict = {}  # goal key -> [(step text, [subgoal keys])]
        self.rejected: dict = {}  # goal key -> [(step text, reason, cex)]
        self.sources: dict = {}  # (goal key, step text) -> source
        self.first_key: str | None = None  # the first goal seen (the search's root)
        self.closed: dict = {}  # goal key -> (solver, time) for goals a solver closed
        self.scores: dict = {}  # (goal key, step text) -> the proxy's log-probability

    # ---- wiring -------------------------------------------------------------------------
    def __enter__(self) -> "SearchRecorder":
        orig = self.checker.gate

        def gate(goal, step):
            result = orig(goal, step)
            try:
                self._record(goal, step, result)
            except Exception:  # noqa: BLE001 - recording must never change a search
                pass
            return result

        close = self.checker.close_leaves

        def close_leaves(items, *a, **kw):
            verdicts = close(items, *a, **kw)
            try:
                self._record_leaves(items, verdicts)
            except Exception:  # noqa: BLE001 - recording must never change a search
                pass
            return verdicts

        d = self.checker.__dict__
        self._saved = {k: d[k] for k in ("gate", "close_leaves") if k in d}
        self.checker.gate = gate
        self.checker.close_leaves = close_leaves
        return self

    def __exit__(self, *exc) -> None:
        # put back exactly what was there (an outer recorder's wrapper, or nothing)
        d = self.checker.__dict__
        for k in ("gate", "close_leaves"):
            if k in self._saved:
                d[k] = self._saved[k]
            else:
                d.pop(k, None)

    def _record_leaves(self, items, verdicts) -> None:
        from ..verdict import Proved

        for (goal, _lemmas), v in zip(items, verdicts):
            key = goal.key()
            if self.first_key is None:
                self.first_key = key
                self.goals[key] = goal
            if isinstance(v, Proved):
                self.closed[key] = (getattr(v, "solver", ""), getattr(v, "time_s", 0.0))

    def wrap(self, on_event):
        def handler(kind, data):
            if kind == "amplify" and isinstance(data, dict):
                self.sources[(data.get("goal"), data.get("step"))] = data.get("source")
            if on_event is not None:
                on_event(kind, data)
        return handler

    def policy(self, policy):
        """``policy`` (a Policy, a factory ``conjectures -> Policy``, or None) wrapped so the
        proxy's probability for each proposed step is recorded; proposals pass unchanged."""
        if policy is None:
            return None
        if hasattr(policy, "propose"):
            return _RecordingPolicy(policy, self)

        def factory(conjectures):
            return _RecordingPolicy(policy(conjectures), self)

        factory.__dict__.update(getattr(policy, "__dict__", {}))  # e.g. human_budget
        return factory

    def _note(self, goal, proposals):
        try:
            key = goal.key()
            for q in proposals:
                if q.step is not None and q.source == "proxy":
                    self.scores.setdefault((key, step_text(q.step)), q.score)
        except Exception:  # noqa: BLE001 - recording must never change a search
            pass
        return proposals

    def confidence(self, key: str, text: str):
        import math

        s = self.scores.get((key, text))
        if not isinstance(s, (int, float)) or not math.isfinite(s):
            return None
        return round(math.exp(min(0.0, float(s))), 4)

    def _record(self, goal, step, result) -> None:
        from ..prover.verify import Accepted

        key = goal.key()
        if self.first_key is None:
            self.first_key = key
        if key not in self.goals:
            if len(self.goals) >= self.max_goals:
                return
            self.goals[key] = goal
        try:
            text = step_text(step)
        except TypeError:
            text = repr(step)[:200]
        if isinstance(result, Accepted):
            keys = []
            for g in result.subgoals:
                k = g.key()
                if k not in self.goals and len(self.goals) < self.max_goals:
                    self.goals[k] = g
                keys.append(k)
            self.accepted.setdefault(key, []).append((text, keys))
        else:
            rs = self.rejected.setdefault(key, [])
            if len(rs) < self.max_rejected:
                rs.append((text, str(result.reason)[:500], tuple(result.counterexample)))

    # ---- reading ------------------------------------------------------------------------
    def rejected_json(self, key: str) -> list:
        return [{"step": t, "reason": r, "cex": dict(c)} for t, r, c in self.rejected.get(key, ())]

    def explored(self, root=None) -> dict | None:
        """The search's AND-OR tree from ``root``: each goal with the steps the gate accepted
        on it (``alternatives``, each with its subgoals) and the ones it rejected; a goal no
        step was accepted on is an open leaf (``"step": None``)."""
        from .tree import goal_fields

        if root is None:
            root = self.goals.get(self.first_key) if self.first_key else None
            if root is None:
                return None
        budget = [self.max_goals]
        out: dict = {}
        stack = [(root.key(), root, out, frozenset())]
        while stack:
            key, goal, d, path = stack.pop()
            d.update(goal_fields(goal))
            d["step"] = None
            if key in self.closed:
                solver, t = self.closed[key]
                d.update(step="direct", source="H", solver=solver, time_s=round(t, 4),
                         uses=[], children=[])
            rej = self.rejected_json(key)
            if rej:
                d["rejected"] = rej
            alts = self.accepted.get(key, []) if key not in path else []
            if not alts:
                continue
            d["alternatives"] = []
            for text, keys in alts:
                a = {"step": text, "source": self.sources.get((key, text), ""),
                     "children": []}
                conf = self.confidence(key, text)
                if conf is not None:
                    a["conf"] = conf
                d["alternatives"].append(a)
                for k in keys:
                    g = self.goals.get(k)
                    budget[0] -= 1
                    if g is None or budget[0] <= 0:
                        continue
                    c: dict = {}
                    a["children"].append(c)
                    stack.append((k, g, c, path | {key}))
        return out


class _RecordingPolicy:
    """A policy passed through, noting the proxy's scores (see :meth:`SearchRecorder.policy`)."""

    def __init__(self, inner, recorder: SearchRecorder):
        self.inner = inner
        self.recorder = recorder
        self.name = getattr(inner, "name", "policy")
        if hasattr(inner, "fallback"):
            self.fallback = lambda goal, depth: recorder._note(goal, list(
                inner.fallback(goal, depth)))

    def propose(self, goal, depth):
        return self.recorder._note(goal, list(self.inner.propose(goal, depth)))
