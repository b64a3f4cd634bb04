"""The backend interface and the one place where a solver answer becomes a verdict.

``Backend.prove(query, timeout_s)`` answers

* ``Proved`` when the solver reports ``theory ∧ hyps ∧ ¬goal`` unsat;
* ``Refuted(counterexample)`` only when the solver reports sat *and* a second, independent
  check confirms the counterexample: the model's values for the skolems (``fixed`` and the
  goal's top-level ∀ variables) are substituted into hypotheses and goal, and the solver must
  show ``theory ⊢ hyps[σ] ∧ ¬goal[σ]`` (an unsat answer, as trustworthy as ``Proved``).
  This matters: z3 answers ``sat`` with a bogus model when a recursive definition does not
  terminate (it presumes ``define-fun-rec`` is well founded), and a quantified theory's
  model may rest on an incomplete instantiation.  Elements of uninterpreted sorts in the
  model become fresh constants that are pairwise distinct in the check.
  When the whole query is quantifier-free and the theory has no recursive definition (a
  decidable fragment, where sat is as trustworthy as unsat), the model is accepted as is:
  the goal does not follow, even if the values mention uninterpreted functions;
* ``Unknown(reason)`` otherwise: timeout, solver gave up, sat without a validated model.

The z3 backend translates a theory once and keeps it (see :class:`TheoryCache`); per query it
pushes a scope, asserts, checks, pops.  Since a context's history changes z3's answers, a used
context gets most of a query's time and a fresh translation the rest when it gives no answer.
The cvc5 backend translates afresh per query (about 2 ms), because a cvc5 solver keeps state
across push/pop that changes later answers.  A backend instance is not thread-safe.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Callable, Generic, Protocol, TypeVar, runtime_checkable

from ida_ns.logic.ast import (Lambda, NameSupply, Quant, Term, Theory, Var, substitute,
                              subterms)
from ida_ns.verdict import Proved, Refuted, Unknown, Verdict

from .query import Query, consistency_query, theory_hash
from .translate import Lowering


@runtime_checkable
class Backend(Protocol):
    """A solver configuration that proves queries in this process."""

    name: str  # configuration name: "z3", "cvc5", "cvc5-ind"
    version: str  # the solver library's version string

    def prove(self, query: Query, timeout_s: float) -> Verdict: ...


class Prover(Protocol):
    """Anything with ``prove``: a :class:`Backend` or a :class:`solvers.pool.SolverPool`."""

    def prove(self, query: Query, timeout_s: float | None = None) -> Verdict: ...


# --------------------------------------------------------------------------------------------
# Consistency, with its own result type so nobody reads "Proved" the wrong way round.

CONSISTENT, INCONSISTENT, UNKNOWN = "consistent", "inconsistent", "unknown"


@dataclass(frozen=True)
class Consistency:
    """Outcome of :func:`check_consistency`.

    ``inconsistent``: the solver derived false from theory ∧ hyps (trustworthy, like a proof).
    ``consistent``: the solver found a model.  z3 presumes recursive definitions terminate, so
    this does not certify that a non-terminating definition is harmless.
    ``unknown``: neither.  ``verdict`` is the raw verdict of :func:`consistency_query`.
    """

    status: str
    verdict: Verdict

    @property
    def is_inconsistent(self) -> bool:
        return self.status == INCONSISTENT


def check_consistency(prover: Prover, theory: Theory, hyps: tuple[Term, ...] = (),
                      fixed: tuple[Var, ...] = (), timeout_s: float = 2.0) -> Consistency:
    v = prover.prove(consistency_query(theory, hyps, fixed), timeout_s)
    status = {"proved": INCONSISTENT, "refuted": CONSISTENT}.get(v.status, UNKNOWN)
    return Consistency(status, v)


# --------------------------------------------------------------------------------------------
# Skolemisation of a query


@dataclass(frozen=True)
class Skolemized:
    """``skolems``: (name, var) for ``fixed`` then the goal's top-level ∀ variables (names
    unique among themselves: a ∀ variable that shadows a fixed one is renamed);
    ``body``: the goal under those ∀."""

    skolems: tuple[tuple[str, Var], ...]
    body: Term


def skolemize(q: Query) -> Skolemized:
    supply = NameSupply()
    skolems: list[tuple[str, Var]] = []
    for v in dict.fromkeys(q.fixed):  # keeps order, drops duplicates
        name = v.name if v.name not in supply.used else supply.fresh(v.name)
        supply.used.add(name)
        skolems.append((name, v))
    body = q.goal
    fixed = set(q.fixed)
    while isinstance(body, Quant) and body.kind == "forall":
        ren: dict[Var, Term] = {}
        for v in body.vars:
            if v in fixed or v.name in supply.used:  # shadows a fixed var or clashes
                nv = Var(supply.fresh(v.name), v.sort)
                ren[v] = nv
                v = nv
            else:
                supply.used.add(v.name)
            skolems.append((v.name, v))
        body = substitute(body.body, ren) if ren else body.body
    return Skolemized(tuple(skolems), body)


# --------------------------------------------------------------------------------------------
# A translated theory inside one solver, and the query driver shared by all backends


class TheoryContext(Protocol):
    lowering: Lowering
    # Assert the goal's top-level foralls as a quantified negation (for solvers that do
    # induction themselves) instead of skolemising them.
    quantified_goal: bool

    def push(self) -> None: ...
    def pop(self) -> None: ...
    def add(self, formula: Any) -> None: ...

    def check(self, timeout_s: float) -> tuple[str, str]:
        """("sat" | "unsat" | "unknown", reason)."""

    def skolem(self, name: str, var: Var) -> Any: ...
    def model_value(self, const: Any) -> Any: ...

    def abstract_elements(self, values: list) -> tuple[list, list]:
        """Replace model elements of uninterpreted sorts by fresh constants: returns the new
        values and side conditions (pairwise distinctness) to assert with them."""

    def substitute(self, formula: Any, pairs: list[tuple[Any, Any]]) -> Any: ...
    def show(self, value: Any) -> str: ...


def _solve(ctx: TheoryContext, formulas: list, consts: list,
           timeout_s: float) -> tuple[str, str, list]:
    """Assert ``formulas`` in a scope and check; on sat also read the model at ``consts``."""
    ctx.push()
    try:
        for f in formulas:
            ctx.add(f)
        status, reason = ctx.check(timeout_s)
        values = [ctx.model_value(c) for c in consts] if status == "sat" else []
    finally:
        ctx.pop()
    return status, reason, values


def run_query(ctx: TheoryContext, q: Query, timeout_s: float, solver: str,
              version: str) -> Verdict:
    """Prove ``q`` in a translated theory: the semantics of every backend in one place."""
    t0 = time.perf_counter()

    def elapsed() -> float:
        return time.perf_counter() - t0

    def unknown(reason: str) -> Unknown:
        return Unknown(reason, solver, version, elapsed())

    low = ctx.lowering
    sk = skolemize(q)
    env = {v: ctx.skolem(name, v) for name, v in sk.skolems}
    hyps = [low.term(h, env) for h in q.hyps]
    consts = [env[v] for _, v in sk.skolems]
    n_fixed = len(dict.fromkeys(q.fixed))
    top = tuple(v for _, v in sk.skolems[n_fixed:])
    body = low.term(sk.body, env)
    if top and ctx.quantified_goal:
        # Induction inside the solver works on the quantified conjecture, not on skolems.
        goal = low.term(Quant("forall", top, sk.body), env)
        status, reason, _ = _solve(ctx, [*hyps, low.nary("not", [goal])], [], timeout_s)
        if status == "sat":  # ask again, skolemised, for the model's values
            left = timeout_s - elapsed()
            if left < 0.05 * timeout_s:
                return unknown("sat, counterexample not validated (no time left)")
            status, reason, values = _solve(ctx, [*hyps, low.nary("not", [body])], consts,
                                            left)
            if status != "sat":
                return unknown(f"sat, no model for the skolemised goal ({status})")
    else:
        status, reason, values = _solve(ctx, [*hyps, low.nary("not", [body])], consts,
                                        timeout_s)
    if status == "unsat":
        return Proved(solver, version, elapsed())
    if status != "sat":
        return unknown(f"{status}: {reason}" if reason else status)

    # sat: confirm theory ⊢ hyps[σ] ∧ ¬body[σ] for the model's ground values σ.
    left = timeout_s - elapsed()
    if left < 0.05 * timeout_s:
        return unknown("sat, counterexample not validated (no time left)")
    try:
        ground, side = ctx.abstract_elements(values)
        pairs = list(zip(consts, ground))
        claim = [ctx.substitute(h, pairs) for h in hyps]
        claim.append(low.nary("not", [ctx.substitute(body, pairs)]))
        status2, reason2, _ = _solve(
            ctx, [*side, low.nary("not", [low.builtin("and", claim)])], [], left)
    except Exception as e:  # a model value the solver cannot take back as a term
        return unknown(f"sat, counterexample not validated ({type(e).__name__}: {e})")
    if status2 != "unsat" and not quantifier_free(q, sk.body):
        why = f"{status2}: {reason2}" if reason2 else status2
        return unknown(f"sat, counterexample not validated ({why})")
    cex = tuple((name, ctx.show(v)) for (name, _), v in zip(sk.skolems, values))
    return Refuted(cex, solver, version, elapsed())


_QF_THEORIES: "OrderedDict[str, bool]" = OrderedDict()


def _has_binder(t: Term) -> bool:
    return any(isinstance(s, (Quant, Lambda)) for s in subterms(t))


def quantifier_free(q: Query, body: Term) -> bool:
    """Whether theory ∧ hyps ∧ ¬body is quantifier-free with no recursive definitions."""
    if _has_binder(body) or any(_has_binder(h) for h in q.hyps):
        return False
    key = theory_hash(q.theory)
    if key not in _QF_THEORIES:
        th = q.theory
        _QF_THEORIES[key] = not any(d.recursive or _has_binder(d.body) for d in th.all_defs()) \
            and not any(_has_binder(ax) for ax in th.axioms)
        if len(_QF_THEORIES) > 1024:
            _QF_THEORIES.popitem(last=False)
    return _QF_THEORIES[key]


C = TypeVar("C")


class TheoryCache(Generic[C]):
    """Translated theories, least recently used first out, keyed by canonical theory hash."""

    def __init__(self, build: Callable[[Theory, bool], C], size: int = 32):
        self.build = build
        self.size = size
        self.entries: "OrderedDict[tuple[str, bool], C]" = OrderedDict()

    def get(self, theory: Theory, higher_order: bool = False) -> C:
        key = (theory_hash(theory), higher_order)
        hit = self.entries.get(key)
        if hit is not None:
            self.entries.move_to_end(key)
            return hit
        return self.rebuild(theory, higher_order)

    def rebuild(self, theory: Theory, higher_order: bool = False) -> C:
        """Translate ``theory`` afresh; the new translation replaces any cached one."""
        key = (theory_hash(theory), higher_order)
        ctx = self.build(theory, higher_order)
        self.entries[key] = ctx
        self.entries.move_to_end(key)
        while len(self.entries) > self.size:
            self.entries.popitem(last=False)
        return ctx
