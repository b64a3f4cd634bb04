"""Independent sort checker for ASTs built by any code (parser, prover steps, generators).

:func:`sortcheck_term` re-derives the sort of every node from the theory's signatures and
checks arities, match patterns (constructors of the scrutinee's datatype, field counts and
sorts, exhaustiveness), binders, and that no variable is used at two sorts under one name
(which would print ambiguously).  :func:`sortcheck_problem` also checks the theory's
declarations (known sorts, unique names, definitions only using what precedes them) and that
axioms and goal are closed Bool formulas.

Errors are :class:`~ida_ns.errors.SpecError` naming the ``file`` given (an AST carries no
positions) and the offending node, printed.
"""

from __future__ import annotations

from typing import Iterable

from ..errors import SpecError
from .ast import (
    BOOL, BUILTINS, INT, App, BoolLit, HoApp, IntLit, Lambda, Let, Match, PatCon, PatVar,
    Problem, Quant, Sort, Term, Theory, Var, symbols, tester_name,
)
from .symbols import SymbolTable, symbol_table

_BOOL_OPS = {"and", "or", "xor", "=>"}
_INT_OPS = {"+", "*", "div", "mod"}
_CMP_OPS = {"<", "<=", ">", ">="}
RESERVED = frozenset({"_", "!", "as", "let", "forall", "exists", "match", "par", "lambda",
                      "@", "true", "false"})


def _show(x) -> str:
    from .printer import print_sort, print_term

    try:
        s = print_sort(x) if isinstance(x, Sort) else print_term(x)
    except Exception:  # a malformed node may not even print
        s = repr(x)
    return s if len(s) <= 80 else s[:77] + "..."


class _Checker:
    def __init__(self, theory: Theory, file: str):
        self.theory = theory
        self.table: SymbolTable = symbol_table(theory)
        self.file = file
        self.sorts = {"Bool", "Int", *theory.sorts, *(d.name for d in theory.all_datatypes())}

    def fail(self, msg: str, node) -> SpecError:
        return SpecError(msg, self.file, 0, 0, _show(node))

    def sort(self, s: Sort, where) -> None:
        if not isinstance(s, Sort):
            raise self.fail(f"not a sort: {s!r}", where)
        if s.name == "=>":
            if len(s.args) < 2:
                raise self.fail("a function sort needs a domain and a codomain", s)
            for a in s.args:
                self.sort(a, where)
            return
        if s.args or s.name not in self.sorts:
            raise self.fail(f"unknown sort {s}", s)

    def binders(self, vs: tuple[Var, ...], node, scope: dict[str, Var]) -> dict[str, Var]:
        if not vs:
            raise self.fail("binder with no variables", node)
        inner = dict(scope)
        seen = set()
        for v in vs:
            if not isinstance(v, Var):
                raise self.fail(f"binder is not a variable: {v!r}", node)
            if v.name in seen:
                raise self.fail(f"variable {v.name} bound twice in one binder", node)
            if v.name in RESERVED or v.name in BUILTINS:
                raise self.fail(f"variable named like the reserved word {v.name!r}", node)
            seen.add(v.name)
            self.sort(v.sort, node)
            inner[v.name] = v
        return inner

    def term(self, t: Term, scope: dict[str, Var], free: dict[str, Var]) -> Sort:
        """Check t and return its sort.  ``free`` collects free variables by name."""
        if isinstance(t, Var):
            bound = scope.get(t.name)
            if bound is None:
                bound = free.setdefault(t.name, t)
            if bound != t:
                raise self.fail(f"variable {t.name} used at sort {t.sort} where {t.name} "
                                f"has sort {bound.sort}", t)
            self.sort(t.sort, t)
            return t.sort
        if isinstance(t, BoolLit):
            return BOOL
        if isinstance(t, IntLit):
            if not isinstance(t.value, int) or isinstance(t.value, bool):
                raise self.fail("integer literal with a non-int value", t)
            return INT
        if isinstance(t, App):
            return self.app(t, scope, free)
        if isinstance(t, HoApp):
            fs = self.term(t.fn, scope, free)
            if not fs.is_function:
                raise self.fail(f"@ applies a term of sort {fs}, not a function", t)
            if len(t.args) != len(fs.domain):
                raise self.fail(f"function of sort {fs} applied to {len(t.args)} argument(s)",
                                t)
            for a, d in zip(t.args, fs.domain):
                s = self.term(a, scope, free)
                if s != d:
                    raise self.fail(f"argument has sort {s}, expected {d}", a)
            return fs.codomain
        if isinstance(t, Quant):
            if t.kind not in ("forall", "exists"):
                raise self.fail(f"unknown quantifier {t.kind!r}", t)
            s = self.term(t.body, self.binders(t.vars, t, scope), free)
            if s != BOOL:
                raise self.fail(f"quantifier body has sort {s}, not Bool", t)
            return BOOL
        if isinstance(t, Lambda):
            s = self.term(t.body, self.binders(t.vars, t, scope), free)
            return Sort("=>", (*(v.sort for v in t.vars), s))
        if isinstance(t, Let):
            for v, e in t.bindings:
                s = self.term(e, scope, free)
                if s != v.sort:
                    raise self.fail(f"let binds {v.name} : {v.sort} to a term of sort {s}", t)
            return self.term(t.body, self.binders(tuple(v for v, _ in t.bindings), t, scope),
                             free)
        if isinstance(t, Match):
            return self.match(t, scope, free)
        raise self.fail(f"not a term: {type(t).__name__}", t)

    def app(self, t: App, scope, free) -> Sort:
        n, fn = len(t.args), t.fn
        if not t.args and fn in scope:
            raise self.fail(f"constant {fn} is shadowed by a bound variable of the same name", t)
        sorts = [self.term(a, scope, free) for a in t.args]

        def need(lo: int, hi: int | None, arg: Sort | None) -> None:
            if n < lo or (hi is not None and n > hi):
                raise self.fail(f"{fn} applied to {n} argument(s)", t)
            if arg is not None:
                for a, s in zip(t.args, sorts):
                    if s != arg:
                        raise self.fail(f"argument of {fn} has sort {s}, expected {arg}", a)

        if fn in BUILTINS:
            if fn in ("=", "distinct"):
                need(2, None, sorts[0] if sorts else None)
                ret = BOOL
            elif fn == "ite":
                need(3, 3, None)
                if sorts[0] != BOOL:
                    raise self.fail("ite condition is not Bool", t.args[0])
                if sorts[1] != sorts[2]:
                    raise self.fail(f"ite branches have sorts {sorts[1]} and {sorts[2]}", t)
                ret = sorts[1]
            elif fn == "not":
                need(1, 1, BOOL)
                ret = BOOL
            elif fn in _BOOL_OPS:
                need(2, None, BOOL)
                ret = BOOL
            elif fn == "-":
                need(1, None, INT)
                ret = INT
            elif fn == "abs":
                need(1, 1, INT)
                ret = INT
            elif fn in _INT_OPS:
                need(2, None, INT)
                ret = INT
            elif fn in _CMP_OPS:
                need(2, None, INT)
                ret = BOOL
            else:  # pragma: no cover - BUILTINS and the cases above agree
                raise self.fail(f"unhandled builtin {fn}", t)
        else:
            info = self.table.info(fn)
            if info is None:
                raise self.fail(f"unknown symbol {fn!r}", t)
            if n != len(info.params):
                raise self.fail(f"{fn} expects {len(info.params)} argument(s), got {n}", t)
            for a, s, p in zip(t.args, sorts, info.params):
                if s != p:
                    raise self.fail(f"argument of {fn} has sort {s}, expected {p}", a)
            ret = info.ret
        if t.sort != ret:
            raise self.fail(f"node records sort {t.sort} but {fn} returns {ret}", t)
        return ret

    def match(self, t: Match, scope, free) -> Sort:
        s = self.term(t.scrutinee, scope, free)
        dt = self.table.datatype_of(s)
        if dt is None:
            raise self.fail(f"match needs a datatype scrutinee, got one of sort {s}", t)
        if not t.cases:
            raise self.fail("match with no cases", t)
        ctors = {c.name: c for c in dt.ctors}
        covered: set[str] = set()
        catch_all = False
        for c in t.cases:
            p = c.pattern
            if isinstance(p, PatCon):
                ctor = ctors.get(p.ctor)
                if ctor is None:
                    raise self.fail(f"{p.ctor} is not a constructor of sort {s}", t)
                if len(p.vars) != len(ctor.fields):
                    raise self.fail(f"pattern for {p.ctor} binds {len(p.vars)} variable(s), "
                                    f"the constructor has {len(ctor.fields)} field(s)", t)
                for v, (_, fs) in zip(p.vars, ctor.fields):
                    if not isinstance(v, Var) or v.sort != fs:
                        raise self.fail(f"pattern variable {v!r} of {p.ctor} should have sort "
                                        f"{fs}", t)
                inner = self.binders(p.vars, t, scope) if p.vars else scope
                covered.add(p.ctor)
            elif isinstance(p, PatVar):
                catch_all = True
                inner = scope
                if p.var is not None:
                    if p.var.sort != s:
                        raise self.fail(f"pattern variable {p.var.name} has sort {p.var.sort}, "
                                        f"the scrutinee {s}", t)
                    if p.var.name in ctors:
                        raise self.fail(f"pattern variable {p.var.name} is named like a "
                                        f"constructor of {s}", t)
                    inner = self.binders((p.var,), t, scope)
            else:
                raise self.fail(f"not a pattern: {p!r}", t)
            bs = self.term(c.body, inner, free)
            if bs != t.sort:
                raise self.fail(f"match case has sort {bs}, the match records {t.sort}", c.body)
        if not catch_all and covered != set(ctors):
            missing = sorted(set(ctors) - covered)
            raise self.fail(f"non-exhaustive match: no case for {', '.join(missing)}", t)
        return t.sort


def sortcheck_term(term: Term, theory: Theory, expected: Sort | None = None,
                   scope: Iterable[Var] | None = None, file: str = "<ast>") -> Sort:
    """Check a term over a theory and return its sort.

    With ``scope`` given, every free variable must be one of those; ``expected`` fixes the
    term's sort.  Raises SpecError."""
    return _check_term(_Checker(theory, file), term, expected, scope)


def _check_term(ck: _Checker, term: Term, expected: Sort | None,
                scope: Iterable[Var] | None) -> Sort:
    free: dict[str, Var] = {}
    try:
        s = ck.term(term, {}, free)
    except RecursionError:
        raise SpecError("term nested too deeply to check", ck.file) from None
    if expected is not None and s != expected:
        raise ck.fail(f"term has sort {s}, expected {expected}", term)
    if scope is not None:
        allowed = set(scope)
        for v in free.values():
            if v not in allowed:
                raise ck.fail(f"free variable {v.name} : {v.sort} is not in scope", term)
    return s


def sortcheck_problem(problem: Problem, file: str | None = None) -> None:
    """Check a whole problem: declarations, definitions, axioms and goal.  Raises SpecError."""
    file = file or problem.source
    th = problem.theory
    ck = _Checker(th, file)
    try:
        _check_theory(ck, th)
        for a in th.axioms:
            _check_term(ck, a, BOOL, ())
        _check_term(ck, problem.goal, BOOL, ())
    except RecursionError:
        raise SpecError("problem nested too deeply to check", file) from None


def _check_theory(ck: _Checker, th: Theory) -> None:
    sort_names: set[str] = {"Bool", "Int", "=>"}
    fun_names: set[str] = set(BUILTINS) | RESERVED

    def new_sort(name: str, where) -> None:
        if name in sort_names:
            raise ck.fail(f"sort {name} declared twice (or named like a builtin sort)", where)
        sort_names.add(name)

    def new_fun(name: str, where) -> None:
        if name in fun_names:
            raise ck.fail(f"symbol {name} declared twice (or named like a builtin)", where)
        fun_names.add(name)

    known = _Checker(Theory(sorts=th.sorts), ck.file)  # grows declaration by declaration
    for s in th.sorts:
        new_sort(s, Sort(s))
    for group in th.datatypes:
        for d in group:
            new_sort(d.name, Sort(d.name))
            known.sorts.add(d.name)
            if not d.ctors:
                raise ck.fail(f"datatype {d.name} has no constructors", Sort(d.name))
        for d in group:
            for c in d.ctors:
                new_fun(c.name, Sort(d.name))
                new_fun(tester_name(c.name), Sort(d.name))
                for sel, fs in c.fields:
                    new_fun(sel, Sort(d.name))
                    known.sort(fs, Sort(d.name))
    for f in th.funs:
        new_fun(f.name, Sort(f.name))
        for s in (*f.params, f.ret):
            ck.sort(s, Sort(f.name))
    defined: set[str] = set()
    for group in th.defs:
        for d in group:
            new_fun(d.name, Sort(d.name))
        names = {d.name for d in group}
        if len(group) > 1 and not all(d.recursive for d in group):
            raise ck.fail("a group of several definitions must all be recursive",
                          Sort(group[0].name))
        for d in group:
            params = ck.binders(d.params, App(d.name, d.params, d.ret), {}) if d.params else {}
            ck.sort(d.ret, Sort(d.name))
            free: dict[str, Var] = {}
            s = ck.term(d.body, params, free)
            if s != d.ret:
                raise ck.fail(f"body of {d.name} has sort {s}, declared {d.ret}", d.body)
            if free:
                v = next(iter(free.values()))
                raise ck.fail(f"body of {d.name} has free variable {v.name}", d.body)
            later = {f for f in symbols(d.body)
                     if ck.table.kind(f) == "defined" and f not in defined
                     and (f not in names or not d.recursive)}
            if later:
                raise ck.fail(f"{d.name} uses {sorted(later)[0]} before its definition "
                              f"(or itself without being recursive)", d.body)
        defined |= names
