"""AST -> SMT-LIB 2.6 / TIP text.  The output re-parses to the same AST.

Printing is iterative, so arbitrarily deep terms print without Python recursion.  Symbols that
are not SMT-LIB simple symbols are quoted ``|...|`` (the empty symbol prints as ``||``).  A
bound variable named like a symbol (of the term, of the theory when given, or a builtin) is
alpha-renamed on output, so text never confuses a variable with a symbol.

Dialects:

- ``"tip"``: TIP syntax: function sorts ``(=> A B)``, wildcard patterns ``_``, goal ``(prove g)``;
- ``"smtlib"``: what z3/cvc5 text parsers accept: ``(set-logic UFDTLIA)`` (see
  :func:`logic_of`; ``HO_`` when function sorts, ``lambda`` or ``@`` occur), function sorts ``(-> A B)``, wildcard patterns
  printed as a fresh unused variable (cvc5 rejects ``_``), goal ``(assert (not g))`` and
  ``(check-sat)``.

>>> from ida_ns.logic.ast import App, IntLit, Var, INT, BOOL
>>> print_term(App("<=", (Var("x", INT), IntLit(-1)), BOOL))
'(<= x (- 1))'
"""

from __future__ import annotations

from .bignum import int_to_decimal

import re

from .ast import (
    App, BoolLit, Datatype, FunDecl, FunDef, HoApp, IntLit, Lambda, Let, Match, PatCon,
    BUILTINS, Problem, Quant, Sort, Term, Theory, Var, all_var_names, children, pattern_vars,
    subterms,
)
from .sexpr import is_simple_symbol

DIALECTS = ("smtlib", "tip")


_NUMERIC_LOOKING = re.compile(r"[-.][0-9]")  # simple symbols, but z3/cvc5 lex them as numbers


def quote(name: str) -> str:
    """A symbol as SMT-LIB text: as is when simple, else ``|name|``.

    >>> quote("++"), quote(":+:"), quote("-2"), quote("")
    ('++', '|:+:|', '|-2|', '||')
    """
    if is_simple_symbol(name) and not _NUMERIC_LOOKING.match(name):
        return name
    if "|" in name or "\\" in name:
        raise ValueError(f"symbol {name!r} cannot be written in SMT-LIB (contains | or \\)")
    return f"|{name}|"


def _check_dialect(dialect: str) -> None:
    if dialect not in DIALECTS:
        raise ValueError(f"dialect must be one of {DIALECTS}, got dialect={dialect!r}")


def print_sort(s: Sort, dialect: str = "tip") -> str:
    _check_dialect(dialect)
    out: list[str] = []
    stack: list = [s]
    while stack:
        x = stack.pop()
        if isinstance(x, str):
            out.append(x)
        elif not x.args:
            out.append(quote(x.name))
        else:
            head = ("->" if dialect == "smtlib" else "=>") if x.name == "=>" else quote(x.name)
            stack.append(")")
            for a in reversed(x.args):
                stack.append(a)
                stack.append(" ")
            out.append("(" + head)
    return "".join(out)


def _binders(vs, dialect: str, names=None) -> str:
    names = names or [v.name for v in vs]
    return "(" + " ".join(f"({quote(n)} {print_sort(v.sort, dialect)})"
                          for n, v in zip(names, vs)) + ")"


# Words a bound variable must not print as: reserved words and builtins (parser.RESERVED).
_RESERVED_WORDS = frozenset({
    "_", "!", "as", "let", "forall", "exists", "match", "par", "lambda", "@", "true", "false",
    "NUMERAL", "DECIMAL", "STRING", "BINARY", "HEXADECIMAL",
}) | BUILTINS


def theory_symbols(theory: Theory | None) -> frozenset[str]:
    """Every function-like symbol of a theory (constructors, testers, selectors, functions)."""
    if theory is None:
        return frozenset()
    from .symbols import symbol_table

    return frozenset(symbol_table(theory).infos)


class _SetEnv:
    """A marker on the printer's stack: from here on, bound variables print as ``env`` says."""

    __slots__ = ("env",)

    def __init__(self, env: dict):
        self.env = env


class _Names:
    """How the bound variables of one term print.

    A binder named like a symbol the text could also mean (a constructor, function, selector
    or tester occurring in the term or declared in the theory, a builtin or a reserved word)
    would print exactly like that symbol, so it is alpha-renamed on output to a fresh simple
    symbol that no name in the term (or the theory) uses.  Free variables keep their names.
    """

    def __init__(self, t: Term, avoid: frozenset[str], params: tuple[Var, ...] = ()):
        self.term = t
        fns: set[str] = set()
        bound: set[str] = {v.name for v in params}
        stack = [t]
        while stack:  # subterms(t), inlined: this runs on every print
            s = stack.pop()
            tp = type(s)
            if tp is App:
                fns.add(s.fn)
                stack.extend(s.args)
            elif tp is Var or tp is IntLit or tp is BoolLit:
                continue
            elif tp is Quant or tp is Lambda:
                bound.update(v.name for v in s.vars)
                stack.append(s.body)
            elif tp is Let:
                bound.update(v.name for v, _ in s.bindings)
                stack.extend(e for _, e in s.bindings)
                stack.append(s.body)
            elif tp is Match:
                stack.append(s.scrutinee)
                for c in s.cases:
                    if isinstance(c.pattern, PatCon):
                        fns.add(c.pattern.ctor)
                    bound.update(v.name for v in pattern_vars(c.pattern))
                    stack.append(c.body)
            else:
                stack.extend(children(s))
        self.fns = fns
        self.bound = bound
        self.avoid = avoid
        self.bad = fns | avoid | _RESERVED_WORDS
        self.clash = not bound.isdisjoint(self.bad)
        self._used: set[str] | None = None
        self.renamed: dict[Var, str] = {}

    @property
    def used(self) -> set[str]:
        """Every name a fresh name must avoid (computed on first use)."""
        if self._used is None:
            self._used = all_var_names(self.term) | self.bound | self.fns | self.avoid
        return self._used

    def fresh(self, base: str) -> str:
        base = re.sub(r"[^A-Za-z0-9_]", "_", base)
        if not base[:1].isalpha():
            base = "v" + base
        i = 1
        while f"{base}_{i}" in self.used:
            i += 1
        name = f"{base}_{i}"
        self.used.add(name)
        return name

    def bind(self, vs, env: dict) -> tuple[list[str], dict | None]:
        """Printed names for binders ``vs`` and the environment of their scope (None when
        it is ``env`` unchanged)."""
        if not self.clash:
            return [v.name for v in vs], None
        inner = None
        out = []
        for v in vs:
            if v.name in self.bad:
                name = self.renamed.get(v)
                if name is None:
                    name = self.renamed[v] = self.fresh(v.name)
                if inner is None:
                    inner = dict(env)
                inner[v] = name
                out.append(name)
            else:
                out.append(v.name)
        return out, inner

    def wildcard(self) -> str:
        name, i = "_wild", 0
        while name in self.used:
            i += 1
            name = f"_wild{i}"
        self.used.add(name)
        return name


def print_term(t: Term, dialect: str = "tip", theory: Theory | None = None) -> str:
    """Print a term (iteratively: deep terms are fine).

    Bound variables named like a symbol (one occurring in ``t``, one of ``theory`` when given,
    a builtin or reserved word) are renamed on output, so the text never confuses a variable
    with a symbol: parsing it back gives a term alpha-equivalent to ``t``.

    >>> from ida_ns.logic.ast import Sort, Var, Quant, App, BOOL
    >>> n = Sort("Nat"); z = Var("Z", n)
    >>> print_term(Quant("forall", (z,), App("=", (z, App("Z", (), n)), BOOL)))
    '(forall ((Z_1 Nat)) (= Z_1 Z))'
    """
    _check_dialect(dialect)
    return _print_term(t, dialect, _Names(t, theory_symbols(theory)), {})


def _print_term(t: Term, dialect: str, names: _Names, env: dict) -> str:
    out: list[str] = []
    stack: list = [t]
    wild = None  # name used for `_` patterns in the smtlib dialect
    while stack:
        x = stack.pop()
        if isinstance(x, str):
            out.append(x)
            continue
        pieces: list
        if isinstance(x, Var):
            out.append(quote(env.get(x, x.name) if env else x.name))
            continue
        if isinstance(x, BoolLit):
            out.append("true" if x.value else "false")
            continue
        if isinstance(x, IntLit):
            out.append(int_to_decimal(x.value) if x.value >= 0
                       else f"(- {int_to_decimal(-x.value)})")
            continue
        if isinstance(x, _SetEnv):
            env = x.env
            continue
        if isinstance(x, App):
            if not x.args:
                out.append(quote(x.fn))
                continue
            pieces = ["(" + quote(x.fn)]
            for a in x.args:
                pieces += [" ", a]
            pieces.append(")")
        elif isinstance(x, HoApp):
            pieces = ["(@ ", x.fn]
            for a in x.args:
                pieces += [" ", a]
            pieces.append(")")
        elif isinstance(x, (Quant, Lambda)):
            vnames, inner = names.bind(x.vars, env)
            head = x.kind if isinstance(x, Quant) else "lambda"
            pieces = [f"({head} {_binders(x.vars, dialect, vnames)} ", *_scoped(x.body, inner, env),
                      ")"]
        elif isinstance(x, Let):
            vnames, inner = names.bind([v for v, _ in x.bindings], env)
            pieces = ["(let ("]
            for i, ((v, e), n) in enumerate(zip(x.bindings, vnames)):
                pieces += [(" " if i else "") + f"({quote(n)} ", e, ")"]
            pieces += [") ", *_scoped(x.body, inner, env), ")"]
        elif isinstance(x, Match):
            pieces = ["(match ", x.scrutinee, " ("]
            for i, c in enumerate(x.cases):
                p = c.pattern
                vnames, inner = names.bind(pattern_vars(p), env)
                if isinstance(p, PatCon):
                    pat = quote(p.ctor) if not p.vars else \
                        "(" + " ".join([quote(p.ctor), *(quote(n) for n in vnames)]) + ")"
                elif p.var is not None:
                    pat = quote(vnames[0])
                elif dialect == "tip":
                    pat = "_"
                else:
                    if wild is None:
                        wild = names.wildcard()
                    pat = wild
                pieces += [(" " if i else "") + f"({pat} ", *_scoped(c.body, inner, env), ")"]
            pieces.append("))")
        else:
            raise TypeError(f"not a term: {x!r}")
        stack.extend(reversed(pieces))
    return "".join(out)


def _scoped(body: Term, inner: dict | None, outer: dict) -> list:
    return [body] if inner is None else [_SetEnv(inner), body, _SetEnv(outer)]


# --------------------------------------------------------------------------------------------
# Declarations


def print_datatypes(group: tuple[Datatype, ...], dialect: str = "tip") -> str:
    heads = " ".join(f"({quote(d.name)} 0)" for d in group)
    bodies = []
    for d in group:
        ctors = []
        for c in d.ctors:
            fields = "".join(f" ({quote(s)} {print_sort(fs, dialect)})" for s, fs in c.fields)
            ctors.append(f"({quote(c.name)}{fields})")
        bodies.append("(" + " ".join(ctors) + ")")
    return f"(declare-datatypes ({heads}) ({' '.join(bodies)}))"


def print_fundecl(f: FunDecl, dialect: str = "tip") -> str:
    params = " ".join(print_sort(s, dialect) for s in f.params)
    return f"(declare-fun {quote(f.name)} ({params}) {print_sort(f.ret, dialect)})"


def _def_parts(d: FunDef, dialect: str, avoid: frozenset[str]) -> tuple[str, str]:
    """A definition's signature and body; parameters named like a symbol are renamed."""
    names = _Names(d.body, avoid, d.params)
    pnames, env = names.bind(d.params, {})
    sig = f"{quote(d.name)} {_binders(d.params, dialect, pnames)} {print_sort(d.ret, dialect)}"
    return sig, _print_term(d.body, dialect, names, env or {})


def print_defs(group: tuple[FunDef, ...], dialect: str = "tip",
               theory: Theory | None = None) -> str:
    """A definition group; ``theory`` (when given) names symbols that binders must not print
    as (see :func:`print_term`)."""
    _check_dialect(dialect)
    return _print_defs(group, dialect, theory_symbols(theory))


def _print_defs(group: tuple[FunDef, ...], dialect: str, avoid: frozenset[str]) -> str:
    if len(group) > 1 and not all(d.recursive for d in group):
        raise ValueError("a group of several definitions must all be recursive: "
                         + ", ".join(d.name for d in group))
    avoid = avoid | {d.name for d in group}
    parts = [_def_parts(d, dialect, avoid) for d in group]
    if len(group) == 1:
        d = group[0]
        cmd = "define-fun-rec" if d.recursive else "define-fun"
        return f"({cmd} {parts[0][0]}\n  {parts[0][1]})"
    sigs = " ".join(f"({sig})" for sig, _ in parts)
    bodies = "\n  ".join(body for _, body in parts)
    return f"(define-funs-rec ({sigs})\n (\n  {bodies}))"


def print_theory(theory: Theory, dialect: str = "tip") -> str:
    """The theory's declarations in order: sorts, datatypes, functions, definitions, axioms."""
    _check_dialect(dialect)
    return _print_theory(theory, dialect, theory_symbols(theory))


def _print_theory(theory: Theory, dialect: str, avoid: frozenset[str]) -> str:
    lines = [f"(declare-sort {quote(s)} 0)" for s in theory.sorts]
    lines += [print_datatypes(g, dialect) for g in theory.datatypes]
    lines += [print_fundecl(f, dialect) for f in theory.funs]
    lines += [_print_defs(g, dialect, avoid) for g in theory.defs]
    lines += [f"(assert {_print_term(a, dialect, _Names(a, avoid), {})})"
              for a in theory.axioms]
    return "\n".join(lines) + ("\n" if lines else "")


def _higher_order(p: Problem) -> bool:
    th = p.theory
    sorts = [fs for d in th.all_datatypes() for c in d.ctors for _, fs in c.fields]
    sorts += [s for f in th.funs for s in (*f.params, f.ret)]
    sorts += [s for d in th.all_defs() for s in (*(v.sort for v in d.params), d.ret)]
    if any(_has_fun_sort(s) for s in sorts):
        return True
    terms = [d.body for d in th.all_defs()] + list(th.axioms) + [p.goal]
    for t in terms:
        for s in subterms(t):
            if isinstance(s, (Lambda, HoApp)) or _has_fun_sort(s.sort):
                return True
    return False


def _nonlinear(p: Problem) -> bool:
    terms = [d.body for d in p.theory.all_defs()] + list(p.theory.axioms) + [p.goal]
    for t in terms:
        for s in subterms(t):
            if isinstance(s, App) and s.fn in ("*", "div", "mod"):
                rest = s.args[1:] if s.fn != "*" else s.args
                if sum(not isinstance(a, IntLit) for a in rest) > (1 if s.fn == "*" else 0):
                    return True
    return False


def logic_of(problem: Problem) -> str:
    """The SMT-LIB logic for a problem: ``UFDTLIA``, ``UFDTNIA``, or ``HO_`` of those.

    A narrow logic (not ``ALL``) keeps cvc5 from treating user symbols such as ``concat`` as
    string-theory symbols."""
    arith = "UFDTNIA" if _nonlinear(problem) else "UFDTLIA"
    return ("HO_" if _higher_order(problem) else "") + arith


def _has_fun_sort(s: Sort) -> bool:
    return s.is_function or any(_has_fun_sort(a) for a in s.args)


def print_problem(problem: Problem, dialect: str = "smtlib") -> str:
    """The whole problem: ``smtlib`` asserts the negated goal and checks sat; ``tip`` proves it.

    ``parse_text(print_problem(p, d)) == p`` up to the ``source`` field."""
    _check_dialect(dialect)
    parts = []
    if dialect == "smtlib":
        parts.append(f"(set-logic {logic_of(problem)})\n")
    avoid = theory_symbols(problem.theory)
    parts.append(_print_theory(problem.theory, dialect, avoid))
    goal = _print_term(problem.goal, dialect, _Names(problem.goal, avoid), {})
    if dialect == "smtlib":
        parts.append(f"(assert (not {goal}))\n(check-sat)\n")
    else:
        parts.append(f"(prove {goal})\n")
    return "".join(parts)
