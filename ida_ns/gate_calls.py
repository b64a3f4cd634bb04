"""Recursive call sites of a definition group, with names resolved through scopes.

This is the front half of the termination analysis (:mod:`ida_ns.termination`).  Every binder
in a body (``let``, ``match`` pattern variables, quantifiers, ``lambda``) is renamed to a name of
its own before anything is compared, so a binder that reuses a parameter's name is never read as
the parameter.  For each call to a member of the group we record, over those unique names:

* ``args``: the call's arguments;
* ``path``: the Boolean facts that hold on the way to the call: ``ite`` guards, the
  short-circuit guards of ``and``/``or``/``=>``, ``let`` equations (``v = e``) and constructor
  facts from ``match`` (``is-C s``);
* ``sizes``: variables known to be (strict) parts of a parameter, from ``match`` patterns and
  selectors applied to a value *known* to be built by the selector's constructor (a pattern, an
  ``is-C`` tester on the path, or ``match``'s remaining constructor after the other cases);
* ``values``: what a variable is known to equal (``s = C(v1..vn)`` from a match, ``v = e`` from a
  let), so that obligations can be stated over the parameters' shapes.

Parameters are renamed to ``<name>`` + ``'`` + index markers that cannot clash with any binder.
"""

from __future__ import annotations

from dataclasses import dataclass

from .logic.ast import (
    BOOL, App, BoolLit, FunDef, HoApp, IntLit, Lambda, Let, Match, PatCon, PatVar, Quant,
    Term, Var, not_,
)
from .logic.symbols import CTOR, SELECTOR, TESTER, SymbolTable

STRICT, EQUAL, NONE = 2, 1, 0


class CallsError(Exception):
    """A body this module does not understand (the caller reports "not established")."""


@dataclass(frozen=True)
class CallSite:
    caller: str
    callee: str
    index: int  # position of this call among the caller's calls (for messages)
    params: tuple[Var, ...]  # the caller's parameters, renamed
    args: tuple[Term, ...]
    path: tuple[Term, ...]
    sizes: tuple[tuple[Var, tuple[int, int]], ...]  # var -> (param index, STRICT|EQUAL)
    values: tuple[tuple[Var, Term], ...]  # var -> known value (over unique names)
    under_binder: bool  # the call sits below a lambda or quantifier
    known: tuple[tuple[Term, str], ...] = ()  # terms known to be built by a constructor
    excluded: tuple[tuple[Term, frozenset], ...] = ()  # constructors a term is known not to be

    def context(self) -> "_Ctx":
        return _Ctx(self.path, dict(self.sizes), dict(self.values), dict(self.known),
                    dict(self.excluded), self.under_binder)

    def describe(self) -> str:
        from .logic.printer import print_term

        try:
            args = " ".join(print_term(a) for a in self.args)
        except Exception:  # printing is for messages only
            args = "..."
        text = f"({self.callee} {args})" if args else f"({self.callee})"
        # parameters print as themselves, binders (let, match, quantifier) with a prime
        text = _UNIQUE.sub(lambda m: m.group(1) + ("'" if m.group(2) else ""), text)
        if len(text) > 160:
            text = text[:157] + "..."
        return f"call #{self.index + 1} in {self.caller}: {text}"


_UNIQUE = __import__("re").compile(r"\|?([^\s()|']+)'(b?)\d+\|?")


def param_var(fd: FunDef, i: int) -> Var:
    return Var(f"{fd.params[i].name}'{i}", fd.params[i].sort)


class _Fresh:
    def __init__(self):
        self.n = 0

    def var(self, v: Var) -> Var:
        self.n += 1
        return Var(f"{v.name}'b{self.n}", v.sort)


def rename(t: Term, env: dict[Var, Var], fresh: _Fresh) -> Term:
    """``t`` with free variables mapped through ``env`` and every binder renamed apart."""
    if isinstance(t, Var):
        return env.get(t, t)
    if isinstance(t, (IntLit, BoolLit)):
        return t
    if isinstance(t, App):
        return App(t.fn, tuple(rename(a, env, fresh) for a in t.args), t.sort)
    if isinstance(t, HoApp):
        return HoApp(rename(t.fn, env, fresh), tuple(rename(a, env, fresh) for a in t.args))
    if isinstance(t, (Quant, Lambda)):
        inner = dict(env)
        vs = []
        for v in t.vars:
            nv = fresh.var(v)
            inner[v] = nv
            vs.append(nv)
        body = rename(t.body, inner, fresh)
        return Quant(t.kind, tuple(vs), body) if isinstance(t, Quant) else Lambda(tuple(vs), body)
    if isinstance(t, Let):
        inner = dict(env)
        bs = []
        for v, e in t.bindings:
            nv = fresh.var(v)
            bs.append((nv, rename(e, env, fresh)))
            inner[v] = nv
        return Let(tuple(bs), rename(t.body, inner, fresh))
    if isinstance(t, Match):
        cases = []
        from .logic.ast import MatchCase

        for c in t.cases:
            inner = dict(env)
            p = c.pattern
            if isinstance(p, PatCon):
                nvs = []
                for v in p.vars:
                    nv = fresh.var(v)
                    inner[v] = nv
                    nvs.append(nv)
                pat = PatCon(p.ctor, tuple(nvs))
            elif p.var is not None:
                nv = fresh.var(p.var)
                inner[p.var] = nv
                pat = PatVar(nv)
            else:
                pat = p
            cases.append(MatchCase(pat, rename(c.body, inner, fresh)))
        return Match(rename(t.scrutinee, env, fresh), tuple(cases), t.sort)
    raise CallsError(f"unknown term node {type(t).__name__}")


@dataclass
class _Ctx:
    path: tuple[Term, ...]
    sizes: dict[Var, tuple[int, int]]
    values: dict[Var, Term]
    known: dict[Term, str]  # term -> constructor it is known to be built by
    excluded: dict[Term, frozenset[str]]  # term -> constructors it is known not to be
    under_binder: bool = False

    def child(self, **kw) -> "_Ctx":
        d = dict(path=self.path, sizes=self.sizes, values=self.values, known=self.known,
                 excluded=self.excluded, under_binder=self.under_binder)
        d.update(kw)
        return _Ctx(**d)


def known_ctor(t: Term, ctx: _Ctx, table: SymbolTable) -> str | None:
    """The constructor ``t`` is known to be built by on this path, if any."""
    if isinstance(t, App) and table.kind(t.fn) == CTOR:
        return t.fn
    c = ctx.known.get(t)
    if c is not None:
        return c
    dt = table.datatype_of(t.sort) if not isinstance(t, (IntLit, BoolLit)) else None
    if dt is not None:
        left = [c.name for c in dt.ctors if c.name not in ctx.excluded.get(t, frozenset())]
        if len(left) == 1:
            return left[0]
    return None


def size_rel(t: Term, ctx: _Ctx, table: SymbolTable) -> tuple[int, int] | None:
    """(parameter index, STRICT|EQUAL) when ``t`` is known to be a (strict) part of a
    parameter, else None."""
    if isinstance(t, Var):
        return ctx.sizes.get(t)
    if isinstance(t, App):
        kind = table.kind(t.fn)
        if kind == SELECTOR and len(t.args) == 1:
            inner = t.args[0]
            info = table.info(t.fn)
            if info is None or known_ctor(inner, ctx, table) != info.ctor:
                return None  # a selector on the wrong (or an unknown) constructor
            r = size_rel(inner, ctx, table)
            return (r[0], STRICT) if r is not None else None
        if kind == CTOR and t.args:
            # a constructor term that rebuilds exactly what a variable was matched against
            for v, val in ctx.values.items():
                if val == t:
                    return ctx.sizes.get(v)
    return None


def _learn(cond: Term, positive: bool, ctx: _Ctx, table: SymbolTable) -> _Ctx:
    """Constructor knowledge from a guard (``is-C t``, ``t = C``, negations, conjunctions)."""
    known, excluded = ctx.known, ctx.excluded

    def add(t: Term, ctor: str, pos: bool):
        nonlocal known, excluded
        if pos:
            known = {**known, t: ctor}
        else:
            excluded = {**excluded, t: excluded.get(t, frozenset()) | {ctor}}

    def go(c: Term, pos: bool):
        if isinstance(c, App):
            if c.fn == "not" and len(c.args) == 1:
                go(c.args[0], not pos)
            elif c.fn == "and" and pos:
                for a in c.args:
                    go(a, True)
            elif c.fn == "or" and not pos:
                for a in c.args:
                    go(a, False)
            elif table.kind(c.fn) == TESTER and len(c.args) == 1:
                info = table.info(c.fn)
                if info is not None and info.ctor is not None:
                    add(c.args[0], info.ctor, pos)
            elif c.fn == "=" and len(c.args) == 2:
                a, b = c.args
                for x, y in ((a, b), (b, a)):
                    if isinstance(y, App) and not y.args and table.kind(y.fn) == CTOR:
                        add(x, y.fn, pos)
    go(cond, positive)
    return ctx.child(known=known, excluded=excluded)


def _guard(ctx: _Ctx, cond: Term, positive: bool, table: SymbolTable) -> _Ctx:
    fact = cond if positive else not_(cond)
    return _learn(cond, positive, ctx.child(path=ctx.path + (fact,)), table)


def group_calls(group: tuple[FunDef, ...], table: SymbolTable) -> list[CallSite]:
    """All calls from members of ``group`` to members of ``group``."""
    names = {f.name for f in group}
    out: list[CallSite] = []
    for fd in group:
        fresh = _Fresh()
        params = tuple(param_var(fd, i) for i in range(len(fd.params)))
        env: dict[Var, Var] = {}
        for p, np in zip(fd.params, params):
            env[p] = np  # later parameters of the same name shadow earlier ones
        body = rename(fd.body, env, fresh)
        ctx = _Ctx((), {p: (i, EQUAL) for i, p in enumerate(params)}, {}, {}, {})
        mine: list[CallSite] = []
        _walk(body, ctx, fd.name, params, names, table, mine)
        out.extend(mine)
    return out


def _walk(t: Term, ctx: _Ctx, caller: str, params, names, table: SymbolTable, out: list) -> None:
    # An explicit stack would avoid deep recursion; bodies are bounded by the caller, which
    # turns RecursionError into "not established".
    if isinstance(t, (Var, IntLit, BoolLit)):
        return
    if isinstance(t, App):
        if t.fn in names:
            out.append(CallSite(caller, t.fn, len(out), params, t.args, ctx.path,
                                tuple(ctx.sizes.items()), tuple(ctx.values.items()),
                                ctx.under_binder, tuple(ctx.known.items()),
                                tuple(ctx.excluded.items())))
        if t.fn == "ite" and len(t.args) == 3:
            c, a, b = t.args
            _walk(c, ctx, caller, params, names, table, out)
            _walk(a, _guard(ctx, c, True, table), caller, params, names, table, out)
            _walk(b, _guard(ctx, c, False, table), caller, params, names, table, out)
            return
        if t.fn in ("and", "or", "=>") and t.args:
            cur = ctx
            last = len(t.args) - 1
            for k, a in enumerate(t.args):
                _walk(a, cur, caller, params, names, table, out)
                if k < last:
                    # and: later args are evaluated only when this one holds; or: only when it
                    # fails; => a b c: b only when a holds (it is (or (not a) (not b) c)).
                    cur = _guard(cur, a, t.fn in ("and", "=>"), table)
            return
        for a in t.args:
            _walk(a, ctx, caller, params, names, table, out)
        return
    if isinstance(t, HoApp):
        _walk(t.fn, ctx, caller, params, names, table, out)
        for a in t.args:
            _walk(a, ctx, caller, params, names, table, out)
        return
    if isinstance(t, (Quant, Lambda)):
        _walk(t.body, ctx.child(under_binder=True), caller, params, names, table, out)
        return
    if isinstance(t, Let):
        sizes = dict(ctx.sizes)
        values = dict(ctx.values)
        path = ctx.path
        for v, e in t.bindings:
            _walk(e, ctx, caller, params, names, table, out)
            r = size_rel(e, ctx, table)
            if r is not None:
                sizes[v] = r
            values[v] = e
            path = path + (App("=", (v, e), BOOL),)
        known = dict(ctx.known)
        for v, e in t.bindings:
            k = known_ctor(e, ctx, table)
            if k is not None:
                known[v] = k
        _walk(t.body, ctx.child(path=path, sizes=sizes, values=values, known=known),
              caller, params, names, table, out)
        return
    if isinstance(t, Match):
        s = t.scrutinee
        _walk(s, ctx, caller, params, names, table, out)
        r = size_rel(s, ctx, table)
        seen: set[str] = set()
        for case in t.cases:
            p = case.pattern
            if isinstance(p, PatCon):
                sizes = dict(ctx.sizes)
                if r is not None:
                    for v in p.vars:
                        sizes[v] = (r[0], STRICT)
                values = dict(ctx.values)
                cterm = App(p.ctor, tuple(p.vars), s.sort)
                if isinstance(s, Var):
                    values[s] = cterm
                known = {**ctx.known, s: p.ctor}
                fact = App("is-" + p.ctor, (s,), BOOL) if table.kind("is-" + p.ctor) else None
                path = ctx.path + ((fact,) if fact is not None else ())
                sel_facts = []
                info = table.ctors.get(p.ctor)
                if info is not None:
                    for (sel, fsort), v in zip(info.fields, p.vars):
                        sel_facts.append(App("=", (v, App(sel, (s,), fsort)), BOOL))
                path = path + tuple(sel_facts)
                excluded = ctx.excluded
                _walk(case.body, ctx.child(path=path, sizes=sizes, values=values,
                                           known=known, excluded=excluded),
                      caller, params, names, table, out)
                seen.add(p.ctor)
            else:
                sizes = dict(ctx.sizes)
                values = dict(ctx.values)
                path = ctx.path
                excluded = {**ctx.excluded, s: ctx.excluded.get(s, frozenset()) | seen}
                known = dict(ctx.known)
                if p.var is not None:
                    if r is not None:
                        sizes[p.var] = r
                    values[p.var] = s
                    path = path + (App("=", (p.var, s), BOOL),)
                    excluded[p.var] = excluded[s]
                for c in sorted(seen):
                    if table.kind("is-" + c):
                        path = path + (not_(App("is-" + c, (s,), BOOL)),)
                sub = ctx.child(path=path, sizes=sizes, values=values, known=known,
                                excluded=excluded)
                kc = known_ctor(s, sub, table)
                if kc is not None and p.var is not None:
                    sub.known = {**sub.known, p.var: kc}
                _walk(case.body, sub, caller, params, names, table, out)
        return
    raise CallsError(f"unknown term node {type(t).__name__}")
