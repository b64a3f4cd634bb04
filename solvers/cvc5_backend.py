"""cvc5 backend: the AST is translated through cvc5's Python base API (``cvc5.TermManager``).

Datatype groups are declared together (``mkDatatypeSorts``, unresolved selectors for mutual
recursion), recursive definitions go through ``defineFunsRec``, non-recursive ones through
``defineFun``.  Function sorts ``(=> a b)`` are cvc5 function sorts; theories or queries that
use them run under logic ``HO_ALL`` (``LAMBDA``, ``APPLY_UF`` of a function-valued term),
everything else under ``ALL``.

Configurations (``CONFIGS``): ``cvc5`` plain; ``cvc5-ind`` adds structural induction and
conjecture generation.  The time limit is the per-check option ``tlimit-per`` (``tlimit`` is
ignored from the API); the pool's hard kill still backs it up.
"""

from __future__ import annotations

import cvc5
from cvc5 import Kind

from ida_ns.errors import SpecError, UnsupportedFeature
from ida_ns.logic.ast import Sort, Theory, Var
from ida_ns.logic.bignum import int_to_decimal
from ida_ns.logic.symbols import CTOR, DECLARED, DEFINED, SELECTOR, TESTER
from ida_ns.verdict import Unknown, Verdict

from .base import run_query
from .query import Query
from .translate import Lowering, solver_name, term_is_ho, theory_is_ho

# Options common to every configuration.
BASE_OPTIONS = {"produce-models": "true", "incremental": "true"}

# Induction for cvc5 1.4.2 (all four exist; the first three are "expert" options):
#   dt-stc-ind           strengthening of datatype conjectures by structural induction
#   quant-ind            induction on inductive quantifiers (skolemization with IH)
#   conjecture-gen       subgoal (lemma) generation
#   full-saturate-quant  instantiate exhaustively when everything else is stuck
INDUCTION_OPTIONS = {"dt-stc-ind": "true", "quant-ind": "true", "conjecture-gen": "true",
                     "full-saturate-quant": "true"}

CONFIGS: dict[str, dict[str, str]] = {
    "cvc5": {},
    "cvc5-ind": INDUCTION_OPTIONS,
}

_BINARY = {
    "=": Kind.EQUAL, "<": Kind.LT, "<=": Kind.LEQ, ">": Kind.GT, ">=": Kind.GEQ,
    "=>": Kind.IMPLIES, "xor": Kind.XOR, "+": Kind.ADD, "-": Kind.SUB, "*": Kind.MULT,
    "div": Kind.INTS_DIVISION, "mod": Kind.INTS_MODULUS,
}
_NARY = {"and": Kind.AND, "or": Kind.OR, "distinct": Kind.DISTINCT, "not": Kind.NOT,
         "abs": Kind.ABS, "-": Kind.NEG}


class Cvc5Theory(Lowering):
    """One theory translated into its own cvc5 term manager and solver."""

    def __init__(self, theory: Theory, options: dict[str, str], higher_order: bool):
        super().__init__(theory)
        self.tm = cvc5.TermManager()
        self.solver = cvc5.Solver(self.tm)
        self.solver.setLogic("HO_ALL" if higher_order else "ALL")
        # cvc5 inducts on the quantified conjecture; a skolemised goal gives it nothing.
        self.quantified_goal = any(options.get(k) == "true" for k in ("quant-ind", "dt-stc-ind"))
        for k, v in {**BASE_OPTIONS, **options}.items():
            self.solver.setOption(k, v)
        self.sorts: dict[str, cvc5.Sort] = {}
        self.ctor_term: dict[str, cvc5.Term] = {}
        self.tester_term: dict[str, cvc5.Term] = {}
        self.sel_terms: dict[str, list[cvc5.Term]] = {}
        self.funs: dict[str, cvc5.Term] = {}
        for name in theory.sorts:
            self.sorts[name] = self.tm.mkUninterpretedSort(solver_name(name))
        for group in theory.datatypes:
            self._datatypes(group)
        for f in theory.funs:
            self.funs[f.name] = self.tm.mkConst(self._fun_sort(f.params, f.ret),
                                            solver_name(f.name))
        for group in theory.defs:
            self._definitions(group)
        for ax in theory.axioms:
            self.solver.assertFormula(self.term(ax, {}))

    # ---- declarations ----------------------------------------------------------------------
    def sort(self, s: Sort) -> cvc5.Sort:
        if s.name == "Bool" and not s.args:
            return self.tm.getBooleanSort()
        if s.name == "Int" and not s.args:
            return self.tm.getIntegerSort()
        if s.is_function:
            return self.tm.mkFunctionSort([self.sort(a) for a in s.domain],
                                          self.sort(s.codomain))
        if s.args or s.name not in self.sorts:
            raise SpecError(f"unknown sort {s}", token=str(s))
        return self.sorts[s.name]

    def _fun_sort(self, params, ret: Sort) -> cvc5.Sort:
        if not params:
            return self.sort(ret)
        return self.tm.mkFunctionSort([self.sort(p) for p in params], self.sort(ret))

    def _datatypes(self, group) -> None:
        names = {dt.name for dt in group}
        decls = []
        for dt in group:
            decl = self.tm.mkDatatypeDecl(solver_name(dt.name))
            for c in dt.ctors:
                cd = self.tm.mkDatatypeConstructorDecl(solver_name(c.name))
                for sel, s in c.fields:
                    if s.name in names and not s.args:
                        cd.addSelectorUnresolved(solver_name(sel), solver_name(s.name))
                    elif any(a.name in names for a in s.args):
                        raise UnsupportedFeature(
                            f"field {sel} of {c.name} has sort {s}, which nests the datatype "
                            f"being declared", token=sel)
                    else:
                        cd.addSelector(solver_name(sel), self.sort(s))
                decl.addConstructor(cd)
            decls.append(decl)
        for dt, cs in zip(group, self.tm.mkDatatypeSorts(decls)):
            self.sorts[dt.name] = cs
            cdt = cs.getDatatype()
            for i, c in enumerate(dt.ctors):
                cc = cdt[i]
                self.ctor_term[c.name] = cc.getTerm()
                self.tester_term[c.name] = cc.getTesterTerm()
                self.sel_terms[c.name] = [cc[j].getTerm() for j in range(len(c.fields))]

    def _definitions(self, group) -> None:
        if not any(d.recursive for d in group):
            for d in group:
                params = [self.bound_var(v) for v in d.params]
                body = self.term(d.body, dict(zip(d.params, params)))
                self.funs[d.name] = self.solver.defineFun(
                    solver_name(d.name), params, self.sort(d.ret), body)
            return
        for d in group:
            self.funs[d.name] = self.tm.mkConst(
                self._fun_sort([v.sort for v in d.params], d.ret), solver_name(d.name))
        funs, params, bodies = [], [], []
        for d in group:
            ps = [self.bound_var(v) for v in d.params]
            funs.append(self.funs[d.name])
            params.append(ps)
            bodies.append(self.term(d.body, dict(zip(d.params, ps))))
        self.solver.defineFunsRec(funs, params, bodies)

    # ---- Lowering primitives ---------------------------------------------------------------
    def int_lit(self, value: int):
        return self.tm.mkInteger(int_to_decimal(value))  # str(int) has a digit limit

    def bool_lit(self, value: bool):
        return self.tm.mkBoolean(value)

    def binary(self, op: str, a, b):
        return self.tm.mkTerm(_BINARY[op], a, b)

    def nary(self, op: str, args: list):
        try:
            return self.tm.mkTerm(_NARY[op], *args)
        except KeyError:
            raise UnsupportedFeature(f"builtin {op!r}", token=op) from None

    def ite(self, c, a, b):
        return self.tm.mkTerm(Kind.ITE, c, a, b)

    def apply(self, name: str, args: list, sort: Sort, env):
        kind = self.symbols.kind(name)
        if kind == CTOR:
            return self.tm.mkTerm(Kind.APPLY_CONSTRUCTOR, self.ctor_term[name], *args)
        if kind == SELECTOR:
            info = self.symbols.info(name)
            index = [s for s, _ in self.symbols.ctors[info.ctor].fields].index(name)
            return self.selector(info.ctor, index, args[0])
        if kind == TESTER:
            return self.tester(self.symbols.info(name).ctor, args[0])
        if kind in (DECLARED, DEFINED):
            f = self.funs[name]
            return self.tm.mkTerm(Kind.APPLY_UF, f, *args) if args else f
        raise SpecError(f"unknown function symbol {name}", token=name)

    def tester(self, ctor: str, x):
        return self.tm.mkTerm(Kind.APPLY_TESTER, self.tester_term[ctor], x)

    def selector(self, ctor: str, index: int, x):
        return self.tm.mkTerm(Kind.APPLY_SELECTOR, self.sel_terms[ctor][index], x)

    def bound_var(self, v: Var):
        return self.tm.mkVar(self.sort(v.sort), solver_name(v.name))  # distinct object

    def quant(self, kind: str, bvars: list, body):
        k = Kind.FORALL if kind == "forall" else Kind.EXISTS
        return self.tm.mkTerm(k, self.tm.mkTerm(Kind.VARIABLE_LIST, *bvars), body)

    def lam(self, bvars: list, body):
        return self.tm.mkTerm(Kind.LAMBDA, self.tm.mkTerm(Kind.VARIABLE_LIST, *bvars), body)

    def ho_apply(self, fn, args: list):
        return self.tm.mkTerm(Kind.APPLY_UF, fn, *args)

    # ---- TheoryContext ---------------------------------------------------------------------
    def push(self) -> None:
        self.solver.push()

    def pop(self) -> None:
        self.solver.pop()

    def add(self, formula) -> None:
        self.solver.assertFormula(formula)

    def check(self, timeout_s: float) -> tuple[str, str]:
        self.solver.setOption("tlimit-per", str(max(1, int(timeout_s * 1000))))
        r = self.solver.checkSat()
        if r.isSat():
            return "sat", ""
        if r.isUnsat():
            return "unsat", ""
        why = r.getUnknownExplanation()
        if why == cvc5.UnknownExplanation.TIMEOUT:
            return "unknown", f"timeout after {timeout_s:g} s"
        return "unknown", str(why).rsplit(".", 1)[-1].lower()

    def skolem(self, name: str, var: Var):
        return self.tm.mkConst(self.sort(var.sort), solver_name(name))  # distinct object

    def model_value(self, const):
        return self.solver.getValue(const)

    def abstract_elements(self, values: list) -> tuple[list, list]:
        elems: dict[int, cvc5.Term] = {}
        stack = list(values)
        while stack:
            t = stack.pop()
            if t.getKind() == Kind.UNINTERPRETED_SORT_VALUE:
                elems.setdefault(t.getId(), t)
            else:
                stack.extend(t[i] for i in range(t.getNumChildren()))
        if not elems:
            return list(values), []
        olds = list(elems.values())
        news = [self.tm.mkConst(e.getSort(), f"elem{i}") for i, e in enumerate(olds)]
        out = [v.substitute(olds, news) for v in values]
        by_sort: dict[str, list] = {}
        for c in news:
            by_sort.setdefault(str(c.getSort()), []).append(c)
        side = [self.tm.mkTerm(Kind.DISTINCT, *cs) for cs in by_sort.values() if len(cs) > 1]
        return out, side

    def substitute(self, formula, pairs: list):
        if not pairs:
            return formula
        return formula.substitute([a for a, _ in pairs], [b for _, b in pairs])

    def show(self, value) -> str:
        return str(value)


class Cvc5Backend:
    """``prove(query, timeout_s)`` with cvc5 in configuration ``name`` (see ``CONFIGS``)."""

    def __init__(self, name: str = "cvc5", options: dict[str, str] | None = None,
                 cache_size: int = 32):
        if options is None:
            if name not in CONFIGS:
                raise ValueError(f"unknown cvc5 configuration {name!r}; "
                                 f"choose one of {sorted(CONFIGS)} or pass options=")
            options = CONFIGS[name]
        self.name = name
        self.options = dict(options)
        self.version = cvc5.__version__
        # ``cache_size`` is kept for callers; translations are not reused (see ``prove``).
        self.cache_size = cache_size

    def prove(self, query: Query, timeout_s: float) -> Verdict:
        ho = theory_is_ho(query.theory) or any(
            term_is_ho(t) for t in (query.goal, *query.hyps)) or any(
            v.sort.is_function for v in query.fixed)
        try:
            # A fresh term manager and solver per query.  A cvc5 solver that has already
            # answered a query keeps state across push/pop (quantifier instantiations,
            # conjecture-generation pools, learned lemmas, resource counters), and with the
            # induction options a second query about the same theory then answers worse
            # (TIP prod prop_24: proved in 1 s of CPU fresh; asked a second time, "unknown"
            # after 7 s of CPU — the search gives up, with a 40 s limit).
            # Translating a TIP theory costs about 2 ms, so every query starts clean: the
            # answer never depends on what the worker was asked before.
            ctx = Cvc5Theory(query.theory, self.options, ho)
            return run_query(ctx, query, timeout_s, self.name, self.version)
        except RuntimeError as e:  # what cvc5's API raises
            return Unknown(f"cvc5 error: {e}", self.name, self.version)
