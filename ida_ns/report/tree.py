"""Proof trees as plain JSON nodes, the format the HTML report renders.

A node: ``{"goal", "hyps", "fixed", "step", "source", "solver", "time_s", "uses", "conf",
"rejected", "children"}``; an open goal has ``"step": None``.  Every field is optional for the
reader (runs written by older versions hold fewer fields)."""

from __future__ import annotations

from ..prover.proof import ProofNode
from ..prover.steps import Direct

MAX_TEXT = 4000  # characters of one goal/step shown in a report


def _clip(s: str) -> str:
    return s if len(s) <= MAX_TEXT else s[: MAX_TEXT - 3] + "..."


def goal_fields(goal) -> dict:
    from ..logic.printer import print_term

    return {"goal": _clip(print_term(goal.concl)),
            "hyps": [_clip(print_term(h)) for h in goal.hyps],
            "fixed": [f"{v.name} : {v.sort}" for v in goal.fixed]}


def proof_tree(root: ProofNode, lemma_names: dict | None = None, recorder=None) -> dict:
    """A :class:`ProofNode` tree as JSON nodes (iterative: deep proofs are fine); with a
    :class:`ida_ns.report.recorder.SearchRecorder`, each node lists the steps the gate
    rejected on its goal."""
    from ..prover.steps import step_text

    lemma_names = lemma_names or {}
    out: dict = {}
    stack = [(root, out)]
    while stack:
        n, d = stack.pop()
        d.update(goal_fields(n.goal))
        d["step"] = _clip(step_text(n.step))
        d["source"] = n.source
        if isinstance(n.step, Direct):
            d["solver"] = n.solver
            d["time_s"] = round(n.time_s, 4)
            d["uses"] = [lemma_names.get(l, "?") for l in n.step.lemmas]
        if recorder is not None:
            key = n.goal.key()
            rej = recorder.rejected_json(key)
            if rej:
                d["rejected"] = rej
            conf = recorder.confidence(key, d["step"])
            if conf is not None:
                d["conf"] = conf  # the proxy's probability for this step
        d["children"] = []
        for c in n.children:
            cd: dict = {}
            d["children"].append(cd)
            stack.append((c, cd))
    return out


def result_tree(result, recorder=None) -> dict:
    """A prover result (``ProveResult``) as the report's per-problem record: status, proof
    tree, lemmas (named L0, L1, ... as in the certificate), rejections, counterexample."""
    from ..logic.printer import print_term
    from ..verdict import Refuted, Unknown

    out: dict = {"status": result.status}
    if isinstance(getattr(result, "time_s", None), (int, float)):
        out["time_s"] = round(result.time_s, 3)
    v = result.verdict
    if isinstance(v, Unknown):
        out["reason"] = v.reason
    if isinstance(v, Refuted) and v.counterexample:
        out["counterexample"] = {k: x for k, x in v.counterexample}
    lemmas = getattr(result, "lemmas", None) or {}
    names = _lemma_names(result)
    if result.proof is not None:
        out["tree"] = proof_tree(result.proof, names, recorder)
        out["lemmas"] = [{"name": names[l], "formula": _clip(print_term(l)),
                          "tree": proof_tree(p, names, recorder)} for l, p in lemmas.items()]
    elif recorder is not None and isinstance(v, Unknown):
        explored = recorder.explored()
        if explored is not None:
            out["explored"] = explored  # what the search tried; open leaves have step None
    stats = getattr(result, "stats", None)
    if recorder is None and stats is not None and getattr(stats, "rejections", None):
        out["rejected"] = [{"step": t, "reason": r} for t, r in stats.rejections[:50]]
    return out


def _lemma_names(result) -> dict:
    """The certificate's numbering (dependency order), so text, certificate and report
    agree; falls back to insertion order if the certificate cannot be built."""
    lemmas = getattr(result, "lemmas", None) or {}
    if not lemmas:
        return {}
    try:  # the one numbering of text, certificate and graph
        from ..prover.proof import lemma_ids

        return lemma_ids(lemmas)
    except Exception:  # noqa: BLE001 - naming is cosmetic; never lose the report over it
        return {l: f"L{i}" for i, l in enumerate(lemmas)}


def session_tree(session) -> dict:
    """An interactive session's tree, finished or not, with its rejected attempts."""
    from ..prover.steps import step_text

    nodes = session._nodes
    out: dict = {}
    stack = [(0, out)]
    while stack:
        i, d = stack.pop()
        n = nodes[i]
        d.update(goal_fields(n.goal))
        d["id"] = i
        d["step"] = _clip(step_text(n.step)) if n.step is not None else None
        d["source"] = n.source
        if isinstance(n.step, Direct):
            d["solver"] = n.solver
            d["time_s"] = round(n.time_s, 4)
            d["uses"] = []
        if n.rejected:
            d["rejected"] = [{"step": t, "source": s, "reason": r, "cex": dict(c)}
                             for t, s, r, c in n.rejected[-20:]]
        d["children"] = []
        for c in n.children:
            cd: dict = {}
            d["children"].append(cd)
            stack.append((c, cd))
    return out
