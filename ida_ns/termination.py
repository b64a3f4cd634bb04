"""Termination analysis of recursive definitions (size-change termination).

A theory whose recursive definitions all terminate (on well-founded datatypes) has a model, so it
cannot be contradictory: this is the cheap, sound half of the consistency gate
(:mod:`ida_ns.gate`).  The analysis is strict: anything it does not fully understand counts as
"no decrease", so the answer is either termination with evidence or "not established" naming the
call that failed; it never raises on any input.

1. Calls are collected with names resolved through scopes (:mod:`ida_ns.gate_calls`).
2. Each function gets *measure positions*: the structural size of each datatype parameter, and
   integer measures ``p``, ``-p`` and ``q - p`` over its ``Int`` parameters.
3. Each call gets a size-change graph: an edge ``m -> m'`` (strict ``<`` or weak ``<=``) when the
   callee's measure ``m'`` of the arguments is known to be below the caller's measure ``m`` of the
   parameters.  Structural edges come from patterns and constructor-checked selectors; integer
   edges are z3-checked under the call's path condition (each check with a small timeout; a strict
   integer edge also needs ``m >= 0``).
4. Size-change termination (Lee, Jones, Ben-Amram 2001): close the graphs under composition
   along the call graph; the group terminates iff every idempotent self-graph ``G`` (``G;G = G``)
   has a strict edge ``m -> m``.  This covers lexicographic orders, argument permutations
   (multisets) and mutual recursion.
5. When that fails, semantic measures (:mod:`ida_ns.gate_measures`): the length of a datatype
   argument, or the sum of those lengths, whose decrease is an obligation proved by ida-ns's own
   prover over functions already shown terminating; then size-change termination over several
   semantic measures at once (lengths and spines, strict and weak edges each proved).

A call whose integer checks are dropped after z3 timeouts is reported as a timeout (the reason
names the claim that timed out), not as "no decreasing measure".

The whole analysis runs under the caller's deadline and stops there with "unknown: budget".
The symbol table is built once per theory; the work is linear in the number of definitions times
the (bounded) work per group.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from .gate_calls import EQUAL, NONE, STRICT, CallSite, CallsError, group_calls, size_rel
from .logic.ast import INT, FunDef, Theory
from .logic.symbols import SymbolTable

MAX_INT_PARAMS = 3  # integer parameters that take part in difference measures
MAX_CLOSURE = 4000  # size-change graphs in a closure before giving up
MAX_TIMEOUTS_PER_CALL = 3  # z3 checks that time out before a call's integer edges are dropped
DEFAULT_GATE_S = 10.0


@dataclass(frozen=True)
class TerminationResult:
    terminating: bool
    measure: str  # human-readable: the measure that worked, or why it failed
    function: str | None = None
    evidence: dict | None = field(default=None, compare=False)
    budget: bool = False  # stopped by the deadline


# --------------------------------------------------------------------------------------------
# Measures


@dataclass(frozen=True)
class Measure:
    kind: str  # "size" | "int"
    spec: tuple  # size: (i,); int: ("p", i) | ("neg", i) | ("diff", j, i)

    def describe(self, fd: FunDef) -> str:
        names = [p.name for p in fd.params]
        if self.kind == "size":
            return f"size({names[self.spec[0]]})"
        tag = self.spec[0]
        if tag == "p":
            return names[self.spec[1]]
        if tag == "neg":
            return f"-{names[self.spec[1]]}"
        return f"{names[self.spec[1]]} - {names[self.spec[2]]}"

    def to_json(self) -> list:
        return [self.kind, *self.spec]

    @staticmethod
    def from_json(x) -> "Measure":
        if not isinstance(x, list) or not x or x[0] not in ("size", "int"):
            raise ValueError(f"bad measure {x!r}")
        if x[0] == "size":
            if len(x) != 2 or not isinstance(x[1], int):
                raise ValueError(f"bad measure {x!r}")
            return Measure("size", (x[1],))
        spec = tuple(x[1:])
        ok = (len(spec) == 2 and spec[0] in ("p", "neg") and isinstance(spec[1], int)) or (
            len(spec) == 3 and spec[0] == "diff" and all(isinstance(i, int) for i in spec[1:]))
        if not ok:
            raise ValueError(f"bad measure {x!r}")
        return Measure("int", spec)

    def z3(self, xs):
        tag = self.spec[0]
        if tag == "p":
            return xs[self.spec[1]]
        if tag == "neg":
            return -xs[self.spec[1]]
        return xs[self.spec[1]] - xs[self.spec[2]]


def measures_of(fd: FunDef, table: SymbolTable) -> list[Measure]:
    out = [Measure("size", (i,)) for i, p in enumerate(fd.params)
           if table.datatype_of(p.sort) is not None]
    ints = [i for i, p in enumerate(fd.params) if p.sort == INT]
    for i in ints:
        out.append(Measure("int", ("p", i)))
        out.append(Measure("int", ("neg", i)))
    small = ints[:MAX_INT_PARAMS]
    for j in small:
        for i in small:
            if i != j:
                out.append(Measure("int", ("diff", j, i)))
    return out


# --------------------------------------------------------------------------------------------
# Size-change graphs

Edge = tuple[int, int, int]  # (caller measure index, callee measure index, STRICT|EQUAL)


def _norm(edges) -> frozenset[Edge]:
    best: dict[tuple[int, int], int] = {}
    for a, b, r in edges:
        if r > best.get((a, b), NONE):
            best[(a, b)] = r
    return frozenset((a, b, r) for (a, b), r in best.items())


def compose(g: frozenset[Edge], h: frozenset[Edge]) -> frozenset[Edge]:
    by_src: dict[int, list[tuple[int, int]]] = {}
    for b, c, r in h:
        by_src.setdefault(b, []).append((c, r))
    out = []
    for a, b, r1 in g:
        for c, r2 in by_src.get(b, ()):
            out.append((a, c, max(r1, r2)))
    return _norm(out)


def sct_check(graphs: list[tuple[str, str, frozenset[Edge]]], deadline: float
              ) -> tuple[bool, str | None, str]:
    """Size-change termination of the given call graphs.  Returns (ok, bad function, why)."""
    closure: set[tuple[str, str, frozenset[Edge]]] = set()
    by_src: dict[str, list] = {}
    by_dst: dict[str, list] = {}
    work = []

    def add(item):
        if item in closure:
            return
        closure.add(item)
        by_src.setdefault(item[0], []).append(item)
        by_dst.setdefault(item[1], []).append(item)
        work.append(item)

    for g in graphs:
        add(g)
    steps = 0
    while work:
        steps += 1
        if steps % 64 == 0 and time.perf_counter() > deadline:
            return False, None, "budget"
        if len(closure) > MAX_CLOSURE:
            return False, None, f"size-change closure exceeds {MAX_CLOSURE} graphs"
        f, g, G = work.pop()
        for (_, h, H) in list(by_src.get(g, ())):
            add((f, h, compose(G, H)))
        for (e, _, K) in list(by_dst.get(f, ())):
            add((e, g, compose(K, G)))
    for f, g, G in closure:
        if f == g and compose(G, G) == G and not any(a == b and r == STRICT for a, b, r in G):
            return False, f, "an idempotent size-change graph with no strict self-decrease"
    return True, None, ""


# --------------------------------------------------------------------------------------------
# Edges of one call


def call_edges(call: CallSite, mf: list[Measure], mg: list[Measure], table: SymbolTable,
               deadline: float, query_s: float, timeouts: list | None = None
               ) -> tuple[frozenset[Edge], bool]:
    """The size-change graph of ``call``; the flag says a z3 check hit the deadline.  When
    the call's integer checks are dropped after :data:`MAX_TIMEOUTS_PER_CALL` z3 timeouts,
    the claim that timed out last is appended to ``timeouts`` (a list of strings)."""
    edges: list[Edge] = []
    size_ctx = call.context()
    for b, m2 in enumerate(mg):
        if m2.kind != "size":
            continue
        i2 = m2.spec[0]
        if i2 >= len(call.args):
            continue
        r = size_rel(call.args[i2], size_ctx, table)
        if r is None:
            continue
        for a, m1 in enumerate(mf):
            if m1.kind == "size" and m1.spec[0] == r[0]:
                edges.append((a, b, r[1]))
    int_pairs = [(a, b) for a, m1 in enumerate(mf) if m1.kind == "int"
                 for b, m2 in enumerate(mg) if m2.kind == "int"]
    hit_deadline = False
    if int_pairs:
        from .gate_z3 import DecreaseProver

        dp = DecreaseProver(call.path, deadline, query_s)
        ps = [dp.f.tr(p) if p.sort == INT else None for p in call.params]
        xs = [dp.f.tr(a) if a.sort == INT else None for a in call.args]
        # same-shaped measures first: they are the ones that usually work
        int_pairs.sort(key=lambda ab: mf[ab[0]] != mg[ab[1]])
        for a, b in int_pairs:
            try:
                before, after = mf[a].z3(ps), mg[b].z3(xs)
            except (TypeError, IndexError):
                continue
            if before is None or after is None:
                continue
            z3 = dp.f.z3
            if dp.timeouts >= MAX_TIMEOUTS_PER_CALL:
                # a hard path condition (e.g. a nonlinear equation): give up on it, and say so
                if timeouts is not None:
                    timeouts.append(f"{_int_claim(mf[a], mg[b], call, table)} "
                                    f"({dp.timeouts} z3 checks of {query_s:g} s timed out)")
                break
            v = dp.valid(z3.And(before >= 0, after < before))
            if v is None:
                hit_deadline = True
                break
            if v:
                edges.append((a, b, STRICT))
                continue
            v = dp.valid(after <= before)
            if v is None:
                hit_deadline = True
                break
            if v:
                edges.append((a, b, EQUAL))
    return _norm(edges), hit_deadline


def _int_claim(m1: Measure, m2: Measure, call: CallSite, table: SymbolTable) -> str:
    """``m2(args) < m1(params)``, printed, for a timeout reason."""
    from .logic.printer import print_term

    def show(m: Measure, terms) -> str:
        try:
            parts = [print_term(terms[i]) for i in m.spec[1:]]
        except (IndexError, Exception):
            return "?"
        if m.spec[0] == "p":
            return parts[0]
        if m.spec[0] == "neg":
            return f"(- {parts[0]})"
        return f"(- {parts[0]} {parts[1]})"

    return f"{show(m2, call.args)} < {show(m1, call.params)}"


# --------------------------------------------------------------------------------------------
# Groups and theories


def analyse_group(group: tuple[FunDef, ...], table: SymbolTable, deadline: float,
                  query_s: float = 0.1) -> TerminationResult:
    """Size-change termination of one definition group (no semantic measures)."""
    name = group[0].name
    try:
        calls = group_calls(group, table)
    except (CallsError, RecursionError) as e:
        return TerminationResult(False, f"not established: {e}", name)
    if not calls:
        return TerminationResult(True, "non-recursive", name, {"method": "non-recursive"})
    defs = {f.name: f for f in group}
    full = {f.name: measures_of(f, table) for f in group}
    structural = {f: [m for m in lst if m.kind == "size"] for f, lst in full.items()}
    # Structural measures alone first (no z3): most definitions need nothing else.
    r = None
    if any(structural.values()) and structural != full:
        r = _sct_with(group, calls, structural, defs, table, deadline, query_s)
        if r.terminating or r.budget:
            return r
    return _sct_with(group, calls, full, defs, table, deadline, query_s)


def _sct_with(group, calls, ms, defs, table, deadline, query_s) -> TerminationResult:
    name = group[0].name
    graphs = []
    ev_calls = []
    timed_out: dict[int, list[str]] = {}  # position in calls -> timed-out claims
    for k, c in enumerate(calls):
        if time.perf_counter() > deadline:
            return TerminationResult(False, "unknown: budget (termination analysis stopped at "
                                     "the deadline)", name, budget=True)
        try:
            touts: list[str] = []
            G, late = call_edges(c, ms[c.caller], ms[c.callee], table, deadline, query_s,
                                 touts)
            if touts:
                timed_out[k] = touts
        except RecursionError:
            return TerminationResult(False, "not established: term too deep", name)
        if late:
            return TerminationResult(False, "unknown: budget (termination analysis stopped at "
                                     "the deadline)", name, budget=True)
        graphs.append((c.caller, c.callee, G))
        ev_calls.append({"caller": c.caller, "callee": c.callee, "index": c.index,
                         "edges": sorted([a, b, r] for a, b, r in G)})
    ok, bad, why = sct_check(graphs, deadline)
    evidence = {"method": "size-change",
                "measures": {f: [m.to_json() for m in ms[f]] for f in ms},
                "calls": ev_calls}
    if ok:
        desc = _describe(graphs, ms, defs)
        return TerminationResult(True, desc, name, evidence)
    if why == "budget":
        return TerminationResult(False, "unknown: budget (termination analysis stopped at the "
                                 "deadline)", name, budget=True)
    culprit = _culprit(calls, graphs, bad)
    late = [(c, timed_out[k]) for k, c in enumerate(calls)
            if k in timed_out and (bad is None or c.caller == bad)]
    if late:
        # not "no measure": the checks that could have shown one ran out of time
        c, touts = late[0]
        return TerminationResult(False, f"unknown: timeout: integer measure checks dropped on "
                                 f"{c.describe()}: obligation {touts[0]}; then {culprit} "
                                 f"({why})", bad or name)
    return TerminationResult(False, f"no decreasing measure found: {culprit} ({why})",
                             bad or name)


def _describe(graphs, ms, defs) -> str:
    used = sorted({(f, a) for f, g, G in graphs for a, b, r in G if r == STRICT})
    parts = []
    for f, a in used:
        d = ms[f][a].describe(defs[f])
        parts.append(f"{d}" if len(defs) == 1 else f"{f}:{d}")
    return "size-change(" + ", ".join(dict.fromkeys(parts)) + ")"


def _culprit(calls: list[CallSite], graphs, bad: str | None) -> str:
    for c, (_, _, G) in zip(calls, graphs):
        if (bad is None or c.caller == bad) and not any(r == STRICT for _, _, r in G):
            return "no measure decreases on " + c.describe()
    for c in calls:
        if bad is None or c.caller == bad:
            return "no combination of measures decreases on the calls of " + c.caller + \
                f", e.g. {c.describe()}"
    return "no combination of measures decreases"


def check_theory(theory: Theory, deadline: float | None = None, discharge=None,
                 table: SymbolTable | None = None) -> list[TerminationResult]:
    """One result per recursive definition group (in declaration order).

    ``discharge`` (optional) is a :class:`ida_ns.gate_measures.Discharger` that proves
    semantic-measure obligations with ida-ns's prover; without it only size-change
    termination is tried."""
    if deadline is None:
        deadline = time.perf_counter() + DEFAULT_GATE_S
    if table is None:
        table = SymbolTable(theory)
    out: list[TerminationResult] = []
    terminating: list[tuple[FunDef, ...]] = []
    usable: set[str] = set()
    for group in theory.defs:
        if time.perf_counter() > deadline:
            out.append(TerminationResult(False, "unknown: budget (termination analysis stopped "
                                         "at the deadline)", group[0].name, budget=True))
            continue
        try:
            r = analyse_group(group, table, deadline)
        except RecursionError:
            r = TerminationResult(False, "not established: term too deep", group[0].name)
        if not r.terminating and not r.budget and discharge is not None:
            try:
                r2 = discharge.semantic(group, tuple(terminating), theory, table, deadline)
            except RecursionError:
                r2 = None
            if r2 is not None and (r2.terminating or r2.budget):
                r = r2
            elif r2 is not None:
                r = TerminationResult(False, r.measure + "; " + r2.measure, r.function)
        if r.terminating and _calls_only(group, usable, table):
            # usable in later obligations: terminating, and calling only usable functions
            terminating.append(group)
            usable.update(f.name for f in group)
        if r.measure == "non-recursive" and not any(f.recursive for f in group):
            continue
        out.append(r)
    return out


def _calls_only(group, usable: set[str], table: SymbolTable) -> bool:
    from .logic.ast import App, subterms
    from .logic.symbols import DEFINED

    own = {f.name for f in group}
    return all(not (isinstance(s, App) and table.kind(s.fn) == DEFINED and s.fn not in own
                    and s.fn not in usable)
               for f in group for s in subterms(f.body))


# --------------------------------------------------------------------------------------------
# Re-checking evidence (no state shared with the analysis above)


def recheck_group(group: tuple[FunDef, ...], table: SymbolTable, ev, query_s: float = 2.0
                  ) -> str | None:
    """None if ``ev`` shows that ``group`` terminates; else why not.  Calls are re-derived
    from the definitions; every claimed edge is re-verified (structural edges by the size
    relation, integer edges with a fresh z3 and a generous timeout); then size-change
    termination is re-run on the claimed graphs."""
    try:
        calls = group_calls(group, table)
    except (CallsError, RecursionError) as e:
        return f"cannot re-derive the calls: {e}"
    if not calls:
        return None
    if not isinstance(ev, dict) or ev.get("method") != "size-change":
        return "recursive, and no size-change evidence"
    defs = {f.name: f for f in group}
    raw = ev.get("measures")
    if not isinstance(raw, dict) or set(raw) != set(defs):
        return "measures must be given for exactly the group's functions"
    ms: dict[str, list[Measure]] = {}
    for f, lst in raw.items():
        if not isinstance(lst, list):
            return f"bad measures for {f}"
        try:
            ms[f] = [Measure.from_json(x) for x in lst]
        except ValueError as e:
            return str(e)
        fd = defs[f]
        for m in ms[f]:
            idx = [m.spec[0]] if m.kind == "size" else list(m.spec[1:])
            if any(not (0 <= i < len(fd.params)) for i in idx):
                return f"measure {m.to_json()} out of range for {f}"
            if m.kind == "size" and table.datatype_of(fd.params[idx[0]].sort) is None:
                return f"size measure on a non-datatype parameter of {f}"
            if m.kind == "int" and any(fd.params[i].sort != INT for i in idx):
                return f"integer measure on a non-Int parameter of {f}"
    claimed = ev.get("calls")
    if not isinstance(claimed, list) or len(claimed) != len(calls):
        return f"evidence lists {len(claimed) if isinstance(claimed, list) else 'no'} calls, " \
               f"the definitions have {len(calls)}"
    graphs = []
    for c, e in zip(calls, claimed):
        if not isinstance(e, dict) or e.get("caller") != c.caller or e.get("callee") != c.callee:
            return f"evidence does not match {c.describe()}"
        edges = e.get("edges")
        if not isinstance(edges, list):
            return f"no edges for {c.describe()}"
        mf, mg = ms[c.caller], ms[c.callee]
        checked = []
        for edge in edges:
            if not (isinstance(edge, list) and len(edge) == 3 and all(
                    isinstance(x, int) for x in edge)):
                return f"bad edge {edge!r}"
            a, b, r = edge
            if not (0 <= a < len(mf) and 0 <= b < len(mg) and r in (STRICT, EQUAL)):
                return f"bad edge {edge!r}"
            if not _edge_holds(c, mf[a], mg[b], r, table, query_s):
                return f"claimed edge {mf[a].describe(defs[c.caller])} " \
                       f"{'>' if r == STRICT else '>='} {mg[b].describe(defs[c.callee])} " \
                       f"does not hold on {c.describe()}"
            checked.append((a, b, r))
        graphs.append((c.caller, c.callee, _norm(checked)))
    ok, bad, why = sct_check(graphs, time.perf_counter() + 60.0)
    if not ok:
        return f"size-change check fails for {bad or group[0].name}: {why}"
    return None


def _edge_holds(c: CallSite, m1: Measure, m2: Measure, r: int, table: SymbolTable,
                query_s: float) -> bool:
    if m1.kind == "size" and m2.kind == "size":
        i2 = m2.spec[0]
        if i2 >= len(c.args):
            return False
        rel = size_rel(c.args[i2], c.context(), table)
        return rel is not None and rel[0] == m1.spec[0] and rel[1] >= r
    if m1.kind == "int" and m2.kind == "int":
        from .gate_z3 import DecreaseProver

        dp = DecreaseProver(c.path, time.perf_counter() + query_s + 0.5, query_s)
        ps = [dp.f.tr(p) if p.sort == INT else None for p in c.params]
        xs = [dp.f.tr(a) if a.sort == INT else None for a in c.args]
        try:
            before, after = m1.z3(ps), m2.z3(xs)
        except (TypeError, IndexError):
            return False
        if before is None or after is None:
            return False
        z3 = dp.f.z3
        claim = z3.And(before >= 0, after < before) if r == STRICT else after <= before
        return dp.valid(claim) is True
    return False
