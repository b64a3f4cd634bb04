"""Re-checking a solver's counter-model of a goal before it is reported as ``Refuted``.

A solver backend answers ``Refuted`` only after its own validation (the model's values
substituted, ``theory ⊢ hyps[σ] ∧ ¬goal[σ]`` shown unsat: see ``ida_ns.solvers.base``).
Before the prover reports a goal false on that word, :func:`recheck_refutation` checks the
model once more, independently of the solver: every printed value is parsed back against the
theory (sorts checked), evaluated to a ground value, and the goal's hypotheses and body are
evaluated at those values with the ground evaluator.  The refutation stands only when every
hypothesis evaluates to true and the body to false; anything else (a value that does not parse,
such as an uninterpreted sort's element, an evaluation that is undetermined or runs out of
fuel, a name the model does not bind) leaves the goal unknown.  Nothing here can make a false
"refuted" out of a true goal: the evaluator's answer at explicit values is the semantics.
"""

from __future__ import annotations

from ..logic.ast import Term, and_, not_
from ..verdict import Refuted
from .goal import Goal

__all__ = ["recheck_refutation"]


def recheck_refutation(goal: Goal, verdict: Refuted) -> tuple[bool, str]:
    """``(True, "")`` when ``verdict``'s counter-model makes ``goal``'s hypotheses true and
    its conclusion false under the ground evaluator; else ``(False, why)``."""
    from ida_ns.solvers.base import skolemize

    from ..errors import IdaNsError
    from ..logic.evaluate import Evaluator
    from ..logic.parser import parse_term
    from .render import _short

    sk = skolemize(goal.query())
    given = dict(verdict.counterexample)
    ev = Evaluator(goal.theory)
    env = {}
    for name, var in sk.skolems:
        text = given.get(name)
        if text is None:
            return False, f"the counter-model binds no value to {name}"
        try:
            value_term: Term = parse_term(text, goal.theory, {}, var.sort,
                                          file="<counter-model>")
            env[var] = ev.eval(value_term, {})
        except (IdaNsError, RecursionError, ValueError) as e:
            return False, f"value of {name} not re-checked ({type(e).__name__}: " \
                          f"{_short(str(e), 160)})"
    claim = and_(*goal.hyps, not_(sk.body)) if goal.hyps else not_(sk.body)
    try:
        holds = ev.eval(claim, env)
    except (IdaNsError, RecursionError, ValueError) as e:
        return False, f"evaluation undetermined ({type(e).__name__}: {_short(str(e), 160)})"
    if holds is not True:
        return False, "the goal holds at the solver's counter-model"
    return True, ""
