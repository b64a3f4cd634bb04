"""Z3 backend: the AST is translated through z3's Python API (never through SMT-LIB text).

Datatype groups go through ``z3.CreateDatatypes`` (mutual recursion), recursive definitions
through ``RecFunction``/``RecAddDefinition``, non-recursive definitions are inlined (like
SMT-LIB ``define-fun`` macros), function sorts ``(=> a b)`` become arrays (``Lambda``,
``Select``).  Each theory lives in its own ``z3.Context`` (so two theories may both define a
``Nat``) with one solver; a query is a push/check/pop on it (or a fresh solver per query, the
default), retried in a fresh translation when the used one gives no answer.

Any symbol name is accepted through the API: ``++``, ``&&``, a sort named ``Seq``.

z3 identifies constants by name and sort, and ``z3.FreshConst`` only appends a counter to its
prefix (``FreshConst(s, "x")`` *is* ``Const("x!0", s)``).  So every constant this backend
creates for a binder, skolem or model element comes from one supply (:meth:`Z3Theory.fresh`)
whose names are pairwise distinct and distinct from every theory symbol; theory symbols go
through :func:`~solvers.translate.solver_name` (no NUL truncation, no surrogates).
"""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Any

import z3

from ida_ns.errors import SpecError, UnsupportedFeature
from ida_ns.logic.ast import FunDef, Sort, Theory, Var
from ida_ns.logic.bignum import int_to_decimal
from ida_ns.logic.symbols import CTOR, DECLARED, DEFINED, SELECTOR, TESTER
from ida_ns.verdict import Unknown, Verdict

from .base import TheoryCache, run_query
from .query import Query
from .translate import Lowering, ascii_prefix, solver_name

_BINARY = {
    "=": lambda a, b: a == b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
    "=>": z3.Implies,
    "xor": z3.Xor,
    "+": lambda a, b: a + b,
    "-": lambda a, b: a - b,
    "*": lambda a, b: a * b,
    "div": lambda a, b: a / b,  # integer division on Int (SMT-LIB div)
    "mod": lambda a, b: a % b,  # SMT-LIB mod on Int
}


class Z3Theory(Lowering):
    """One theory translated into its own z3 context, with a solver holding its axioms."""

    def __init__(self, theory: Theory, incremental: bool = True):
        t0 = time.perf_counter()
        super().__init__(theory)
        self.ctx = z3.Context()
        self.incremental = incremental
        self.sorts: dict[str, z3.SortRef] = {}
        self.ctor_decl: dict[str, z3.FuncDeclRef] = {}
        self.tester_decl: dict[str, z3.FuncDeclRef] = {}
        self.accessors: dict[str, list[z3.FuncDeclRef]] = {}
        self.funs: dict[str, Any] = {}  # declared and recursive functions (decl or const)
        self.inline: dict[str, FunDef] = {}
        # names in the context that fresh constants must avoid
        self._taken: set[str] = {solver_name(n) for n in (*theory.sorts, *self.symbols.infos)}
        self._taken |= {solver_name(d.name) for d in theory.all_datatypes()}
        self._fresh_count = 0
        for name in theory.sorts:
            self.sorts[name] = z3.DeclareSort(solver_name(name), self.ctx)
        for group in theory.datatypes:
            self._datatypes(group)
        for f in theory.funs:
            sig = [self.sort(s) for s in (*f.params, f.ret)]
            zname = solver_name(f.name)
            self.funs[f.name] = (z3.Function(zname, *sig) if f.params
                                 else z3.Const(zname, sig[0]))
        for group in theory.defs:
            self._definitions(group)
        self.axioms = [self.term(ax, {}) for ax in theory.axioms]
        self.solver = self._new_solver()
        self._stack: list[z3.Solver] = []
        self._model: z3.ModelRef | None = None
        self.answered = 0  # queries this context has answered (its history)
        self.build_s = time.perf_counter() - t0  # what translating the theory took

    # ---- declarations ----------------------------------------------------------------------
    def sort(self, s: Sort) -> z3.SortRef:
        if s.name == "Bool" and not s.args:
            return z3.BoolSort(self.ctx)
        if s.name == "Int" and not s.args:
            return z3.IntSort(self.ctx)
        if s.is_function:
            return z3.ArraySort(*[self.sort(a) for a in s.args])
        if s.args or s.name not in self.sorts:
            raise SpecError(f"unknown sort {s}", token=str(s))
        return self.sorts[s.name]

    def _datatypes(self, group) -> None:
        names = {dt.name for dt in group}
        decls = {dt.name: z3.Datatype(solver_name(dt.name), ctx=self.ctx) for dt in group}
        for dt in group:
            for c in dt.ctors:
                fields = []
                for sel, s in c.fields:
                    if s.name in names and not s.args:
                        fields.append((solver_name(sel), decls[s.name]))
                    elif any(a.name in names for a in s.args):
                        raise UnsupportedFeature(
                            f"field {sel} of {c.name} has sort {s}, which nests the datatype "
                            f"being declared", token=sel)
                    else:
                        fields.append((solver_name(sel), self.sort(s)))
                decls[dt.name].declare(solver_name(c.name), *fields)
        created = z3.CreateDatatypes(*decls.values())
        if not isinstance(created, tuple):
            created = (created,)
        for dt, zs in zip(group, created):
            # A fresh handle: CreateDatatypes sets constructor names as attributes on its own.
            zs = z3.DatatypeSortRef(zs.ast, self.ctx)
            self.sorts[dt.name] = zs
            for i, c in enumerate(dt.ctors):
                self.ctor_decl[c.name] = zs.constructor(i)
                self.tester_decl[c.name] = zs.recognizer(i)
                self.accessors[c.name] = [zs.accessor(i, j) for j in range(len(c.fields))]

    def _definitions(self, group: tuple[FunDef, ...]) -> None:
        if not any(d.recursive for d in group):
            for d in group:
                self.inline[d.name] = d
            return
        for d in group:
            sig = [self.sort(v.sort) for v in d.params] + [self.sort(d.ret)]
            self.funs[d.name] = z3.RecFunction(solver_name(d.name), *sig)
        for d in group:
            params = [self.bound_var(v) for v in d.params]
            body = self.term(d.body, dict(zip(d.params, params)))
            z3.RecAddDefinition(self.funs[d.name], params, body)

    # ---- Lowering primitives ---------------------------------------------------------------
    def int_lit(self, value: int):
        # through text of any length: str(int) has a digit limit
        return z3.IntVal(int_to_decimal(value), self.ctx)

    def bool_lit(self, value: bool):
        return z3.BoolVal(value, self.ctx)

    def binary(self, op: str, a, b):
        return _BINARY[op](a, b)

    def nary(self, op: str, args: list):
        if op == "and":
            return z3.And(*args)
        if op == "or":
            return z3.Or(*args)
        if op == "distinct":
            return z3.Distinct(*args)
        if op == "not":
            return z3.Not(args[0])
        if op == "abs":
            return z3.Abs(args[0])
        if op == "-":
            return -args[0]
        raise UnsupportedFeature(f"builtin {op!r}", token=op)

    def ite(self, c, a, b):
        return z3.If(c, a, b)

    def apply(self, name: str, args: list, sort: Sort, env):
        kind = self.symbols.kind(name)
        if kind == CTOR:
            return self.ctor_decl[name](*args)
        if kind == SELECTOR:
            return self.symbol_selector(name)(*args)
        if kind == TESTER:
            return self.tester_decl[self.symbols.info(name).ctor](*args)
        if kind == DEFINED and name in self.inline:
            d = self.inline[name]
            return self.term(d.body, dict(zip(d.params, args)))
        if kind in (DECLARED, DEFINED):
            f = self.funs[name]
            return f(*args) if isinstance(f, z3.FuncDeclRef) else f
        raise SpecError(f"unknown function symbol {name}", token=name)

    def symbol_selector(self, name: str) -> z3.FuncDeclRef:
        info = self.symbols.info(name)
        ctor = self.symbols.ctors[info.ctor]
        index = [sel for sel, _ in ctor.fields].index(name)
        return self.accessors[info.ctor][index]

    def tester(self, ctor: str, x):
        return self.tester_decl[ctor](x)

    def selector(self, ctor: str, index: int, x):
        return self.accessors[ctor][index](x)

    def fresh(self, sort: z3.SortRef, prefix: str) -> z3.ExprRef:
        """A constant no other constant of this context shares: ``<prefix>!<n>`` with n
        counting up per theory, skipping theory symbol names."""
        base = ascii_prefix(prefix)
        while True:
            name = f"{base}!{self._fresh_count}"
            self._fresh_count += 1
            if name not in self._taken:
                return z3.Const(name, sort)

    def bound_var(self, v: Var):
        return self.fresh(self.sort(v.sort), v.name)

    def quant(self, kind: str, bvars: list, body):
        return (z3.ForAll if kind == "forall" else z3.Exists)(bvars, body)

    def lam(self, bvars: list, body):
        return z3.Lambda(bvars, body)

    def ho_apply(self, fn, args: list):
        return z3.Select(fn, *args)

    # ---- TheoryContext ---------------------------------------------------------------------
    def _new_solver(self) -> z3.Solver:
        s = z3.Solver(ctx=self.ctx)
        s.add(*self.axioms)
        return s

    def push(self) -> None:
        if self.incremental:
            self.solver.push()
        else:  # a fresh solver per scope: z3's non-incremental preprocessing stays on
            self._stack.append(self.solver)
            self.solver = self._new_solver()

    def pop(self) -> None:
        self._model = None
        if self.incremental:
            self.solver.pop()
        else:
            self.solver = self._stack.pop()

    def add(self, formula) -> None:
        self.solver.add(formula)

    def check(self, timeout_s: float) -> tuple[str, str]:
        self.solver.set("timeout", max(1, int(timeout_s * 1000)))
        r = self.solver.check()
        if r == z3.sat:
            self._model = self.solver.model()
            return "sat", ""
        if r == z3.unsat:
            return "unsat", ""
        reason = self.solver.reason_unknown()
        if reason in ("timeout", "canceled"):
            reason = f"timeout after {timeout_s:g} s"
        return "unknown", reason

    def skolem(self, name: str, var: Var):
        return self.fresh(self.sort(var.sort), name)

    def model_value(self, const):
        return self._model.eval(const, model_completion=True)

    def abstract_elements(self, values: list) -> tuple[list, list]:
        elems: dict[int, z3.ExprRef] = {}
        stack = list(values)
        while stack:
            e = stack.pop()
            if e.sort().kind() == z3.Z3_UNINTERPRETED_SORT and z3.is_const(e):
                elems.setdefault(e.get_id(), e)
            elif z3.is_app(e):
                stack.extend(e.children())
        if not elems:
            return list(values), []
        pairs = [(e, self.fresh(e.sort(), "elem")) for e in elems.values()]
        out = [z3.substitute(v, *pairs) for v in values]
        side = []
        by_sort: dict[str, list] = {}
        for _, c in pairs:
            by_sort.setdefault(c.sort().name(), []).append(c)
        for cs in by_sort.values():
            if len(cs) > 1:
                side.append(z3.Distinct(*cs))
        return out, side

    def substitute(self, formula, pairs: list):
        return z3.substitute(formula, *pairs) if pairs else formula

    def show(self, value) -> str:
        return value.sexpr()


class Z3Backend:
    """``prove(query, timeout_s)`` with z3; translated theories are cached (LRU)."""

    # Not incremental by default: a fresh solver per query (the translated theory is still
    # cached).  An incremental solver answers by its history: a leaf with a commutativity
    # lemma that z3 proves in 0.03 s fresh timed out at 5 s after other queries on the same
    # theory (TIP isaplanner prop_76), so search and check-proof disagreed.
    def __init__(self, name: str = "z3", incremental: bool = False, cache_size: int = 32):
        self.name = name
        self.version = z3.get_version_string()
        self.incremental = incremental
        self.cache: TheoryCache[Z3Theory] = TheoryCache(
            lambda th, _ho: Z3Theory(th, incremental), cache_size)

    # A context's history changes its answers too: z3 orders terms by creation, so after
    # other queries on the theory an easy query (6 ms in a fresh context) can time out, one
    # history in ten for a len-of-delete leaf of the gate.  A context with history therefore
    # gets this share of the time, and on no answer a fresh translation gets the rest and
    # takes the cached context's place: a fresh context's answer depends on the query, not on
    # the queries before it.  A theory whose translation would take more than half of that
    # rest keeps the whole time in its used context.
    USED_SHARE = 0.75

    def prove(self, query: Query, timeout_s: float) -> Verdict:
        t0 = time.perf_counter()
        try:
            ctx = self.cache.get(query.theory)
            retry = ctx.answered > 0 and ctx.build_s < 0.5 * (1 - self.USED_SHARE) * timeout_s
            ctx.answered += 1
            v = run_query(ctx, query, self.USED_SHARE * timeout_s if retry else timeout_s,
                          self.name, self.version)
            if not retry or not isinstance(v, Unknown):
                return v
            ctx = self.cache.rebuild(query.theory)
            ctx.answered += 1
            left = timeout_s - (time.perf_counter() - t0)
            if left > 0.01 * timeout_s:
                v = run_query(ctx, query, left, self.name, self.version)
        except z3.Z3Exception as e:
            return Unknown(f"z3 error: {e}", self.name, self.version)
        took = time.perf_counter() - t0
        if isinstance(v, Unknown) and v.reason.startswith("unknown: timeout after"):
            return replace(v, reason=f"unknown: timeout after {timeout_s:g} s", time_s=took)
        return replace(v, time_s=took)
