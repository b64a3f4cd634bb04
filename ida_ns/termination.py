"""Termination analysis of recursive definitions.

A theory whose recursive definitions all terminate (on datatypes that are well founded) has a
model, so it cannot be contradictory; this is the cheap, sound half of the consistency gate
(:mod:`ida_ns.consistency`).  The analysis is deliberately simple and conservative:

* every recursive call is compared with the caller's parameters under a set of *measures*:
  structural size of a datatype parameter (an argument that is a pattern variable below the
  parameter is strictly smaller; the parameter itself, or the constructor term that rebuilds the
  matched pattern, is equal), and integer measures ``x``, ``-x`` and ``y - x`` over ``Int``
  parameters, checked with z3 under the call's path condition (``ite`` guards);
* a group terminates if one lexicographic combination (length <= 2) of measures, or a multiset
  of structural measures (for argument swaps such as ``interleave``), decreases on every call
  between members of the group, with the integer measures bounded below by 0.

Anything not understood counts as "no decrease", so the answer is either a proof of termination
(with the measure that worked) or an honest "not established".
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from .logic.ast import (
    INT, App, BoolLit, FunDef, HoApp, IntLit, Lambda, Let, Match, PatCon, Quant, Term,
    Theory, Var,
)
from .logic.symbols import SELECTOR, symbol_table

STRICT, EQUAL, NONE = 2, 1, 0


@dataclass(frozen=True)
class Call:
    caller: str
    callee: str
    args: tuple[Term, ...]
    path: tuple[Term, ...]  # Bool conditions that hold on the way to the call
    sub: tuple[tuple[Var, tuple[int, int]], ...]  # var -> (param index, STRICT|EQUAL)
    rebuilt: tuple[tuple[Term, tuple[int, int]], ...] = ()  # matched pattern -> same relation


@dataclass(frozen=True)
class TerminationResult:
    terminating: bool
    measure: str  # human-readable description, or the reason it failed
    function: str | None = None


def _calls(fd: FunDef, group: set[str], theory: Theory) -> list[Call]:
    """All calls from fd to members of its group, with path conditions and size facts."""
    table = symbol_table(theory)
    out: list[Call] = []
    params = {p: (i, EQUAL) for i, p in enumerate(fd.params)}

    def rel_of(t: Term, sub: dict[Var, tuple[int, int]]):
        return _size_rel(t, sub, {}, table)

    def walk(t: Term, path: tuple[Term, ...], sub: dict[Var, tuple[int, int]], rebuilt: dict):
        if isinstance(t, App):
            if t.fn in group:
                out.append(Call(fd.name, t.fn, t.args, path, tuple(sub.items()),
                                tuple(rebuilt.items())))
            if t.fn == "ite":
                c, a, b = t.args
                walk(c, path, sub, rebuilt)
                walk(a, path + (c,), sub, rebuilt)
                walk(b, path + (App("not", (c,), c.sort),), sub, rebuilt)
                return
            for a in t.args:
                walk(a, path, sub, rebuilt)
        elif isinstance(t, Match):
            walk(t.scrutinee, path, sub, rebuilt)
            r = rel_of(t.scrutinee, sub)
            for case in t.cases:
                inner = dict(sub)
                inner_rebuilt = dict(rebuilt)
                p = case.pattern
                if isinstance(p, PatCon):
                    for v in p.vars:
                        inner.pop(v, None)
                        if r is not None:
                            inner[v] = (r[0], STRICT)
                    if r is not None:
                        inner_rebuilt[App(p.ctor, tuple(p.vars), t.scrutinee.sort)] = r
                elif p.var is not None:
                    inner.pop(p.var, None)
                    if r is not None:
                        inner[p.var] = r
                walk(case.body, path, inner, inner_rebuilt)
        elif isinstance(t, Let):
            inner = dict(sub)
            for v, e in t.bindings:
                walk(e, path, sub, rebuilt)
                inner.pop(v, None)
                r = rel_of(e, sub)
                if r is not None:
                    inner[v] = r
            walk(t.body, path, inner, rebuilt)
        elif isinstance(t, (Quant, Lambda)):
            inner = {k: v for k, v in sub.items() if k not in t.vars}
            walk(t.body, path, inner, rebuilt)
        elif isinstance(t, HoApp):
            walk(t.fn, path, sub, rebuilt)
            for a in t.args:
                walk(a, path, sub, rebuilt)

    walk(fd.body, (), params, {})
    return out


def _size_rel(t: Term, sub: dict, rebuilt: dict, table) -> tuple[int, int] | None:
    """(parameter index, STRICT|EQUAL) when ``t`` is known to be a (strict) part of a
    parameter: a variable bound below it, a selector of such, or (via ``rebuilt``) a
    constructor term that rebuilds exactly the pattern a (sub)parameter was matched against."""
    if isinstance(t, Var):
        return sub.get(t)
    if isinstance(t, App) and table.kind(t.fn) == SELECTOR and len(t.args) == 1:
        r = _size_rel(t.args[0], sub, rebuilt, table)
        return (r[0], STRICT) if r is not None else None
    return rebuilt.get(t)


def _struct_rel(arg: Term, i: int, call: Call, theory: Theory) -> int:
    r = _size_rel(arg, dict(call.sub), dict(call.rebuilt), symbol_table(theory))
    if r is None or r[0] != i:
        return NONE
    return r[1]


def _z3_int_rel(call: Call, fd_params: tuple[Var, ...], measure) -> int:
    """Relation of an Int measure between the call's arguments and the caller's parameters."""
    import z3

    env: dict[str, z3.ExprRef] = {}

    def tr(t: Term):
        if isinstance(t, IntLit):
            return z3.IntVal(t.value)
        if isinstance(t, BoolLit):
            return z3.BoolVal(t.value)
        if isinstance(t, Var) and t.sort == INT:
            return env.setdefault(t.name, z3.Int("v_" + t.name))
        if isinstance(t, App):
            ops = {"+": lambda *a: z3.Sum(*a), "*": lambda a, b: a * b,
                   "<": lambda a, b: a < b, "<=": lambda a, b: a <= b,
                   ">": lambda a, b: a > b, ">=": lambda a, b: a >= b,
                   "not": z3.Not, "and": lambda *a: z3.And(*a), "or": lambda *a: z3.Or(*a),
                   "=>": z3.Implies}
            args = [tr(a) for a in t.args]
            if any(a is None for a in args):
                return None
            if t.fn == "-":
                return -args[0] if len(args) == 1 else args[0] - z3.Sum(*args[1:])
            if t.fn == "=" and len(args) == 2 and args[0].sort() == args[1].sort():
                return args[0] == args[1]
            if t.fn in ops:
                try:
                    return ops[t.fn](*args)
                except z3.Z3Exception:
                    return None
        return None

    params = [tr(p) if p.sort == INT else None for p in fd_params]
    args = [tr(a) if a.sort == INT else None for a in call.args]
    before = measure(params)
    after = measure(args)
    if before is None or after is None:
        return NONE
    s = z3.Solver()
    s.set("timeout", 2000)
    for c in call.path:
        tc = tr(c)
        if tc is not None:
            s.add(tc)
    s.add(z3.Not(z3.And(before >= 0, after < before)))
    return STRICT if s.check() == z3.unsat else NONE


def _int_measures(n: int):
    """Candidate integer measures over parameter positions (as functions of a z3 term list)."""
    for i in range(n):
        yield f"p{i}", (lambda xs, i=i: xs[i])
        yield f"-p{i}", (lambda xs, i=i: -xs[i] if xs[i] is not None else None)
        for j in range(n):
            if i != j:
                yield f"p{j}-p{i}", (
                    lambda xs, i=i, j=j: xs[j] - xs[i]
                    if xs[i] is not None and xs[j] is not None else None)


def check_group(group: tuple[FunDef, ...], theory: Theory) -> TerminationResult:
    names = {f.name for f in group}
    calls = [c for f in group for c in _calls(f, names, theory)]
    if not calls:
        return TerminationResult(True, "non-recursive")
    defs = {f.name: f for f in group}
    arities = {len(f.params) for f in group}
    # Measures are indexed by parameter position; for mutual groups positions must line up
    # in sort (a shared measure over callers and callees).
    n = min(arities)
    measures: list[tuple[str, object]] = []
    for i in range(n):
        sorts = {f.params[i].sort for f in group}
        if len(sorts) == 1 and symbol_table(theory).datatype_of(next(iter(sorts))) is not None:
            measures.append((f"size(arg{i})", ("struct", i)))
    if any(f.params[i].sort == INT for f in group for i in range(n)):
        for name, fn in _int_measures(n):
            measures.append((name, ("int", fn)))

    cache: dict[tuple[int, int], int] = {}

    def rel(ci: int, mi: int) -> int:
        key = (ci, mi)
        if key not in cache:
            call = calls[ci]
            kind, spec = measures[mi][1]
            if kind == "struct":
                if len(call.args) <= spec:
                    cache[key] = NONE
                else:
                    cache[key] = _struct_rel(call.args[spec], spec, call, theory)
            else:
                cache[key] = _z3_int_rel(call, defs[call.caller].params, spec)
        return cache[key]

    # Lexicographic combinations of length 1 and 2.
    for k in (1, 2):
        for combo in itertools.permutations(range(len(measures)), k):
            ok = True
            for ci in range(len(calls)):
                decided = False
                for mi in combo:
                    r = rel(ci, mi)
                    if r == STRICT:
                        decided = True
                        break
                    if r != EQUAL:
                        break
                if not decided:
                    ok = False
                    break
            if ok:
                return TerminationResult(True, "lex(" + ", ".join(measures[m][0] for m in combo) + ")")
    # Multiset of structural positions: each call's arguments map injectively onto parameters
    # with at least one strict decrease (covers argument swaps).
    struct_pos = [i for i in range(n) if any(m[1] == ("struct", i) for m in measures)]
    for r in range(2, min(3, len(struct_pos)) + 1):
        for subset in itertools.combinations(struct_pos, r):
            if all(_multiset_decreases(calls[ci], subset, theory) for ci in range(len(calls))):
                return TerminationResult(True, f"multiset(size of args {list(subset)})")
    first = calls[0]
    return TerminationResult(False, f"no decreasing measure found for the recursive call to "
                             f"{first.callee} in {first.caller}", first.caller)


def _multiset_decreases(call: Call, subset: tuple[int, ...], theory: Theory) -> bool:
    for perm in itertools.permutations(subset):
        rels = []
        for target, src in zip(subset, perm):
            if len(call.args) <= src:
                return False
            rels.append(_struct_rel(call.args[src], target, call, theory))
        if all(r != NONE for r in rels) and any(r == STRICT for r in rels):
            return True
    return False


def check_theory(theory: Theory) -> list[TerminationResult]:
    """One result per recursive definition group (in declaration order)."""
    out = []
    for group in theory.defs:
        if not any(f.recursive for f in group):
            continue
        r = check_group(group, theory)
        out.append(TerminationResult(r.terminating, r.measure, r.function or group[0].name))
    return out
