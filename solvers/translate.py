"""Solver-independent lowering of AST terms onto a solver's term API.

Each backend subclasses :class:`Lowering` with a handful of primitives (literals, builtins,
symbol application, testers/selectors, binders); the structure shared by both solvers lives
here once:

* ``match`` becomes a chain of ``ite`` over constructor testers, pattern variables become
  selector applications (first matching case wins; the last case is the default);
* ``let`` is substitution in the environment (solvers hash-cons, so nothing is duplicated);
* chainable (``=``, ``<``) and associative (``=>``, ``-``) builtins are normalised to binary
  operations before they reach the solver.

Bound variables are always fresh solver variables, so names never capture: a quantified ``x``
and a theory constant ``x`` stay apart.  Environments are keyed by the AST :class:`Var` (name
and sort), never by a name alone.  Theory symbols reach the solver through
:func:`solver_name`, which is injective and safe for C strings (a NUL would truncate a z3
symbol, merging ``u\\x00a`` and ``u\\x00b``).
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from typing import Any, Iterable

from ida_ns.errors import SpecError, UnsupportedFeature
from ida_ns.logic.ast import (App, BoolLit, HoApp, IntLit, Lambda, Let, Match, PatCon, PatVar,
                              Quant, Sort, Term, Theory, Var, subterms)
from ida_ns.logic.symbols import SymbolTable, symbol_table

Env = dict  # Var -> solver term


def _plain(c: str) -> bool:
    return c.isprintable() and c != "\\" and not ("\ud800" <= c <= "\udfff")


def solver_name(name: str) -> str:
    """The name a solver sees for a theory symbol: ``name`` itself when every character is
    printable and not a backslash, else its ``unicode_escape`` form (which always contains a
    backslash, so the map is injective).  NUL, control characters and lone surrogates never
    reach a solver's C API.

    >>> solver_name("plus"), solver_name("u\\x00a"), solver_name("a\\\\b")
    ('plus', 'u\\\\x00a', 'a\\\\\\\\b')
    """
    if all(_plain(c) for c in name):
        return name
    return name.encode("unicode_escape").decode("ascii")


_NOT_ASCII_WORD = re.compile(r"[^A-Za-z0-9_]")


def ascii_prefix(name: str, limit: int = 24) -> str:
    """A readable ASCII-word prefix for a fresh solver constant named after ``name``."""
    return _NOT_ASCII_WORD.sub("_", name)[:limit] or "v"

CHAINABLE = frozenset({"=", "<", "<=", ">", ">="})


class Lowering(ABC):
    """Translate terms of one theory into one solver's terms."""

    def __init__(self, theory: Theory):
        self.theory = theory
        self.symbols: SymbolTable = symbol_table(theory)

    quantified_goal = False  # see solvers.base.TheoryContext

    @property
    def lowering(self) -> "Lowering":
        """A backend's theory context is usually its own lowering."""
        return self

    # ---- primitives a backend provides -----------------------------------------------------
    @abstractmethod
    def int_lit(self, value: int) -> Any: ...

    @abstractmethod
    def bool_lit(self, value: bool) -> Any: ...

    @abstractmethod
    def binary(self, op: str, a: Any, b: Any) -> Any:
        """A binary builtin: = < <= > >= => + - * div mod xor."""

    @abstractmethod
    def nary(self, op: str, args: list) -> Any:
        """``and``/``or`` (two or more args), ``distinct``, ``not``/``abs``/unary ``-``."""

    @abstractmethod
    def ite(self, c: Any, a: Any, b: Any) -> Any: ...

    @abstractmethod
    def apply(self, name: str, args: list, sort: Sort, env: Env) -> Any:
        """A theory symbol: constructor, selector, tester, declared or defined function."""

    @abstractmethod
    def tester(self, ctor: str, x: Any) -> Any: ...

    @abstractmethod
    def selector(self, ctor: str, index: int, x: Any) -> Any: ...

    @abstractmethod
    def bound_var(self, v: Var) -> Any:
        """A fresh solver variable for a binder."""

    @abstractmethod
    def quant(self, kind: str, bvars: list, body: Any) -> Any: ...

    @abstractmethod
    def lam(self, bvars: list, body: Any) -> Any: ...

    @abstractmethod
    def ho_apply(self, fn: Any, args: list) -> Any: ...

    # ---- shared structure ------------------------------------------------------------------
    def term(self, t: Term, env: Env) -> Any:
        if isinstance(t, Var):
            try:
                return env[t]
            except KeyError:
                raise SpecError(f"free variable {t.name} : {t.sort} is neither bound nor "
                                f"fixed (add it to Query.fixed)", token=t.name) from None
        if isinstance(t, App):
            args = [self.term(a, env) for a in t.args]
            if self.symbols.kind(t.fn) == "builtin":
                return self.builtin(t.fn, args)
            return self.apply(t.fn, args, t.sort, env)
        if isinstance(t, BoolLit):
            return self.bool_lit(t.value)
        if isinstance(t, IntLit):
            return self.int_lit(t.value)
        if isinstance(t, Match):
            return self.match(t, env)
        if isinstance(t, Let):
            inner = dict(env)
            for v, rhs in t.bindings:
                inner[v] = self.term(rhs, env)
            return self.term(t.body, inner)
        if isinstance(t, (Quant, Lambda)):
            inner = dict(env)
            bvars = []
            for v in t.vars:
                inner[v] = self.bound_var(v)
                bvars.append(inner[v])
            body = self.term(t.body, inner)
            if isinstance(t, Lambda):
                return self.lam(bvars, body)
            if t.kind not in ("forall", "exists"):
                raise SpecError(f"unknown quantifier {t.kind!r}", token=t.kind)
            return self.quant(t.kind, bvars, body)
        if isinstance(t, HoApp):
            return self.ho_apply(self.term(t.fn, env), [self.term(a, env) for a in t.args])
        raise TypeError(f"not a term: {t!r}")

    def builtin(self, op: str, args: list) -> Any:
        n = len(args)
        if op == "ite":
            if n != 3:
                raise SpecError(f"ite takes 3 arguments, got {n}", token="ite")
            return self.ite(*args)
        if op in ("and", "or"):
            if n == 0:
                return self.bool_lit(op == "and")
            return args[0] if n == 1 else self.nary(op, args)
        if op in ("not", "abs") or (op == "-" and n == 1):
            if n != 1:
                raise SpecError(f"{op} takes 1 argument, got {n}", token=op)
            return self.nary(op, args)
        if op == "distinct":
            return self.nary(op, args) if n >= 2 else self.bool_lit(True)
        if n < 2:
            raise SpecError(f"{op} needs at least 2 arguments, got {n}", token=op)
        if op in CHAINABLE:
            links = [self.binary(op, a, b) for a, b in zip(args, args[1:])]
            return links[0] if len(links) == 1 else self.nary("and", links)
        if op == "=>":  # right associative
            out = args[-1]
            for a in reversed(args[:-1]):
                out = self.binary("=>", a, out)
            return out
        if op in ("+", "-", "*", "div", "mod", "xor"):  # left associative
            out = args[0]
            for b in args[1:]:
                out = self.binary(op, out, b)
            return out
        raise UnsupportedFeature(f"builtin {op!r} is not supported by this backend", token=op)

    def match(self, t: Match, env: Env) -> Any:
        scrut = self.term(t.scrutinee, env)
        dt = self.symbols.datatype_of(t.scrutinee.sort)
        if dt is None:
            raise SpecError(f"match on {t.scrutinee.sort}, which is not a datatype",
                            token=str(t.scrutinee.sort))
        if not t.cases:
            raise SpecError("match with no cases")
        branches = []  # (condition or None, body)
        for case in t.cases:
            inner = dict(env)
            p = case.pattern
            if isinstance(p, PatVar):
                if p.var is not None:
                    inner[p.var] = scrut
                branches.append((None, self.term(case.body, inner)))
                break  # later cases are unreachable
            if not isinstance(p, PatCon):
                raise TypeError(f"not a pattern: {p!r}")
            ctor = self.symbols.ctors.get(p.ctor)
            if ctor is None or self.symbols.info(p.ctor).datatype != dt.name:
                raise SpecError(f"pattern {p.ctor} is not a constructor of {dt.name}",
                                token=p.ctor)
            if len(p.vars) != len(ctor.fields):
                raise SpecError(f"pattern {p.ctor} binds {len(p.vars)} variables, the "
                                f"constructor has {len(ctor.fields)} fields", token=p.ctor)
            for i, v in enumerate(p.vars):
                inner[v] = self.selector(p.ctor, i, scrut)
            branches.append((p.ctor, self.term(case.body, inner)))
        out = branches[-1][1]  # the last case is the default (matches are exhaustive)
        for ctor_name, body in reversed(branches[:-1]):
            out = self.ite(self.tester(ctor_name, scrut), body, out)
        return out


# --------------------------------------------------------------------------------------------
# Sort and feature scans


def sorts_in(theory: Theory) -> Iterable[Sort]:
    for dt in theory.all_datatypes():
        for c in dt.ctors:
            for _, s in c.fields:
                yield s
    for f in theory.funs:
        yield from f.params
        yield f.ret
    for d in theory.all_defs():
        for v in d.params:
            yield v.sort
        yield d.ret


def _sort_is_ho(s: Sort) -> bool:
    return s.is_function or any(_sort_is_ho(a) for a in s.args)


def term_is_ho(t: Term) -> bool:
    for s in subterms(t):
        if isinstance(s, (Lambda, HoApp)):
            return True
        if isinstance(s, (Quant,)) and any(_sort_is_ho(v.sort) for v in s.vars):
            return True
        if isinstance(s, Var) and _sort_is_ho(s.sort):
            return True
    return False


def theory_is_ho(theory: Theory) -> bool:
    """Whether the theory uses function sorts, lambdas or higher-order application."""
    if any(_sort_is_ho(s) for s in sorts_in(theory)):
        return True
    bodies = [d.body for d in theory.all_defs()] + list(theory.axioms)
    return any(term_is_ho(b) for b in bodies)
