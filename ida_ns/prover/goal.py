"""Goals (sequents) the prover works on, with a canonical printed form and hash."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from ..logic.ast import BOOL, Quant, Term, Theory, Var


@dataclass(frozen=True)
class Goal:
    """Prove ``concl`` under ``theory`` and ``hyps``, for all values of the ``fixed`` variables.

    ``concl`` usually starts with universal quantifiers; the variables bound there are the
    candidates for induction.  ``hyps`` are closed over ``fixed`` (induction hypotheses, lemmas
    proved in this context, case assumptions).
    """

    theory: Theory
    concl: Term
    hyps: tuple[Term, ...] = ()
    fixed: tuple[Var, ...] = ()

    def __post_init__(self):
        if self.concl.sort != BOOL:
            raise ValueError(f"goal conclusion must be Bool, got {self.concl.sort}")

    @property
    def forall_vars(self) -> tuple[Var, ...]:
        return split_forall(self.concl)[0]

    @property
    def body(self) -> Term:
        return split_forall(self.concl)[1]

    def scope(self) -> dict[str, Var]:
        """Names usable in a proposed step: fixed variables and top-level quantified ones."""
        out = {v.name: v for v in self.fixed}
        out.update({v.name: v for v in self.forall_vars})
        return out

    def text(self) -> str:
        """Canonical printed form (the proxy's input and the cache key's basis)."""
        from ..logic.printer import print_term

        parts = []
        if self.fixed:
            parts.append("(fix " + " ".join(f"({v.name} {v.sort})" for v in self.fixed) + ")")
        for h in self.hyps:
            parts.append("(hyp " + print_term(h) + ")")
        parts.append(print_term(self.concl))
        return " ".join(parts)

    def key(self) -> str:
        return goal_key(self)

    def query(self, lemmas: tuple[Term, ...] = ()):
        from ida_ns.solvers.query import Query

        return Query(self.theory, self.concl, self.hyps + tuple(lemmas), self.fixed)


def split_forall(t: Term) -> tuple[tuple[Var, ...], Term]:
    vs: tuple[Var, ...] = ()
    while isinstance(t, Quant) and t.kind == "forall":
        vs += t.vars
        t = t.body
    return vs, t


def goal_key(goal: Goal) -> str:
    """Structural hash of a goal (theory, conclusion, hypotheses, fixed variables).

    Built from the AST's repr, not from printed text: printing can make a bound variable and
    a theory symbol of the same name look alike, and a cache keyed on text would then hand one
    goal's proof to another."""
    from ida_ns.solvers.query import theory_hash

    text = repr((goal.concl, goal.hyps, goal.fixed))
    return hashlib.sha256((theory_hash(goal.theory) + "\n" + text).encode(
        "utf-8", "surrogatepass")).hexdigest()
