"""Monomorphisation: polymorphic declarations (TIP ``par``) -> a monomorphic Theory.

A worklist instantiates each polymorphic datatype and function at every ground sort tuple
actually used, starting from the monomorphic declarations, the axioms and the goal, and
following definitions transitively.  Type variables of a goal or an axiom become fresh
uninterpreted sorts named after the variable (``a``).  A declaration with exactly one instance
keeps its names; otherwise instances get deterministic mangled names (``list_Nat``,
``cons_Nat``, ``map_Nat_Bool``) that avoid every name spelled in the file.

Declarations come out in dependency order, grouped by strongly connected components of their
use graph (members of one source group at the same sort arguments stay together, so
monomorphic input keeps its grouping).
"""

from __future__ import annotations

import heapq
from collections import deque
from typing import TYPE_CHECKING

from ..errors import UnsupportedFeature
from .ast import (
    BUILTINS, App, Constructor, Datatype, FunDecl, FunDef, HoApp, Lambda, Let, Match, MatchCase,
    PatCon, PatVar, Problem, Quant, Sort, Term, Theory, Var, and_, not_, subterms, tester_name,
)
from .parser import (
    BUILTIN_SORTS, CTOR, FUN_SORT_NAMES, RESERVED, SELECTOR, TESTER,
    Elaborator, Skolem, SymSig, sort_match, sort_subst,
)

if TYPE_CHECKING:
    from .commands import CommandReader

MAX_INSTANCES = 5000  # guards against polymorphic recursion (which has no finite instance set)
MAX_SORT_DEPTH = 16


class _Inst:
    __slots__ = ("kind", "name", "targs", "decl", "order")

    def __init__(self, kind, name, targs, decl, order):
        self.kind, self.name, self.targs, self.decl, self.order = kind, name, targs, decl, order


def monomorphise(r: "CommandReader") -> Problem:
    return _Mono(r).run()


def _sort_depth(s: Sort) -> int:
    return 1 + max((_sort_depth(a) for a in s.args), default=0)


class _Mono:
    def __init__(self, r: "CommandReader"):
        self.r = r
        self.env = r.env
        self.insts: dict[tuple, _Inst] = {}  # ("dt"|"fn", name, targs) -> instance
        self.work: deque[_Inst] = deque()
        self.skolems: dict[str, str] = {}  # type variable -> final sort name
        self.final = False
        self.counter = 0
        self.names: dict[tuple, str] = {}  # instance key (+ ctor/selector) -> final name
        self.lazy: dict[tuple, Term] = {}  # per-instance bodies of lazy definitions

    # instances ------------------------------------------------------------------------------
    def need(self, kind: str, name: str, targs: tuple[Sort, ...]) -> tuple:
        key = (kind, name, targs)
        if key not in self.insts:
            assert not self.final, key
            decl = self.env.datatypes[name] if kind == "dt" else self.env.functions[name]
            if len(self.insts) >= MAX_INSTANCES or any(
                    _sort_depth(s) > MAX_SORT_DEPTH for s in targs):
                cur = getattr(self, "current", None)
                if cur is not None and cur.kind == "fn":
                    # name the function whose instances keep growing (polymorphic recursion)
                    raise UnsupportedFeature(
                        f"polymorphic recursion in function {cur.name}: its instances need "
                        f"{name} at ever larger sorts, so it cannot be monomorphised",
                        self.r.file, cur.decl.loc.line, cur.decl.loc.col, cur.name)
                raise UnsupportedFeature(
                    f"instantiating {name} does not terminate (polymorphic recursion or a "
                    f"nested datatype that grows without bound)", self.r.file,
                    decl.loc.line, decl.loc.col, name)
            self.counter += 1
            inst = _Inst(kind, name, targs, decl, (decl.index, self.counter))
            self.insts[key] = inst
            self.work.append(inst)
        return key

    def name_of(self, key: tuple, member: str | None = None) -> str:
        if not self.final:
            return member or key[1]
        return self.names[(key, member)]

    # sorts and terms ------------------------------------------------------------------------
    def msort(self, s: Sort) -> Sort:
        """A ground sort (possibly with Skolems and datatype arguments) -> monomorphic sort."""
        if isinstance(s, Skolem):
            self.skolems.setdefault(s.name, s.name)
            return Sort(self.skolems[s.name])
        if s.name == "=>":
            return Sort("=>", tuple(self.msort(a) for a in s.args))
        if s.name in self.env.datatypes:
            for a in s.args:
                self.msort(a)
            return Sort(self.name_of(self.need("dt", s.name, s.args)))
        return s

    def sym_name(self, sym: SymSig, targs: tuple[Sort, ...]) -> str:
        if sym.kind in (CTOR, SELECTOR, TESTER):
            key = self.need("dt", sym.owner, targs)
            if sym.kind == TESTER:
                return tester_name(self.name_of(key, sym.ctor))
            return self.name_of(key, sym.name)
        return self.name_of(self.need("fn", sym.name, targs))

    def term(self, t: Term, sub: dict[str, Sort]) -> Term:
        def S(s: Sort) -> Sort:
            return self.msort(sort_subst(s, sub))

        def var(v: Var) -> Var:
            return Var(v.name, S(v.sort))

        go = self.term
        if isinstance(t, Var):
            return var(t)
        if isinstance(t, App):
            args = tuple(go(a, sub) for a in t.args)
            sym = self.env.syms.get(t.fn) if t.fn not in BUILTINS else None
            if sym is None:
                return App(t.fn, args, S(t.sort))
            targs: tuple[Sort, ...] = ()
            if sym.tvars:
                m: dict[str, Sort] = {}
                for p, a in zip(sym.params, t.args):
                    sort_match(p, a.sort, m)
                sort_match(sym.ret, t.sort, m)
                targs = tuple(sort_subst(m[v], sub) for v in sym.tvars)
            return App(self.sym_name(sym, targs), args, S(t.sort))
        if isinstance(t, Match):
            scrut = go(t.scrutinee, sub)
            ssort = sort_subst(t.scrutinee.sort, sub)
            cases = []
            for c in t.cases:
                p = c.pattern
                if isinstance(p, PatCon):
                    key = self.need("dt", ssort.name, ssort.args)
                    p = PatCon(self.name_of(key, p.ctor), tuple(var(v) for v in p.vars))
                elif p.var is not None:
                    p = PatVar(var(p.var))
                cases.append(MatchCase(p, go(c.body, sub)))
            return Match(scrut, tuple(cases), S(t.sort))
        if isinstance(t, Let):
            return Let(tuple((var(v), go(e, sub)) for v, e in t.bindings), go(t.body, sub))
        if isinstance(t, Quant):
            return Quant(t.kind, tuple(var(v) for v in t.vars), go(t.body, sub))
        if isinstance(t, Lambda):
            return Lambda(tuple(var(v) for v in t.vars), go(t.body, sub))
        if isinstance(t, HoApp):
            return HoApp(go(t.fn, sub), tuple(go(a, sub) for a in t.args))
        return t  # literals

    def build(self, inst: _Inst):
        d = inst.decl
        sub = dict(zip(d.tvars, inst.targs))
        key = (inst.kind, inst.name, inst.targs)
        if inst.kind == "dt":
            ctors = []
            for cname, fields in d.ctors:
                ctors.append(Constructor(
                    self.name_of(key, cname),
                    tuple((self.name_of(key, sel), self.msort(sort_subst(s, sub)))
                          for sel, s in fields)))
            return Datatype(self.name_of(key), tuple(ctors))
        if not d.defined:
            return FunDecl(self.name_of(key), tuple(self.msort(sort_subst(s, sub))
                                                    for s in d.params),
                           self.msort(sort_subst(d.ret, sub)))
        params = tuple(Var(v.name, self.msort(sort_subst(v.sort, sub))) for v in d.params)
        body, bsub = d.body, sub
        if body is None:  # lazy: elaborate the body at this instance
            body, bsub = self.lazy_body(inst), {}
        return FunDef(self.name_of(key), params, self.msort(sort_subst(d.ret, sub)),
                      self.term(body, bsub), d.recursive)

    def lazy_body(self, inst: _Inst) -> Term:
        key = ("lazy", inst.name, inst.targs)
        if key not in self.lazy:
            d = inst.decl
            sub = dict(zip(d.tvars, inst.targs))
            el = Elaborator(self.env, self.r.file, aliases=sub, avoid=self.r.symbol_names)
            scope = d.param_scope(tuple(Var(v.name, sort_subst(v.sort, sub))
                                        for v in d.params))
            ret = sort_subst(d.ret, sub)
            self.lazy[key] = el.expect(el.term(d.body_sx, scope, frozenset(), ret), ret,
                                       d.body_sx)
        return self.lazy[key]

    # naming ---------------------------------------------------------------------------------
    def assign_names(self) -> None:
        env = self.env
        sort_taken = set(BUILTIN_SORTS) | set(FUN_SORT_NAMES) | set(env.sorts) | set(
            env.datatypes)
        for a in self.skolems:
            self.skolems[a] = _fresh(a, sort_taken)

        def mangle_sort(s: Sort) -> str:
            if isinstance(s, Skolem):
                return self.skolems[s.name]
            if not s.args:
                return s.name
            head = "fun" if s.name == "=>" else s.name
            return head + "_" + "_".join(mangle_sort(a) for a in s.args)

        def mangle(base: str, targs) -> str:
            return base + "_" + "_".join(mangle_sort(s) for s in targs)

        sym_taken = set(BUILTINS) | set(RESERVED) | set(env.syms) | self.r.symbol_names
        count: dict[tuple, int] = {}
        for kind, name, _ in self.insts:
            count[(kind, name)] = count.get((kind, name), 0) + 1
        for key, inst in sorted(self.insts.items(), key=lambda kv: kv[1].order):
            single = count[(inst.kind, inst.name)] == 1
            if inst.kind == "dt":
                self.names[(key, None)] = inst.name if single else _fresh(
                    mangle(inst.name, inst.targs), sort_taken)
                for cname, fields in inst.decl.ctors:
                    names = [cname] + [sel for sel, _ in fields]
                    for i, n in enumerate(names):
                        if single:
                            self.names[(key, n)] = n
                        else:
                            self.names[(key, n)] = _fresh(mangle(n, inst.targs), sym_taken,
                                                          tester=(i == 0))
            else:
                self.names[(key, None)] = inst.name if single else _fresh(
                    mangle(inst.name, inst.targs), sym_taken)

    # ----------------------------------------------------------------------------------------
    def run(self) -> Problem:
        r = self.r
        for d in r.datatypes:
            if not d.tvars:
                self.need("dt", d.name, ())
        for f in r.functions:
            if not f.tvars:
                self.need("fn", f.name, ())

        def formulas():
            out = []
            for t, tvs, _ in r.asserts + r.goals:
                out.append(self.term(t, {a: Skolem(a) for a in tvs}))
            return out

        formulas()
        while self.work:
            self.current = self.work.popleft()
            self.build(self.current)
        self.current = None
        self.assign_names()
        self.final = True

        by_order = sorted(self.insts.values(), key=lambda i: i.order)
        built = {id(i): self.build(i) for i in by_order}
        dts = [i for i in by_order if i.kind == "dt"]
        decls = [i for i in by_order if i.kind == "fn" and not i.decl.defined]
        defs = [i for i in by_order if i.kind == "fn" and i.decl.defined]

        dt_by_name = {built[id(i)].name: i for i in dts}

        def dt_deps(i: _Inst) -> set[str]:
            out: set[str] = set()
            stack = [s for c in built[id(i)].ctors for _, s in c.fields]
            while stack:
                s = stack.pop()
                if s.name in dt_by_name:
                    out.add(s.name)
                stack.extend(s.args)
            return out

        def_by_name = {built[id(i)].name: i for i in defs}

        def def_deps(i: _Inst) -> set[str]:
            return {s.fn for s in subterms(built[id(i)].body)
                    if isinstance(s, App) and s.fn in def_by_name}

        dt_groups = _ordered_groups(dts, lambda i: [dt_by_name[n] for n in dt_deps(i)])
        def_groups = _ordered_groups(defs, lambda i: [def_by_name[n] for n in def_deps(i)])

        forms = formulas()
        axioms = forms[:len(r.asserts)]
        goals = forms[len(r.asserts):]
        if goals:
            goal = and_(*goals)
        else:
            for k in range(len(axioms) - 1, -1, -1):
                a = axioms[k]
                if isinstance(a, App) and a.fn == "not" and len(a.args) == 1:
                    goal = a.args[0]
                    del axioms[k]
                    break
            else:
                goal = not_(and_(*axioms))
                axioms = []
        theory = Theory(
            sorts=tuple(r.sort_order) + tuple(self.skolems.values()),
            datatypes=tuple(tuple(built[id(i)] for i in g) for g in dt_groups),
            funs=tuple(built[id(i)] for i in decls),
            defs=tuple(tuple(built[id(i)] for i in g) for g in def_groups),
            axioms=tuple(axioms),
        )
        return Problem(theory, goal, r.file)


def _fresh(base: str, taken: set[str], tester: bool = False) -> str:
    cand, i = base, 1
    while cand in taken or (tester and tester_name(cand) in taken):
        i += 1
        cand = f"{base}_{i}"
    taken.add(cand)
    if tester:
        taken.add(tester_name(cand))
    return cand


def _ordered_groups(nodes: list[_Inst], deps) -> list[list[_Inst]]:
    """Strongly connected components in dependency order (earliest declaration first).

    Instances of one source group at the same sort arguments are kept in one component."""
    idx = {id(n): k for k, n in enumerate(nodes)}
    succ: list[set[int]] = [{idx[id(d)] for d in deps(n)} for n in nodes]
    link: dict[tuple, list[int]] = {}
    for k, n in enumerate(nodes):
        link.setdefault((n.decl.group, n.targs), []).append(k)
    for ks in link.values():
        for a in ks:
            succ[a].update(ks)
    comp = _sccs(len(nodes), succ)
    ncomp = max(comp, default=-1) + 1
    members: list[list[int]] = [[] for _ in range(ncomp)]
    for k, c in enumerate(comp):
        members[c].append(k)
    # dependency edges between components: c depends on d  =>  d before c
    indeg = [0] * ncomp
    users: list[set[int]] = [set() for _ in range(ncomp)]
    for k in range(len(nodes)):
        for j in succ[k]:
            if comp[j] != comp[k] and comp[k] not in users[comp[j]]:
                users[comp[j]].add(comp[k])
                indeg[comp[k]] += 1
    key = [min(nodes[k].order for k in ms) for ms in members]
    heap = [(key[c], c) for c in range(ncomp) if indeg[c] == 0]
    heapq.heapify(heap)
    out = []
    while heap:
        _, c = heapq.heappop(heap)
        out.append(sorted((nodes[k] for k in members[c]), key=lambda n: n.order))
        for u in users[c]:
            indeg[u] -= 1
            if indeg[u] == 0:
                heapq.heappush(heap, (key[u], u))
    return out


def _sccs(n: int, succ: list[set[int]]) -> list[int]:
    """Tarjan's algorithm, iterative; returns the component number of each node."""
    index = [-1] * n
    low = [0] * n
    on = [False] * n
    comp = [-1] * n
    stack: list[int] = []
    counter = ncomp = 0
    for root in range(n):
        if index[root] != -1:
            continue
        work = [(root, iter(sorted(succ[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on[root] = True
        while work:
            v, it = work[-1]
            advanced = False
            for w in it:
                if index[w] == -1:
                    index[w] = low[w] = counter
                    counter += 1
                    stack.append(w)
                    on[w] = True
                    work.append((w, iter(sorted(succ[w]))))
                    advanced = True
                    break
                if on[w]:
                    low[v] = min(low[v], index[w])
            if advanced:
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[v])
            if low[v] == index[v]:
                while True:
                    w = stack.pop()
                    on[w] = False
                    comp[w] = ncomp
                    if w == v:
                        break
                ncomp += 1
    return comp


