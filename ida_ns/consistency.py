"""The consistency gate: is a theory (definitions + axioms + hypotheses) free of contradiction?

TIP contains definitions that do not terminate (e.g. on negative integers); a solver that
treats such a definition as an equation can derive ``false`` from it and then "prove" anything.
The gate answers, in order:

1. every recursive definition group terminates (:mod:`ida_ns.termination`) and there are no
   extra axioms or hypotheses -> ``consistent`` (a terminating definitional theory has a model);
2. otherwise a solver is asked to derive ``false`` from the theory; if it can ->
   ``inconsistent`` (reported; no proof from this theory is accepted);
3. otherwise -> ``unknown``: consistency is not established, and proofs are not accepted
   either (a refutation is still reported, since it does not rely on the axioms' strength
   the same way; the caller decides).
"""

from __future__ import annotations

from dataclasses import dataclass

from .logic.ast import FALSE, Term, Theory, Var
from .termination import check_theory
from .verdict import Proved, Refuted


@dataclass(frozen=True)
class ConsistencyReport:
    status: str  # "consistent" | "inconsistent" | "unknown"
    reason: str
    termination: tuple[str, ...] = ()  # one line per recursive group

    @property
    def ok(self) -> bool:
        return self.status == "consistent"


def check_consistency(theory: Theory, prove=None, hyps: tuple[Term, ...] = (),
                      fixed: tuple[Var, ...] = (), timeout_s: float = 2.0) -> ConsistencyReport:
    """Run the gate.  ``prove`` is a callable ``Query -> Verdict`` (a SolverPool's ``prove``
    or an in-process backend's); without it only the termination analysis runs."""
    results = check_theory(theory)
    lines = tuple(f"{r.function}: {'terminates by ' + r.measure if r.terminating else r.measure}"
                  for r in results)
    nonterminating = [r for r in results if not r.terminating]
    if not nonterminating and not theory.axioms and not hyps:
        return ConsistencyReport("consistent", "all recursive definitions terminate", lines)
    if prove is not None:
        from solvers.query import Query

        verdict = prove(Query(theory, FALSE, tuple(hyps), tuple(fixed)), timeout_s)
        if isinstance(verdict, Proved):
            what = ("; ".join(r.measure for r in nonterminating) if nonterminating
                    else "axioms/hypotheses")
            return ConsistencyReport(
                "inconsistent", f"{verdict.solver} derives false from the theory ({what})", lines)
        if isinstance(verdict, Refuted) and not nonterminating:
            return ConsistencyReport(
                "consistent", f"{verdict.solver} found a model of the axioms; definitions "
                "terminate", lines)
    if nonterminating:
        reason = "termination not established: " + "; ".join(r.measure for r in nonterminating)
    else:
        reason = "axioms or hypotheses present and no model found"
    return ConsistencyReport("unknown", reason, lines)
