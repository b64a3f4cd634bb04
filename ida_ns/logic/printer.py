"""AST -> SMT-LIB 2.6 / TIP text.  The output re-parses to the same AST.

Printing is iterative, so arbitrarily deep terms print without Python recursion.  Symbols that
are not SMT-LIB simple symbols are quoted ``|...|``.

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

import re

from .ast import (
    App, BoolLit, Datatype, FunDecl, FunDef, HoApp, IntLit, Lambda, Let, Match, PatCon,
    Problem, Quant, Sort, Term, Theory, Var, all_var_names, subterms,
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


def _binders(vs, dialect: str) -> str:
    return "(" + " ".join(f"({quote(v.name)} {print_sort(v.sort, dialect)})" for v in vs) + ")"


def print_term(t: Term, dialect: str = "tip") -> str:
    """Print a term (iteratively: deep terms are fine)."""
    _check_dialect(dialect)
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
            out.append(quote(x.name))
            continue
        if isinstance(x, BoolLit):
            out.append("true" if x.value else "false")
            continue
        if isinstance(x, IntLit):
            out.append(str(x.value) if x.value >= 0 else f"(- {-x.value})")
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
        elif isinstance(x, Quant):
            pieces = [f"({x.kind} {_binders(x.vars, dialect)} ", x.body, ")"]
        elif isinstance(x, Lambda):
            pieces = [f"(lambda {_binders(x.vars, dialect)} ", x.body, ")"]
        elif isinstance(x, Let):
            pieces = ["(let ("]
            for i, (v, e) in enumerate(x.bindings):
                pieces += [(" " if i else "") + f"({quote(v.name)} ", e, ")"]
            pieces += [") ", x.body, ")"]
        elif isinstance(x, Match):
            pieces = ["(match ", x.scrutinee, " ("]
            for i, c in enumerate(x.cases):
                p = c.pattern
                if isinstance(p, PatCon):
                    pat = quote(p.ctor) if not p.vars else \
                        "(" + " ".join([quote(p.ctor), *(quote(v.name) for v in p.vars)]) + ")"
                elif p.var is not None:
                    pat = quote(p.var.name)
                elif dialect == "tip":
                    pat = "_"
                else:
                    if wild is None:
                        wild = _fresh_wildcard(t)
                    pat = wild
                pieces += [(" " if i else "") + f"({pat} ", c.body, ")"]
            pieces.append("))")
        else:
            raise TypeError(f"not a term: {x!r}")
        stack.extend(reversed(pieces))
    return "".join(out)


def _fresh_wildcard(t: Term) -> str:
    used = all_var_names(t) | {s.fn for s in subterms(t) if isinstance(s, App)} | {
        c.pattern.ctor for s in subterms(t) if isinstance(s, Match) for c in s.cases
        if isinstance(c.pattern, PatCon)}
    name, i = "_wild", 0
    while name in used:
        i += 1
        name = f"_wild{i}"
    return name


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


def _sig(d: FunDef, dialect: str) -> str:
    return f"{quote(d.name)} {_binders(d.params, dialect)} {print_sort(d.ret, dialect)}"


def print_defs(group: tuple[FunDef, ...], dialect: str = "tip") -> str:
    if len(group) == 1:
        d = group[0]
        cmd = "define-fun-rec" if d.recursive else "define-fun"
        return f"({cmd} {_sig(d, dialect)}\n  {print_term(d.body, dialect)})"
    if not all(d.recursive for d in group):
        raise ValueError("a group of several definitions must all be recursive: "
                         + ", ".join(d.name for d in group))
    sigs = " ".join(f"({_sig(d, dialect)})" for d in group)
    bodies = "\n  ".join(print_term(d.body, dialect) for d in group)
    return f"(define-funs-rec ({sigs})\n (\n  {bodies}))"


def print_theory(theory: Theory, dialect: str = "tip") -> str:
    """The theory's declarations in order: sorts, datatypes, functions, definitions, axioms."""
    _check_dialect(dialect)
    lines = [f"(declare-sort {quote(s)} 0)" for s in theory.sorts]
    lines += [print_datatypes(g, dialect) for g in theory.datatypes]
    lines += [print_fundecl(f, dialect) for f in theory.funs]
    lines += [print_defs(g, dialect) for g in theory.defs]
    lines += [f"(assert {print_term(a, dialect)})" for a in theory.axioms]
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
    parts.append(print_theory(problem.theory, dialect))
    goal = print_term(problem.goal, dialect)
    if dialect == "smtlib":
        parts.append(f"(assert (not {goal}))\n(check-sat)\n")
    else:
        parts.append(f"(prove {goal})\n")
    return "".join(parts)
