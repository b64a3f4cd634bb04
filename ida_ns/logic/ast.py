"""Typed, monomorphic abstract syntax for theories, terms and formulas.

Everything in ida-ns speaks this AST: the SMT-LIB/TIP parser produces it, the printer turns it
back into SMT-LIB, the solver backends build their queries from it through the solvers' APIs,
and the prover's decomposition steps rewrite it.  Every node is a frozen dataclass, so terms are
hashable values and compare structurally.

Polymorphism (TIP's ``par``) is removed by the parser: every sort here is ground.  A sort is a
name plus arguments; ``Sort("=>", (a, b))`` is the sort of functions from ``a`` to ``b`` (TIP's
higher-order extension).

Builtin function symbols (``BUILTINS``) are applied with :class:`App` like any other symbol;
datatype testers are applied as ``App("is-<ctor>", ...)`` via :func:`tester_name`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Iterator, Union

# --------------------------------------------------------------------------------------------
# Sorts


@dataclass(frozen=True)
class Sort:
    """A ground sort: ``Bool``, ``Int``, a datatype, an uninterpreted sort, or ``=>``."""

    name: str
    args: tuple["Sort", ...] = ()

    @property
    def is_function(self) -> bool:
        return self.name == "=>"

    @property
    def domain(self) -> tuple["Sort", ...]:
        """Argument sorts of a function sort."""
        assert self.is_function, self
        return self.args[:-1]

    @property
    def codomain(self) -> "Sort":
        assert self.is_function, self
        return self.args[-1]

    def __str__(self) -> str:  # SMT-LIB spelling
        if not self.args:
            return self.name
        return "(" + " ".join([self.name, *map(str, self.args)]) + ")"


BOOL = Sort("Bool")
INT = Sort("Int")


def fun_sort(domain: Iterable[Sort], codomain: Sort) -> Sort:
    return Sort("=>", (*domain, codomain))


# --------------------------------------------------------------------------------------------
# Terms


@dataclass(frozen=True)
class Var:
    """A variable (bound by a quantifier, let, lambda, match pattern, or a goal's context)."""

    name: str
    sort: Sort


@dataclass(frozen=True)
class IntLit:
    value: int
    sort: Sort = field(default=INT, compare=False)

    def __repr__(self) -> str:  # the dataclass repr, for integers of any size
        from .bignum import int_to_decimal

        return f"IntLit(value={int_to_decimal(self.value)}, sort={self.sort!r})"


@dataclass(frozen=True)
class BoolLit:
    value: bool
    sort: Sort = field(default=BOOL, compare=False)


@dataclass(frozen=True)
class App:
    """Application of a named first-order symbol (builtin, constructor, selector, tester,
    declared or defined function).  Constants are applications with no arguments."""

    fn: str
    args: tuple["Term", ...]
    sort: Sort


@dataclass(frozen=True)
class PatCon:
    """Constructor pattern ``(ctor v1 ... vn)``; ``vars`` are fresh bound variables."""

    ctor: str
    vars: tuple[Var, ...] = ()


@dataclass(frozen=True)
class PatVar:
    """Catch-all pattern; binds the scrutinee to ``var`` unless ``var`` is None (``_``)."""

    var: Var | None = None


Pattern = Union[PatCon, PatVar]


@dataclass(frozen=True)
class MatchCase:
    pattern: Pattern
    body: "Term"


@dataclass(frozen=True)
class Match:
    scrutinee: "Term"
    cases: tuple[MatchCase, ...]
    sort: Sort


@dataclass(frozen=True)
class Let:
    """Parallel let: all right-hand sides are evaluated in the outer scope."""

    bindings: tuple[tuple[Var, "Term"], ...]
    body: "Term"

    @property
    def sort(self) -> Sort:
        return self.body.sort


@dataclass(frozen=True)
class Quant:
    kind: str  # "forall" | "exists"
    vars: tuple[Var, ...]
    body: "Term"

    @property
    def sort(self) -> Sort:
        return BOOL


@dataclass(frozen=True)
class Lambda:
    vars: tuple[Var, ...]
    body: "Term"

    @property
    def sort(self) -> Sort:
        return fun_sort((v.sort for v in self.vars), self.body.sort)


@dataclass(frozen=True)
class HoApp:
    """Higher-order application ``(@ f a1 ... an)`` of a term of function sort."""

    fn: "Term"
    args: tuple["Term", ...]

    @property
    def sort(self) -> Sort:
        return self.fn.sort.codomain


Term = Union[Var, IntLit, BoolLit, App, Match, Let, Quant, Lambda, HoApp]

TRUE = BoolLit(True)
FALSE = BoolLit(False)

# Builtin symbols.  Their sorts are checked by ida_ns.logic.sortcheck.
BOOL_OPS = frozenset({"not", "and", "or", "=>", "xor", "=", "distinct", "ite"})
INT_OPS = frozenset({"+", "-", "*", "div", "mod", "abs", "<", "<=", ">", ">="})
BUILTINS = BOOL_OPS | INT_OPS
TESTER_PREFIX = "is-"


def tester_name(ctor: str) -> str:
    return TESTER_PREFIX + ctor


# Convenience constructors --------------------------------------------------------------------


def eq(a: Term, b: Term) -> App:
    return App("=", (a, b), BOOL)


def not_(a: Term) -> Term:
    if isinstance(a, BoolLit):
        return BoolLit(not a.value)
    return App("not", (a,), BOOL)


def and_(*xs: Term) -> Term:
    xs = tuple(x for x in xs if x != TRUE)
    if not xs:
        return TRUE
    if len(xs) == 1:
        return xs[0]
    return App("and", xs, BOOL)


def or_(*xs: Term) -> Term:
    xs = tuple(x for x in xs if x != FALSE)
    if not xs:
        return FALSE
    if len(xs) == 1:
        return xs[0]
    return App("or", xs, BOOL)


def implies(a: Term, b: Term) -> Term:
    if a == TRUE:
        return b
    return App("=>", (a, b), BOOL)


def forall(vs: Iterable[Var], body: Term) -> Term:
    vs = tuple(vs)
    if not vs:
        return body
    if isinstance(body, Quant) and body.kind == "forall":
        return Quant("forall", vs + body.vars, body.body)
    return Quant("forall", vs, body)


# --------------------------------------------------------------------------------------------
# Theories and problems


@dataclass(frozen=True)
class Constructor:
    name: str
    fields: tuple[tuple[str, Sort], ...] = ()  # (selector name, field sort)


@dataclass(frozen=True)
class Datatype:
    name: str
    ctors: tuple[Constructor, ...]

    @property
    def sort(self) -> Sort:
        return Sort(self.name)


@dataclass(frozen=True)
class FunDecl:
    """An uninterpreted function (or constant, with no params)."""

    name: str
    params: tuple[Sort, ...]
    ret: Sort


@dataclass(frozen=True)
class FunDef:
    name: str
    params: tuple[Var, ...]
    ret: Sort
    body: Term
    recursive: bool = True


@dataclass(frozen=True)
class Theory:
    """Declarations in dependency order.

    ``datatypes`` and ``defs`` are groups: each inner tuple was declared together and may be
    mutually recursive.  ``axioms`` are asserted closed formulas (TIP ``assert``).
    """

    sorts: tuple[str, ...] = ()
    datatypes: tuple[tuple[Datatype, ...], ...] = ()
    funs: tuple[FunDecl, ...] = ()
    defs: tuple[tuple[FunDef, ...], ...] = ()
    axioms: tuple[Term, ...] = ()

    # Lookups (linear scans are fine: theories are small, and callers cache a SymbolTable).
    def datatype(self, name: str) -> Datatype | None:
        for group in self.datatypes:
            for dt in group:
                if dt.name == name:
                    return dt
        return None

    def all_datatypes(self) -> Iterator[Datatype]:
        for group in self.datatypes:
            yield from group

    def all_defs(self) -> Iterator[FunDef]:
        for group in self.defs:
            yield from group

    def fundef(self, name: str) -> FunDef | None:
        for d in self.all_defs():
            if d.name == name:
                return d
        return None


@dataclass(frozen=True)
class Problem:
    """A theory and the goal to prove (a closed formula)."""

    theory: Theory
    goal: Term
    source: str = "<input>"


# --------------------------------------------------------------------------------------------
# Generic traversals


def children(t: Term) -> tuple[Term, ...]:
    if isinstance(t, App):
        return t.args
    if isinstance(t, HoApp):
        return (t.fn, *t.args)
    if isinstance(t, Match):
        return (t.scrutinee, *(c.body for c in t.cases))
    if isinstance(t, Let):
        return (*(v for _, v in t.bindings), t.body)
    if isinstance(t, (Quant, Lambda)):
        return (t.body,)
    return ()


def subterms(t: Term) -> Iterator[Term]:
    """Pre-order iteration over all subterms (including t), iteratively (no deep recursion)."""
    stack = [t]
    while stack:
        s = stack.pop()
        yield s
        stack.extend(reversed(children(s)))


def size(t: Term) -> int:
    return sum(1 for _ in subterms(t))


def depth(t: Term) -> int:
    best = 0
    stack = [(t, 1)]
    while stack:
        s, d = stack.pop()
        best = max(best, d)
        stack.extend((c, d + 1) for c in children(s))
    return best


def pattern_vars(p: Pattern) -> tuple[Var, ...]:
    if isinstance(p, PatCon):
        return p.vars
    return (p.var,) if p.var is not None else ()


def free_vars(t: Term) -> frozenset[Var]:
    """Free variables of a term."""
    if isinstance(t, Var):
        return frozenset((t,))
    if isinstance(t, (IntLit, BoolLit)):
        return frozenset()
    if isinstance(t, App):
        out: frozenset[Var] = frozenset()
        for a in t.args:
            out |= free_vars(a)
        return out
    if isinstance(t, HoApp):
        out = free_vars(t.fn)
        for a in t.args:
            out |= free_vars(a)
        return out
    if isinstance(t, (Quant, Lambda)):
        return free_vars(t.body) - frozenset(t.vars)
    if isinstance(t, Let):
        out = free_vars(t.body) - frozenset(v for v, _ in t.bindings)
        for _, v in t.bindings:
            out |= free_vars(v)
        return out
    if isinstance(t, Match):
        out = free_vars(t.scrutinee)
        for c in t.cases:
            out |= free_vars(c.body) - frozenset(pattern_vars(c.pattern))
        return out
    raise TypeError(f"not a term: {t!r}")


def symbols(t: Term) -> frozenset[str]:
    """Names of first-order symbols applied anywhere in t."""
    out = set()
    for s in subterms(t):
        if isinstance(s, App):
            out.add(s.fn)
        elif isinstance(s, Match):
            out.update(c.pattern.ctor for c in s.cases if isinstance(c.pattern, PatCon))
    return frozenset(out)


class NameSupply:
    """Fresh variable names avoiding a set of used names."""

    def __init__(self, used: Iterable[str] = ()):
        self.used = set(used)

    def fresh(self, base: str) -> str:
        base = base.rstrip("0123456789'") or "x"
        if base not in self.used:
            self.used.add(base)
            return base
        i = 1
        while f"{base}{i}" in self.used:
            i += 1
        name = f"{base}{i}"
        self.used.add(name)
        return name


def all_var_names(t: Term) -> set[str]:
    names = set()
    for s in subterms(t):
        if isinstance(s, Var):
            names.add(s.name)
        elif isinstance(s, (Quant, Lambda)):
            names.update(v.name for v in s.vars)
        elif isinstance(s, Let):
            names.update(v.name for v, _ in s.bindings)
        elif isinstance(s, Match):
            for c in s.cases:
                names.update(v.name for v in pattern_vars(c.pattern))
    return names


def substitute(t: Term, sub: dict[Var, Term]) -> Term:
    """Capture-avoiding simultaneous substitution of variables by terms."""
    if not sub:
        return t
    avoid = set()
    for v in sub.values():
        avoid |= {x.name for x in free_vars(v)}
    return _subst(t, dict(sub), avoid)


def _rebind(vs: tuple[Var, ...], sub: dict[Var, Term], avoid: set[str], body_names: set[str]):
    """Rename binders that would capture a free variable of the substitution's range."""
    sub = {k: v for k, v in sub.items() if k not in vs}
    new_vs = []
    for v in vs:
        if v.name in avoid:
            supply = NameSupply(avoid | body_names | {x.name for x in vs})
            nv = Var(supply.fresh(v.name), v.sort)
            sub[v] = nv
            new_vs.append(nv)
        else:
            new_vs.append(v)
    return tuple(new_vs), sub


def _subst(t: Term, sub: dict[Var, Term], avoid: set[str]) -> Term:
    if isinstance(t, Var):
        return sub.get(t, t)
    if isinstance(t, (IntLit, BoolLit)):
        return t
    if isinstance(t, App):
        return App(t.fn, tuple(_subst(a, sub, avoid) for a in t.args), t.sort)
    if isinstance(t, HoApp):
        return HoApp(_subst(t.fn, sub, avoid), tuple(_subst(a, sub, avoid) for a in t.args))
    if isinstance(t, (Quant, Lambda)):
        vs, inner = _rebind(t.vars, sub, avoid, all_var_names(t.body))
        if not inner:
            return t
        body = _subst(t.body, inner, avoid | {v.name for v in vs})
        return Quant(t.kind, vs, body) if isinstance(t, Quant) else Lambda(vs, body)
    if isinstance(t, Let):
        rhs = tuple((v, _subst(e, sub, avoid)) for v, e in t.bindings)
        vs, inner = _rebind(tuple(v for v, _ in rhs), sub, avoid, all_var_names(t.body))
        return Let(tuple(zip(vs, (e for _, e in rhs))), _subst(t.body, inner, avoid))
    if isinstance(t, Match):
        cases = []
        for c in t.cases:
            pvs = pattern_vars(c.pattern)
            vs, inner = _rebind(pvs, sub, avoid, all_var_names(c.body))
            if isinstance(c.pattern, PatCon):
                pat: Pattern = PatCon(c.pattern.ctor, vs)
            else:
                pat = PatVar(vs[0] if vs else None)
            cases.append(MatchCase(pat, _subst(c.body, inner, avoid)))
        return Match(_subst(t.scrutinee, sub, avoid), tuple(cases), t.sort)
    raise TypeError(f"not a term: {t!r}")


def replace_subterm(t: Term, old: Term, new: Term) -> Term:
    """Replace every occurrence of ``old`` whose free variables are not bound at that point."""
    fv_old = free_vars(old)

    def go(s: Term, bound: frozenset[Var]) -> Term:
        if s == old and not (fv_old & bound):
            return new
        if isinstance(s, App):
            return App(s.fn, tuple(go(a, bound) for a in s.args), s.sort)
        if isinstance(s, HoApp):
            return HoApp(go(s.fn, bound), tuple(go(a, bound) for a in s.args))
        if isinstance(s, Quant):
            return Quant(s.kind, s.vars, go(s.body, bound | frozenset(s.vars)))
        if isinstance(s, Lambda):
            return Lambda(s.vars, go(s.body, bound | frozenset(s.vars)))
        if isinstance(s, Let):
            return Let(
                tuple((v, go(e, bound)) for v, e in s.bindings),
                go(s.body, bound | frozenset(v for v, _ in s.bindings)),
            )
        if isinstance(s, Match):
            return Match(
                go(s.scrutinee, bound),
                tuple(
                    MatchCase(c.pattern, go(c.body, bound | frozenset(pattern_vars(c.pattern))))
                    for c in s.cases
                ),
                s.sort,
            )
        return s

    return go(t, frozenset())
