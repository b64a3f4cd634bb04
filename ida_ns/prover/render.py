"""Human-readable and JSON renderings of a prover result."""

from __future__ import annotations

from ..verdict import Refuted, Unknown
from .proof import ProofNode
from .steps import Direct, step_text


def _short(text: str, n: int = 110) -> str:
    return text if len(text) <= n else text[: n - 3] + "..."


def render_tree(node: ProofNode, lemma_names: dict | None = None, indent: str = "") -> list[str]:
    from ..logic.printer import print_term

    lines = []
    stack = [(node, indent)]
    while stack:
        n, ind = stack.pop()
        goal = _short(print_term(n.goal.concl))
        if isinstance(n.step, Direct):
            uses = ""
            if n.step.lemmas and lemma_names:
                uses = " using " + ", ".join(lemma_names.get(l, "?") for l in n.step.lemmas)
            lines.append(f"{ind}{goal}  [direct: {n.solver or '?'} {n.time_s:.3f}s{uses}]")
        else:
            lines.append(f"{ind}{goal}  [{_short(step_text(n.step), 70)}] ({n.source})")
        for c in reversed(n.children):
            stack.append((c, ind + "  "))
    return lines


def render_result(file: str, result) -> str:
    from ..logic.printer import print_term

    head = f"{file}: {result.status} in {result.time_s:.2f}s"
    v = result.verdict
    out = [head]
    if isinstance(v, Unknown):
        out.append(f"  reason: {v.reason}")
    if isinstance(v, Refuted) and v.counterexample:
        out.append("  counterexample: " + ", ".join(f"{k} = {x}" for k, x in v.counterexample))
    if result.consistency is not None and result.consistency.status != "consistent":
        out.append(f"  theory: {result.consistency.status}: {result.consistency.reason}")
    if result.proof is not None:
        names = {l: f"L{i}" for i, l in enumerate(result.lemmas)}
        a = getattr(result, "attribution", {})
        if a:
            out.append(f"  closed by: {a['closed_by']} (leaves: "
                       f"{', '.join(a['leaf_solvers']) or '-'}; lemmas: {a['lemmas']}; "
                       f"proxy steps: {a['proxy_steps']})")
        out.append("proof:")
        out.extend(render_tree(result.proof, names, "  "))
        for l, i in names.items():
            out.append(f"lemma {i}: {_short(print_term(l))}")
            out.extend(render_tree(result.lemmas[l], names, "    "))
    if result.stats is not None:
        s = result.stats
        out.append(f"search: {s.expanded} expansions, {s.leaves} leaf checks, "
                   f"{sum(s.accepted.values())} steps accepted, "
                   f"{sum(s.rejected.values())} rejected; "
                   f"{result.conjectures_tried} conjectures tried, "
                   f"{result.lemmas_proved} lemmas proved")
    return "\n".join(out)


def proof_json(node: ProofNode) -> dict:
    from ..logic.printer import print_term

    d = {"goal": print_term(node.goal.concl), "step": step_text(node.step),
         "source": node.source}
    if isinstance(node.step, Direct):
        d["solver"] = node.solver
        d["time_s"] = round(node.time_s, 4)
        d["uses"] = [print_term(l) for l in node.step.lemmas]
    d["children"] = [proof_json(c) for c in node.children]
    return d


def result_json(file: str, result) -> dict:
    from ..logic.printer import print_term
    from ..verdict import verdict_to_json

    d = {"file": str(file), **verdict_to_json(result.verdict),
         "time_s": round(result.time_s, 4)}
    if result.proof is not None:
        d["proof"] = proof_json(result.proof)
        d["attribution"] = getattr(result, "attribution", {})
        d["lemmas"] = [{"formula": print_term(l), "proof": proof_json(p)}
                       for l, p in result.lemmas.items()]
    if result.stats is not None:
        d["search"] = result.stats.as_dict()
    return d
