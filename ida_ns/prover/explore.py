"""Theory exploration: conjecture lemmas by enumerating small terms and testing them.

z3 does not do induction, so goals such as ``rev (rev xs) = xs`` need auxiliary lemmas
(``rev (append xs ys) = append (rev ys) (rev xs)``, ...).  :class:`Explorer` finds candidates
the QuickSpec way:

1. **signature**: the defined functions of the goal, the functions they call (transitively,
   capped), the constructors of the datatypes involved, and a few variables per argument sort;
2. **enumeration by size**, bottom up: a term of size ``n`` is a function applied to class
   representatives whose sizes add up to ``n - 1``;
3. **classes by evaluation**: every term is evaluated on a fixed set of random environments
   (values for all variables; a variable often holds a part of another's value, so that
   equal values are common) with the ground evaluator; terms with the same value vector form
   one equivalence class, represented by its smallest (then simplest) member.  A term whose
   evaluation runs out of fuel or is undetermined in some environment is dropped; terms of
   the last size are only built in one variable renaming, and constructor towers not at all;
4. **equations**: each non-representative member ``t`` of a class gives ``t = rep`` (both
   sides with definitions unfolded on constructors, constructor contexts stripped); a Bool
   term true (false) in every environment gives the conjecture ``t`` (``not t``);
5. **pruning**: renamings; equations that hold by unfolding the definitions on constructors,
   or after a case split on one variable (a solver proves those without induction); terms
   containing an instance of a size-decreasing goal; equations whose sides rewrite to the
   same normal form with the lemmas proved so far (ordered rewriting); instances of
   conjectures already handed out; the goal itself;
6. **ranking**: smaller first; a bonus when a side matches a subterm of the goal or of its
   induction step cases (definitions unfolded) or of a goal the search expanded (recorded
   through :meth:`Explorer.relevant`), more when it generalises a side of the goal; a bonus,
   among the few best, for a candidate that one structural induction proves symbolically
   (unfolding, case analysis on ``ite``, rewriting with the induction hypothesis and the
   proved lemmas); a general candidate goes before its instances; after a failure, the
   candidates that match the failed conjecture's step cases move up and the failed one is
   retried once a lemma over its functions is proved;
7. **testing**: each conjecture is tested on a few hundred more random instances and on the
   smallest ones (:func:`~ida_ns.counterexample.find_counterexample`) before it is handed
   out.

Generation is incremental: sizes are enumerated in time slices, so conjectures flow as soon as
the small sizes are done, and everything respects the caller's deadline.  Given the seed, the
sequence of conjectures is deterministic (how far it gets depends on the time available).
:meth:`Explorer.goal_ready` tells a prover when searching the goal again looks worthwhile.

>>> from ida_ns.logic.parser import parse_text
>>> from ida_ns.prover.goal import Goal
>>> import time
>>> p = parse_text('''
... (declare-datatype Nat ((Z) (S (p Nat))))
... (define-fun-rec plus ((x Nat) (y Nat)) Nat (match x ((Z y) ((S n) (S (plus n y))))))
... (prove (forall ((a Nat) (b Nat)) (= (plus a b) (plus b a))))''')
>>> ex = Explorer(p.theory, Goal(p.theory, p.goal))
>>> from ida_ns.logic.printer import print_term
>>> print(print_term(next(ex.conjectures(time.perf_counter() + 5))))
(forall ((n Nat)) (= (plus n Z) n))
"""

from __future__ import annotations

import heapq
import itertools
import random
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Iterator

from ..logic.ast import (
    BOOL, FALSE, TRUE, App, BoolLit, HoApp, IntLit, Lambda, Let, Match, NameSupply, PatCon,
    Quant, Sort, Term, Theory, Var, depth, eq, forall, free_vars, not_, size, substitute,
    subterms, symbols,
)
from ..logic.symbols import CTOR, DECLARED, DEFINED, symbol_table
from .goal import Goal

__all__ = ["Explorer", "ExploreStats", "definitional_normal_form"]

FUEL = 4_000  # function calls per evaluation of one term in one environment
INT_RANGE = 6  # Int values of variables lie in [-INT_RANGE, INT_RANGE]
PROVABLE_BONUS = 3.0  # rank bonus of a candidate one induction proves symbolically
PROVABLE_CHECK_S = 0.04  # time for that symbolic check of one candidate


@dataclass
class ExploreStats:
    functions: int = 0  # signature size (constructors included)
    variables: int = 0
    terms: int = 0  # terms built and evaluated
    aborted: int = 0  # terms dropped: out of fuel / undetermined in some environment
    classes: int = 0  # equivalence classes (= representatives)
    levels: int = 0  # sizes enumerated completely
    candidates: int = 0  # equations / Bool laws put in the queue
    definitional: int = 0  # dropped: hold by unfolding definitions
    redundant: int = 0  # dropped at hand-out time (renaming, instance, rewriting, the goal)
    refuted: int = 0  # dropped: a counterexample was found
    yielded: int = 0
    retried: int = 0
    proved: int = 0
    gen_time_s: float = 0.0
    test_time_s: float = 0.0

    def as_dict(self) -> dict:
        return dict(self.__dict__)


@dataclass(frozen=True)
class _Fn:
    name: str
    params: tuple[Sort, ...]
    ret: Sort
    kind: str  # CTOR | DEFINED | DECLARED


@dataclass(order=True)
class _Cand:
    score: float
    seq: int
    lhs: Term = field(compare=False)
    rhs: Term = field(compare=False)  # TRUE / FALSE for a Bool law about lhs alone
    tries: int = field(default=0, compare=False)
    relevance: int = field(default=0, compare=False)  # size of a side matching the goal
    boosted: bool = field(default=False, compare=False)  # moved up as a likely helper
    provable: tuple | None = field(default=None, compare=False)  # (rules seen, result)

    def formula(self) -> Term:
        vs = _vars_in_order((self.lhs, self.rhs))
        if self.rhs == TRUE:
            body = self.lhs
        elif self.rhs == FALSE:
            body = not_(self.lhs)
        else:
            body = eq(self.lhs, self.rhs)
        return forall(vs, body)


class Explorer:
    """Conjectures for ``goal`` over ``theory`` (see the module docstring).

    ``max_size``: largest term (AST nodes) enumerated; ``max_vars_per_sort``: variables of a
    datatype sort (other sorts get at most 2); ``max_functions``: defined functions in the
    signature; ``envs``: random environments that define the classes; ``test_trials``: random
    instances a conjecture must survive before it is handed out; ``first_slice_s``: time spent
    enumerating before the first conjecture (later slices are ``slice_s``); ``window``: queued
    candidates compared when one is chosen (see :meth:`_next_candidate`)."""

    def __init__(self, theory: Theory, goal: Goal, seed: int = 0, max_size: int = 7,
                 max_vars_per_sort: int = 3, max_functions: int = 7, envs: int = 32,
                 test_trials: int = 200, first_slice_s: float = 0.5, slice_s: float = 0.03,
                 max_terms_per_level: int = 6000, window: int = 6):
        self.theory = theory
        self.goal = goal
        self.seed = seed
        self.max_size = max_size
        self.max_vars_per_sort = max_vars_per_sort
        self.n_envs = envs
        self.test_trials = test_trials
        self.first_slice_s = first_slice_s
        self.slice_s = slice_s
        self.max_terms_per_level = max_terms_per_level
        self.window = window
        self.stats = ExploreStats()
        self._table = symbol_table(theory)
        self._goal_syms = _defined_symbols(goal.concl, self._table)
        for h in goal.hyps:
            self._goal_syms |= _defined_symbols(h, self._table)
        self.functions: list[_Fn] = _signature(theory, goal, max_functions)
        self.variables: dict[Sort, list[Var]] = _variables(theory, self.functions,
                                                           max_vars_per_sort)
        self._var_index = {v: i for vs in self.variables.values() for i, v in enumerate(vs)}
        self.stats.functions = len(self.functions)
        self.stats.variables = sum(len(v) for v in self.variables.values())
        self._ctors = frozenset(n for n, i in self._table.infos.items() if i.kind == CTOR)
        self._norm = _Normaliser(theory)
        self._snorm = _Normaliser(theory, split=True)  # case analysis on ite conditions
        self._seq = itertools.count()
        self._heap: list[_Cand] = []
        self._seen_keys: set = set()
        self._handed: list[_Cand] = []  # conjectures handed out (tested), in order
        self._tested: list[_Cand] = []  # tested and not refuted (handed out or not)
        self._failed: list[_Cand] = []
        self._proved: list[_Cand] = []
        self._rules: list[tuple[Term, Term]] = []  # for pruning: proved + by cases, oriented
        self._proved_rules: list[tuple[Term, Term]] = []  # proved lemmas only, oriented
        self._recorded: list[Term] = []  # goal bodies seen by relevant()
        self._recorded_keys: set = set()
        self._targets: dict[str, list[Term]] | None = None
        self._goal_key = self._goal_eq_key()
        self._goal_cand = None
        self._goal_rule: App | None = None
        if self._goal_key is not None:
            gl, gr = self._goal_sides()
            self._goal_cand = _Cand(0.0, -1, gl, gr)
            if (isinstance(gl, App) and gr not in (TRUE, FALSE) and size(gl) > size(gr)
                    and free_vars(gr) <= free_vars(gl)):
                self._goal_rule = gl
        self._built = False
        self._dnf_of: dict[int, tuple[Term, Term]] = {}
        self._test_values: dict[Var, list] | None = None
        self._level = 1
        self._level_iter: Iterator | None = None
        self._last: _Cand | None = None
        self._last_proved = False

    # ---- public API ----------------------------------------------------------------------
    def conjectures(self, deadline: float) -> Iterator[Term]:
        """Closed conjectures (``(forall (...) (= l r))`` or a Bool law), most promising first,
        each tested on random instances; stops at ``deadline`` (``time.perf_counter()``)."""
        if not self._built:
            self._build()
        self._targets = self._compute_targets()
        first = True
        while time.perf_counter() < deadline:
            slice_end = min(deadline, time.perf_counter() +
                            (self.first_slice_s if first else self.slice_s))
            self._generate(slice_end)
            first = False
            cand = self._next_candidate(deadline)
            if cand is None:
                if self._generation_done():
                    return
                continue
            self._last, self._last_proved = cand, False
            self.stats.yielded += 1
            yield cand.formula()
            if not self._last_proved:
                self._failed.append(cand)
                self._boost_helpers(cand)

    def relevant(self, goal: Goal) -> list[Term]:
        """Already tested, unproved conjectures one of whose sides matches a subterm of
        ``goal`` (at most 3, smallest first).  Cheap; records the goal for ranking."""
        body = goal.body
        key = body
        if key not in self._recorded_keys and len(self._recorded) < 200:
            self._recorded_keys.add(key)
            self._recorded.append(body)
        if not self._tested:
            return []
        subs = [s for s in subterms(body) if isinstance(s, App)]
        for h in goal.hyps:
            subs.extend(s for s in subterms(h) if isinstance(s, App))
        proved = {id(c) for c in self._proved}
        out = [c for c in self._tested if id(c) not in proved and _matches_any(c, subs)]
        out.sort(key=lambda c: (size(c.lhs) + size(c.rhs), c.seq))
        return [c.formula() for c in out[:3]]

    def goal_relevant(self, conj: Term) -> bool:
        """Whether ``conj`` (handed out by this explorer) can rewrite the goal or one of its
        induction step cases."""
        cand = self._find(conj)
        return cand is not None and cand.relevance >= 3

    def goal_ready(self) -> bool:
        """Whether searching the goal again looks worthwhile now: one induction proves it
        symbolically with the lemmas proved so far (see :meth:`_provable_now`), or a proved
        lemma generalises it.  A prover can search the goal again only then (and once more
        at the end), instead of after every lemma."""
        g = self._goal_cand
        if g is None:
            return bool(self._proved)
        if any(_instance_of(g, c) for c in self._proved):
            return True
        return self._provable_now(g)

    def _find(self, conj: Term) -> _Cand | None:
        if self._last is not None and self._last.formula() == conj:
            return self._last
        return next((c for c in self._handed if c.formula() == conj), None)

    def proved(self, conj: Term) -> None:
        """``conj`` (a formula this explorer handed out) was proved: use it for pruning and
        retry earlier failures that share its functions."""
        cand = self._find(conj)
        if cand is None:
            return
        if cand is self._last:
            self._last_proved = True
        self._add_rule(cand.lhs, cand.rhs, proved=True)
        if cand in self._failed:
            self._failed.remove(cand)
        self._proved.append(cand)
        self.stats.proved += 1
        syms = _defined_symbols(cand.lhs, self._table) | _defined_symbols(cand.rhs, self._table)
        keep = []
        for c in self._failed:
            csyms = _defined_symbols(c.lhs, self._table) | _defined_symbols(c.rhs, self._table)
            if c.tries < 2 and csyms & syms:
                c.tries += 1
                self.stats.retried += 1
                heapq.heappush(self._heap, c)
            else:
                keep.append(c)
        self._failed = keep

    # ---- building the universe -------------------------------------------------------------
    def _build(self) -> None:
        from ..logic.evaluate import Evaluator
        from ..logic.values import Interpretation, value_space

        t0 = time.perf_counter()
        self._built = True
        rng = random.Random(f"explore:{self.seed}")
        space = value_space(self.theory)
        uninterp = {s.name for s in self.variables if space.is_uninterpreted(s)}
        for f in self.functions:
            for s in (*f.params, f.ret):
                if space.is_uninterpreted(s):
                    uninterp.add(s.name)
        self._interp = Interpretation(self.theory, seed=self.seed,
                                      sizes={s: 4 for s in uninterp}, default_size=4)
        self._ev = Evaluator(self.theory, fuel=FUEL, max_depth=400, interp=self._interp)
        n = self.n_envs
        # Sizes: the first environments hold the smallest values (nil, Z, ...), the rest grow.
        self._vals: list = []  # value id -> value
        self._ids: dict[Sort, dict] = {}  # per sort: value -> id
        self._memo: dict[str, dict] = {}
        cols = self._environments(
            rng, n, lambda i: 0 if i < 2 else rng.randint(1, 3 + (i * 6) // n))
        self._values: dict[Var, tuple] = {
            v: tuple(self._intern(v.sort, x) for x in col) for v, col in cols.items()}
        self._runs = {}
        for f in self.functions:
            if f.kind != CTOR:
                ps = tuple(Var(f"_p{i}", s) for i, s in enumerate(f.params))
                self._runs[f.name] = self._ev.compile(App(f.name, ps, f.ret), ps)
        # classes: (sort, vector) -> representative; reps[sort][size] -> [(term, vector)]
        self._classes: dict[tuple, Term] = {}
        self._reps: dict[Sort, dict[int, list]] = defaultdict(lambda: defaultdict(list))
        tv, fv = (self._intern(BOOL, True),) * n, (self._intern(BOOL, False),) * n
        self._classes[(BOOL, tv)] = TRUE
        self._classes[(BOOL, fv)] = FALSE
        arg_sorts = {s for f in self.functions for s in f.params}
        if BOOL in arg_sorts:
            self._reps[BOOL][1] += [(TRUE, tv), (FALSE, fv)]
        for sort, vs in self.variables.items():
            for v in vs:
                self._add_term(v, self._values[v], 1)
        for f in self.functions:
            if not f.params:
                vec = self._apply(f, [])
                if vec is not None:
                    self._add_term(App(f.name, (), f.ret), vec, 1)
        self._level = 1
        self.stats.levels = 1
        self.stats.gen_time_s += time.perf_counter() - t0

    def _environments(self, rng: random.Random, n: int, size_of,
                      end: float | None = None) -> dict[Var, list]:
        """``n`` environments (a value for every variable), as one column per variable.
        ``size_of(i)`` bounds the values of environment ``i``.  Now and then a variable
        takes a part of another variable's value (an element of a list, a subtree) or the
        value of another variable of its sort, so that equalities between values, on which
        functions like ``count`` or ``delete`` depend, are common."""
        from ..logic.values import value_space

        space = value_space(self.theory)
        domains = self._interp.domains()
        allvars = [v for vs in self.variables.values() for v in vs]
        cols: dict[Var, list] = {v: [] for v in allvars}
        fields: dict = {}  # (sort, ctor) -> field sorts
        for i in range(n):
            if end is not None and i >= 16 and time.perf_counter() > end:
                break  # fewer environments rather than a missed deadline
            sz = size_of(i)
            env: dict[Var, object] = {}
            for v in allvars:
                if v.sort.name == "Int" and not v.sort.args:
                    env[v] = rng.randint(-INT_RANGE * (1 + sz // 4), INT_RANGE * (1 + sz // 4))
                else:
                    env[v] = space.random(v.sort, rng, sz, domains)
            pool: dict[Sort, list] | None = None
            for v in allvars:
                if i < 2 or v.sort.is_function or rng.random() >= 0.3:
                    continue
                if pool is None:
                    pool = self._subvalues(env.items(), space, fields)
                cands = pool.get(v.sort)
                if cands:
                    env[v] = cands[rng.randrange(len(cands))]
            for v in allvars:
                cols[v].append(env[v])
        return cols

    @staticmethod
    def _subvalues(items, space, fields: dict, cap: int = 48) -> dict[Sort, list]:
        """Parts of the given values by sort (the values themselves included), at most
        ``cap`` per sort."""
        from ..logic.values import CtorVal

        out: dict[Sort, list] = defaultdict(list)
        budget = 2000  # value nodes visited
        for w, x in items:
            stack = [(x, w.sort)]
            while stack and budget > 0:
                budget -= 1
                y, ys = stack.pop()
                lst = out[ys]
                if len(lst) < cap:
                    lst.append(y)
                if type(y) is CtorVal and y.args:
                    key = (ys, y.ctor)
                    fs = fields.get(key)
                    if fs is None:
                        fs = fields[key] = space.ctor_fields(ys, y.ctor)
                    stack.extend(zip(y.args, fs))
        return out

    def _intern(self, sort: Sort, v) -> int:
        ids = self._ids.get(sort)
        if ids is None:
            ids = self._ids[sort] = {}
        i = ids.get(v)
        if i is None:
            i = ids[v] = len(self._vals)
            self._vals.append(v)
        return i

    def _apply(self, f: _Fn, vecs: list[tuple]) -> tuple | None:
        """The value vector (interned value ids) of ``f`` applied to argument vectors, or
        None when some environment's evaluation ran out of fuel or was undetermined.
        Applications are memoised per function and argument ids."""
        from ..logic.values import EvalAbort, make_ctor

        memo = self._memo.get(f.name)
        if memo is None:
            memo = self._memo[f.name] = {}
        vals = self._vals
        out = []
        ctor = f.kind == CTOR
        run = None if ctor else self._runs[f.name]
        for ids in (zip(*vecs) if vecs else [()] * self.n_envs):
            r = memo.get(ids)
            if r is None:
                args = [vals[i] for i in ids]
                if ctor:
                    v = make_ctor(f.name, tuple(args))
                    r = self._intern(f.ret, v)
                else:
                    try:
                        r = self._intern(f.ret, run(args))
                    except (EvalAbort, RecursionError):
                        r = -1
                memo[ids] = r
            if r < 0:
                return None
            out.append(r)
        return tuple(out)

    def _add_term(self, t: Term, vec: tuple, sz: int, keep: bool = True) -> None:
        self.stats.terms += 1
        sort = t.sort
        key = (sort, vec)
        rep = self._classes.get(key)
        if rep is None:
            if keep:
                self._classes[key] = t
                self.stats.classes += 1
                if not sort.is_function:
                    self._reps[sort][sz].append((t, vec))
            return
        if isinstance(t, Var):
            return
        if keep and isinstance(rep, App) and size(rep) == sz \
                and self._rep_key(t) < self._rep_key(rep):
            # Same size, simpler: t represents the class (no term of this size has been
            # built from the old representative yet).
            self._classes[key] = t
            lst = self._reps[sort][sz]
            for i, (r, _) in enumerate(lst):
                if r is rep:
                    lst[i] = (t, vec)
                    break
            t, rep = rep, t
        self._candidate(t, rep)

    def _rep_key(self, t: Term) -> tuple[int, int]:
        """Among terms of one size, the simpler representative: fewer calls of defined
        functions, then shallower."""
        calls = sum(1 for s in subterms(t) if isinstance(s, App) and s.args
                    and not self._is_ctor(s.fn))
        return calls, depth(t)

    def _order(self, t: Term) -> tuple:
        return _term_order_key(t, self._ctors)

    def _is_ctor(self, name: str) -> bool:
        return self._table.kind(name) == CTOR

    def _canonical(self, args: tuple) -> bool:
        """Whether each sort's variables first occur in the order of their index (one
        representative per renaming)."""
        nxt: dict = {}
        for a in args:
            for s in subterms(a):
                if isinstance(s, Var):
                    i = self._var_index.get(s)
                    if i is None:
                        continue
                    want = nxt.get(s.sort, 0)
                    if i > want:
                        return False
                    if i == want:
                        nxt[s.sort] = want + 1
        return True

    def _generation_done(self) -> bool:
        return self._level >= self.max_size and self._level_iter is None

    def _generate(self, end: float) -> None:
        """Enumerate terms until ``end`` or until every size up to ``max_size`` is done."""
        t0 = time.perf_counter()
        try:
            while not self._generation_done():
                if self._level_iter is None:
                    self._level_iter = self._level_terms(self._level + 1)
                for _ in self._level_iter:
                    if time.perf_counter() >= end:
                        return
                else:
                    self._level_iter = None
                    self._level += 1
                    self.stats.levels = self._level
                if time.perf_counter() >= end:
                    return
        finally:
            self.stats.gen_time_s += time.perf_counter() - t0

    def _level_terms(self, n: int) -> Iterator[None]:
        """Build every term of size ``n`` from representatives (yields after each term)."""
        built = 0
        last = n >= self.max_size  # terms of the last size are never arguments
        for f in self.functions:
            ctor = f.kind == CTOR
            k = len(f.params)
            if k == 0 or k > n - 1:
                continue
            if f.ret.is_function:
                continue
            for parts in _compositions_pos(n - 1, k):
                lists = []
                for s, p in zip(f.params, parts):
                    lst = self._reps[s].get(p) if s in self._reps else None
                    if not lst:
                        break
                    lists.append(lst)
                else:
                    for combo in itertools.product(*lists):
                        if built >= self.max_terms_per_level:
                            return
                        args = tuple(t for t, _ in combo)
                        if ctor and any(a.sort == f.ret and isinstance(a, App) and a.args
                                        and self._is_ctor(a.fn) for a in args):
                            continue  # no constructor towers: (S (S x)), (cons x (cons y z))
                        if last and not self._canonical(args):
                            continue  # the last size only needs one renaming of each term
                        built += 1
                        vec = self._apply(f, [v for _, v in combo])
                        if vec is None:
                            self.stats.terms += 1
                            self.stats.aborted += 1
                        else:
                            self._add_term(App(f.name, args, f.ret), vec, n, keep=not last)
                        yield None

    # ---- candidates --------------------------------------------------------------------------
    def _candidate(self, t: Term, rep: Term) -> None:
        """Queue ``t = rep`` (a Bool law when ``rep`` is true/false), in definitional normal
        form, unless it holds by unfolding or a renaming of it is queued already."""
        lhs, rhs = self._dnf_term(t), self._dnf_term(rep)
        if lhs == rhs:
            self.stats.definitional += 1
            return
        if isinstance(lhs, BoolLit):
            lhs, rhs = rhs, lhs
        if isinstance(lhs, BoolLit):
            return  # true = false: the classes were built wrongly; never a lemma
        lhs, rhs = self._decompose(lhs, rhs)
        if self._goal_rule is not None and (self._contains_instance(lhs)
                                            or self._contains_instance(rhs)):
            self.stats.definitional += 1
            return
        if rhs not in (TRUE, FALSE) and self._order(rhs) > self._order(lhs):
            lhs, rhs = rhs, lhs
        key = _canon_key(lhs, rhs)
        if key in self._seen_keys:
            return
        self._seen_keys.add(key)
        if self._by_cases(lhs, rhs):
            self.stats.definitional += 1
            self._add_rule(lhs, rhs)  # known to the solver: prunes its instances
            return
        self.stats.candidates += 1
        score, relevance = self._score(lhs, rhs)
        heapq.heappush(self._heap, _Cand(score, next(self._seq), lhs, rhs, 0, relevance))

    def _by_cases(self, lhs: Term, rhs: Term) -> bool:
        """Whether ``lhs = rhs`` holds by unfolding after a case split on one variable (a
        solver proves such equations without induction: useless as lemmas)."""
        for v in _vars_in_order((lhs, rhs)):
            dt = self._table.datatype_of(v.sort)
            if dt is None:
                continue
            for c in dt.ctors:
                fields = tuple(Var(f"_c{i}", s) for i, (_, s) in enumerate(c.fields))
                sub = {v: App(c.name, fields, v.sort)}
                l = self._norm.dnf(substitute(lhs, sub))
                r = rhs if rhs in (TRUE, FALSE) else self._norm.dnf(substitute(rhs, sub))
                if l != r:
                    break
            else:
                return True
        return False

    def _decompose(self, lhs: Term, rhs: Term) -> tuple[Term, Term]:
        """``C(..a..) = C(..b..)`` with one differing argument becomes ``a = b``
        (constructors are injective)."""
        while (isinstance(lhs, App) and isinstance(rhs, App) and lhs.fn == rhs.fn
               and lhs.args and self._is_ctor(lhs.fn)):
            diff = [i for i, (a, b) in enumerate(zip(lhs.args, rhs.args)) if a != b]
            if len(diff) != 1:
                break
            lhs, rhs = lhs.args[diff[0]], rhs.args[diff[0]]
        if rhs not in (TRUE, FALSE) and self._order(rhs) > self._order(lhs):
            lhs, rhs = rhs, lhs
        return lhs, rhs

    def _contains_instance(self, t: Term) -> bool:
        """Whether a subterm of ``t`` is an instance of the goal's larger side (when the goal
        is a size-decreasing equation: such a candidate has a smaller equivalent one)."""
        pat = self._goal_rule
        for s in subterms(t):
            if isinstance(s, App) and s.fn == pat.fn and _match(pat, s, {}):
                return True
        return False

    def _dnf_term(self, t: Term) -> Term:
        """Definitional normal form of an enumerated term, from its arguments' (memoised by
        identity: enumerated terms share their representatives)."""
        got = self._dnf_of.get(id(t))
        if got is not None:
            return got[1]
        if isinstance(t, App):
            out = self._norm.call(t.fn, tuple(self._dnf_term(a) for a in t.args), t.sort)
        else:
            out = t
        self._dnf_of[id(t)] = (t, out)  # keeps t alive, so its id stays unique
        return out

    def _score(self, lhs: Term, rhs: Term) -> tuple[float, int]:
        """(rank: smaller first, size of a side matching the goal's targets)."""
        score = float(size(lhs) + (0 if rhs in (TRUE, FALSE) else size(rhs)))
        syms = _defined_symbols(lhs, self._table) | _defined_symbols(rhs, self._table)
        score += 1.5 * len(syms - self._goal_syms)
        if not syms & self._goal_syms:
            score += 1.0
        targets = self._targets or {}
        probe = _Cand(0, 0, lhs, rhs)
        m = relevance = _matches_any(probe, targets.get("goal", ()))
        if m:
            score -= 4.0 if m >= 3 else 1.5
            if _matches_any(probe, targets.get("top", ())) >= 3:
                score -= 2.0  # generalises a side of the goal
        else:
            m = _matches_any(probe, targets.get("recorded", ()))
            if m:
                score -= 2.0 if m >= 3 else 1.0
        score -= 0.1 * len(free_vars(lhs) | free_vars(rhs))
        if rhs not in (TRUE, FALSE) and size(lhs) > 3 and _canon((lhs,)) == _canon((rhs,)):
            score += 1.5  # permutative beyond plain commutativity: usually an instance
        return score, relevance

    def _step_targets(self, goal: Goal) -> list[Term]:
        """Subterms of ``goal`` and of its induction step cases, definitions unfolded."""
        from .steps import Induct, StepError, apply_step

        terms: list[Term] = [goal.body, *goal.hyps]
        for v in goal.forall_vars:
            if self._table.datatype_of(v.sort) is None:
                continue
            try:
                subs = apply_step(Induct(v.name), goal)
            except StepError:
                continue
            terms.extend(g.body for g in subs)
        return _app_subterms([self._norm.dnf(t) for t in terms] + terms)

    def _provable_bonus(self, c: _Cand) -> float:
        """Rank bonus of a candidate one induction proves symbolically: in full when it
        matches the goal or a failed conjecture's step cases, a third otherwise (an easy
        lemma nobody needs still costs a proof attempt)."""
        if not self._provable_now(c):
            return 0.0
        return PROVABLE_BONUS if c.relevance or c.boosted else PROVABLE_BONUS / 3

    def _provable_now(self, c: _Cand) -> bool:
        """Whether one structural induction proves ``c`` symbolically: for some variable,
        every case's sides meet after unfolding definitions and rewriting with the
        induction hypotheses and the lemmas proved so far.  (The prover can do more: case
        splits, arithmetic; this only recognises the easy ones.)"""
        key = len(self._proved_rules)
        got = c.provable
        if got is not None and got[0] == key:
            return got[1]
        ok = False
        self._snorm.stop = time.perf_counter() + PROVABLE_CHECK_S
        for v in _vars_in_order((c.lhs, c.rhs)):
            dt = self._table.datatype_of(v.sort)
            if dt is None:
                continue
            ok = True
            for ctor in dt.ctors:
                fields = tuple(Var(f"_i{i}", s) for i, (_, s) in enumerate(ctor.fields))
                sub = {v: App(ctor.name, fields, v.sort)}
                ihs = tuple((substitute(c.lhs, {v: f}), substitute(c.rhs, {v: f}))
                            for f in fields if f.sort == v.sort)
                l = substitute(c.lhs, sub)
                r = c.rhs if c.rhs in (TRUE, FALSE) else substitute(c.rhs, sub)
                if not self._meet(l, r, ihs, frozenset(fields)) \
                        or time.perf_counter() > self._snorm.stop:
                    ok = False
                    break
            if ok:
                break
        c.provable = (key, ok)
        return ok

    def _meet(self, l: Term, r: Term, ihs: tuple, rigid: frozenset) -> bool:
        sn = self._snorm
        for forced in (ihs, tuple((b, a) for a, b in ihs if not isinstance(b, BoolLit)
                                  and free_vars(a) <= free_vars(b))):
            rules = self._proved_rules
            nl = sn.normalise(l, rules, forced=forced, rigid=rigid)
            nr = r if r in (TRUE, FALSE) else sn.normalise(r, rules, forced=forced, rigid=rigid)
            if sn.equal_by_cases(nl, nr, rules, forced, rigid):
                return True
            if not ihs:
                return False
        return False

    def _boost_helpers(self, failed: _Cand) -> None:
        """``failed`` was not proved: move up the queued candidates that could rewrite its
        induction step cases (its likely missing lemmas); it is retried once one is proved."""
        targets = self._step_targets(Goal(self.theory, failed.formula()))
        changed = False
        for c in self._heap:
            if c.tries == 0 and not c.boosted and _matches_any(c, targets) >= 3:
                c.score -= 3.0
                c.boosted = True
                changed = True
        if changed:
            heapq.heapify(self._heap)

    def _compute_targets(self) -> dict[str, list[Term]]:
        """Subterms a useful lemma could rewrite: of the goal and its induction step cases
        (definitions unfolded), and of goals recorded by :meth:`relevant`."""
        out_goal = self._step_targets(self.goal)
        out_rec = _app_subterms([self._norm.dnf(t) for t in self._recorded[:100]])
        top: list[Term] = []
        body = self.goal.body
        while isinstance(body, App) and body.fn == "=>" and body.args:
            top.extend(body.args[:-1])
            body = body.args[-1]
        top.extend(body.args if isinstance(body, App) and body.fn == "=" else (body,))
        top = [t for t in top if isinstance(t, App) and t.args]
        return {"goal": out_goal, "recorded": out_rec, "top": top}

    def _next_candidate(self, deadline: float) -> _Cand | None:
        """The best of the ``window`` cheapest queued candidates, counting a bonus for one
        that a single induction proves symbolically; tested before it is returned."""
        while self._heap and time.perf_counter() < deadline:
            window: list[_Cand] = []
            while self._heap and len(window) < self.window:
                cand = heapq.heappop(self._heap)
                if cand.tries == 0:
                    cand = self._most_general(cand)
                    if self._redundant(cand):
                        self.stats.redundant += 1
                        continue
                window.append(cand)
            if not window:
                return None
            cand = min(window, key=lambda c: (c.score - self._provable_bonus(c), c.seq))
            for c in window:
                if c is not cand:
                    heapq.heappush(self._heap, c)
            if cand.tries > 0:
                return cand  # a retry: tested before
            t0 = time.perf_counter()
            ok = self._survives(cand, deadline)
            self.stats.test_time_s += time.perf_counter() - t0
            if not ok:
                self.stats.refuted += 1
                continue
            self._tested.append(cand)
            self._handed.append(cand)
            return cand
        return None

    def _most_general(self, cand: _Cand) -> _Cand:
        """A queued candidate of which ``cand`` is a proper instance (the smallest such),
        taken out of the queue in its place; ``cand`` goes back (to be pruned later)."""
        best = None
        for g in self._heap:
            if g.tries == 0 and _instance_of(cand, g) and not _instance_of(g, cand):
                if best is None or (_term_order_key(g.lhs, self._ctors)
                                     < _term_order_key(best.lhs, self._ctors)):
                    best = g
        if best is None:
            return cand
        self._heap.remove(best)
        heapq.heapify(self._heap)
        heapq.heappush(self._heap, cand)
        return best

    def _survives(self, cand: _Cand, deadline: float) -> bool:
        """Test ``cand`` on ``test_trials`` fresh random environments (values growing to
        size 8), then on small-scope instances; False at the first counterexample."""
        from ..logic.values import EvalAbort

        if self._test_values is None:
            rng = random.Random(f"explore-test:{self.seed}")
            t = max(1, self.test_trials)
            self._test_values = self._environments(
                rng, t, lambda i: rng.randint(0, 2 + (i * 8) // t),
                end=min(deadline, time.perf_counter() + 0.15))
        vs = _vars_in_order((cand.lhs, cand.rhs))
        cols = [self._test_values[v] for v in vs]
        trials = min(len(c) for c in cols) if cols else 1
        run_l = self._ev.compile(cand.lhs, vs)
        run_r = None if cand.rhs in (TRUE, FALSE) else self._ev.compile(cand.rhs, vs)
        want = cand.rhs == TRUE
        for i in range(trials):
            if i % 8 == 7 and time.perf_counter() >= deadline:
                return False
            vals = [c[i] for c in cols]
            try:
                a = run_l(vals)
                if run_r is None:
                    if a is not want:
                        return False
                elif a != run_r(vals):
                    return False
            except (EvalAbort, RecursionError):
                continue
        # Small-scope instances (every combination of the smallest values) and a few more
        # random ones, as the prover's gate would test a lemma.
        from ..counterexample import find_counterexample

        budget = max(0.0, min(0.15, deadline - time.perf_counter()))
        return find_counterexample(self.theory, cand.formula(), trials=200, seed=self.seed,
                                   time_budget_s=budget) is None

    def _redundant(self, cand: _Cand) -> bool:
        lhs, rhs = cand.lhs, cand.rhs
        if self._goal_cand is not None and (_canon_key(lhs, rhs) == self._goal_key
                                            or _instance_of(cand, self._goal_cand)):
            return True
        if self._rules:
            nl = self._norm.normalise(lhs, self._rules)
            nr = self._norm.normalise(rhs, self._rules) if rhs not in (TRUE, FALSE) else rhs
            if nl == nr:
                return True
        for h in self._handed:
            if _instance_of(cand, h):
                return True
        return False

    def _add_rule(self, lhs: Term, rhs: Term, proved: bool = False) -> None:
        """Use ``lhs = rhs`` (proved, or one a solver proves by a case split) for pruning
        later candidates; a proved one also in symbolic induction checks.  (Conjectures not
        proved yet, and the goal, are not used: what follows from them may be exactly the
        lemma needed to prove them.)"""
        l = self._norm.dnf(lhs)
        r = self._norm.dnf(rhs) if rhs not in (TRUE, FALSE) else rhs
        if r not in (TRUE, FALSE) and _term_order_key(r, self._ctors) > _term_order_key(
                l, self._ctors):
            l, r = r, l
        if not isinstance(l, Var):
            self._rules.append((l, r))
            if proved:
                self._proved_rules.append((l, r))

    def _goal_sides(self) -> tuple[Term, Term]:
        body = self.goal.body
        if isinstance(body, App) and body.fn == "=" and len(body.args) == 2:
            return body.args[0], body.args[1]
        if isinstance(body, App) and body.fn == "not" and len(body.args) == 1:
            return body.args[0], FALSE
        return body, TRUE

    def _goal_eq_key(self):
        if self.goal.hyps or self.goal.fixed:
            return None
        body = self.goal.body
        if isinstance(body, App) and body.fn in ("=>", "and", "or"):
            return None
        return _canon_key(*self._goal_sides())


# --------------------------------------------------------------------------------------------
# Signature


def _defined_symbols(t: Term, table) -> frozenset[str]:
    return frozenset(s for s in symbols(t) if table.kind(s) in (DEFINED, DECLARED))


def _signature(theory: Theory, goal: Goal, max_functions: int) -> list[_Fn]:
    """Defined functions of the goal first, then their callees (breadth first), capped; then
    the constructors of every datatype their sorts mention."""
    table = symbol_table(theory)
    defs = {d.name: d for d in theory.all_defs()}
    order: list[str] = []
    seen: set[str] = set()
    start = []
    for t in (goal.concl, *goal.hyps):
        for s in subterms(t):
            if isinstance(s, App) and table.kind(s.fn) in (DEFINED, DECLARED) \
                    and s.fn not in start:
                start.append(s.fn)
    queue = list(start)
    while queue and len(order) < max_functions:
        name = queue.pop(0)
        if name in seen:
            continue
        seen.add(name)
        info = table.info(name)
        if info is None or info.ret.is_function:
            continue
        order.append(name)
        d = defs.get(name)
        if d is not None:
            callees = []
            for s in subterms(d.body):
                if isinstance(s, App) and table.kind(s.fn) in (DEFINED, DECLARED) \
                        and s.fn not in seen and s.fn not in callees:
                    callees.append(s.fn)
            queue.extend(callees)
    fns = []
    for name in order:
        info = table.info(name)
        fns.append(_Fn(name, info.params, info.ret, info.kind))
    # constructors of the datatypes reachable through the signature's sorts
    sorts: list[Sort] = []
    todo = [s for f in fns for s in (*f.params, f.ret)]
    todo += [v.sort for v in goal.forall_vars]
    while todo:
        s = todo.pop(0)
        if s in sorts:
            continue
        sorts.append(s)
        dt = table.datatype_of(s)
        if dt is not None:
            for c in dt.ctors:
                todo.extend(fs for _, fs in c.fields)
    for s in sorts:
        dt = table.datatype_of(s)
        if dt is None:
            continue
        for c in dt.ctors:
            if any(fs.is_function for _, fs in c.fields):
                continue
            fns.append(_Fn(c.name, tuple(fs for _, fs in c.fields), s, CTOR))
    return fns


def _variables(theory: Theory, fns: list[_Fn], k: int) -> dict[Sort, list[Var]]:
    """Variables for every argument sort: ``k`` of a datatype sort, at most 2 of others."""
    table = symbol_table(theory)
    sorts: list[Sort] = []
    for f in fns:
        for s in f.params:
            if s not in sorts:
                sorts.append(s)
    supply = NameSupply(set(table.infos) | {"_"})
    out: dict[Sort, list[Var]] = {}
    for s in sorts:
        n = k if table.datatype_of(s) is not None else min(k, 2)
        base = _base_name(s, table)
        out[s] = [Var(supply.fresh(base), s) for _ in range(n)]
    return out


def _base_name(s: Sort, table) -> str:
    if s.is_function:
        return "f"
    name = s.name.lower()
    if name.startswith("list"):
        return "xs"
    if name.startswith("nat"):
        return "n"
    if name == "bool":
        return "b"
    if name == "int":
        return "i"
    if name.startswith("tree"):
        return "t"
    if table.datatype_of(s) is None:
        return "x"
    c = next((ch for ch in name if ch.isalpha()), "x")
    return c


def _compositions_pos(n: int, k: int) -> Iterator[tuple[int, ...]]:
    """Ordered ways to write ``n`` as a sum of ``k`` parts >= 1 (small first parts first)."""
    if k == 1:
        if n >= 1:
            yield (n,)
        return
    for first in range(1, n - k + 2):
        for rest in _compositions_pos(n - first, k - 1):
            yield (first, *rest)


# --------------------------------------------------------------------------------------------
# Terms: variable order, renaming, matching, instances


def _vars_in_order(ts) -> tuple[Var, ...]:
    out: list[Var] = []
    for t in ts:
        for s in subterms(t):
            if isinstance(s, Var) and s not in out:
                out.append(s)
    return tuple(out)


def _canon(ts) -> tuple:
    """A flat token tuple of ``ts`` with variables numbered by first occurrence."""
    names: dict = {}
    out: list = []
    for t in ts:
        stack = [t]
        while stack:
            s = stack.pop()
            if isinstance(s, Var):
                i = names.get(s)
                if i is None:
                    i = names[s] = len(names)
                out.append(i)
            elif isinstance(s, App):
                out.append(s.fn)
                stack.extend(reversed(s.args))
            else:
                out.append(repr(s))
        out.append(None)
    return tuple(out)


def _canon_key(lhs: Term, rhs: Term):
    if rhs in (TRUE, FALSE):
        return (_canon((lhs,)), rhs)
    return frozenset((_canon((lhs, rhs)), _canon((rhs, lhs))))


def _match(pat: Term, t: Term, sub: dict, rigid: frozenset = frozenset()) -> bool:
    """Extend ``sub`` so that ``pat`` instantiated by it is ``t``; variables in ``rigid``
    match only themselves."""
    if isinstance(pat, Var):
        if pat in rigid:
            return pat == t
        got = sub.get(pat)
        if got is None:
            if pat.sort != t.sort:
                return False
            sub[pat] = t
            return True
        return got == t
    if isinstance(pat, App):
        if not isinstance(t, App) or t.fn != pat.fn or len(t.args) != len(pat.args):
            return False
        for a, b in zip(pat.args, t.args):
            if not _match(a, b, sub, rigid):
                return False
        return True
    return pat == t


def _instance_of(c: _Cand, general: _Cand) -> bool:
    """Whether ``c`` is an instance of ``general`` (either orientation)."""
    if (c.rhs in (TRUE, FALSE)) != (general.rhs in (TRUE, FALSE)):
        return False
    if c.rhs in (TRUE, FALSE):
        return c.rhs == general.rhs and _match(general.lhs, c.lhs, {})
    for a, b in ((general.lhs, general.rhs), (general.rhs, general.lhs)):
        sub: dict = {}
        if _match(a, c.lhs, sub) and _match(b, c.rhs, sub):
            return True
    return False


def _app_subterms(ts) -> list[Term]:
    seen: set = set()
    out = []
    for t in ts:
        for s in subterms(t):
            if isinstance(s, App) and s.args and s not in seen:
                seen.add(s)
                out.append(s)
    return out


def _matches_any(c: _Cand, targets) -> int:
    """How well a side of ``c`` matches one of ``targets``: the size of the matching side,
    halved when only the smaller side matches (rewriting with it would grow the term);
    0 when none matches."""
    if c.rhs in (TRUE, FALSE):
        sides = [(c.lhs, 1)]
    else:
        a, b = size(c.lhs), size(c.rhs)
        sides = [(c.lhs, 1 if a >= b else 2), (c.rhs, 1 if b >= a else 2)]
    best = 0
    for side, div in sides:
        if not isinstance(side, App) or not side.args:
            continue
        n = size(side) // div
        if n <= best:
            continue
        for t in targets:
            if isinstance(t, App) and t.fn == side.fn and _match(side, t, {}):
                best = n
                break
    return best


def _term_order_key(t: Term, ctors: frozenset = frozenset()) -> tuple:
    """A total order on terms: size, then the pre-order sequence of symbols, constructors
    before variables before other functions.  Ordered rewriting with it moves constructors
    outwards (``plus x (S y)`` becomes ``S (plus x y)``), where definitions can unfold."""
    toks = []
    stack = [t]
    while stack:
        x = stack.pop()
        if isinstance(x, App):
            toks.append((0 if x.fn in ctors else 2, x.fn))
            stack.extend(reversed(x.args))
        elif isinstance(x, Var):
            toks.append((1, x.name))
        else:
            toks.append((1, repr(x)))
    return (len(toks), tuple(toks))


# --------------------------------------------------------------------------------------------
# Symbolic normalisation: unfolding definitions on constructors, rewriting with lemmas


class _Stuck(Exception):
    pass


class _Normaliser:
    """``dnf``: unfold a defined function's call when every ``match``/``ite`` its body needs
    is decided by constructors in the arguments (what a solver does without induction);
    ``normalise``: ``dnf`` interleaved with rewriting by oriented lemmas.  With ``split``, an
    ``ite`` whose condition is undecided stays in the result as an ``ite`` term (for case
    analysis by :meth:`equal_by_cases`) instead of blocking the unfolding."""

    def __init__(self, theory: Theory, fuel: int = 200, split: bool = False):
        self.table = symbol_table(theory)
        self.defs = {d.name: d for d in theory.all_defs()}
        self.ctors = frozenset(n for n, i in self.table.infos.items() if i.kind == CTOR)
        self.fuel = fuel
        self.split = split
        self.stop = float("inf")  # perf_counter() time after which normalise gives up
        self._left = 0
        self._memo: dict[Term, Term] = {}

    def dnf(self, t: Term) -> Term:
        got = self._memo.get(t)
        if got is not None:
            return got
        self._left = self.fuel
        try:
            out = self._norm(t)
        except RecursionError:
            out = t
        if len(self._memo) > 50_000:
            self._memo.clear()
        self._memo[t] = out
        return out

    def call(self, fn: str, args: tuple, sort: Sort) -> Term:
        """``dnf`` of ``fn`` applied to arguments already in normal form."""
        self._left = self.fuel
        try:
            return self._call(fn, args, sort)
        except (RecursionError, _Stuck):
            return App(fn, args, sort)

    def normalise(self, t: Term, rules: list[tuple[Term, Term]], rounds: int = 8,
                  forced: tuple = (), rigid: frozenset = frozenset()) -> Term:
        """``dnf`` interleaved with rewriting: ``rules`` apply where they make the term
        smaller (ordered rewriting), ``forced`` ones (induction hypotheses, whose ``rigid``
        variables are fixed) anywhere."""
        cur = t
        limit = 3 * size(t) + 30  # rewriting that keeps growing the term is given up
        for _ in range(rounds):
            if time.perf_counter() > self.stop:
                return cur
            new = self.dnf(self._rewrite(cur, rules, forced, rigid))
            if new == cur or size(new) > limit:
                return cur if new != cur else new
            cur = new
        return cur

    def _rewrite(self, t: Term, rules, forced=(), rigid=frozenset()) -> Term:
        if isinstance(t, App) and t.args:
            args = tuple(self._rewrite(a, rules, forced, rigid) for a in t.args)
            t = App(t.fn, args, t.sort) if args != t.args else t
        for group, ordered in ((forced, False), (rules, True)):
            for l, r in group:
                sub: dict = {}
                fixed = rigid if not ordered else frozenset()
                if _match(l, t, sub, fixed):
                    if any(v not in sub and v not in fixed for v in free_vars(r)):
                        continue
                    new = substitute(r, sub) if sub else r
                    if not ordered or (_term_order_key(new, self.ctors)
                                        < _term_order_key(t, self.ctors)):
                        return new
        return t

    def equal_by_cases(self, l: Term, r: Term, rules, forced, rigid, depth: int = 3) -> bool:
        """``l`` and ``r`` (normal forms) are equal, splitting on the conditions of the
        ``ite`` terms in them: each case substitutes the branch and normalises again."""
        if l == r:
            return True
        if depth <= 0 or time.perf_counter() > self.stop:
            return False
        cond = _first_ite_condition(l) or _first_ite_condition(r)
        if cond is None:
            return False
        for value in (True, False):
            a = self.normalise(_pick(l, cond, value), rules, forced=forced, rigid=rigid)
            b = r if r in (TRUE, FALSE) else self.normalise(_pick(r, cond, value), rules,
                                                            forced=forced, rigid=rigid)
            if not self.equal_by_cases(a, b, rules, forced, rigid, depth - 1):
                return False
        return True

    # -- the reducer: terms in, terms out (env maps a body's variables to argument terms) --
    def _norm(self, t: Term) -> Term:
        if isinstance(t, App):
            args = tuple(self._norm(a) for a in t.args)
            try:
                return self._call(t.fn, args, t.sort)
            except _Stuck:  # a builtin ite on an undecided condition
                return App(t.fn, args, t.sort)
        if isinstance(t, (Var, IntLit, BoolLit)):
            return t
        try:
            return self._red(t, {})
        except _Stuck:
            return t

    def _call(self, fn: str, args: tuple, sort: Sort) -> Term:
        d = self.defs.get(fn)
        if d is None:
            if self.split and fn == "ite" and not isinstance(args[0], BoolLit) \
                    and args[1] != args[2]:
                return App(fn, args, sort)
            return _builtin(fn, args, sort)
        if self._left <= 0:
            return App(fn, args, sort)
        self._left -= 1
        try:
            return self._red(d.body, dict(zip(d.params, args)))
        except _Stuck:
            return App(fn, args, sort)

    def _red(self, t: Term, env: dict) -> Term:
        if isinstance(t, Var):
            return env.get(t, t)
        if isinstance(t, (IntLit, BoolLit)):
            return t
        if isinstance(t, App):
            args = tuple(self._red(a, env) for a in t.args)
            return self._call(t.fn, args, t.sort)
        if isinstance(t, Match):
            s = self._red(t.scrutinee, env)
            if not (isinstance(s, App) and self.table.kind(s.fn) == CTOR):
                raise _Stuck
            for c in t.cases:
                p = c.pattern
                if isinstance(p, PatCon):
                    if p.ctor == s.fn:
                        inner = dict(env)
                        inner.update(zip(p.vars, s.args))
                        return self._red(c.body, inner)
                else:
                    inner = env if p.var is None else {**env, p.var: s}
                    return self._red(c.body, inner)
            raise _Stuck
        if isinstance(t, Let):
            inner = dict(env)
            for v, e in t.bindings:
                inner[v] = self._red(e, env)
            return self._red(t.body, inner)
        if isinstance(t, HoApp):
            f = self._red(t.fn, env)
            args = tuple(self._red(a, env) for a in t.args)
            if isinstance(f, Lambda) and len(f.vars) == len(args):
                return self._norm(substitute(f.body, dict(zip(f.vars, args))))
            return HoApp(f, args)
        if isinstance(t, (Lambda, Quant)):
            fv = free_vars(t)
            return substitute(t, {v: e for v, e in env.items() if v in fv})
        raise _Stuck


def _first_ite_condition(t: Term) -> Term | None:
    for s in subterms(t):
        if isinstance(s, App) and s.fn == "ite" and len(s.args) == 3:
            return s.args[0]
    return None


def _pick(t: Term, cond: Term, value: bool) -> Term:
    """``t`` with every ``ite`` on ``cond`` replaced by its branch for ``value``."""
    if isinstance(t, App):
        if t.fn == "ite" and len(t.args) == 3 and t.args[0] == cond:
            return _pick(t.args[1] if value else t.args[2], cond, value)
        args = tuple(_pick(a, cond, value) for a in t.args)
        return App(t.fn, args, t.sort) if args != t.args else t
    return t


def _builtin(fn: str, args: tuple, sort: Sort) -> Term:
    """Simplify a builtin application whose value the arguments' shape decides; a stuck
    ``ite`` (undecided condition, different branches) raises :class:`_Stuck`."""
    if fn == "ite":
        c, a, b = args
        if isinstance(c, BoolLit):
            return a if c.value else b
        if a == b:
            return a
        raise _Stuck
    if fn == "=" and len(args) == 2:
        a, b = args
        if a == b:
            return TRUE
        if isinstance(a, BoolLit) and isinstance(b, BoolLit):
            return BoolLit(a.value == b.value)
        if isinstance(a, IntLit) and isinstance(b, IntLit):
            return BoolLit(a.value == b.value)
        return App(fn, args, sort)
    if fn == "not":
        a, = args
        return BoolLit(not a.value) if isinstance(a, BoolLit) else App(fn, args, sort)
    if fn == "and":
        if any(a == FALSE for a in args):
            return FALSE
        rest = tuple(a for a in args if a != TRUE)
        return TRUE if not rest else rest[0] if len(rest) == 1 else App(fn, rest, sort)
    if fn == "or":
        if any(a == TRUE for a in args):
            return TRUE
        rest = tuple(a for a in args if a != FALSE)
        return FALSE if not rest else rest[0] if len(rest) == 1 else App(fn, rest, sort)
    if fn == "=>" and len(args) == 2:
        a, b = args
        if a == FALSE or b == TRUE:
            return TRUE
        if a == TRUE:
            return b
        return App(fn, args, sort)
    if all(isinstance(a, IntLit) for a in args) and args:
        from ..logic.evaluate import _BUILTINS
        from ..logic.values import EvalAbort

        try:
            v = _BUILTINS[fn]([lambda env, x=a.value: x for a in args], None)(None)
        except (EvalAbort, KeyError, TypeError):
            return App(fn, args, sort)
        if isinstance(v, bool):
            return BoolLit(v)
        if isinstance(v, int):
            return IntLit(v)
    return App(fn, args, sort)


def definitional_normal_form(theory: Theory, t: Term) -> Term:
    """``t`` with every call of a defined function unfolded where constructors in its
    arguments decide the body's ``match``es (a bounded number of unfoldings).

    >>> from ida_ns.logic.parser import parse_text, parse_term
    >>> from ida_ns.logic.printer import print_term
    >>> p = parse_text('''
    ... (declare-datatype Nat ((Z) (S (p Nat))))
    ... (define-fun-rec plus ((x Nat) (y Nat)) Nat (match x ((Z y) ((S n) (S (plus n y))))))
    ... (prove (forall ((a Nat)) (= a a)))''')
    >>> a = __import__("ida_ns.logic.ast", fromlist=["Var"]).Var("a", p.goal.vars[0].sort)
    >>> print(print_term(definitional_normal_form(p.theory, parse_term(
    ...     "(plus (S (S Z)) a)", p.theory, {"a": a}))))
    (S (S a))
    """
    return _Normaliser(theory).dnf(t)
