"""Obligations of the consistency gate, proved by ida-ns's own prover, and re-checked.

An obligation is a closed formula over a theory that holds only definitions already shown
terminating (never the group being defined), so proving it cannot rely on what it is meant to
justify.  :class:`Discharger` proves it with a short best-first search (overseer H, solver
leaves, no lemma library, no shared caches) after random testing found no counterexample;
the proof travels as JSON (step text and children, leaves naming their solver) and
:func:`recheck_proof` re-derives every subgoal with the one sound rule and re-runs every leaf.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from .logic.ast import Term, Theory

MAX_PROOF_NODES = 2000


@dataclass(frozen=True)
class Discharged:
    proof: dict | None  # JSON proof, None when not proved
    reason: str = ""


class Discharger:
    """Proves gate obligations.  ``prove_many(queries, timeout_s) -> [Verdict]`` runs the
    leaves (a solver pool's, or an in-process backend's)."""

    def __init__(self, prove_many, solver: str = "z3", per_obligation_s: float = 3.0,
                 leaf_timeout_s: float = 0.5, max_nodes: int = 80):
        self.prove_many = prove_many
        self.solver = solver
        self.per_obligation_s = per_obligation_s
        self.leaf_timeout_s = leaf_timeout_s
        self.max_nodes = max_nodes
        self.attempts = 0

    def prove(self, theory: Theory, formula: Term, deadline: float) -> Discharged:
        from .prover.goal import Goal
        from .prover.overseer import Overseer
        from .prover.proof import LemmaLibrary
        from .prover.search import Budget, Search
        from .prover.verify import Checker, VerdictCache

        self.attempts += 1
        left = deadline - time.perf_counter()
        if left <= 0.05:
            return Discharged(None, "budget")
        goal = Goal(theory, formula)
        checker = Checker(self.prove_many, solver=self.solver,
                          leaf_timeout_s=self.leaf_timeout_s, cache=VerdictCache(),
                          test_trials=150, test_time_s=min(0.2, left / 4))
        try:
            cex = checker.counterexample(goal)
        except Exception as e:  # testing is advisory here; the proof is what counts
            cex = None
            _ = e
        if cex is not None:
            shown = ", ".join(f"{k} = {v}" for k, v in cex)
            return Discharged(None, f"counterexample: {shown}")
        budget = Budget(wall_s=min(self.per_obligation_s, left), max_nodes=self.max_nodes,
                        max_depth=5, leaf_timeout_s=self.leaf_timeout_s)
        search = Search(checker, Overseer(), budget, LemmaLibrary(), {}, None,
                        min(deadline, time.perf_counter() + self.per_obligation_s))
        res = search.run(goal)
        if not res.proved:
            return Discharged(None, res.reason or "not proved")
        try:
            proof = proof_json(res.proof)
        except ValueError as e:
            return Discharged(None, str(e))
        # Evidence must re-check: leaves closed by a lucky quantifier instantiation (solver
        # state differs between calls) are re-run at once, afresh, and the proof is kept only
        # if they hold again.
        why = recheck_proof(theory, formula, proof, self.prove_many,
                            max(1.0, 4 * self.leaf_timeout_s))
        if why is not None:
            return Discharged(None, f"proof did not re-check: {why}")
        return Discharged(proof)


def proof_json(node) -> dict:
    """A proof tree as JSON (no lemma uses: obligations are proved without a library)."""
    from .prover.steps import Direct, step_text

    out = {"step": step_text(node.step)}
    if isinstance(node.step, Direct):
        if node.step.lemmas:
            raise ValueError("obligation proof uses library lemmas")
        out["solver"] = node.solver
    out["children"] = [proof_json(c) for c in node.children]
    return out


def recheck_proof(theory: Theory, formula: Term, proof, prove_many, timeout_s: float = 5.0
                  ) -> str | None:
    """None if ``proof`` proves ``formula`` over ``theory``; else the reason it does not.
    Leaves are re-run with ``prove_many`` (the solver the caller chose)."""
    from .errors import IdaNsError
    from .prover.goal import Goal
    from .prover.steps import Direct, StepError, apply_step, parse_step
    from .verdict import Proved

    leaves = []
    stack = [(proof, Goal(theory, formula), "proof")]
    count = 0
    while stack:
        n, g, w = stack.pop()
        count += 1
        if count > MAX_PROOF_NODES:
            return "proof too large"
        if not isinstance(n, dict) or not isinstance(n.get("step"), str):
            return f"{w}: node needs a 'step' string"
        children = n.get("children", [])
        if not isinstance(children, list):
            return f"{w}: 'children' must be a list"
        try:
            step = parse_step(n["step"], g)
        except (StepError, IdaNsError) as e:
            return f"{w}: {e}"
        if isinstance(step, Direct):
            if step.lemmas or children:
                return f"{w}: a direct step of an obligation uses no lemmas and has no subgoals"
            leaves.append((w, g))
            continue
        try:
            subgoals = apply_step(step, g)
        except StepError as e:
            return f"{w}: {e}"
        if len(subgoals) != len(children):
            return f"{w}: step yields {len(subgoals)} subgoals, proof has {len(children)}"
        for i, (c, sg) in enumerate(zip(children, subgoals)):
            stack.append((c, sg, f"{w}/children/{i}"))
    if not leaves:
        return None
    verdicts = prove_many([g.query() for _, g in leaves], timeout_s)
    for k, ((w, g), v) in enumerate(zip(leaves, verdicts)):
        if not isinstance(v, Proved):  # one more try: solver state differs between calls
            v = prove_many([g.query()], timeout_s)[0]
        if not isinstance(v, Proved):
            return f"{w}: leaf not re-proved: {v.status}" + (
                f" ({v.reason})" if hasattr(v, "reason") else "")
    return None
