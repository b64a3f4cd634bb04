"""Lemmas calculated from stuck subgoals (Boyer-Moore fertilisation and generalisation,
rippling-style wave-front lemmas).

A step case after induction is *stuck* when the solvers cannot close it: the induction
hypothesis does not apply as it stands, and something about the functions involved is
missing.  :class:`StuckLemmas` computes candidate lemmas from such a goal:

1. **unfold and fertilise**: both sides of the conclusion are put in definitional normal form
   (calls unfolded where constructors decide their ``match``), then rewritten with each
   equational hypothesis (the induction hypotheses), in either direction (weak fertilisation);
2. **generalise**: the maximal non-variable subterms (calls of defined functions) that occur on
   both sides, or repeatedly, are replaced by fresh variables (common-subterm generalisation,
   which also generalises accumulators built in the step case); every variable left is
   universally quantified, the hypotheses are dropped;
3. **rippling**: a call ``f(.., C(.., y, ..), ..)`` whose constructor argument blocks the
   induction hypothesis (``f`` does not recurse on that position) suggests the wave-front
   lemmas ``f(.., C(.., y, ..), ..) = C(.., f(.., y, ..), ..)`` (the constructor moves out) and
   ``f(x, C(y)) = f(C(x), y)`` (it moves across), all other arguments generalised.

4. **facts**: Boolean calls inside the stuck forms (conditions of ``ite``, conjuncts) that
   may hold everywhere, or fail everywhere, become candidates on their own and under the
   step case's ``ite`` condition (``== x x`` for ``elem x (ins x xs)``; totality
   ``not (le x n) => le n x`` for ``sorted (insort x xs)`` after splitting the tail), as does
   a case whose conclusion is one Boolean call under its condition.  Facts that are an
   instance of a hypothesis (the induction hypothesis again) are not proposed.

An implication's antecedents are premises of every candidate.  Candidates that are valid by
propositional logic alone (:func:`trivial`) are dropped, as is ``p => c`` when ``c`` itself
survives; the rest are ranked by size, a generalised Boolean variable costing extra.

Every candidate is a closed formula, tested for counterexamples on random and small instances
before it is returned; nothing here is trusted.  A candidate becomes a ``Lemma`` step of the
search: the one rule of :mod:`ida_ns.prover.steps` makes it a subgoal that must be proved (by
its own induction, in the same search) before the goal may use it, and once proved it joins
the lemma library that z3 and the cvc5-with-induction leaves receive as hypotheses.
"""

from __future__ import annotations

import time
from collections import Counter

from ..logic.ast import (
    BOOL, TRUE, App, Term, Theory, Var, eq, forall, free_vars, replace_subterm, size,
    subterms,
)
from ..logic.symbols import CTOR, DEFINED, symbol_table
from .goal import Goal, split_forall

__all__ = ["StuckLemmas", "calculate"]

MAX_LEMMA_SIZE = 60  # AST nodes of a calculated lemma
TEST_TRIALS = 150  # random instances a candidate must survive here (the gate tests again)
TEST_TIME_S = 0.06
CASE_PENALTY = 10  # rank penalty (AST nodes) of a lemma for one case of an ite


class StuckLemmas:
    """A conjecture source for goals with hypotheses (step cases): ``self(goal)`` returns up
    to ``limit`` tested candidate lemmas (closed formulas), best first.  Results are memoised
    per goal; ``produced`` holds every formula handed out (for attribution)."""

    def __init__(self, theory: Theory, limit: int = 3, seed: int = 0,
                 time_cap_s: float = float("inf")):
        from .explore import _Normaliser

        self.theory = theory
        self.limit = limit
        self.seed = seed
        self.table = symbol_table(theory)
        self.norm = _Normaliser(theory, split=True)
        self.produced: set[Term] = set()
        self.order: list[Term] = []  # produced, in the order calculated
        self.refuted = 0
        self.spent_s = 0.0
        self.time_cap_s = time_cap_s  # total time this source may spend (tests included)
        self._memo: dict[str, list[Term]] = {}
        self.rank: dict[Term, float] = {}  # produced lemma -> rank (smaller: try first)
        self._tested: dict[Term, bool] = {}

    def __call__(self, goal: Goal) -> list[Term]:
        if not goal.fixed:  # step cases and case splits only, not the root goal
            return []
        key = goal.key()
        got = self._memo.get(key)
        if got is not None:
            return got
        out: list[Term] = []
        if self.spent_s < self.time_cap_s:
            t0 = time.perf_counter()
            # at most 0.4 s per goal, and never much past the cap (tiny budgets)
            limit_s = min(0.4, max(0.05, self.time_cap_s - self.spent_s))
            self.norm.stop = t0 + limit_s / 2
            try:
                for c, penalty in calculate(goal, self.norm, self.table):
                    # survivors, smallest first: the most general lemmas are the smallest
                    if len(out) >= 3 * self.limit or time.perf_counter() - t0 > limit_s:
                        break
                    if self._survives(c):
                        out.append((rank(c, penalty), len(out), c))
            except RecursionError:
                pass
            ranks = {c: r for r, _, c in out}
            out = [c for _, _, c in sorted(out)]
            out = _unsubsumed(out)[: self.limit]
            for c in out:
                self.rank.setdefault(c, ranks[c])
            self.spent_s += time.perf_counter() - t0
        self._memo[key] = out
        self.order.extend(c for c in out if c not in self.produced)
        self.produced.update(out)
        return out

    def _survives(self, formula: Term) -> bool:
        got = self._tested.get(formula)
        if got is None:
            from ..counterexample import find_counterexample

            try:
                cex = find_counterexample(self.theory, formula, trials=TEST_TRIALS,
                                          seed=self.seed, time_budget_s=TEST_TIME_S)
            except Exception:  # an evaluator limit: no information, do not hand it out
                cex = True
            got = cex is None
            self.refuted += not got
            self._tested[formula] = got
        return got


BOOL_VAR_PENALTY = 10  # rank penalty per Boolean variable (a generalised condition)


def rank(c: Term, penalty: float = 0) -> float:
    """A calculated lemma's rank: its size plus ``penalty``, plus a penalty per quantified
    Boolean variable (generalising a condition away seldom leaves a useful lemma)."""
    vs, _ = split_forall(c)
    return size(c) + penalty + BOOL_VAR_PENALTY * sum(1 for v in vs if v.sort == BOOL)


def _sides(body: Term) -> tuple[Term, Term] | None:
    if isinstance(body, App) and body.fn == "=" and len(body.args) == 2:
        return body.args[0], body.args[1]
    if isinstance(body, App) and body.sort == BOOL and body.fn not in ("=>", "and", "or",
                                                                       "not"):
        return body, TRUE
    return None


def _rules(goal: Goal) -> list[tuple[Term, Term, int]]:
    """Rewrite rules ``(l, r, direction)`` from the equational hypotheses, both directions
    (direction 0: a hypothesis left to right, 1: right to left; universal variables of a
    hypothesis are pattern variables; the goal's fixed variables are rigid)."""
    out = []
    for h in goal.hyps:
        vs, hb = split_forall(h)
        s = _sides(hb)
        if s is None:
            continue
        a, b = s
        if b == TRUE:
            out.append((a, TRUE, 0))
            continue
        for k, (l, r) in enumerate(((a, b), (b, a))):
            if isinstance(l, Var) or not free_vars(r) <= free_vars(l):
                continue
            out.append((l, r, k))
    return out


def _is_call(t: Term, table) -> bool:
    return isinstance(t, App) and bool(t.args) and table.kind(t.fn) == DEFINED \
        and bool(free_vars(t))


def _maximal(terms) -> list[Term]:
    terms = sorted(set(terms), key=lambda t: -size(t))
    out: list[Term] = []
    for t in terms:
        if not any(any(s == t for s in subterms(o)) for o in out):
            out.append(t)
    return out


def _generalise(parts: tuple[Term, ...], table, supply) -> list[tuple[Term, ...]]:
    """Common-subterm generalisations of a formula given as ``parts`` (premises, then the two
    sides of the conclusion): the maximal calls occurring in two parts (then: occurring twice
    anywhere) replaced by fresh variables, everywhere at once."""
    counts = [Counter(s for s in subterms(t) if _is_call(s, table)) for t in parts
              if t != TRUE]
    total: Counter = Counter()
    for c in counts:
        total += c
    shared = _maximal(t for t in total if sum(1 for c in counts if t in c) >= 2)
    twice = _maximal(t for t in total if total[t] >= 2)
    out: list[tuple[Term, ...]] = []
    for group in (shared, twice, shared[:1]):
        if not group:
            continue
        new = parts
        for t in group:
            v = Var(supply.fresh("g"), t.sort)
            new = tuple(replace_subterm(x, t, v) for x in new)
        if new != parts and new not in out:
            out.append(new)
    return out


def _ripple(terms, table, supply, theory: Theory) -> list[tuple[Term, Term]]:
    """Wave-front lemmas for calls with a constructor argument in a position the function
    does not recurse on (see the module doc); every other argument is generalised."""
    from .overseer import recursion_positions

    rec = recursion_positions(theory)
    out: list[tuple[Term, Term]] = []
    seen = set()
    for t in terms:
        for s in subterms(t):
            if not (isinstance(s, App) and table.kind(s.fn) == DEFINED and s.args):
                continue
            for i, a in enumerate(s.args):
                if not (isinstance(a, App) and table.kind(a.fn) == CTOR and a.args):
                    continue
                if i in rec.get(s.fn, ()):
                    continue
                if (s.fn, i, a.fn) in seen:
                    continue
                seen.add((s.fn, i, a.fn))
                xs = [Var(supply.fresh("x"), b.sort) for b in s.args]
                ys = [Var(supply.fresh("y"), b.sort) for b in a.args]
                wave = App(a.fn, tuple(ys), a.sort)
                lhs = App(s.fn, tuple(wave if k == i else x for k, x in enumerate(xs)),
                          s.sort)
                for j, y in enumerate(ys):
                    if y.sort != a.sort:
                        continue
                    inner = App(s.fn, tuple(y if k == i else x for k, x in enumerate(xs)),
                                s.sort)
                    if s.sort == a.sort:  # the constructor moves out
                        out.append((lhs, App(a.fn, tuple(inner if m == j else z
                                                          for m, z in enumerate(ys)), a.sort)))
                    for k, x in enumerate(xs):  # ... or across, to another argument
                        if k != i and x.sort == a.sort:
                            moved = App(a.fn, tuple(x if m == j else z
                                                    for m, z in enumerate(ys)), a.sort)
                            args = tuple(y if n == i else moved if n == k else xn
                                         for n, xn in enumerate(xs))
                            out.append((lhs, App(s.fn, args, s.sort)))
    return out


def _close(parts: tuple[Term, ...], ctors: frozenset | None = None) -> Term | None:
    """``∀ free. (and premises) => l = r`` for ``parts`` = (premises..., l, r)."""
    from ..logic.ast import and_, implies

    *prem, l, r = parts
    while (isinstance(l, App) and isinstance(r, App) and l.fn == r.fn and ctors is not None
           and l.fn in ctors and len(l.args) == len(r.args)):
        diff = [(a, b) for a, b in zip(l.args, r.args) if a != b]
        if len(diff) != 1:
            break
        l, r = diff[0]  # a constructor is injective: C(..a..) = C(..b..) iff a = b
    if l == r or (r == TRUE and l in prem):
        return None
    concl = l if r == TRUE else eq(l, r)
    if concl in prem:
        return None
    # a premise sharing no variable with the conclusion only restricts variables the
    # conclusion does not mention (generalised away): drop it
    cv = free_vars(concl)
    prem = [p for p in prem if free_vars(p) & cv]
    body = implies(and_(*prem), concl) if prem else concl
    if size(body) > MAX_LEMMA_SIZE:
        return None
    vs = sorted(free_vars(body), key=lambda v: v.name)
    return forall(tuple(vs), body) if vs else None


def _shape(t: Term) -> str:
    """A key equal for alpha-equivalent closed formulas (variables numbered by first
    occurrence)."""
    from ..logic.ast import substitute

    vs, body = split_forall(t)
    order: list[Var] = []
    for s in subterms(body):
        if isinstance(s, Var) and s in vs and s not in order:
            order.append(s)
    return repr(substitute(body, {v: Var(f"#{i}", v.sort) for i, v in enumerate(order)}))


def _apart(parts: tuple[Term, ...], table, rec, supply) -> tuple[Term, ...] | None:
    """Generalise variables apart: a variable that occurs both as an argument a function
    recurses on and as one it does not (an accumulator, a parameter passed along) gets a
    fresh variable at the latter occurrences (``length (++ xs (cons h xs))`` becomes
    ``length (++ xs (cons h ys))``).  None when nothing changes."""
    at_rec: set = set()
    other: set = set()
    for t in parts:
        for s in subterms(t):
            if isinstance(s, App) and table.kind(s.fn) == DEFINED:
                pos = rec.get(s.fn, frozenset())
                for i, a in enumerate(s.args):
                    for v in (free_vars(a) if not isinstance(a, Var) else (a,)):
                        (at_rec if i in pos and isinstance(a, Var) else other).add(v)
    both = at_rec & other
    if not both:
        return None
    fresh = {v: Var(supply.fresh(v.name), v.sort) for v in sorted(both, key=lambda v: v.name)}

    def go(t: Term, under_rec: bool) -> Term:
        if isinstance(t, Var):
            return t if under_rec or t not in fresh else fresh[t]
        if isinstance(t, App):
            pos = rec.get(t.fn, frozenset()) if table.kind(t.fn) == DEFINED else frozenset()
            args = tuple(go(a, i in pos and isinstance(a, Var)) for i, a in enumerate(t.args))
            return App(t.fn, args, t.sort) if args != t.args else t
        return t

    new = tuple(go(t, False) for t in parts)
    return new if new != parts else None


def _cases(norm, l: Term, r: Term) -> list[tuple[Term, Term, Term]]:
    """The two cases ``(condition, l, r)`` of the first undecided ``ite`` condition of
    ``l = r`` (normalised again; the condition negated in the second), or nothing when there
    is none."""
    from ..logic.ast import not_

    from .explore import _first_ite_condition, _pick

    cond = _first_ite_condition(l) or (None if r == TRUE else _first_ite_condition(r))
    if cond is None:
        return []
    out = []
    for value in (True, False):
        nl = norm.dnf(_pick(l, cond, value))
        nr = r if r == TRUE else norm.dnf(_pick(r, cond, value))
        if nl != nr:
            out.append((cond if value else not_(cond), nl, nr))
    return out


def calculate(goal: Goal, norm, table):
    """Candidate lemmas for a stuck ``goal``: ``(formula, rank penalty)`` pairs (untested,
    without duplicates up to renaming)."""
    from .steps import _fresh

    vs, body = split_forall(goal.concl)
    ante: tuple = ()
    if isinstance(body, App) and body.fn == "=>" and len(body.args) >= 2:
        # an implication: its antecedents (normalised, conjunctions split) are premises
        ante = tuple(p for a in body.args[:-1] for p in _conjuncts(norm.dnf(a))
                     if p != TRUE)
        body = body.args[-1]
        if len(ante) > 3 or any(size(p) > MAX_LEMMA_SIZE // 2 for p in ante):
            return
    s = _sides(body)
    if s is None:
        return
    supply = _fresh(goal)
    l0, r0 = s
    base = (norm.dnf(l0), r0 if r0 == TRUE else norm.dnf(r0))
    # the conclusion, and its two cases on an undecided ite condition (the condition, or its
    # negation, a premise): forms (premises, l, r)
    forms = [(ante, *base)] + [(ante + (c,), l, r) for c, l, r in _cases(norm, *base)]
    rules = _rules(goal)
    # fertilise with each hypothesis alone, then all of them together (several induction
    # hypotheses, one per recursive field), each orientation
    groups = [((l, r),) for l, r, _ in rules]
    if len(goal.hyps) > 1:
        groups += [tuple((l, r) for l, r, d in rules if d == k) for k in (0, 1)]
    rigid = frozenset(goal.fixed)
    fertilised: list = []
    for prem, l, r in forms:
        for group in groups:
            if not group:
                continue
            nl = norm.normalise(l, [], forced=group, rigid=rigid)
            nr = r if r == TRUE else norm.normalise(r, [], forced=group, rigid=rigid)
            f = (prem, nl, nr)
            if (nl, nr) != (l, r) and nl != nr and f not in fertilised:
                fertilised.append(f)
    # The hypotheses as premises (their own quantifiers dropped: an induction hypothesis
    # binds the same variables as the conclusion), for step cases whose hypothesis is not an
    # equation to rewrite with (an inequality, a Bool property).
    hyps = tuple(norm.dnf(split_forall(h)[1]) for h in goal.hyps)
    hyps = tuple(p for p in hyps if p != TRUE and size(p) <= MAX_LEMMA_SIZE // 2)
    seen: set[str] = {_shape(goal.concl)} | {_shape(h) for h in goal.hyps}
    # ... also the goal and the hypotheses with the fixed variables quantified (a "fact"
    # that is an instance of the induction hypothesis is the goal again)
    seen |= {_shape(forall(tuple(sorted(free_vars(t), key=lambda v: v.name)), t))
             for t in (body, *(split_forall(h)[1] for h in goal.hyps))}
    ctors = frozenset(n for n, i in table.infos.items() if i.kind == CTOR)

    from .overseer import recursion_positions

    rec = recursion_positions(goal.theory)

    def emit(parts, penalty=0):
        c = _close(parts, ctors)
        if c is None:
            return None
        shape = _shape(c)
        if shape not in seen and not trivial(c, table):
            seen.add(shape)
            return c, penalty
        return None

    def emit_all(parts, penalty=0):
        """The candidate, and (ranked first) its variables generalised apart."""
        apart = _apart(parts, table, rec, supply)
        out = [emit(apart, penalty - 1)] if apart is not None else []
        out.append(emit(parts, penalty))
        return [c for c in out if c is not None]

    def penalty(prem):
        return CASE_PENALTY * (len(prem) - len(ante))

    # A lemma for one case of the step case covers only half of it (the other case needs
    # its own): ranked after whole ones of similar size.
    for prem, l, r in fertilised + forms:  # generalised equations first
        for parts in _generalise(prem + (l, r), table, supply):
            yield from emit_all(parts, penalty(prem))
    # Facts: Boolean calls in the stuck forms that may hold (or fail) everywhere, alone or
    # under the case's condition (``== x x``; ``not (le x y) => le y x``), and a case form
    # itself when it is a Boolean call under its condition; testing keeps the true ones.
    from .explore import _match

    def known(c: Term) -> bool:  # an instance of a hypothesis (the IH): no news
        return any(_match(split_forall(h)[1], c, {}, rigid) for h in goal.hyps)

    for parts in _facts(forms, ante, table, known):
        yield from emit_all(parts, 0)
    if hyps:
        for prem, l, r in forms:  # generalised sequents
            for parts in _generalise(hyps + prem + (l, r), table, supply):
                yield from emit_all(parts, penalty(prem))
    for l, r in _ripple([t for f in fertilised + forms for t in f[1:]], table, supply,
                        goal.theory):
        c = emit((l, r))
        if c is not None:
            yield c
    for prem, l, r in fertilised:  # the fertilised equation itself
        yield from emit_all(prem + (l, r), penalty(prem))


MAX_FACTS = 6  # Boolean calls per stuck goal tried as facts


def _conjuncts(t: Term) -> tuple[Term, ...]:
    if isinstance(t, App) and t.fn == "and":
        return tuple(x for a in t.args for x in _conjuncts(a))
    return (t,)


def _facts(forms, ante: tuple, table, known=lambda c: False) -> list[tuple[Term, ...]]:
    """Candidate facts from the stuck forms ``(premises, l, r)``: ``(premises..., c, TRUE)``
    parts for Boolean calls ``c`` (of defined functions, with variables) inside the sides,
    unconditional, negated, and under each case condition (premises beyond ``ante``); and the
    case form itself when its conclusion is one Boolean call (``not (le x z) => le z x``)."""
    from ..logic.ast import not_

    out: list[tuple[Term, ...]] = []
    calls: list[Term] = []
    for prem, l, r in forms:
        conds = prem[len(ante):]
        if conds and r == TRUE and _is_call(l, table) and not known(l):
            out.append(conds + (l, TRUE))
        for side in (l, r):
            for c in subterms(side):
                if c is side or c in calls or not (_is_call(c, table) and c.sort == BOOL) \
                        or known(c):
                    continue
                calls.append(c)
                if len(calls) > MAX_FACTS:
                    break
                for lit in (c, not_(c)):
                    out.append((lit, TRUE))
                    for p in conds:
                        if free_vars(p) & free_vars(c):
                            out.append((p, lit, TRUE))
    return out


_CONNECTIVES = ("and", "or", "not", "=>", "xor")


def trivial(formula: Term, table=None, max_atoms: int = 10) -> bool:
    """Whether ``formula`` is valid by propositional logic alone, every maximal
    non-connective subterm (a call, an equation between non-Booleans, a variable) taken as an
    independent atom (``g => ite (== x n) true g``): such a lemma tells a solver nothing.
    Only ever says "useless"; False when there are too many atoms to enumerate."""
    from ..logic.ast import BoolLit

    _, body = split_forall(formula)
    atoms: list[Term] = []

    def skel(t: Term):
        if isinstance(t, BoolLit):
            return ("lit", t.value)
        if isinstance(t, App) and t.sort == BOOL and (
                t.fn in _CONNECTIVES or (t.fn == "ite" and len(t.args) == 3)
                or (t.fn == "=" and len(t.args) == 2 and t.args[0].sort == BOOL)):
            return (t.fn, tuple(skel(a) for a in t.args))
        if t not in atoms:
            atoms.append(t)
        return ("atom", atoms.index(t))

    sk = skel(body)
    if len(atoms) > max_atoms:
        return False

    def val(n, env) -> bool:
        k = n[0]
        if k == "lit":
            return n[1]
        if k == "atom":
            return env[n[1]]
        a = [val(x, env) for x in n[1]]
        if k == "and":
            return all(a)
        if k == "or":
            return any(a)
        if k == "not":
            return not a[0]
        if k == "=>":
            return (not all(a[:-1])) or a[-1]
        if k == "xor":
            return sum(a) % 2 == 1
        if k == "ite":
            return a[1] if a[0] else a[2]
        return a[0] == a[1]  # "=" on Booleans

    import itertools

    return all(val(sk, env) for env in itertools.product((False, True), repeat=len(atoms)))


def _unsubsumed(lemmas: list[Term]) -> list[Term]:
    """Drop ``∀. p => c`` when ``∀. c`` is among ``lemmas`` (it says more)."""
    shapes = {_shape(c) for c in lemmas}
    out = []
    for c in lemmas:
        _, b = split_forall(c)
        if isinstance(b, App) and b.fn == "=>":
            concl = b.args[-1]
            vs = tuple(sorted(free_vars(concl), key=lambda v: v.name))
            if _shape(forall(vs, concl) if vs else concl) in shapes:
                continue
        out.append(c)
    return out
