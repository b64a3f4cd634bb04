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
* ``InductMany(x1..xk)`` (``induct x y``): lexicographic induction on several variables; one
  subgoal per tuple of constructors, hypotheses at every lexicographically smaller tuple the
  fields give (see :func:`_induct_many`).
* ``FunInduct(f, x1..xn)`` (``finduct f x y``): induction following the recursion of ``f``,
  which the termination analysis must show terminating; one subgoal per leaf of ``f``'s
  pattern-match tree, a hypothesis per recursive call there, guarded by its ``ite``/``and``/
  ``or``/``=>`` conditions (see :func:`_fun_induct`).
* ``MutualInduct(x, companions)`` (``induct x with C``): simultaneous structural induction on
  ``x`` and on one variable of each companion's sort (mutual or nested datatype blocks), with
  an induction hypothesis for every field whose sort has a property (see
  :func:`_mutual_induct`).
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Union

from ..errors import IdaNsError, SpecError
from ..logic.ast import (
    BOOL, App, HoApp, Lambda, Let, Match, NameSupply, PatCon, PatVar, Quant, Term, Var,
    all_var_names, and_, forall, free_vars, implies, not_, replace_subterm, size, substitute,
    subterms,
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


@dataclass(frozen=True)
class InductMany:
    """Lexicographic induction on several variables (``induct x y``)."""

    vars: tuple[str, ...]


@dataclass(frozen=True)
class FunInduct:
    """Induction following the recursion of a terminating function (``finduct f x y``)."""

    fn: str
    vars: tuple[str, ...]


@dataclass(frozen=True)
class MutualInduct:
    """Simultaneous induction on ``var`` and on the leading variable of each companion
    property (``induct x with (forall ((f Forest)) ...)``; several companions are written as
    one ``and`` of them)."""

    var: str
    companions: tuple[Term, ...]


Step = Union[Direct, Induct, Cases, Lemma, Generalize, InductMany, FunInduct, MutualInduct]


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
    if isinstance(step, InductMany):
        return "induct " + " ".join(step.vars)
    if isinstance(step, FunInduct):
        return f"finduct {step.fn} " + " ".join(step.vars)
    if isinstance(step, MutualInduct):
        cs = step.companions
        both = cs[0] if len(cs) == 1 else App("and", cs, BOOL)
        return f"induct {step.var} with " + print_term(both)
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
    mutual = _parse_mutual(s, goal)
    if mutual is not None:
        return mutual
    multi = _parse_multi(s, goal)
    if multi is not None:
        return multi
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
    raise StepError(f"unrecognised step {s[:80]!r}: expected direct | induct VAR... | "
                    "induct VAR with COMPANION | finduct FUNCTION VAR... | cases VAR | "
                    "lemma FORMULA | generalize TERM")


_NAME = re.compile(r"[^\s()]+|\|[^|]*\|")
_MUTUAL = re.compile(r"induct\s+([^\s()|]+|\|[^|]*\|)\s+with\s*(\(.*)", re.S)
MAX_COMPANIONS = 8


def _parse_mutual(s: str, goal: Goal) -> Step | None:
    """``induct x with C``: ``C`` one companion property ``(forall ((z S) ...) φ)`` or an
    ``and`` of several; None when ``s`` is not of this form."""
    m = _MUTUAL.fullmatch(s)
    if m is None:
        return None
    name, rest = m.groups()
    if name not in goal.scope():
        raise StepError(f"induct: unknown variable {name!r}")
    from ..logic.parser import parse_term

    try:
        t = parse_term(rest, goal.theory, goal.scope(), expected=BOOL, file="<step>")
    except SpecError as e:
        raise StepError(f"induct ... with: {e}") from None
    if size(t) > MAX_TERM_SIZE * MAX_COMPANIONS:
        raise StepError(f"induct ... with: companions too large ({size(t)} nodes)")
    cs = t.args if isinstance(t, App) and t.fn == "and" and t.args and all(
        isinstance(a, Quant) for a in t.args) else (t,)
    return MutualInduct(name, tuple(cs))


def _parse_multi(s: str, goal: Goal) -> Step | None:
    """``induct x y ...`` (two or more variables) and ``finduct f x ...``; None otherwise."""
    words = s.split(None, 1)
    if len(words) != 2 or words[0] not in ("induct", "finduct"):
        return None
    names = _NAME.findall(words[1])
    if "".join(names) != "".join(words[1].split()):
        raise StepError(f"{words[0]}: malformed argument list {words[1][:80]!r}")
    if words[0] == "induct":
        if len(names) < 2:
            return None  # one variable: the plain structural step
        scope = goal.scope()
        for n in names:
            if n not in scope:
                raise StepError(f"induct: unknown variable {n!r}")
        return InductMany(tuple(names))
    if len(names) < 2:
        raise StepError("finduct: expected a function and its arguments (variables)")
    return FunInduct(names[0], tuple(names[1:]))


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
    if isinstance(step, InductMany):
        return _induct_many(goal, step.vars)
    if isinstance(step, FunInduct):
        return _fun_induct(goal, step.fn, step.vars)
    if isinstance(step, MutualInduct):
        return _mutual_induct(goal, step.var, step.companions)
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


# ---- stronger induction rules --------------------------------------------------------------
MAX_SCHEME_CASES = 64  # subgoals one multi-variable or functional induction may produce


def _induct_vars(goal: Goal, names: tuple[str, ...], what: str,
                 datatypes: bool = True) -> tuple[Goal, tuple[Var, ...]]:
    """The named variables of ``goal`` (distinct, in scope), fixed ones reverted into the
    conclusion, so that all of them are universally quantified there."""
    if len(set(names)) != len(names):
        raise StepError(f"{what}: a variable is named twice ({' '.join(names)})")
    scope = goal.scope()
    xs = []
    for n in names:
        if n not in scope:
            raise StepError(f"{what}: unknown variable {n!r}")
        x = scope[n]
        if datatypes and symbol_table(goal.theory).datatype_of(x.sort) is None:
            raise StepError(f"{what}: variable {n!r} has sort {x.sort}, not a datatype")
        xs.append(x)
    for x in xs:
        if x in goal.fixed and x not in goal.forall_vars:
            goal = _revert(goal, x)
    return goal, tuple(xs)


def _induct_many(goal: Goal, names: tuple[str, ...]) -> tuple[Goal, ...]:
    """Lexicographic induction on ``x1 .. xk`` (k >= 2).

    One subgoal per tuple of constructors ``(C1(f1..), .., Ck(fk..))`` with fresh fixed fields
    and conclusion ``∀ others. B[x1:=C1(..), .., xk:=Ck(..)]``.  For every position ``i`` and
    every field ``f`` of ``Ci`` of the same sort as ``xi``, the hypothesis
    ``∀ others, x(i+1)..xk. B[x1:=C1(..), .., x(i-1):=C(i-1)(..), xi:=f]``.
    Sound: each hypothesis is the goal at a tuple smaller in the lexicographic order of
    (size x1, .., size xk), which is well founded."""
    goal, xs = _induct_vars(goal, names, "induct")
    table = symbol_table(goal.theory)
    vs, body = split_forall(goal.concl)
    others = tuple(v for v in vs if v not in xs)
    dts = [table.datatype_of(x.sort) for x in xs]
    n_cases = 1
    for dt in dts:
        n_cases *= len(dt.ctors)
    if n_cases > MAX_SCHEME_CASES:
        raise StepError(f"induct: {n_cases} cases (more than {MAX_SCHEME_CASES})")
    supply = _fresh(goal)
    out = []
    for ctors in itertools.product(*(dt.ctors for dt in dts)):
        fields_of, inst = [], {}
        for x, ctor in zip(xs, ctors):
            fs = tuple(Var(supply.fresh(_field_base(sel, s)), s) for sel, s in ctor.fields)
            fields_of.append(fs)
            inst[x] = App(ctor.name, fs, x.sort)
        ihs = []
        for i, x in enumerate(xs):
            later = xs[i + 1:]
            prefix = {xs[j]: inst[xs[j]] for j in range(i)}
            for f in fields_of[i]:
                if f.sort == x.sort:
                    ihs.append(forall(others + later, substitute(body, {**prefix, x: f})))
        concl = forall(others, substitute(body, inst))
        fixed = tuple(f for fs in fields_of for f in fs)
        out.append(Goal(goal.theory, concl, goal.hyps + tuple(ihs), goal.fixed + fixed))
    return tuple(out)


@lru_cache(maxsize=64)
def _terminating_functions(theory) -> frozenset[str]:
    """Defined functions whose termination the termination analysis establishes (every
    member of a group it proves terminating, and every non-recursive one)."""
    from ..termination import check_theory

    results = iter(check_theory(theory))
    out = set()
    for group in theory.defs:
        if not any(f.recursive for f in group):
            out.update(f.name for f in group)
            continue
        r = next(results, None)
        if r is not None and r.terminating:
            out.update(f.name for f in group)
    return frozenset(out)


def function_terminates(theory, name: str) -> bool:
    """Whether the termination analysis establishes that ``name`` terminates."""
    return name in _terminating_functions(theory)


def _fun_induct(goal: Goal, fn: str, names: tuple[str, ...]) -> tuple[Goal, ...]:
    """Induction following the recursion of the function ``fn`` on the variables ``x1..xn``
    (its arguments, in order).

    The cases are the leaves of ``fn``'s pattern-match tree on its parameters (a match on a
    parameter, or on a field bound by an earlier match, splits into one case per constructor,
    first matching pattern wins, so the cases are exhaustive and disjoint), each with fresh
    fixed fields: conclusion ``∀ others. B[x̄ := case terms]``.  Every call ``fn(ā)`` in a
    leaf's body that is outside binders gives the hypothesis ``∀ others. c → B[x̄ := ā]``,
    ``c`` the conjunction of the conditions guarding the call (``ite``, ``and``, ``or``,
    ``=>``); calls under other binders or under a match on another term give none.
    Sound because ``fn`` terminates (established by the termination analysis): its call
    relation — ``ā`` before ``x̄`` whenever ``fn(x̄)`` calls ``fn(ā)`` with ``c`` true — is
    well founded, and each hypothesis is the goal at a predecessor in it (guards only weaken
    a hypothesis)."""
    fd = goal.theory.fundef(fn)
    if fd is None:
        raise StepError(f"finduct: {fn!r} is not a defined function")
    if len(names) != len(fd.params):
        raise StepError(f"finduct: {fn} takes {len(fd.params)} arguments, got {len(names)}")
    goal, xs = _induct_vars(goal, names, "finduct", datatypes=False)
    for x, p in zip(xs, fd.params):
        if x.sort != p.sort:
            raise StepError(f"finduct: {x.name} has sort {x.sort}, {fn} expects {p.sort}")
    if not function_terminates(goal.theory, fn):
        raise StepError(f"finduct: termination of {fn} is not established")
    table = symbol_table(goal.theory)
    vs, body = split_forall(goal.concl)
    others = tuple(v for v in vs if v not in xs)
    supply = _fresh(goal)
    created: list[Var] = list(xs)
    leaves = []
    stack = [(fd.body, dict(zip(fd.params, xs)), {x: x for x in xs}, frozenset(xs))]
    while stack:
        t, rho, theta, splittable = stack.pop()
        v = rho.get(t.scrutinee) if isinstance(t, Match) and isinstance(t.scrutinee, Var) \
            else None
        dt = table.datatype_of(v.sort) if isinstance(v, Var) and v in splittable else None
        if dt is None:
            leaves.append((theta, _guarded_calls(t, fn, rho)))
            if len(leaves) + len(stack) > MAX_SCHEME_CASES:
                raise StepError(f"finduct: more than {MAX_SCHEME_CASES} cases")
            continue
        for ctor in reversed(dt.ctors):
            case = next((c for c in t.cases if isinstance(c.pattern, PatVar)
                         or c.pattern.ctor == ctor.name), None)
            if case is None:
                raise StepError(f"finduct: the match in {fn} has no case for {ctor.name}")
            fields = tuple(Var(supply.fresh(_field_base(sel, s)), s) for sel, s in ctor.fields)
            created.extend(fields)
            inst = App(ctor.name, fields, v.sort)
            sub = {v: inst}
            rho2 = {k: substitute(val, sub) for k, val in rho.items()}
            theta2 = {k: substitute(val, sub) for k, val in theta.items()}
            if isinstance(case.pattern, PatCon):
                if len(case.pattern.vars) != len(fields):
                    raise StepError(f"finduct: pattern arity mismatch for {ctor.name}")
                rho2.update(zip(case.pattern.vars, fields))
            elif case.pattern.var is not None:
                rho2[case.pattern.var] = inst
            stack.append((case.body, rho2, theta2, (splittable - {v}) | frozenset(fields)))
    out = []
    for theta, calls in reversed(leaves):
        ihs = []
        for conds, args in calls:
            concl_ih = substitute(body, dict(zip(xs, args)))
            ih = forall(others, implies(and_(*conds), concl_ih) if conds else concl_ih)
            if ih not in ihs:
                ihs.append(ih)
        range_vars = set()
        for val in theta.values():
            range_vars |= free_vars(val)
        fixed = tuple(u for u in created if u in range_vars)
        out.append(Goal(goal.theory, forall(others, substitute(body, theta)),
                        goal.hyps + tuple(ihs), goal.fixed + fixed))
    return tuple(out)


def _guarded_calls(t: Term, fn: str, rho: dict) -> list[tuple[tuple[Term, ...], tuple]]:
    """Calls ``fn(ā)`` in ``t`` outside binders and matches, with their guards, both mapped
    through ``rho`` (calls mentioning variables not in ``rho`` are left out)."""
    out = []
    stack = [(t, ())]
    while stack:
        s, conds = stack.pop()
        if isinstance(s, App):
            a = s.args
            if s.fn == "ite" and len(a) == 3:
                stack += [(a[0], conds), (a[1], conds + (a[0],)),
                          (a[2], conds + (not_(a[0]),))]
                continue
            if s.fn in ("and", "or", "=>") and s.sort == BOOL:
                for i, arg in enumerate(a):
                    before = a[:i]
                    if s.fn == "and":
                        g = before
                    elif s.fn == "or":
                        g = tuple(not_(b) for b in before)
                    else:  # (=> a1 .. an): ai is evaluated under a1 .. a(i-1)
                        g = before
                    stack.append((arg, conds + g))
                continue
            stack += [(arg, conds) for arg in a]
            if s.fn == fn:
                terms = conds + a
                if all(free_vars(x) <= rho.keys() and not _has_binder(x) for x in terms):
                    out.append((tuple(substitute(c, rho) for c in conds),
                                tuple(substitute(x, rho) for x in a)))
        elif isinstance(s, Match):
            stack.append((s.scrutinee, conds))
        elif isinstance(s, HoApp):
            stack += [(s.fn, conds)] + [(arg, conds) for arg in s.args]
    return out


def _has_binder(t: Term) -> bool:
    return any(isinstance(s, (Quant, Lambda, Let, Match)) for s in subterms(t))


def _companion(goal: Goal, c: Term, what: str) -> tuple[Var, Term]:
    """A companion property ``∀ z w̄. φ`` as (z, ``∀ w̄. φ``): ``z`` (of a datatype sort) is the
    variable inducted on together with the goal's, ``w̄`` stay quantified in the property."""
    if not isinstance(c, Quant) or c.kind != "forall" or c.sort != BOOL:
        raise StepError(f"{what}: a companion must be (forall ((z SORT) ...) PROPERTY)")
    vs, body = split_forall(c)
    z = vs[0]
    if symbol_table(goal.theory).datatype_of(z.sort) is None:
        raise StepError(f"{what}: companion variable {z.name!r} has sort {z.sort}, "
                        "not a datatype")
    loose = free_vars(c) - frozenset(goal.fixed)
    if loose:
        raise StepError(f"{what}: companion mentions {sorted(v.name for v in loose)}, which "
                        "are not fixed in the goal (the variable inducted on and the goal's "
                        "quantified variables cannot occur in a companion; quantify them)")
    if size(c) > MAX_TERM_SIZE:
        raise StepError(f"{what}: companion too large ({size(c)} > {MAX_TERM_SIZE} nodes)")
    return z, forall(vs[1:], body)


def _mutual_induct(goal: Goal, name: str, companions: tuple[Term, ...]) -> tuple[Goal, ...]:
    """Simultaneous structural induction on ``x`` (sort ``T``) and on the companion sorts.

    The goal gives the property ``P_T(x) := ∀ others. B`` (a fixed ``x`` is reverted first);
    each companion ``∀ z w̄. φ`` (``z`` of a datatype sort ``S``, every ``S`` distinct and
    different from ``T``; free names only fixed variables of the goal) gives
    ``P_S(z) := ∀ w̄. φ``.  Subgoals: for every sort ``S`` with a property and every
    constructor ``C(f1..fk)`` of ``S``, with fresh fixed fields: one hypothesis ``P_S'(fi)`` per
    field whose sort ``S'`` has a property, conclusion ``P_S(C(f1..fk))``; the goal's
    hypotheses and fixed variables are kept.  A sort without a property has ``P = true``
    (its cases are trivial and left out, its fields get no hypothesis).

    Sound: the values of datatype sorts are finite constructor terms, so the proper-subterm
    relation (across all sorts) is well founded.  Take a value ``v`` of smallest size at
    which some ``P_S`` fails; its fields are smaller, so every hypothesis of its case holds,
    and the case's subgoal is false.  So if all subgoals are valid, every ``P_S`` holds,
    ``P_T`` among them, which is the goal.  For a mutual block (``Tree``/``Forest``) or a
    nested one (``Tree`` with a ``(list Tree)`` field, which monomorphisation turns into a
    mutual block) the companions are what make hypotheses for the fields of the other
    sorts."""
    what = "induct ... with"
    if not companions:
        raise StepError(f"{what}: no companion property")
    if len(companions) > MAX_COMPANIONS:
        raise StepError(f"{what}: {len(companions)} companions (more than {MAX_COMPANIONS})")
    goal, (x,) = _induct_vars(goal, (name,), what)
    table = symbol_table(goal.theory)
    vs, body = split_forall(goal.concl)
    others = tuple(v for v in vs if v != x)
    props: dict = {x.sort: (x, forall(others, body))}
    for c in companions:
        z, prop = _companion(goal, c, what)
        if z.sort in props:
            raise StepError(f"{what}: two properties for sort {z.sort}")
        props[z.sort] = (z, prop)
    n_cases = sum(len(table.datatype_of(s).ctors) for s in props)
    if n_cases > MAX_SCHEME_CASES:
        raise StepError(f"{what}: {n_cases} cases (more than {MAX_SCHEME_CASES})")
    supply = _fresh(goal)
    for c in companions:  # no field is named like a variable of a companion
        supply.used |= all_var_names(c)
    out = []
    for sort, (z, prop) in props.items():
        for ctor in table.datatype_of(sort).ctors:
            fields = tuple(Var(supply.fresh(_field_base(sel, s)), s) for sel, s in ctor.fields)
            ihs = tuple(substitute(props[f.sort][1], {props[f.sort][0]: f})
                        for f in fields if f.sort in props)
            concl = substitute(prop, {z: App(ctor.name, fields, sort)})
            out.append(Goal(goal.theory, concl, goal.hyps + ihs, goal.fixed + fields))
    return tuple(out)
