"""Verified proof trees -> (goal, context, step) training pairs for distillation.

Only fully verified trees come here (the IDA loop keeps nothing else).  A ``Direct`` leaf that
closed its goal with library lemmas is recorded as the equivalent explicit ``lemma L`` step (a
Lemma step followed by Direct is exactly what the leaf did), so the proxy learns to propose the
lemma; the lemma's own proof contributes its pairs too.
"""

from __future__ import annotations

from .logic.ast import Term
from .policies import canonical_step, goal_prompt
from .prover.proof import ProofNode
from .prover.steps import Direct, Lemma, step_text


def proof_pairs(proof: ProofNode | None, lemmas: dict[Term, ProofNode] | None = None
                ) -> list[list[str]]:
    if proof is None:
        return []
    out: list[list[str]] = []
    seen: set[tuple[str, str, str]] = set()
    trees = [proof, *(lemmas or {}).values()]
    for tree in trees:
        for node in tree.nodes():
            g, c = goal_prompt(node.goal)
            if isinstance(node.step, Direct) and node.step.lemmas:
                steps = [step_text(Lemma(l)) for l in node.step.lemmas]
            else:
                steps = [step_text(node.step)]
            for s in steps:
                s = canonical_step(node.goal, s)
                key = (g, c, s)
                if key not in seen:
                    seen.add(key)
                    out.append([g, c, s])
    return out
