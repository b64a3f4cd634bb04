"""Human-readable and JSON renderings of a prover result.

Lemmas are named by :func:`ida_ns.prover.proof.lemma_ids` everywhere (text, certificate, graph),
so ``L1`` in the printed tree is ``L1`` in the certificate.  Each node shows the hypotheses it
adds (induction hypotheses, case assumptions, lemmas in context); a root closed by the strong
solver before any decomposition is labelled a *portfolio leaf*.
"""

from __future__ import annotations

from ..verdict import Refuted, Unknown
from .proof import ProofNode, lemma_ids
from .steps import Direct, Lemma, step_text

STRONG_SOLVERS = ("cvc5-ind",)


def _short(text: str, n: int = 110) -> str:
    return text if len(text) <= n else text[: n - 3] + "..."


def _new_hyps(node_goal, parent_goal) -> list:
    old = set(parent_goal.hyps) if parent_goal is not None else set()
    return [h for h in node_goal.hyps if h not in old]


def render_tree(node: ProofNode, lemma_names: dict | None = None, indent: str = "",
                parent_goal=None) -> list[str]:
    """The proof tree as indented lines; hypotheses a node adds are shown under it."""
    from ..logic.printer import print_term

    lines = []
    stack = [(node, indent, parent_goal)]
    while stack:
        n, ind, pg = stack.pop()
        goal = _short(print_term(n.goal.concl))
        for h in _new_hyps(n.goal, pg):
            lines.append(f"{ind}| hyp: {_short(print_term(h))}")
        if isinstance(n.step, Direct):
            uses = ""
            if n.step.lemmas and lemma_names:
                uses = " using " + ", ".join(lemma_names.get(l, "?") for l in n.step.lemmas)
            lines.append(f"{ind}{goal}  [direct: {n.solver or '?'} {n.time_s:.3f}s{uses}]")
        else:
            text = step_text(n.step)
            name = (lemma_names or {}).get(getattr(n.step, "formula", None))
            if isinstance(n.step, Lemma) and name:
                text = f"lemma {name}: {print_term(n.step.formula)}"
            lines.append(f"{ind}{goal}  [{_short(text, 90)}] ({n.source})")
        for c in reversed(n.children):
            stack.append((c, ind + "  ", n.goal))
    return lines


def render_partial(node, indent: str = "") -> list[str]:
    """A partial proof (:class:`ida_ns.prover.partial.PartialNode`): proved subtrees are
    summarised, open goals marked ``OPEN``."""
    from ..logic.printer import print_term

    lines = []
    stack = [(node, indent, None)]
    while stack:
        n, ind, pg = stack.pop()
        for h in _new_hyps(n.goal, pg):
            lines.append(f"{ind}| hyp: {_short(print_term(h))}")
        goal = _short(print_term(n.goal.concl))
        if n.status == "proved":
            how = ""
            if n.proof is not None:
                how = (f"direct: {n.proof.solver}" if isinstance(n.proof.step, Direct)
                       else _short(step_text(n.proof.step), 60))
            lines.append(f"{ind}{goal}  [proved: {how}]")
        elif not n.children:
            lines.append(f"{ind}{goal}  [{'FAILED' if n.status == 'failed' else 'OPEN'}]")
        else:
            lines.append(f"{ind}{goal}  [{_short(n.step, 90)}] ({n.source})")
        for c in reversed(n.children):
            stack.append((c, ind + "  ", n.goal))
    return lines


def render_result(file: str, result) -> str:
    from ..logic.printer import print_term

    head = f"{file}: {result.status} in {result.time_s:.2f}s"
    v = result.verdict
    out = [head]
    if isinstance(v, Unknown):
        out.append(f"  reason: {v.reason}")
    if isinstance(v, Refuted) and v.counterexample:
        from ..logic.bignum import abbreviate_numerals  # the JSON output keeps full values

        out.append("  counterexample: " + ", ".join(f"{k} = {abbreviate_numerals(str(x))}"
                                                    for k, x in v.counterexample))
    if result.consistency is not None and result.consistency.status != "consistent":
        out.append(f"  theory: {result.consistency.status}: {result.consistency.reason}")
    if result.proof is not None:
        try:
            names = lemma_ids(result.lemmas)
        except ValueError:
            names = {l: f"L{i}" for i, l in enumerate(result.lemmas)}
        p = result.proof
        at = getattr(result, "attribution", {})
        if at:
            out.append(f"  closed by: {at['closed_by']} (leaves: "
                       f"{', '.join(at['leaf_solvers']) or '-'}; lemmas: {at['lemmas']}; "
                       f"proxy steps: {at['proxy_steps']})")
        if isinstance(p.step, Direct) and not p.children and p.solver in STRONG_SOLVERS:
            out.append(f"proof: portfolio leaf — {p.solver} (with induction) closed the whole "
                       f"goal before any decomposition ({p.time_s:.2f}s); run with "
                       f"--strong none to see a decomposition")
        else:
            out.append("proof:")
        out.extend(render_tree(p, names, "  "))
        for l, i in sorted(names.items(), key=lambda kv: int(kv[1][1:])):
            out.append(f"lemma {i}: {_short(print_term(l))}")
            out.extend(render_tree(result.lemmas[l], names, "    "))
    partial = getattr(result, "partial", None)
    if isinstance(v, Unknown):
        if partial is not None:
            out.append("partial proof:")
            out.extend(render_partial(partial, "  "))
        open_goals = getattr(result, "open_goals", ())
        if open_goals:
            out.append(f"open goals ({len(open_goals)}):")
            for g in open_goals:
                out.append("  " + _short(g.text(), 200))
    if result.stats is not None:
        s = result.stats
        out.append(f"search: {s.expanded} expansions, {s.leaves} leaf checks, "
                   f"{sum(s.accepted.values())} steps accepted, "
                   f"{sum(s.rejected.values())} rejected; "
                   f"{result.conjectures_tried} conjectures tried, "
                   f"{result.lemmas_proved} lemmas proved")
    return "\n".join(out)


def proof_json(node: ProofNode, lemma_names: dict | None = None) -> dict:
    from ..logic.printer import print_term

    d = {"goal": print_term(node.goal.concl), "hyps": [print_term(h) for h in node.goal.hyps],
         "step": step_text(node.step), "source": node.source}
    if isinstance(node.step, Direct):
        d["solver"] = node.solver
        d["time_s"] = round(node.time_s, 4)
        names = lemma_names or {}
        d["uses"] = [names.get(l, print_term(l)) for l in node.step.lemmas]
    d["children"] = [proof_json(c, lemma_names) for c in node.children]
    return d


def partial_json(node) -> dict:
    from ..logic.printer import print_term

    d = {"goal": print_term(node.goal.concl), "hyps": [print_term(h) for h in node.goal.hyps],
         "status": node.status, "step": node.step, "source": node.source}
    if node.status == "proved" and node.proof is not None:
        d["proof"] = proof_json(node.proof)
    d["children"] = [partial_json(c) for c in node.children]
    return d


def result_json(file: str, result) -> dict:
    from ..logic.printer import print_term
    from ..verdict import verdict_to_json

    d = {"file": str(file), **verdict_to_json(result.verdict),
         "time_s": round(result.time_s, 4)}
    if result.proof is not None:
        try:
            names = lemma_ids(result.lemmas)
        except ValueError:
            names = {l: f"L{i}" for i, l in enumerate(result.lemmas)}
        d["proof"] = proof_json(result.proof, names)
        d["attribution"] = getattr(result, "attribution", {})
        d["lemmas"] = [{"id": names[l], "formula": print_term(l),
                        "proof": proof_json(p, names)} for l, p in result.lemmas.items()]
    if getattr(result, "partial", None) is not None:
        d["partial"] = partial_json(result.partial)
    if getattr(result, "open_goals", ()):
        d["open_goals"] = [g.text() for g in result.open_goals]
    if result.stats is not None:
        d["search"] = result.stats.as_dict()
    return d
