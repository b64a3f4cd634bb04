"""SMT-LIB 2.6 / TIP front end: text -> typed, monomorphic :class:`~ida_ns.logic.ast.Problem`.

Public API:

- :func:`parse_file` / :func:`parse_text`: a whole benchmark file (TIP ``prove`` files and
  plain SMT-LIB ``assert ... check-sat`` queries);
- :func:`parse_term` / :func:`parse_sort`: one term (or sort) against an existing monomorphic
  theory, e.g. a lemma proposed by a neural proxy.  Exactly one term is accepted; unknown
  symbols, wrong sorts, trailing text and stray parentheses are errors.

Terms are elaborated with their sorts while parsing (``ite``/``=``/arguments of polymorphic
functions propagate an expected sort to sub-terms, so ``(= xs nil)`` works without an
annotation).  TIP's ``par`` polymorphism is removed afterwards by :mod:`ida_ns.logic.mono`.
Every error is a :class:`~ida_ns.errors.SpecError` (or :class:`UnsupportedFeature`) naming
file:line:col and the offending token.
"""

from __future__ import annotations

import re
import weakref
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import SpecError, UnsupportedFeature
from .ast import (
    BOOL, BUILTINS, INT, App, BoolLit, HoApp, IntLit, Lambda, Let, Match, MatchCase, PatCon,
    PatVar, Problem, Quant, Sort, Term, Theory, Var, free_vars, tester_name,
)
from .sexpr import NUMERAL, SYMBOL, Atom, SExpr, SList, is_simple_symbol, read_sexprs

# Deepest nesting of parentheses accepted in one command.  Elaboration recurses once per level,
# so this keeps well below Python's recursion limit; real benchmarks nest < 60 levels.
MAX_DEPTH = 200

# Words with a fixed meaning that no declaration or bound variable may take.
RESERVED = frozenset({
    "_", "!", "as", "let", "forall", "exists", "match", "par", "lambda", "@", "true", "false",
    "NUMERAL", "DECIMAL", "STRING", "BINARY", "HEXADECIMAL",
})
BUILTIN_SORTS = frozenset({"Bool", "Int"})
FUN_SORT_NAMES = ("=>", "->")  # TIP spells function sorts "=>", cvc5's HO logic "->"

# Symbol kinds (same spelling as ida_ns.logic.symbols)
CTOR, SELECTOR, TESTER, DEFINED, DECLARED = "ctor", "selector", "tester", "defined", "declared"


# --------------------------------------------------------------------------------------------
# Sorts with type variables (only inside the parser; the AST it returns is monomorphic)


@dataclass(frozen=True)
class TyVar(Sort):
    """A type variable bound by ``par``."""


@dataclass(frozen=True)
class Skolem(Sort):
    """A fresh uninterpreted sort standing for a goal's or an axiom's type variable."""


def sort_subst(s: Sort, sub: dict[str, Sort]) -> Sort:
    if isinstance(s, TyVar):
        return sub.get(s.name, s)
    if not s.args:
        return s
    return Sort(s.name, tuple(sort_subst(a, sub) for a in s.args))


def sort_match(pat: Sort, target: Sort, sub: dict[str, Sort]) -> bool:
    """One-way matching: bind the type variables of ``pat`` so that it equals ``target``."""
    if isinstance(pat, TyVar):
        bound = sub.get(pat.name)
        if bound is None:
            sub[pat.name] = target
            return True
        return bound == target
    if type(target) is not Sort or pat.name != target.name or len(pat.args) != len(target.args):
        return False
    return all(sort_match(p, t, sub) for p, t in zip(pat.args, target.args))


def sort_tyvars(s: Sort, out: set[str] | None = None) -> set[str]:
    out = set() if out is None else out
    if isinstance(s, TyVar):
        out.add(s.name)
    for a in s.args:
        sort_tyvars(a, out)
    return out


# --------------------------------------------------------------------------------------------
# Declarations as the elaborator sees them (possibly polymorphic)


@dataclass
class SymSig:
    """Signature of a first-order symbol; ``tvars`` are its type parameters."""

    name: str
    kind: str
    tvars: tuple[str, ...]
    params: tuple[Sort, ...]
    ret: Sort
    owner: str  # datatype name (ctor/selector/tester) or function name
    ctor: str | None = None


@dataclass
class DatatypeDecl:
    name: str
    tvars: tuple[str, ...]
    ctors: list[tuple[str, list[tuple[str, Sort]]]] = field(default_factory=list)
    group: int = 0
    index: int = 0
    loc: SExpr | None = None


@dataclass
class FunctionDecl:
    name: str
    tvars: tuple[str, ...]
    params: tuple[Var, ...] | tuple[Sort, ...]  # Vars for definitions, Sorts for declarations
    ret: Sort
    body: Term | None = None  # None: uninterpreted (unless lazy)
    recursive: bool = False
    group: int = 0
    index: int = 0
    loc: SExpr | None = None
    body_sx: SExpr | None = None  # set when the body only sort-checks per instance (lazy)
    # the parameters' names in the source, where a parameter was renamed because it shadows a
    # symbol (None: the parameters' own names)
    source_names: tuple[str, ...] | None = None

    def param_scope(self, params: tuple[Var, ...] | None = None) -> dict[str, Var]:
        """The body's scope: source name -> parameter (``params``: instantiated ones)."""
        ps = self.params if params is None else params
        names = self.source_names or tuple(p.name for p in ps)  # type: ignore[union-attr]
        return dict(zip(names, ps))  # type: ignore[arg-type]

    @property
    def defined(self) -> bool:
        return self.body is not None or self.body_sx is not None

    @property
    def param_sorts(self) -> tuple[Sort, ...]:
        return tuple(p.sort if isinstance(p, Var) else p for p in self.params)


class Env:
    """Everything declared so far: sorts, datatypes and function-like symbols."""

    def __init__(self) -> None:
        self.sorts: dict[str, int] = {}  # declared uninterpreted sorts -> arity
        self.datatypes: dict[str, DatatypeDecl] = {}
        self.syms: dict[str, SymSig] = {}
        self.functions: dict[str, FunctionDecl] = {}

    @classmethod
    def of_theory(cls, theory: Theory) -> "Env":
        env = cls()
        for s in theory.sorts:
            env.sorts[s] = 0
        for dt in theory.all_datatypes():
            d = DatatypeDecl(dt.name, (), [(c.name, list(c.fields)) for c in dt.ctors])
            env.add_datatype_symbols(d)
            env.datatypes[dt.name] = d
        for f in theory.funs:
            env.syms[f.name] = SymSig(f.name, DECLARED, (), f.params, f.ret, f.name)
        for d in theory.all_defs():
            env.syms[d.name] = SymSig(
                d.name, DEFINED, (), tuple(v.sort for v in d.params), d.ret, d.name)
        return env

    def add_datatype_symbols(self, d: DatatypeDecl) -> None:
        ret = Sort(d.name, tuple(TyVar(v) for v in d.tvars))
        for cname, fields in d.ctors:
            self.syms[cname] = SymSig(cname, CTOR, d.tvars, tuple(s for _, s in fields), ret,
                                      d.name, cname)
            self.syms[tester_name(cname)] = SymSig(
                tester_name(cname), TESTER, d.tvars, (ret,), BOOL, d.name, cname)
            for sel, s in fields:
                self.syms[sel] = SymSig(sel, SELECTOR, d.tvars, (ret,), s, d.name, cname)

    def is_sort_name(self, name: str) -> bool:
        return name in BUILTIN_SORTS or name in self.sorts or name in self.datatypes


class _Ambiguous(SpecError):
    """A polymorphic symbol whose type arguments are not yet known (retried with context)."""


class SortClash(SpecError):
    """A term of the wrong sort.  In a polymorphic definition this may only hold for some
    instances (TIP's ``<=`` on a type variable later instantiated at Int), so such a body is
    re-elaborated per instance by the monomorphiser."""


# --------------------------------------------------------------------------------------------
# Elaboration of sorts and terms


class Elaborator:
    """Turns S-expressions into sorted terms against an :class:`Env`."""

    def __init__(self, env: Env, file: str, aliases: dict[str, Sort] | None = None,
                 shadowing: str = "rename", avoid: set[str] | frozenset[str] = frozenset()):
        if shadowing not in ("rename", "reject"):
            raise ValueError(f"shadowing must be 'rename' or 'reject', got {shadowing!r}")
        self.env = env
        self.file = file
        self.aliases = aliases or {}  # type variables standing for given ground sorts
        # A bound variable named like a theory symbol (SMT-LIB lets it shadow the symbol)
        # would print exactly like that symbol: "rename" gives it a fresh name avoiding the
        # symbols and the names in ``avoid`` (e.g. every symbol of the file), "reject" makes
        # it an error (untrusted single terms, see parse_term).
        self.shadowing = shadowing
        self.avoid = avoid

    # errors -----------------------------------------------------------------------------
    def error(self, msg: str, sx: SExpr, cls=SpecError) -> SpecError:
        return cls(msg, self.file, sx.line, sx.col, sx.text)

    def check_binder_name(self, sx: SExpr, what: str) -> str:
        if not (isinstance(sx, Atom) and sx.kind == SYMBOL):
            raise self.error(f"expected a symbol naming a {what}", sx)
        name = sx.value
        if name in RESERVED or name in BUILTINS:
            raise self.error(f"{name!r} is reserved or builtin and cannot name a {what}", sx)
        return name

    def shadows(self, name: str, also: frozenset[str] = frozenset()) -> str | None:
        """What theory symbol a bound variable ``name`` would shadow, in words (or None).
        ``also``: function names being defined (not yet in the environment)."""
        sym = self.env.syms.get(name)
        if sym is None:
            return f"the function {name}" if name in also else None
        kind = {CTOR: "constructor", SELECTOR: "selector", TESTER: "tester"}.get(
            sym.kind, "function")
        return f"the {kind} {name}"

    def bound_name(self, sx: SExpr, name: str, what: str, form: SExpr | None,
                   taken=(), also: frozenset[str] = frozenset()) -> str:
        """The name of the Var bound for source name ``name``: itself, unless it shadows a
        theory symbol (or a name in ``also``); then an error (``shadowing == "reject"`` or no
        enclosing ``form`` to rename within) or a fresh simple symbol not occurring in
        ``form``."""
        shadowed = self.shadows(name, also)
        if shadowed is None:
            return name
        if self.shadowing == "reject" or form is None:
            raise self.error(f"{what} {name!r} shadows {shadowed}; a bound variable may not be "
                             f"named like a theory symbol (rename it)", sx)
        return self._fresh_pattern_name(re.sub(r"[^A-Za-z0-9_]", "_", name), form, taken)

    # sorts ------------------------------------------------------------------------------
    def sort(self, sx: SExpr, tv: frozenset[str] = frozenset()) -> Sort:
        if isinstance(sx, Atom):
            if sx.kind != SYMBOL:
                raise self.error("expected a sort", sx)
            name = sx.value
            if name in tv:
                return TyVar(name)
            if name in self.aliases:
                return self.aliases[name]
            if name in BUILTIN_SORTS or name in self.env.sorts:
                return Sort(name)
            dt = self.env.datatypes.get(name)
            if dt is not None:
                if dt.tvars:
                    raise self.error(
                        f"datatype {name} takes {len(dt.tvars)} sort argument(s)", sx)
                return Sort(name)
            raise self.error(f"unknown sort {name!r}", sx)
        if len(sx) < 2 or not isinstance(sx[0], Atom) or sx[0].kind != SYMBOL:
            raise self.error("malformed sort", sx)
        name = sx[0].value
        args = tuple(self.sort(a, tv) for a in sx.items[1:])
        if name in FUN_SORT_NAMES and not sx[0].quoted:
            return Sort("=>", args)
        dt = self.env.datatypes.get(name)
        if dt is None:
            if name in self.env.sorts or name in BUILTIN_SORTS:
                raise self.error(f"sort {name} takes no arguments", sx)
            raise self.error(f"unknown sort {name!r}", sx[0])
        if len(args) != len(dt.tvars):
            raise self.error(f"datatype {name} takes {len(dt.tvars)} sort argument(s), "
                             f"got {len(args)}", sx)
        return Sort(name, args)

    def sorted_vars(self, sx: SExpr, tv: frozenset[str], what: str,
                    form: SExpr | None = None) -> list[Var]:
        """A list of (name sort) binders.  Without ``form`` a name that shadows a theory
        symbol is an error; with it (the binding construct) see :meth:`bound_name`."""
        return [v for _, v in self.sorted_binders(sx, tv, what, form)]

    def sorted_binders(self, sx: SExpr, tv: frozenset[str], what: str,
                       form: SExpr | None = None,
                       also: frozenset[str] = frozenset()) -> list[tuple[str, Var]]:
        """(source name, bound Var) pairs of a list of (name sort) binders; the Var's name
        differs from the source name when that shadows a symbol (see :meth:`bound_name`)."""
        if not isinstance(sx, SList):
            raise self.error(f"expected a list of ({what} sort) pairs", sx)
        out: list[tuple[str, Var]] = []
        seen: set[str] = set()
        for b in sx:
            if not isinstance(b, SList) or len(b) != 2:
                raise self.error(f"expected a ({what} sort) pair", b)
            name = self.check_binder_name(b[0], what)
            if name in seen:
                raise self.error(f"{what} {name!r} is bound twice", b[0])
            seen.add(name)
            vname = self.bound_name(b[0], name, what, form, [v.name for _, v in out], also)
            out.append((name, Var(vname, self.sort(b[1], tv))))
        return out

    # terms ------------------------------------------------------------------------------
    def expect(self, t: Term, want: Sort | None, sx: SExpr) -> Term:
        if want is not None and t.sort != want:
            raise self.error(f"expected a term of sort {want}, got one of sort {t.sort}", sx,
                             SortClash)
        return t

    def term(self, sx: SExpr, scope: dict[str, Var], tv: frozenset[str],
             expected: Sort | None = None) -> Term:
        if isinstance(sx, Atom):
            return self.atom(sx, scope, tv, expected)
        items = sx.items
        if not items:
            raise self.error("empty list is not a term", sx)
        head = items[0]
        if isinstance(head, Atom):
            if head.kind != SYMBOL:
                raise self.error("only a symbol can be applied", head)
            name = head.value
            if not head.quoted:
                special = _SPECIAL.get(name)
                if special is not None:
                    return special(self, sx, scope, tv, expected)
            return self.apply(head, name, None, None, items[1:], sx, scope, tv, expected)
        # ((_ is C) t), ((_ f S...) args), ((as f S) args)
        hname = head.head_symbol()
        if hname == "_" and len(head) == 3 and isinstance(head[1], Atom) and head[1].is_symbol("is"):
            return self.tester(head, head[2], items[1:], sx, scope, tv)
        if hname == "_":
            name, targs = self.indexed(head, tv)
            return self.apply(head[1], name, targs, None, items[1:], sx, scope, tv, expected)
        if hname == "as":
            name, as_sort = self.annotated(head, tv)
            return self.apply(head[1], name, None, as_sort, items[1:], sx, scope, tv, expected)
        raise self.error(
            "a compound term cannot be applied directly; use (@ f arg ...)", head)

    def atom(self, sx: Atom, scope, tv, expected) -> Term:
        if sx.kind == NUMERAL:
            return IntLit(sx.value)
        if sx.kind != SYMBOL:
            raise self.error(f"{sx.kind} literals are not supported", sx, UnsupportedFeature)
        name = sx.value
        v = scope.get(name)
        if v is not None:
            return v
        if name == "true":
            return BoolLit(True)
        if name == "false":
            return BoolLit(False)
        if name in RESERVED and not sx.quoted:
            raise self.error(f"misplaced reserved word {name!r}", sx)
        return self.apply(sx, name, None, None, [], sx, scope, tv, expected)

    def indexed(self, sx: SList, tv) -> tuple[str, tuple[Sort, ...]]:
        """``(_ f S1 ... Sn)``: f at explicit type arguments."""
        if len(sx) < 3 or not isinstance(sx[1], Atom) or sx[1].kind != SYMBOL:
            raise self.error("malformed indexed identifier (_ f sort ...)", sx)
        return sx[1].value, tuple(self.sort(s, tv) for s in sx.items[2:])

    def annotated(self, sx: SList, tv) -> tuple[str, Sort]:
        """``(as f S)``: f with result sort S."""
        if len(sx) != 3 or not isinstance(sx[1], Atom) or sx[1].kind != SYMBOL:
            raise self.error("malformed annotation (as f sort)", sx)
        return sx[1].value, self.sort(sx[2], tv)

    def same_sort_terms(self, args: list[SExpr], scope, tv, want: Sort | None) -> list[Term]:
        """Elaborate terms that must all have one sort; the first known sort guides the rest."""
        out: list[Term | None] = [None] * len(args)
        deferred = []
        for i, a in enumerate(args):
            try:
                t = self.term(a, scope, tv, want)
            except _Ambiguous:
                deferred.append(i)
                continue
            if want is None:
                want = t.sort
            out[i] = self.expect(t, want, a)
        for i in deferred:
            out[i] = self.expect(self.term(args[i], scope, tv, want), want, args[i])
        return out  # type: ignore[return-value]

    def apply(self, head: SExpr, name: str, targs, as_sort, args: list[SExpr], sx: SExpr,
              scope, tv, expected) -> Term:
        # a local variable of function sort applied like a function: (f x) == (@ f x)
        v = scope.get(name)
        if v is not None and args:
            if not v.sort.is_function:
                raise self.error(f"variable {name} of sort {v.sort} cannot be applied", head)
            return self.ho_apply(v, args, sx, scope, tv)
        if name in BUILTINS:
            if targs is not None or as_sort is not None:
                raise self.error(f"builtin {name} takes no sort annotation", head)
            return self.builtin(head, name, args, sx, scope, tv, expected)
        sym = self.env.syms.get(name)
        if sym is None:
            if name.startswith("is-") and name[3:] in self.env.syms \
                    and self.env.syms[name[3:]].kind == CTOR:
                sym = self.env.syms[tester_name(name[3:])]
            else:
                raise self.error(f"unknown symbol {name!r}", head)
        return self.apply_sym(sym, head, targs, as_sort, args, sx, scope, tv, expected)

    def apply_sym(self, sym: SymSig, head: SExpr, targs, as_sort, args: list[SExpr], sx: SExpr,
                  scope, tv, expected) -> Term:
        if len(args) != len(sym.params):
            raise self.error(f"{sym.name} expects {len(sym.params)} argument(s), "
                             f"got {len(args)}", sx)
        sub: dict[str, Sort] = {}
        if targs is not None:
            if len(targs) != len(sym.tvars):
                raise self.error(f"{sym.name} takes {len(sym.tvars)} sort argument(s), "
                                 f"got {len(targs)}", head)
            sub = dict(zip(sym.tvars, targs))
        if as_sort is not None and not sort_match(sym.ret, as_sort, sub):
            raise self.error(f"{sym.name} cannot have sort {as_sort}", head)
        out: list[Term | None] = [None] * len(args)
        deferred = []

        def elab_arg(i: int, allow_ambiguous: bool) -> None:
            p = sym.params[i]
            want = sort_subst(p, sub)
            if sort_tyvars(want) & set(sym.tvars) - set(sub):
                want = None
            try:
                t = self.term(args[i], scope, tv, want)
            except _Ambiguous:
                if not allow_ambiguous:
                    raise
                deferred.append(i)
                return
            if not sort_match(p, t.sort, sub):
                raise self.error(f"argument {i + 1} of {sym.name} has sort {t.sort}, "
                                 f"expected {sort_subst(p, sub)}", args[i], SortClash)
            out[i] = t

        for i in range(len(args)):
            elab_arg(i, True)
        for i in deferred:
            elab_arg(i, False)
        if len(sub) < len(sym.tvars) and expected is not None:
            trial = dict(sub)
            if sort_match(sym.ret, expected, trial):
                sub = trial
        if len(sub) < len(sym.tvars):
            raise _Ambiguous(
                f"cannot infer the sort arguments of {sym.name}; write (as {sym.name} <sort>) "
                f"or (_ {sym.name} <sort> ...)", self.file, head.line, head.col, head.text)
        return App(sym.name, tuple(out), sort_subst(sym.ret, sub))  # type: ignore[arg-type]

    def tester(self, head: SList, ctor_sx: SExpr, args, sx, scope, tv) -> Term:
        if not (isinstance(ctor_sx, Atom) and ctor_sx.kind == SYMBOL):
            raise self.error("malformed tester (_ is C)", head)
        sym = self.env.syms.get(ctor_sx.value)
        if sym is None or sym.kind != CTOR:
            raise self.error(f"{ctor_sx.value!r} is not a constructor", ctor_sx)
        return self.apply_sym(self.env.syms[tester_name(sym.name)], head, None, None, args, sx,
                              scope, tv, None)

    def ho_apply(self, fn: Term, args: list[SExpr], sx: SExpr, scope, tv) -> Term:
        s = fn.sort
        if not s.is_function:
            raise self.error(f"applied term has sort {s}, not a function sort", sx)
        if len(args) != len(s.domain):
            raise self.error(f"function of sort {s} expects {len(s.domain)} argument(s), "
                             f"got {len(args)}", sx)
        ts = tuple(self.expect(self.term(a, scope, tv, d), d, a) for a, d in zip(args, s.domain))
        return HoApp(fn, ts)

    def builtin(self, head: Atom, name: str, args: list[SExpr], sx: SExpr, scope, tv,
                expected) -> Term:
        n = len(args)

        def arity(lo: int, hi: int | None = None) -> None:
            if n < lo or (hi is not None and n > hi):
                want = f"{lo}" if hi == lo else f"at least {lo}" if hi is None else f"{lo}-{hi}"
                raise self.error(f"{name} expects {want} argument(s), got {n}", sx)

        if name in ("=", "distinct"):
            arity(2)
            return App(name, tuple(self.same_sort_terms(args, scope, tv, None)), BOOL)
        if name == "ite":
            arity(3, 3)
            c = self.expect(self.term(args[0], scope, tv, BOOL), BOOL, args[0])
            a, b = self.same_sort_terms(args[1:], scope, tv, expected)
            return App("ite", (c, a, b), a.sort)
        if name == "not":
            arity(1, 1)
        elif name in ("and", "or", "xor", "=>"):
            arity(2)
        elif name in ("abs",):
            arity(1, 1)
        elif name == "-":
            arity(1)
            if n == 1 and isinstance(args[0], Atom) and args[0].kind == NUMERAL:
                return IntLit(-args[0].value)
        else:  # + * div mod < <= > >=
            arity(2)
        arg_sort = BOOL if name in ("not", "and", "or", "xor", "=>") else INT
        ts = tuple(self.expect(self.term(a, scope, tv, arg_sort), arg_sort, a) for a in args)
        ret = INT if name in ("+", "-", "*", "div", "mod", "abs") else BOOL
        return App(name, ts, ret)

    # binders ----------------------------------------------------------------------------
    def quant(self, sx: SList, scope, tv, expected) -> Term:
        kind = sx[0].value
        if len(sx) != 3:
            raise self.error(f"{kind} expects a binder list and a body", sx)
        bs = self.sorted_binders(sx[1], tv, "variable", sx)
        if not bs:
            raise self.error(f"{kind} binds no variables", sx[1])
        body = self.term(sx[2], {**scope, **dict(bs)}, tv, BOOL)
        return Quant(kind, tuple(v for _, v in bs), self.expect(body, BOOL, sx[2]))

    def lam(self, sx: SList, scope, tv, expected) -> Term:
        if len(sx) != 3:
            raise self.error("lambda expects a binder list and a body", sx)
        bs = self.sorted_binders(sx[1], tv, "variable", sx)
        if not bs:
            raise self.error("lambda binds no variables", sx[1])
        want = expected.codomain if expected is not None and expected.is_function else None
        body = self.term(sx[2], {**scope, **dict(bs)}, tv, want)
        return Lambda(tuple(v for _, v in bs), body)

    def let(self, sx: SList, scope, tv, expected) -> Term:
        if len(sx) != 3 or not isinstance(sx[1], SList):
            raise self.error("let expects a binding list and a body", sx)
        bindings: list[tuple[Var, Term]] = []
        names: list[str] = []
        seen: set[str] = set()
        for b in sx[1]:
            if not isinstance(b, SList) or len(b) != 2:
                raise self.error("expected a (variable term) binding", b)
            name = self.check_binder_name(b[0], "variable")
            if name in seen:
                raise self.error(f"variable {name!r} is bound twice in one let", b[0])
            seen.add(name)
            t = self.term(b[1], scope, tv, None)
            vname = self.bound_name(b[0], name, "variable", sx, [v.name for v, _ in bindings])
            bindings.append((Var(vname, t.sort), t))
            names.append(name)
        if not bindings:
            raise self.error("let binds no variables", sx[1])
        inner = {**scope, **{n: v for n, (v, _) in zip(names, bindings)}}
        return Let(tuple(bindings), self.term(sx[2], inner, tv, expected))

    def ho(self, sx: SList, scope, tv, expected) -> Term:
        if len(sx) < 3:
            raise self.error("@ expects a function and at least one argument", sx)
        fn = self.term(sx[1], scope, tv, None)
        return self.ho_apply(fn, sx.items[2:], sx, scope, tv)

    def bang(self, sx: SList, scope, tv, expected) -> Term:
        if len(sx) < 2:
            raise self.error("(! term :attribute ...) needs a term", sx)
        return self.term(sx[1], scope, tv, expected)

    def as_(self, sx: SList, scope, tv, expected) -> Term:
        name, s = self.annotated(sx, tv)
        return self.apply(sx[1], name, None, s, [], sx, scope, tv, expected)

    def under(self, sx: SList, scope, tv, expected) -> Term:
        if len(sx) == 3 and isinstance(sx[1], Atom) and sx[1].is_symbol("is"):
            raise self.error("tester (_ is C) must be applied to a term", sx)
        name, targs = self.indexed(sx, tv)
        return self.apply(sx[1], name, targs, None, [], sx, scope, tv, expected)

    def par_misplaced(self, sx: SList, scope, tv, expected) -> Term:
        raise self.error("par is only allowed at the top of a declaration or assertion", sx)

    def match(self, sx: SList, scope, tv, expected) -> Term:
        if len(sx) != 3 or not isinstance(sx[2], SList) or not sx[2].items:
            raise self.error("match expects a term and a non-empty list of cases", sx)
        scrut = self.term(sx[1], scope, tv, None)
        s = scrut.sort
        dt = self.env.datatypes.get(s.name) if type(s) is Sort else None
        if dt is None:
            raise self.error(f"match needs a datatype scrutinee, got one of sort {s}", sx[1])
        fsub = dict(zip(dt.tvars, s.args))
        ctors = {c: fs for c, fs in dt.ctors}
        pats = []
        for case in sx[2]:
            if not isinstance(case, SList) or len(case) != 2:
                raise self.error("expected a (pattern term) match case", case)
            pats.append((case, *self.pattern(case[0], s, ctors, fsub, case)))
        # exhaustiveness
        covered = {p.ctor for _, p, _ in pats if isinstance(p, PatCon)}
        if not any(isinstance(p, PatVar) for _, p, _ in pats):
            missing = [c for c in ctors if c not in covered]
            if missing:
                raise self.error(f"non-exhaustive match on sort {s}: no case for "
                                 f"{', '.join(missing) or 'every value'}", sx)
        # bodies share one sort; the first known sort guides the others
        bodies: list[Term | None] = [None] * len(pats)
        deferred = []
        want = expected
        for i, (case, p, bound) in enumerate(pats):
            inner = {**scope, **bound}
            try:
                b = self.term(case[1], inner, tv, want)
            except _Ambiguous:
                deferred.append(i)
                continue
            want = want or b.sort
            bodies[i] = self.expect(b, want, case[1])
        for i in deferred:
            case, p, bound = pats[i]
            inner = {**scope, **bound}
            bodies[i] = self.expect(self.term(case[1], inner, tv, want), want, case[1])
        cases = []
        for (case, p, _), b in zip(pats, bodies):
            if isinstance(p, PatVar) and p.var is not None and p.var not in free_vars(b):
                p = PatVar(None)  # an unused variable pattern is the wildcard `_`
            cases.append(MatchCase(p, b))
        return Match(scrut, tuple(cases), bodies[0].sort)  # type: ignore[union-attr]

    def pattern_var_name(self, sx: SExpr, body: SExpr, taken=()) -> str:
        """A pattern variable's name; one that needs |quoting| is renamed to a fresh simple
        symbol, because cvc5 rejects quoted pattern variables.  ``body``: the match case (the
        names a fresh name must avoid)."""
        name = self.check_binder_name(sx, "pattern variable")
        if self.shadows(name) is not None:
            return self.bound_name(sx, name, "pattern variable", body, taken)
        if is_simple_symbol(name):
            return name
        return self._fresh_pattern_name(re.sub(r"[^A-Za-z0-9_]", "_", name), body, taken)

    def _fresh_pattern_name(self, base: str, body: SExpr, taken) -> str:
        used = set(taken)
        stack = [body]
        while stack:
            x = stack.pop()
            if isinstance(x, SList):
                stack.extend(x.items)
            elif x.kind == SYMBOL:
                used.add(x.value)
        if not base[:1].isalpha():  # also the empty symbol ||
            base = "v" + base
        cand, i = base, 0
        while cand in used or cand in self.env.syms or cand in RESERVED or cand in BUILTINS \
                or cand in self.avoid:
            i += 1
            cand = f"{base}{i}"
        if isinstance(self.avoid, set):  # later fresh names (mono's mangling) avoid it too
            self.avoid.add(cand)
        return cand

    def pattern(self, sx: SExpr, s: Sort, ctors: dict, fsub: dict, body: SExpr):
        if isinstance(sx, Atom):
            if sx.kind != SYMBOL:
                raise self.error("malformed pattern", sx)
            name = sx.value
            if name == "_" and not sx.quoted:
                return PatVar(None), {}
            if name in ctors:
                if ctors[name]:
                    raise self.error(f"constructor {name} has {len(ctors[name])} field(s); "
                                     f"write ({name} x ...)", sx)
                return PatCon(name), {}
            sym = self.env.syms.get(name)
            if sym is not None and sym.kind == CTOR:
                raise self.error(f"constructor {name} does not build sort {s}", sx)
            v = Var(self.pattern_var_name(sx, body), s)
            return PatVar(v), {name: v}
        if not sx.items or not isinstance(sx[0], Atom) or sx[0].kind != SYMBOL:
            raise self.error("malformed pattern", sx)
        name = sx[0].value
        if name not in ctors:
            raise self.error(f"{name!r} is not a constructor of sort {s}", sx[0])
        fields = ctors[name]
        if len(sx) - 1 != len(fields):
            raise self.error(f"constructor {name} has {len(fields)} field(s), pattern binds "
                             f"{len(sx) - 1}", sx)
        vs = []
        bound: dict[str, Var] = {}
        seen: set[str] = set()
        for i, (v, (_, fs)) in enumerate(zip(sx.items[1:], fields)):
            if isinstance(v, Atom) and v.is_symbol("_"):
                vname = self._fresh_pattern_name(f"_{i}", body, seen)
            else:
                vname = self.pattern_var_name(v, body, seen)
            if vname in seen:
                raise self.error(f"pattern variable {vname!r} is bound twice", v)
            if isinstance(v, Atom) and v.value in bound:
                raise self.error(f"pattern variable {v.value!r} is bound twice", v)
            seen.add(vname)
            vs.append(Var(vname, sort_subst(fs, fsub)))
            if not v.is_symbol("_"):
                bound[v.value] = vs[-1]
        return PatCon(name, tuple(vs)), bound


_SPECIAL = {
    "forall": Elaborator.quant,
    "exists": Elaborator.quant,
    "lambda": Elaborator.lam,
    "let": Elaborator.let,
    "match": Elaborator.match,
    "@": Elaborator.ho,
    "!": Elaborator.bang,
    "as": Elaborator.as_,
    "_": Elaborator.under,
    "par": Elaborator.par_misplaced,
}


# --------------------------------------------------------------------------------------------
# Public API


class NoGoal(SpecError):
    """A problem file with nothing to prove (empty, or declarations and definitions only)."""


def parse_file(path: str | Path, require_goal: bool = True) -> Problem:
    """Parse an SMT-LIB 2.6 or TIP file into a monomorphic :class:`Problem`.  A file with no
    goal is an error (:class:`NoGoal`) unless ``require_goal`` is False."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except UnicodeDecodeError as e:
        raise SpecError(f"file is not UTF-8 text ({e.reason})", str(p)) from None
    except OSError as e:
        raise SpecError(f"cannot read file: {e.strerror}", str(p)) from None
    return parse_text(text, str(p), require_goal=require_goal)


def parse_text(text: str, file: str = "<input>", require_goal: bool = False) -> Problem:
    """Parse benchmark text into a monomorphic :class:`Problem`.

    The goal is the conjunction of the ``prove``/``assert-not`` formulas; without those (plain
    SMT-LIB), the last ``(assert (not phi))`` gives the goal phi and the other assertions are
    axioms; with no such assertion the goal is ``(not (and A1 ... An))``.  With no
    ``prove``/``assert-not``/``assert`` at all there is nothing to prove: the goal is
    ``false`` (a theory-only text), or, with ``require_goal``, :class:`NoGoal` is raised.  A
    bound variable or parameter named like a theory symbol (legal shadowing in SMT-LIB) gets
    a fresh name.
    """
    from .commands import CommandReader  # the command layer; kept apart from term elaboration

    sxs = read_sexprs(text, file, max_depth=MAX_DEPTH)
    reader = CommandReader(file)
    try:
        problem = reader.read(sxs)
    except RecursionError:
        raise SpecError("input nested too deeply to process", file) from None
    if require_goal and not reader.goals and not reader.asserts:
        what = "is empty" if not sxs else "has only declarations and definitions"
        raise NoGoal(f"no goal: the input {what}; add (prove FORMULA) (TIP) or "
                     "(assert (not FORMULA)) (SMT-LIB) to say what to prove", file)
    return problem


_ENV_CACHE: dict[int, tuple[weakref.ref, Env]] = {}


def _env_of(theory: Theory) -> Env:
    hit = _ENV_CACHE.get(id(theory))
    if hit is not None and hit[0]() is theory:
        return hit[1]
    env = Env.of_theory(theory)
    if len(_ENV_CACHE) > 64:
        _ENV_CACHE.clear()
    _ENV_CACHE[id(theory)] = (weakref.ref(theory), env)
    return env


def _one_sexpr(text: str, file: str, what: str) -> SExpr:
    sxs = read_sexprs(text, file, max_depth=MAX_DEPTH)
    if not sxs:
        raise SpecError(f"expected one {what}, got empty input", file, 1, 1, text[:20])
    if len(sxs) > 1:
        extra = sxs[1]
        raise SpecError(f"expected exactly one {what}, found more text after it", file,
                        extra.line, extra.col, extra.text)
    return sxs[0]


def parse_term(text: str, theory: Theory, scope: dict[str, Var] | None = None,
               expected: Sort | None = None, file: str = "<term>") -> Term:
    """Parse exactly one term over a monomorphic theory.

    ``scope`` maps names to the typed variables that may occur free.  Raises SpecError for
    unknown symbols, ill-sorted terms, a sort other than ``expected``, a bound variable named
    like a theory symbol (it would print exactly like the symbol), and any text that is not
    exactly one term.

    >>> from ida_ns.logic.ast import Theory, Var, INT
    >>> t = parse_term("(+ x 1)", Theory(), {"x": Var("x", INT)}, INT)
    >>> t.fn, t.args[1].value, str(t.sort)
    ('+', 1, 'Int')
    """
    sx = _one_sexpr(text, file, "term")
    el = Elaborator(_env_of(theory), file, shadowing="reject")
    sc = dict(scope or {})
    for k, v in sc.items():
        if v.name != k:
            raise ValueError(f"scope key {k!r} names variable {v.name!r}")
    try:
        t = el.term(sx, sc, frozenset(), expected)
    except RecursionError:
        raise SpecError("term nested too deeply", file, sx.line, sx.col, sx.text) from None
    return el.expect(t, expected, sx)


def parse_sort(text: str, theory: Theory, file: str = "<sort>") -> Sort:
    """Parse exactly one sort over a monomorphic theory."""
    sx = _one_sexpr(text, file, "sort")
    return Elaborator(_env_of(theory), file).sort(sx)
