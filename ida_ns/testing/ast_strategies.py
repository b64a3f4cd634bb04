"""Hypothesis strategies for well-sorted theories, terms, formulas and problems.

- :func:`theories`: uninterpreted sorts (each with a constant), datatype groups (mutually
  recursive ones included; every datatype inhabited), declared functions (some with function
  sorts), and definitions whose bodies are random terms, with structurally recursive ones
  defined by ``match`` on a datatype parameter;
- :func:`terms`: a well-sorted term of a given sort over a theory (variables, literals, every
  symbol kind, ``ite``, ``let``, ``match`` with constructor/variable/wildcard patterns,
  quantifiers, ``lambda``/``@``, Int arithmetic, testers);
- :func:`formulas` / :func:`closed_formulas` / :func:`problems`.

Everything generated sort-checks (:mod:`ida_ns.logic.sortcheck`) and is in the canonical form
the parser produces, so ``parse_text(print_problem(p)) == p``: bound variables get fresh names
that never clash with symbols, unused variable patterns are ``_``, unary minus is never applied
to a literal (``(- 5)`` reads back as ``IntLit(-5)``).

>>> from hypothesis import given
>>> @given(problems())
... def test(p): ...
"""

from __future__ import annotations

from typing import Iterable

from hypothesis import strategies as st

from ..logic.ast import (
    BOOL, INT, App, BoolLit, Constructor, Datatype, FunDecl, FunDef, HoApp, IntLit, Lambda, Let,
    Match, MatchCase, PatCon, PatVar, Problem, Quant, Sort, Term, Theory, Var, fun_sort,
    free_vars, tester_name,
)
from ..logic.symbols import CTOR, DECLARED, DEFINED, SELECTOR, symbol_table

__all__ = ["theories", "terms", "formulas", "closed_formulas", "problems", "ground_sorts"]


def ground_sorts(theory: Theory) -> list[Sort]:
    """Bool, Int, the theory's uninterpreted sorts and datatypes (no function sorts)."""
    return [BOOL, INT, *(Sort(s) for s in theory.sorts),
            *(d.sort for d in theory.all_datatypes())]


class _Gen:
    """Draws a random term of a requested sort; recursion is bounded by ``depth``."""

    def __init__(self, draw, theory: Theory, prefix: str = "v", rec=None):
        self.draw = draw
        self.theory = theory
        self.table = symbol_table(theory)
        self.prefix = prefix
        self.count = 0
        self.sorts = ground_sorts(theory)
        self.datatypes = list(theory.all_datatypes())
        self.by_ret: dict[Sort, list] = {}
        for info in self.table.infos.values():
            if info.kind in (CTOR, SELECTOR, DECLARED, DEFINED):
                self.by_ret.setdefault(info.ret, []).append(info)
        for v in self.by_ret.values():
            v.sort(key=lambda i: i.name)
        # recursive call hook: (name, param sorts, ret sort, index of the decreasing argument)
        self.rec = rec
        self.smaller: set[Var] = set()

    def fresh(self, sort: Sort) -> Var:
        self.count += 1
        return Var(f"{self.prefix}{self.count}", sort)

    def choose(self, options: list):
        return self.draw(st.sampled_from(options))

    # leaves always exist: every sort of a generated theory is inhabited by a closed term ----
    def leaf(self, sort: Sort, scope: list[Var]) -> Term:
        opts: list = [v for v in scope if v.sort == sort]
        if sort == BOOL:
            opts += [BoolLit(True), BoolLit(False)]
        elif sort == INT:
            opts.append(IntLit(self.draw(st.integers(-3, 5))))
        elif sort.is_function:
            opts.append("lambda")
        else:
            opts += [i for i in self.by_ret.get(sort, []) if not i.params]
        if not opts:
            dt = self.table.datatype_of(sort)
            if dt is None:
                raise ValueError(f"sort {sort} has no closed term in this theory")
            c = dt.ctors[0]  # generated datatypes list a non-recursive constructor first
            return App(c.name, tuple(self.leaf(s, scope) for _, s in c.fields), sort)
        o = self.choose(opts)
        if o == "lambda":
            vs = tuple(self.fresh(s) for s in sort.domain)
            return Lambda(vs, self.leaf(sort.codomain, scope + list(vs)))
        if isinstance(o, (Var, BoolLit, IntLit)):
            return o
        return App(o.name, (), o.ret)

    def term(self, sort: Sort, scope: list[Var], depth: int) -> Term:
        if depth <= 0 or self.draw(st.integers(0, 3)) == 0:
            return self.leaf(sort, scope)
        d = depth - 1
        kinds = ["app", "ite", "let", "match", "hoapp"]
        if sort == BOOL:
            kinds += ["bool", "bool", "cmp", "eq", "tester", "quant"]
        if sort == INT:
            kinds += ["arith", "arith"]
        if sort.is_function:
            kinds.append("lambda")
        if self.rec is not None and sort == self.rec[2] and any(v in self.smaller for v in scope):
            kinds += ["rec", "rec"]
        kind = self.choose(kinds)
        t = getattr(self, "_" + kind)(sort, scope, d)
        return t if t is not None else self.leaf(sort, scope)

    # compound forms -------------------------------------------------------------------------
    def _app(self, sort, scope, d):
        opts = [i for i in self.by_ret.get(sort, []) if i.params]
        if not opts:
            return None
        i = self.choose(opts)
        return App(i.name, tuple(self.term(s, scope, d) for s in i.params), sort)

    def _rec(self, sort, scope, d):
        name, params, ret, k = self.rec
        small = self.choose([v for v in scope if v in self.smaller])
        args = [small if j == k else self.term(s, scope, d) for j, s in enumerate(params)]
        return App(name, tuple(args), ret)

    def _ite(self, sort, scope, d):
        return App("ite", (self.term(BOOL, scope, d), self.term(sort, scope, d),
                           self.term(sort, scope, d)), sort)

    def _let(self, sort, scope, d):
        n = self.draw(st.integers(1, 2))
        rhs = [self.term(self.choose(self.sorts), scope, d) for _ in range(n)]
        vs = [self.fresh(e.sort) for e in rhs]
        return Let(tuple(zip(vs, rhs)), self.term(sort, scope + vs, d))

    def _match(self, sort, scope, d):
        if not self.datatypes:
            return None
        dt = self.choose(self.datatypes)
        scrut = self.term(dt.sort, scope, d)
        ctors = list(dt.ctors)
        keep = self.draw(st.integers(0, len(ctors)))  # constructors with their own case
        cases = []
        for c in ctors[:keep]:
            vs = tuple(self.fresh(s) for _, s in c.fields)
            cases.append(MatchCase(PatCon(c.name, vs), self.term(sort, scope + list(vs), d)))
        if keep < len(ctors) or self.draw(st.booleans()):
            v = self.fresh(dt.sort)
            body = self.term(sort, scope + [v], d)
            cases.append(MatchCase(PatVar(v if v in free_vars(body) else None), body))
        return Match(scrut, tuple(cases), sort)

    def _hoapp(self, sort, scope, d):
        fvars = [v for v in scope if v.sort.is_function and v.sort.codomain == sort]
        if fvars and self.draw(st.booleans()):
            fn: Term = self.choose(fvars)
        else:
            dom = tuple(self.choose(self.sorts) for _ in range(self.draw(st.integers(1, 2))))
            vs = tuple(self.fresh(s) for s in dom)
            fn = Lambda(vs, self.term(sort, scope + list(vs), d))
        return HoApp(fn, tuple(self.term(s, scope, d) for s in fn.sort.domain))

    def _lambda(self, sort, scope, d):
        vs = tuple(self.fresh(s) for s in sort.domain)
        return Lambda(vs, self.term(sort.codomain, scope + list(vs), d))

    def _bool(self, sort, scope, d):
        op = self.choose(["not", "and", "or", "=>", "xor"])
        n = 1 if op == "not" else 2 if op in ("=>", "xor") else self.draw(st.integers(2, 3))
        return App(op, tuple(self.term(BOOL, scope, d) for _ in range(n)), BOOL)

    def _cmp(self, sort, scope, d):
        op = self.choose(["<", "<=", ">", ">="])
        return App(op, (self.term(INT, scope, d), self.term(INT, scope, d)), BOOL)

    def _eq(self, sort, scope, d):
        s = self.choose(self.sorts)
        op = self.choose(["=", "=", "distinct"])
        return App(op, (self.term(s, scope, d), self.term(s, scope, d)), BOOL)

    def _tester(self, sort, scope, d):
        if not self.datatypes:
            return None
        dt = self.choose(self.datatypes)
        c = self.choose(list(dt.ctors))
        return App(tester_name(c.name), (self.term(dt.sort, scope, d),), BOOL)

    def _quant(self, sort, scope, d):
        vs = tuple(self.fresh(self.choose(self.sorts)) for _ in range(self.draw(st.integers(1, 2))))
        return Quant(self.choose(["forall", "exists"]), vs, self.term(BOOL, scope + list(vs), d))

    def _arith(self, sort, scope, d):
        op = self.choose(["+", "-", "*", "div", "mod", "abs", "neg"])
        if op == "abs":
            return App("abs", (self.term(INT, scope, d),), INT)
        if op == "neg":
            a = self.term(INT, scope, d)
            if isinstance(a, IntLit):  # (- 5) reads back as the literal -5
                return IntLit(-a.value)
            return App("-", (a,), INT)
        if op in ("div", "mod"):  # divide by a non-zero literal: keeps the problem linear
            return App(op, (self.term(INT, scope, d),
                            IntLit(self.draw(st.sampled_from([1, 2, 3, -2])))), INT)
        return App(op, (self.term(INT, scope, d), self.term(INT, scope, d)), INT)


# --------------------------------------------------------------------------------------------
# Theories


@st.composite
def theories(draw, max_datatypes: int = 3, max_funs: int = 2, max_defs: int = 3,
             max_depth: int = 3) -> Theory:
    """A random well-sorted monomorphic theory."""
    sorts = tuple(f"S{i}" for i in range(draw(st.integers(0, 1))))
    base = [BOOL, INT, *(Sort(s) for s in sorts)]
    funs = [FunDecl(f"c{s}", (), Sort(s)) for s in sorts]  # every sort has a closed term

    groups: list[tuple[Datatype, ...]] = []
    n_dt = draw(st.integers(0, max_datatypes))
    k = 0
    while k < n_dt:
        size = min(draw(st.integers(1, 2)), n_dt - k)
        names = [f"D{k + j}" for j in range(size)]
        known = base + [Sort(n) for g in groups for n in (d.name for d in g)]
        group = []
        for j, name in enumerate(names):
            ctors = []
            for c in range(draw(st.integers(1, 3))):
                cname = f"{name}_C{c}"
                pool = known if c == 0 else known + [Sort(n) for n in names]
                nf = draw(st.integers(0 if c == 0 else 1, 2))
                fields = tuple((f"{cname}_s{i}", draw(st.sampled_from(pool))) for i in range(nf))
                ctors.append(Constructor(cname, fields))
            group.append(Datatype(name, tuple(ctors)))
        groups.append(tuple(group))
        k += size
    theory = Theory(sorts=sorts, datatypes=tuple(groups), funs=tuple(funs))
    all_sorts = ground_sorts(theory)

    for i in range(draw(st.integers(0, max_funs))):
        params = tuple(draw(st.sampled_from(all_sorts)) for _ in range(draw(st.integers(1, 2))))
        if draw(st.integers(0, 3)) == 0:  # a higher-order parameter
            params = (fun_sort((draw(st.sampled_from(all_sorts)),), BOOL),) + params[1:]
        funs.append(FunDecl(f"f{i}", params, draw(st.sampled_from(all_sorts))))
    theory = Theory(sorts=sorts, datatypes=tuple(groups), funs=tuple(funs))

    defs: list[tuple[FunDef, ...]] = []
    for i in range(draw(st.integers(0, max_defs))):
        name = f"g{i}"
        params = tuple(Var(f"p{j}", draw(st.sampled_from(all_sorts)))
                       for j in range(draw(st.integers(1, 3))))
        ret = draw(st.sampled_from(all_sorts))
        cur = Theory(sorts=sorts, datatypes=tuple(groups), funs=tuple(funs), defs=tuple(defs))
        body = _def_body(draw, cur, name, params, ret, max_depth)
        recursive = any(isinstance(s, App) and s.fn == name for s in _subterms(body))
        defs.append((FunDef(name, params, ret, body, recursive),))
    return Theory(sorts=sorts, datatypes=tuple(groups), funs=tuple(funs), defs=tuple(defs))


def _subterms(t: Term):
    from ..logic.ast import subterms

    return subterms(t)


def _def_body(draw, theory: Theory, name: str, params, ret: Sort, depth: int) -> Term:
    """A body; structurally recursive (match on a datatype parameter) when one exists."""
    table = symbol_table(theory)
    rec_param = next((k for k, p in enumerate(params) if table.datatype_of(p.sort) is not None
                      and any(s == p.sort for c in table.datatype_of(p.sort).ctors
                              for _, s in c.fields)), None)
    if rec_param is None or not draw(st.booleans()):
        return _Gen(draw, theory, "x").term(ret, list(params), depth)
    p = params[rec_param]
    gen = _Gen(draw, theory, "x", rec=(name, tuple(v.sort for v in params), ret, rec_param))
    cases = []
    for c in table.datatype_of(p.sort).ctors:
        vs = tuple(gen.fresh(s) for _, s in c.fields)
        gen.smaller = {v for v in vs if v.sort == p.sort}
        cases.append(MatchCase(PatCon(c.name, vs), gen.term(ret, list(params) + list(vs), depth)))
    return Match(p, tuple(cases), ret)


# --------------------------------------------------------------------------------------------
# Terms, formulas, problems


@st.composite
def terms(draw, theory: Theory, sort: Sort, scope: Iterable[Var] = (), max_depth: int = 3,
          prefix: str = "v") -> Term:
    """A well-sorted term of ``sort`` whose free variables are among ``scope``.
    Bound variables are named ``{prefix}1, {prefix}2, ...``: pick a prefix no scope variable
    or symbol uses."""
    return _Gen(draw, theory, prefix).term(sort, list(scope), max_depth)


def formulas(theory: Theory, scope: Iterable[Var] = (), max_depth: int = 3) -> st.SearchStrategy:
    return terms(theory, BOOL, tuple(scope), max_depth)


@st.composite
def closed_formulas(draw, theory: Theory, max_depth: int = 3) -> Term:
    """A closed Bool formula, usually universally quantified over a few variables."""
    sorts = ground_sorts(theory)
    vs = tuple(Var(f"u{i}", draw(st.sampled_from(sorts))) for i in range(draw(st.integers(0, 2))))
    body = draw(terms(theory, BOOL, vs, max_depth))
    return Quant("forall", vs, body) if vs else body


@st.composite
def problems(draw, max_datatypes: int = 3, max_funs: int = 2, max_defs: int = 3,
             max_depth: int = 3, max_axioms: int = 1) -> Problem:
    th = draw(theories(max_datatypes, max_funs, max_defs, max_depth))
    axioms = tuple(draw(closed_formulas(th, max_depth))
                   for _ in range(draw(st.integers(0, max_axioms))))
    th = Theory(th.sorts, th.datatypes, th.funs, th.defs, axioms)
    return Problem(th, draw(closed_formulas(th, max_depth)), "<generated>")
