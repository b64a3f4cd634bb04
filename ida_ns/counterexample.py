"""Counterexample search by testing: evaluate a conjecture on many ground instances.

The top-level universal quantifiers of the formula (and the antecedents of top-level
implications, which join the hypotheses) are stripped; the variables they bound, the ``fixed``
variables and any other free variable are then given values:

1. *small scope*: every combination of values by increasing total size
   (:meth:`~ida_ns.logic.values.ValueSpace.tier`), while the next size's combinations fit in
   half of the trials;
2. *random*: values from :func:`~ida_ns.logic.values.random_value` with sizes growing from
   small to ``max_size`` (and beyond when small draws keep repeating).

The two take turns.  Hypotheses ``(= v t)`` define the variable ``v`` by ``t`` instead of
waiting for random values to satisfy them (:func:`eliminate_equations`).  A counterexample is
shrunk greedily (sub-values, smaller numbers) and re-checked on the formula as given.  When the
theory has uninterpreted sorts or declared functions, interpretations with domains of 2, 3, 1
and 4 elements take turns (each declared function a seeded random table).

An instance is a counterexample when every hypothesis evaluates to ``true``, the formula to
``false``, and no evaluation ran out of fuel or was undetermined.  Soundness: a reported
counterexample is a real one in the standard model of the theory's datatypes and functions,
extended by the reported interpretation of its uninterpreted sorts (finite domains) and
declared functions, provided the theory's axioms hold there.  Axioms are checked by
evaluation: with ``axioms="strict"`` (the default) an interpretation is used only when every
axiom evaluates to ``true`` (an axiom quantified over an infinite sort can not be checked, so
such theories yield no counterexamples); with ``axioms="sampled"`` axioms that can not be
decided are checked on instances built from the counterexample's values, and the result says
``axioms_checked=False``.

>>> from ida_ns.logic.parser import parse_text
>>> p = parse_text('''
... (declare-datatype Nat ((Z) (S (p Nat))))
... (define-fun-rec plus ((x Nat) (y Nat)) Nat (match x ((Z y) ((S n) (S (plus n y))))))
... (prove (forall ((x Nat) (y Nat)) (= (plus x y) x)))''')
>>> print(find_counterexample(p.theory, p.goal))
x = Z, y = (S Z)
"""

from __future__ import annotations

import itertools
import random
import time
from dataclasses import dataclass
from math import prod
from typing import Iterator

from .logic.ast import App, NameSupply, Quant, Sort, Term, Theory, Var, all_var_names, free_vars, \
    substitute
from .logic.evaluate import Evaluator
from .logic.values import (CtorVal, EvalAbort, Interpretation, OpaqueVal, OutOfFuel, TableFun,
                           Undetermined, Value, ValueSpace, compositions, show_value,
                           value_space)
from .verdict import Refuted

__all__ = ["Counterexample", "SearchStats", "find_counterexample", "search_counterexample",
           "split_goal"]


@dataclass(frozen=True)
class Counterexample:
    """Values for the variables that make the hypotheses true and the formula false.

    ``assignment`` maps variable names to SMT-LIB text, in the order of ``values``;
    ``interpretation`` describes the uninterpreted sorts' domains and the declared functions'
    values that the evaluation used (empty when the theory has none)."""

    assignment: tuple[tuple[str, str], ...]
    values: tuple[tuple[Var, Value], ...]
    interpretation: tuple[tuple[str, str], ...] = ()
    axioms_checked: bool = True  # False: some axiom was only tested on sampled instances
    instances: int = 0  # instances evaluated by the search until this one
    # the interpretation as values: uninterpreted sorts' domain sizes, and the declared
    # functions' values at the points the evaluation used (any values elsewhere will do)
    domain_sizes: tuple[tuple[str, int], ...] = ()
    table: tuple[tuple[str, tuple, Value], ...] = ()

    def as_dict(self) -> dict[str, str]:
        return dict(self.assignment)

    def to_verdict(self, time_s: float = 0.0) -> Refuted:
        return Refuted(self.assignment + self.interpretation, solver="testing", time_s=time_s)

    def __str__(self) -> str:
        parts = [f"{k} = {v}" for k, v in self.assignment]
        parts += [f"{k} = {v}" for k, v in self.interpretation]
        return ", ".join(parts)


@dataclass(frozen=True)
class SearchStats:
    instances: int = 0  # instances evaluated
    hyp_false: int = 0  # discarded: a hypothesis was false
    undetermined: int = 0  # discarded: some evaluation was undetermined
    out_of_fuel: int = 0  # discarded: some evaluation ran out of fuel
    interpretations: int = 0  # interpretations of uninterpreted sorts/functions tried
    axioms_failed: int = 0  # interpretations discarded because an axiom failed or was unknown
    time_s: float = 0.0
    note: str = ""  # why the search stopped early, if it did


# --------------------------------------------------------------------------------------------


def split_goal(formula: Term, fixed: tuple[Var, ...] = (), hyps: tuple[Term, ...] = ()
               ) -> tuple[tuple[Var, ...], tuple[Term, ...], Term]:
    """``(variables, hypotheses, body)``: strip top-level ``forall`` and move antecedents of
    top-level ``=>`` to the hypotheses; bound variables whose names clash with variables
    already collected are renamed.  Variables: ``fixed``, the stripped ones, then any other
    free variable (by name)."""
    vars_: list[Var] = list(fixed)
    hyps_: list[Term] = list(hyps)
    names = {v.name for v in vars_}
    for h in hyps_:
        names |= {v.name for v in free_vars(h)}
    supply = NameSupply(names | all_var_names(formula))
    t = formula
    while True:
        if isinstance(t, Quant) and t.kind == "forall":
            sub = {}
            for v in t.vars:
                if v.name in names:
                    nv = Var(supply.fresh(v.name), v.sort)
                    sub[v] = nv
                    v = nv
                names.add(v.name)
                vars_.append(v)
            t = substitute(t.body, sub) if sub else t.body
        elif isinstance(t, App) and t.fn == "=>" and len(t.args) >= 2:
            for h in t.args[:-1]:
                hyps_.append(h)
                names |= {v.name for v in free_vars(h)}
            t = t.args[-1]
        else:
            break
    flat: list[Term] = []  # conjunctions split into their conjuncts
    todo = list(reversed(hyps_))
    while todo:
        h = todo.pop()
        if isinstance(h, App) and h.fn == "and":
            todo.extend(reversed(h.args))
        else:
            flat.append(h)
    seen = set(vars_)
    extra = set()
    for x in (t, *flat):
        extra |= free_vars(x) - seen
    vars_ += sorted(extra, key=lambda v: (v.name, str(v.sort)))
    return tuple(vars_), tuple(flat), t


def eliminate_equations(vars_: tuple[Var, ...], hyps: tuple[Term, ...], body: Term
                        ) -> tuple[tuple[Var, ...], tuple[Term, ...], Term, tuple[tuple[Var, Term], ...]]:
    """Use hypotheses ``(= v t)`` (v a variable not free in t) to define v by t: returns the
    remaining variables, the other hypotheses and the body with v replaced by t, and the
    definitions ``(v, t)`` (their terms mention only remaining variables).  Every instance of
    the remaining variables then extends to one that satisfies the equations, so random
    values need not hit ``x = y`` by chance."""
    vars_l, hyps_l, defs = list(vars_), list(hyps), []
    changed = True
    while changed:
        changed = False
        for i, h in enumerate(hyps_l):
            if not (isinstance(h, App) and h.fn == "=" and len(h.args) == 2):
                continue
            for v, t in (h.args, reversed(h.args)):
                if isinstance(v, Var) and v in vars_l and v not in free_vars(t):
                    sub = {v: t}
                    vars_l.remove(v)
                    hyps_l = [substitute(x, sub) for j, x in enumerate(hyps_l) if j != i]
                    body = substitute(body, sub)
                    defs = [(w, substitute(d, sub)) for w, d in defs] + [(v, t)]
                    changed = True
                    break
            if changed:
                break
    return tuple(vars_l), tuple(hyps_l), body, tuple(defs)


_CEX, _HOLDS, _HYP, _UNDET, _FUEL = range(5)
SMALL_SCOPE_LIMIT = 20_000  # most instances enumerated by size (the rest are random)


def find_counterexample(theory: Theory, formula: Term, fixed: tuple[Var, ...] = (),
                        hyps: tuple[Term, ...] = (), trials: int = 1000, seed: int = 0,
                        time_budget_s: float = 1.0, **options) -> Counterexample | None:
    """A validated counterexample to ``hyps => formula`` (for all values of ``fixed`` and of
    the formula's top-level universal variables), or None when none was found within
    ``trials`` instances and ``time_budget_s`` seconds.  ``options`` go to
    :func:`search_counterexample`."""
    return search_counterexample(theory, formula, fixed, hyps, trials, seed, time_budget_s,
                                 **options)[0]


def search_counterexample(theory: Theory, formula: Term, fixed: tuple[Var, ...] = (),
                          hyps: tuple[Term, ...] = (), trials: int = 1000, seed: int = 0,
                          time_budget_s: float = 1.0, *, fuel: int = 5_000, max_size: int = 10,
                          small_scope: bool = True, shrink: bool = True,
                          axioms: str = "strict") -> tuple[Counterexample | None, SearchStats]:
    """:func:`find_counterexample` with statistics.  ``fuel`` bounds each evaluation
    (function calls); ``max_size`` bounds random values; ``axioms`` is ``"strict"`` or
    ``"sampled"`` (see the module docstring)."""
    if axioms not in ("strict", "sampled"):
        raise ValueError(f"axioms must be 'strict' or 'sampled', got axioms={axioms!r}")
    if trials < 0 or time_budget_s < 0:
        raise ValueError(f"need trials >= 0 and time_budget_s >= 0, got trials={trials}, "
                         f"time_budget_s={time_budget_s}")
    return _Search(theory, formula, fixed, hyps, trials, seed, time_budget_s, fuel, max_size,
                   small_scope, shrink, axioms).run()


class _Search:
    def __init__(self, theory, formula, fixed, hyps, trials, seed, budget, fuel, max_size,
                 small_scope, shrink, axioms):
        self.t0 = time.perf_counter()
        self.deadline = self.t0 + budget
        self.theory = theory
        self.trials = trials
        self.seed = seed
        self.max_size = max_size
        self.small_scope = small_scope
        self.do_shrink = shrink
        self.axioms_mode = axioms
        self.all_vars, hyps_, body = split_goal(formula, tuple(fixed), tuple(hyps))
        self.vars, self.hyps, self.body, defs = eliminate_equations(self.all_vars, hyps_, body)
        self.defs = defs
        self.sorts = tuple(v.sort for v in self.vars)
        self.space: ValueSpace = value_space(theory)
        self.ev = Evaluator(theory, fuel=fuel)
        self.ev.deadline = self.deadline  # one long evaluation must not overrun the budget
        self.def_runs = [self.ev.compile(t, self.vars) for _, t in defs]
        self.orig_hyp_runs = [self.ev.compile(h, self.all_vars) for h in hyps_]
        self.orig_body_run = self.ev.compile(body, self.all_vars)
        self.uninterpreted = bool(theory.funs) or any(
            self._mentions_uninterpreted(s) for s in self._all_sorts())
        self.hyp_runs = [self.ev.compile(h, self.vars) for h in self.hyps]
        var_set = set(self.vars)
        self.open_hyp_runs = [r for h, r in zip(self.hyps, self.hyp_runs) if free_vars(h) & var_set]
        self.body_run = self.ev.compile(self.body, self.vars)
        self.axiom_runs = [self.ev.compile(a, ()) for a in theory.axioms]
        self.counts = dict(instances=0, hyp_false=0, undetermined=0, out_of_fuel=0,
                           interpretations=0, axioms_failed=0)
        self.axioms_checked = True
        self.note = ""
        self.boost = 0  # added to random sizes when draws keep repeating

    # -- sorts ----------------------------------------------------------------------------------
    def _all_sorts(self) -> Iterator[Sort]:
        yield from (v.sort for v in self.all_vars)
        for s in self.theory.sorts:
            yield Sort(s)
        for dt in self.theory.all_datatypes():
            for c in dt.ctors:
                for _, s in c.fields:
                    yield s

    def _mentions_uninterpreted(self, s: Sort) -> bool:
        if s.is_function:
            return any(self._mentions_uninterpreted(a) for a in s.args)
        return self.space.is_uninterpreted(s)

    # -- main loop ------------------------------------------------------------------------------
    def run(self) -> tuple[Counterexample | None, SearchStats]:
        cex = None
        try:
            cex = self._search()
        finally:
            stats = SearchStats(**self.counts, time_s=time.perf_counter() - self.t0,
                                note=self.note)
        return cex, stats

    def _out_of_time(self) -> bool:
        return time.perf_counter() > self.deadline

    def _interpretations(self) -> Iterator[Interpretation]:
        """Interpretations to try in turn (one if the theory has nothing uninterpreted)."""
        sizes_cycle = (2, 3, 1, 4)
        for k in itertools.count():
            size = sizes_cycle[k % len(sizes_cycle)]
            uninterp = {s.name for s in self._all_sorts() if self.space.is_uninterpreted(s)}
            yield Interpretation(self.theory, seed=self.seed * 1_000_003 + k,
                                 sizes={s: size for s in uninterp}, default_size=size)
            if not self.uninterpreted:
                return

    def _axioms_ok(self) -> bool | None:
        """True: every axiom holds; False: one fails; None: some could not be decided."""
        unknown = False
        for run in self.axiom_runs:
            try:
                if run(()) is not True:
                    return False
            except EvalAbort:
                unknown = True
        return None if unknown else True

    def _search(self) -> Counterexample | None:
        seen: set = set()
        rng = random.Random(self.seed)
        done = 0
        per_interp = max(64, self.trials // 8) if self.uninterpreted else self.trials
        for interp in self._interpretations():
            if done >= self.trials or self._out_of_time():
                break
            self.ev.interp = interp
            self.counts["interpretations"] += 1
            ok = self._axioms_ok()
            if ok is None and self.axioms_mode == "sampled":
                self.axioms_checked = False
            elif ok is not True:
                self.counts["axioms_failed"] += 1
                if not self.uninterpreted:
                    self.note = "the theory's axioms are not all true by evaluation"
                    return None
                done += 1
                continue
            closed = self._closed_hyps_ok()
            if closed is not True:
                if not self.uninterpreted:
                    self.note = "a closed hypothesis is not true by evaluation"
                    return None
                done += 1
                continue
            domains = interp.domains()
            budget = min(per_interp, self.trials - done)
            seen.clear()
            dups = 0
            self.boost = 0
            # with uninterpreted parts, each interpretation gets a quarter of the time
            slice_end = time.perf_counter() + (self.deadline - self.t0) / 4
            for vals in itertools.islice(self._instances(rng, domains, budget), budget):
                done += 1
                if self._out_of_time():
                    self.note = "time budget spent"
                    return None
                if self.uninterpreted and time.perf_counter() > slice_end:
                    break
                key = tuple(vals)
                if key in seen:
                    dups += 1
                    if dups % 50 == 0:  # small values are used up: draw bigger ones
                        self.boost = min(self.boost + 1, 3 * self.max_size)
                    if dups >= 1000:
                        self.note = "no new instances: the small instance space is exhausted"
                        break
                    continue
                seen.add(key)
                dups = 0
                if self._classify(vals, count=True) == _CEX:
                    cex = self._report(vals, interp)
                    if cex is not None:
                        return cex
        return None

    def _closed_hyps_ok(self) -> bool:
        """Hypotheses that mention no variable are the same for every instance: check once."""
        for run in self.hyp_runs:
            if run not in self.open_hyp_runs:
                try:
                    if run([None] * len(self.vars)) is not True:
                        return False
                except EvalAbort:
                    return False
        return True

    def _instances(self, rng: random.Random, domains, budget: int) -> Iterator[list]:
        if not self.vars:
            yield []
            return
        small = self._small_instances(domains, min(budget // 2, SMALL_SCOPE_LIMIT)) \
            if self.small_scope else iter(())
        ramp = max(min(budget // 4, 1000), 1)  # sizes grow to max_size over the ramp
        for i in itertools.count():
            combo = next(small, None)  # smallest instances and random ones take turns
            if combo is not None:
                yield list(combo)
            if i < ramp:
                size = 1 + (i * self.max_size) // ramp + self.boost
            else:
                size = rng.randint(1, self.max_size + self.boost)
            yield [self.space.random(s, rng, rng.randint(size // 2, size), domains)
                   for s in self.sorts]

    def _small_instances(self, domains, limit: int) -> Iterator[tuple]:
        """Every instance by increasing total size (see ValueSpace.tier), while the instances
        of the next total size fit in ``limit``, the size splits walked fit in ``2 * limit``
        and time is left.

        Each variable's size starts at its sort's smallest non-empty tier, so only the excess
        over the smallest instance is distributed (a sort like Nat has no value of size 0:
        with n such variables the first n totals hold nothing, and walking their
        compositions costs C(total + n - 1, n - 1) tier look-ups).  Sorts with gaps between
        their tiers (a tree has no value of size 2) still leave many splits empty: bounding
        the splits walked keeps the random instances, which take turns with these, coming."""
        n = len(self.sorts)
        splits = 2 * limit
        cap = 4 * self.max_size
        mins = []
        for s in self.sorts:
            m = self._smallest_tier(s, domains, limit, cap)
            if m is None:
                return
            mins.append(m)
        empty_run = 0
        for excess in range(cap * max(n, 1) + 1):
            batches, count = [], 0
            for parts in compositions(excess, n):
                splits -= 1
                if splits < 0 or self._out_of_time():
                    return
                lists = [self.space.tier(s, m + k, domains, cap=limit) for s, m, k in
                         zip(self.sorts, mins, parts)]
                if any(xs is None for xs in lists):
                    return
                count += prod(len(xs) for xs in lists)
                if count > limit:
                    return
                batches.append(lists)
            limit -= count
            empty_run = empty_run + 1 if count == 0 else 0
            if empty_run > 8:  # finite sorts: every instance was produced
                return
            for lists in batches:
                yield from itertools.product(*lists)

    def _smallest_tier(self, s: Sort, domains, limit: int, cap: int) -> int | None:
        """The smallest size with a value of sort ``s`` (None: none up to ``cap``, or that
        tier holds more than ``limit`` values)."""
        for k in range(cap + 1):
            xs = self.space.tier(s, k, domains, cap=limit)
            if xs is None:
                return None
            if xs:
                return k
        return None

    def _classify(self, vals: list, count: bool = False, all_hyps: bool = False) -> int:
        try:
            for run in (self.hyp_runs if all_hyps else self.open_hyp_runs):
                if run(vals) is not True:
                    if count:
                        self.counts["instances"] += 1
                        self.counts["hyp_false"] += 1
                    return _HYP
            r = self.body_run(vals)
        except OutOfFuel:
            if count:
                self.counts["instances"] += 1
                self.counts["out_of_fuel"] += 1
            return _FUEL
        except Undetermined:
            if count:
                self.counts["instances"] += 1
                self.counts["undetermined"] += 1
            return _UNDET
        if count:
            self.counts["instances"] += 1
        return _CEX if r is False else _HOLDS

    # -- reporting ------------------------------------------------------------------------------
    def _report(self, vals: list, interp: Interpretation) -> Counterexample | None:
        try:
            return self._validated(vals, interp)
        finally:
            self.ev.interp = interp
            self.ev.deadline = self.deadline

    def _validated(self, vals: list, interp: Interpretation) -> Counterexample | None:
        if self.do_shrink:
            vals = self._shrink(vals)
        checked = self.axioms_checked
        if not checked and not self._axioms_on_samples(vals):
            return None
        # evaluate once more on a fresh table so that the reported interpretation is exactly
        # what this instance (and the axioms) used
        fresh = Interpretation(self.theory, seed=interp.seed, sizes=interp.sizes,
                               default_size=interp.default_size)
        self.ev.interp = fresh
        self.ev.deadline = None  # the final checks are bounded by fuel alone
        if self.axioms_checked and self._axioms_ok() is not True:
            return None
        if self._classify(vals, all_hyps=True) != _CEX:  # evaluation is deterministic
            return None
        env = dict(zip(self.vars, vals))
        try:  # values of the variables that equations defined
            for (v, _), run in zip(self.defs, self.def_runs):
                env[v] = run(vals)
            # final check on the formula as given, before any rewriting
            full = [env[v] for v in self.all_vars]
            if not all(run(full) is True for run in self.orig_hyp_runs) \
                    or self.orig_body_run(full) is not False:
                return None
        except EvalAbort:
            return None
        used: set[str] = set()
        for s in (v.sort for v in self.all_vars):
            self._collect_uninterpreted(s, used)
        description = fresh.describe(used) if self.uninterpreted else ()
        return Counterexample(
            assignment=tuple((v.name, show_value(env[v])) for v in self.all_vars),
            values=tuple((v, env[v]) for v in self.all_vars),
            interpretation=description,
            axioms_checked=checked,
            instances=self.counts["instances"],
            domain_sizes=tuple(sorted(fresh.sizes.items())) if self.uninterpreted else (),
            table=fresh.queried(),
        )

    def _collect_uninterpreted(self, s: Sort, out: set) -> None:
        if self.space.is_uninterpreted(s):
            out.add(s.name)
        for a in s.args:
            self._collect_uninterpreted(a, out)

    def _shrink(self, vals: list, max_steps: int = 300) -> list:
        """Greedy shrinking: replace one value at a time by a smaller one that still gives a
        (fully determined) counterexample."""
        steps = 0
        improved = True
        while improved and steps < max_steps and not self._out_of_time():
            improved = False
            for i, s in enumerate(self.sorts):
                for cand in _smaller(vals[i], s, self.space):
                    steps += 1
                    new = vals[:i] + [cand] + vals[i + 1:]
                    if self._classify(new) == _CEX:
                        vals = new
                        improved = True
                        break
                    if steps >= max_steps:
                        return vals
        return vals

    def _axioms_on_samples(self, vals: list, limit: int = 500) -> bool:
        """Axioms that could not be decided, tested on instances built from sub-values of the
        counterexample and the smallest values: False if one instance is false."""
        pool: dict[Sort, list] = {}
        for v, s in zip(vals, self.sorts):
            for sub, ss in _subvalues(v, s, self.space):
                pool.setdefault(ss, [])
                if sub not in pool[ss]:
                    pool[ss].append(sub)
        domains = self.ev.interp.domains()
        for ax in self.theory.axioms:
            avars, ahyps, abody = split_goal(ax)
            lists = []
            for av in avars:
                cands = list(pool.get(av.sort, []))
                for small in self.space.enumerate(av.sort, 1, domains):
                    if small not in cands:
                        cands.append(small)
                lists.append(cands)
            runs = [self.ev.compile(h, avars) for h in ahyps] + [self.ev.compile(abody, avars)]
            for combo in itertools.islice(itertools.product(*lists), limit):
                try:
                    results = [r(list(combo)) for r in runs]
                except EvalAbort:
                    continue
                if all(results[:-1]) and results[-1] is False:
                    return False
        return True


def _subvalues(v: Value, s: Sort, space: ValueSpace) -> Iterator[tuple[Value, Sort]]:
    stack = [(v, s)]
    while stack:
        x, xs = stack.pop()
        yield x, xs
        if type(x) is CtorVal and x.args:
            stack.extend(zip(x.args, space.ctor_fields(xs, x.ctor)))


def _smaller(v: Value, s: Sort, space: ValueSpace, fields: bool = True) -> Iterator[Value]:
    """Candidate replacements for ``v`` that are strictly smaller, biggest jumps first."""
    if type(v) is bool:
        if v:
            yield False
    elif type(v) is int:
        if v != 0:
            yield 0
            half = v // 2 if v > 0 else -(-v // 2)  # toward zero; exact for any size
            if half != 0:
                yield half
            step = v - 1 if v > 0 else v + 1
            if step not in (0, half):
                yield step
            if v < 0:
                yield -v  # prefer non-negative numbers
    elif type(v) is OpaqueVal:
        if v.index > 0:
            yield OpaqueVal(v.sort, 0)
    elif type(v) is TableFun:
        for i in range(len(v.entries)):
            yield TableFun(v.sort, v.entries[:i] + v.entries[i + 1:], v.default)
    elif type(v) is CtorVal and v.args:
        dt = space.datatype(s)
        if dt is None:
            return
        field_sorts = space.ctor_fields(s, v.ctor)
        for a, fs in zip(v.args, field_sorts):  # a same-sort child
            if fs == s:
                yield a
        for c in space.min_ctors(dt):  # a least value
            if c.name != v.ctor and not c.fields:
                yield CtorVal(c.name)
        if fields:
            for j, (a, fs) in enumerate(zip(v.args, field_sorts)):
                for b in itertools.islice(_smaller(a, fs, space, fields=True), 4):
                    yield CtorVal(v.ctor, v.args[:j] + (b,) + v.args[j + 1:])
