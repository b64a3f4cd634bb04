"""Typed decomposition steps and THE rule that turns a step into subgoals.

Soundness of the whole prover rests on :func:`apply_step`: if every subgoal it returns is
valid, the goal is valid.  Each rule is stated next to its code:

* ``Direct(lemmas)``: no subgoals; the goal (with the named, already proved lemmas as extra
  hypotheses) must be closed by a solver.
* ``Induct(x)``: structural induction on a datatype variable ``x``.  For each constructor
  ``C(f1..fk)``: fresh fixed variables for the fields, one induction hypothesis
  ``∀ others. B[x:=fi]`` per field of the same sort as ``x``, conclusion
  ``∀ others. B[x:=C(f1..fk)]``.  If ``x`` is a fixed variable it is first *reverted*: the
  hypotheses mentioning it move into the conclusion as premises (an equivalence, because the
  conclusion's binders are first renamed apart from every fixed and hypothesis name: nothing
  moved under a binder is captured).

Every binder a rule builds is capture-avoiding: fresh names (:func:`_fresh`) avoid every free
and bound name of the goal and every theory symbol, and every substitution is
:func:`ida_ns.logic.ast.substitute` (capture-avoiding).
* ``Cases(x)``: the same without induction hypotheses (for a fixed ``x``, it is substituted
  in the hypotheses too).
* ``Lemma(L)``: subgoals ``L`` and ``goal + L as hypothesis``.  A lemma without free variables is
  proved in the empty context (so it can be reused anywhere).
* ``Generalize(t)``: replace ``t`` in the conclusion's body by a fresh universally quantified
  variable: ``∀v. B[t:=v]`` implies ``B``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Union

from ..errors import IdaNsError, SpecError
from ..logic.ast import (
    BOOL, App, NameSupply, Term, Var, all_var_names, and_, forall, free_vars, implies,
    replace_subterm, size, substitute, subterms,
)
from ..logic.symbols import symbol_table
from .goal import Goal, split_forall

MAX_STEP_CHARS = 2000  # proposed step text longer than this is rejected unread
MAX_TERM_SIZE = 200  # AST nodes in a proposed lemma / generalized term


class StepError(IdaNsError):
    """A proposed step is malformed or does not apply to the goal (a rejection, not a crash)."""


@dataclass(frozen=True)
class Direct:
    lemmas: tuple[Term, ...] = ()  # closed, already proved lemmas used as hypotheses


@dataclass(frozen=True)
class Induct:
    var: str


@dataclass(frozen=True)
class Cases:
    var: str


@dataclass(frozen=True)
class Lemma:
    formula: Term


@dataclass(frozen=True)
class Generalize:
    term: Term


Step = Union[Direct, Induct, Cases, Lemma, Generalize]


def step_text(step: Step) -> str:
    """The step's one-line text form (what the proxy learns to emit)."""
    from ..logic.printer import print_term

    if isinstance(step, Direct):
        return "direct"
    if isinstance(step, Induct):
        return f"induct {step.var}"
    if isinstance(step, Cases):
        return f"cases {step.var}"
    if isinstance(step, Lemma):
        return "lemma " + print_term(step.formula)
    if isinstance(step, Generalize):
        return "generalize " + print_term(step.term)
    raise TypeError(step)


_VAR_STEP = re.compile(r"(induct|cases)\s+(\S+)\s*")


def parse_step(text: str, goal: Goal) -> Step:
    """Parse untrusted step text into a typed step for ``goal``.  Raises StepError."""
    if not isinstance(text, str):
        raise StepError(f"step must be text, got {type(text).__name__}")
    if len(text) > MAX_STEP_CHARS:
        raise StepError(f"step text too long ({len(text)} > {MAX_STEP_CHARS} chars)")
    s = text.strip()
    if s == "direct":
        return Direct()
    m = _VAR_STEP.fullmatch(s)
    if m:
        kind, name = m.groups()
        if name not in goal.scope():
            raise StepError(f"{kind}: unknown variable {name!r} (in scope: "
                            f"{', '.join(sorted(goal.scope())) or 'none'})")
        return Induct(name) if kind == "induct" else Cases(name)
    for word, build, want in (("lemma", Lemma, BOOL), ("generalize", Generalize, None)):
        if s.startswith(word + " ") or s.startswith(word + "("):
            from ..logic.parser import parse_term

            body = s[len(word):].strip()
            try:
                t = parse_term(body, goal.theory, goal.scope(), expected=want, file="<step>")
            except SpecError as e:
                raise StepError(f"{word}: {e}") from None
            if size(t) > MAX_TERM_SIZE:
                raise StepError(f"{word}: term too large ({size(t)} > {MAX_TERM_SIZE} nodes)")
            return build(t)
    raise StepError(f"unrecognised step {s[:80]!r}: expected direct | induct VAR | cases VAR | "
                    "lemma FORMULA | generalize TERM")


def _fresh(goal: Goal) -> NameSupply:
    used = {v.name for v in goal.fixed} | all_var_names(goal.concl)
    for h in goal.hyps:
        used |= all_var_names(h)
    # Never shadow a theory symbol with a variable name.
    used |= set(symbol_table(goal.theory).infos)
    return NameSupply(used)


def _bind_apart(vs: tuple[Var, ...], body: Term, avoid: set[str],
                supply: NameSupply) -> tuple[tuple[Var, ...], Term]:
    """The binders ``vs`` of ``body``, alpha-renamed so that none is named like anything in
    ``avoid`` (nor like an earlier binder of ``vs``): ``∀ vs. body`` and the result are the
    same formula, and a term with free names in ``avoid`` can then be put under the binders
    without being captured.  A binder repeated (same name and sort) is shadowed by its later
    copy, so the earlier one binds nothing and is dropped."""
    kept = tuple(v for i, v in enumerate(vs) if v not in vs[i + 1:])
    sub: dict[Var, Term] = {}
    out = []
    taken = set(avoid)
    for v in kept:
        if v.name in taken:
            nv = Var(supply.fresh(v.name), v.sort)
            sub[v] = nv
            v = nv
        taken.add(v.name)
        out.append(v)
    return tuple(out), substitute(body, sub)


def _revert(goal: Goal, x: Var) -> Goal:
    """Move a fixed variable (and the hypotheses that mention it) back into the conclusion.

    Capture-avoiding: the conclusion's binders are first renamed apart from every fixed
    variable and every name free in a hypothesis, so that a hypothesis moved under them keeps
    meaning what it meant (a binder named like another fixed variable would otherwise capture
    that variable's occurrences in the hypothesis, and the reverted goal would be weaker than
    the goal)."""
    scope = frozenset(goal.fixed)
    for h in goal.hyps:
        loose = free_vars(h) - scope
        if loose:
            raise StepError(f"hypothesis has free variables {sorted(v.name for v in loose)} "
                            "that are not fixed in the goal")
    mention = tuple(h for h in goal.hyps if x in free_vars(h))
    keep = tuple(h for h in goal.hyps if x not in free_vars(h))
    others = tuple(v for v in goal.fixed if v != x)
    vs, body = split_forall(goal.concl)
    avoid = {v.name for v in goal.fixed}
    for h in goal.hyps:
        avoid |= {v.name for v in free_vars(h)}
    vs, body = _bind_apart(vs, body, avoid, _fresh(goal))
    new = forall((x,) + vs, implies(and_(*mention), body) if mention else body)
    return Goal(goal.theory, new, keep, others)


def _datatype_var(goal: Goal, name: str, what: str):
    scope = goal.scope()
    if name not in scope:
        raise StepError(f"{what}: unknown variable {name!r}")
    x = scope[name]
    dt = symbol_table(goal.theory).datatype_of(x.sort)
    if dt is None:
        raise StepError(f"{what}: variable {name!r} has sort {x.sort}, not a datatype")
    return x, dt


def apply_step(step: Step, goal: Goal) -> tuple[Goal, ...]:
    """The subgoals of ``step`` applied to ``goal``.  Raises StepError if it does not apply."""
    if isinstance(step, Direct):
        for lemma in step.lemmas:
            if free_vars(lemma):
                raise StepError("direct: lemmas used by a leaf must be closed formulas")
        return ()
    if isinstance(step, (Induct, Cases)):
        what = "induct" if isinstance(step, Induct) else "cases"
        x, dt = _datatype_var(goal, step.var, what)
        if x in goal.fixed and x not in goal.forall_vars:
            if isinstance(step, Cases):
                return _cases_fixed(goal, x, dt)
            goal = _revert(goal, x)
        vs, body = split_forall(goal.concl)
        others = tuple(v for v in vs if v != x)
        supply = _fresh(goal)
        out = []
        for ctor in dt.ctors:
            fields = tuple(Var(supply.fresh(_field_base(sel, s)), s) for sel, s in ctor.fields)
            inst = App(ctor.name, fields, x.sort)
            ihs = ()
            if isinstance(step, Induct):
                ihs = tuple(forall(others, substitute(body, {x: f}))
                            for f in fields if f.sort == x.sort)
            concl = forall(others, substitute(body, {x: inst}))
            out.append(Goal(goal.theory, concl, goal.hyps + ihs, goal.fixed + fields))
        return tuple(out)
    if isinstance(step, Lemma):
        lemma = step.formula
        if lemma.sort != BOOL:
            raise StepError("lemma: not a formula")
        fv = free_vars(lemma)
        if not fv <= frozenset(goal.fixed):
            names = sorted(v.name for v in fv - frozenset(goal.fixed))
            raise StepError(f"lemma: free variables {names} are not fixed in the goal "
                            "(quantify them)")
        if lemma in goal.hyps:
            raise StepError("lemma: already a hypothesis")
        if lemma == goal.concl:
            raise StepError("lemma: is the goal itself (circular)")
        first = Goal(goal.theory, lemma) if not fv else Goal(goal.theory, lemma, goal.hyps,
                                                               goal.fixed)
        return (first, Goal(goal.theory, goal.concl, goal.hyps + (lemma,), goal.fixed))
    if isinstance(step, Generalize):
        t = step.term
        vs, body = split_forall(goal.concl)
        if not free_vars(t) <= frozenset(vs) | frozenset(goal.fixed):
            raise StepError("generalize: term mentions variables not in scope")
        if isinstance(t, Var):
            raise StepError("generalize: term is already a variable")
        if not any(s == t for s in subterms(body)):
            raise StepError("generalize: term does not occur in the goal")
        supply = _fresh(goal)
        v = Var(supply.fresh("g"), t.sort)
        new_body = replace_subterm(body, t, v)
        if new_body == body:
            raise StepError("generalize: every occurrence is under a binder of its variables")
        remaining = free_vars(new_body)
        keep = tuple(u for u in vs if u in remaining)
        return (Goal(goal.theory, forall(keep + (v,), new_body), goal.hyps, goal.fixed),)
    raise StepError(f"unknown step type {type(step).__name__}")


def _cases_fixed(goal: Goal, x: Var, dt) -> tuple[Goal, ...]:
    supply = _fresh(goal)
    out = []
    fixed = tuple(v for v in goal.fixed if v != x)
    for ctor in dt.ctors:
        fields = tuple(Var(supply.fresh(_field_base(sel, s)), s) for sel, s in ctor.fields)
        sub = {x: App(ctor.name, fields, x.sort)}
        out.append(Goal(goal.theory, substitute(goal.concl, sub),
                        tuple(substitute(h, sub) for h in goal.hyps), fixed + fields))
    return tuple(out)


def _field_base(selector: str, sort) -> str:
    """A readable base name for a fresh field variable (x, xs, n, ...)."""
    s = str(sort.name).lower()
    if s.startswith("list"):
        return "xs"
    if s.startswith("nat"):
        return "n"
    if s.startswith("tree"):
        return "t"
    base = re.sub(r"[^A-Za-z]", "", selector)[:1].lower() or "x"
    return base
