"""Overseer H: the trusted symbolic base policy ("the human" of IDA).

Proposals, best first:

1. ``induct x`` for each universally quantified datatype variable, variables that occur in a
   position a defined function recurses on first (recursion-analysis heuristic);
2. ``generalize t`` for non-variable subterms that occur more than once in the conclusion
   (the classic Boyer-Moore generalisation; the gate tests the result for counterexamples);
3. ``lemma φ`` for conjectures from theory exploration that mention the goal's functions
   (:mod:`ida_ns.prover.explore`), smallest first;
4. ``cases x`` for datatype variables; in a step case, ``cases xs`` on the recursive field
   the induction hypothesis is about (``sorted (cons z xs)`` needs xs nil or cons); and
   induction on fixed variables (by reverting them).

For a variable of a mutual or nested datatype block, ``induct x with C`` (simultaneous
induction with companion properties derived by :mod:`ida_ns.prover.companions`) comes just
before ``induct x``.
"""

from __future__ import annotations

from collections import Counter
from functools import lru_cache
from typing import Callable, Sequence

from ..logic.ast import App, Match, Term, Theory, Var, free_vars, size, subterms
from ..logic.symbols import DEFINED, symbol_table
from .goal import Goal
from .search import Proposal
from .companions import companion_properties
from .steps import (
    Cases, FunInduct, Generalize, Induct, InductMany, Lemma, MutualInduct, step_text,
)

ConjectureSource = Callable[[Goal], Sequence[Term]]


@lru_cache(maxsize=64)
def recursion_positions(theory: Theory) -> dict[str, frozenset[int]]:
    """For each defined function, the parameter positions its body pattern-matches on."""
    out: dict[str, frozenset[int]] = {}
    for d in theory.all_defs():
        idx = {p: i for i, p in enumerate(d.params)}
        pos = set()
        for s in subterms(d.body):
            if isinstance(s, Match) and isinstance(s.scrutinee, Var) and s.scrutinee in idx:
                pos.add(idx[s.scrutinee])
        out[d.name] = frozenset(pos)
    return out


def induction_order(goal: Goal) -> list[Var]:
    table = symbol_table(goal.theory)
    vs = [v for v in goal.forall_vars if table.datatype_of(v.sort) is not None]
    if not vs:
        return []
    rec = recursion_positions(goal.theory)
    score: Counter = Counter()
    for s in subterms(goal.body):
        if isinstance(s, App) and s.fn in rec:
            for i in rec[s.fn]:
                if i < len(s.args) and isinstance(s.args[i], Var):
                    score[s.args[i]] += 1
    order = {v: i for i, v in enumerate(vs)}
    return sorted(vs, key=lambda v: (-score[v], order[v]))


def _recursion_scores(goal: Goal) -> Counter:
    rec = recursion_positions(goal.theory)
    score: Counter = Counter()
    for s in subterms(goal.body):
        if isinstance(s, App) and s.fn in rec:
            for i in rec[s.fn]:
                if i < len(s.args) and isinstance(s.args[i], Var):
                    score[s.args[i]] += 1
    return score


@lru_cache(maxsize=256)
def _interesting_scheme(theory: Theory, fn: str) -> bool:
    """Whether ``fn``'s recursion differs from structural induction on one argument: it
    matches on two or more parameters, matches again on a field (deeper patterns), or recurses
    on an Int parameter; and it terminates (else functional induction is refused anyway)."""
    from .steps import function_terminates

    d = theory.fundef(fn)
    if d is None or not d.recursive or not any(
            isinstance(s, App) and s.fn == fn for s in subterms(d.body)):
        return False
    if not function_terminates(theory, fn):
        return False
    if len(recursion_positions(theory).get(fn, ())) >= 2:
        return True
    if any(p.sort.name == "Int" for p in d.params):
        return True
    params = set(d.params)
    for s in subterms(d.body):
        if isinstance(s, Match) and isinstance(s.scrutinee, Var) and s.scrutinee not in params:
            return True
    return False


def functional_schemes(goal: Goal) -> list:
    """``finduct f x̄`` for calls ``f(x̄)`` in the conclusion, on distinct quantified
    variables, whose recursion is not plain structural recursion on one argument; calls whose
    arguments are recursed on most come first."""
    vs = set(goal.forall_vars)
    rec = _recursion_scores(goal)
    seen, out = set(), []
    for s in subterms(goal.body):
        if not isinstance(s, App) or not s.args or s.fn in seen:
            continue
        if not all(isinstance(a, Var) and a in vs for a in s.args) or \
                len(set(s.args)) != len(s.args):
            continue
        if not _interesting_scheme(goal.theory, s.fn):
            continue
        seen.add(s.fn)
        out.append((-sum(rec[a] for a in s.args), len(out),
                    FunInduct(s.fn, tuple(a.name for a in s.args))))
    return [st for _, _, st in sorted(out, key=lambda x: x[:2])]


def generalization_candidates(goal: Goal, limit: int = 3) -> list[Term]:
    table = symbol_table(goal.theory)
    counts: Counter = Counter()
    for s in subterms(goal.body):
        if isinstance(s, App) and table.kind(s.fn) == DEFINED and free_vars(s):
            if table.datatype_of(s.sort) is not None or s.sort.name in ("Int",):
                counts[s] += 1
    cands = [t for t, c in counts.items() if c >= 2]
    cands.sort(key=lambda t: (-size(t), str(t)))
    return cands[:limit]


def recursive_fields(goal: Goal) -> list[Var]:
    """Fixed variables of a step case that are recursive fields of the induction: of a
    recursive datatype (a constructor has a field of its own sort), occurring both in the
    conclusion and in a hypothesis (the induction hypothesis is about them)."""
    if not goal.hyps or not goal.fixed:
        return []
    table = symbol_table(goal.theory)
    in_concl = free_vars(goal.concl)
    in_hyps: set = set()
    for h in goal.hyps:
        in_hyps |= free_vars(h)
    out = []
    for v in goal.fixed:
        dt = table.datatype_of(v.sort)
        if dt is None or v not in in_concl or v not in in_hyps:
            continue
        if any(fs == v.sort for c in dt.ctors for _, fs in c.fields):
            out.append(v)
    return out


class Overseer:
    """The overseer H as a search policy."""

    name = "H"

    def __init__(self, conjectures: ConjectureSource | None = None, max_lemmas: int = 3,
                 source: str = "H"):
        self.conjectures = conjectures
        self.max_lemmas = max_lemmas
        self.source = source

    def steps(self, goal: Goal, depth: int) -> list[tuple[object, float]]:
        out: list[tuple[object, float]] = []
        order = induction_order(goal)
        for rank, v in enumerate(order):
            companions = companion_properties(goal, v.name)
            if companions:
                out.append((MutualInduct(v.name, companions), -0.1 * rank))
            out.append((Induct(v.name), -0.1 * rank - (0.05 if companions else 0.0)))
        for rank, step in enumerate(functional_schemes(goal)[:2]):
            out.append((step, -0.05 - 0.1 * rank))
        rec = _recursion_scores(goal)
        top = [v for v in order if rec[v] > 0][:2]
        if len(top) == 2:
            out.append((InductMany((top[0].name, top[1].name)), -0.6))
        for rank, t in enumerate(generalization_candidates(goal)):
            out.append((Generalize(t), -1.5 - 0.1 * rank))
        if self.conjectures is not None:
            for rank, c in enumerate(self.conjectures(goal)[: self.max_lemmas]):
                out.append((Lemma(c), -2.0 - 0.2 * rank))
        table = symbol_table(goal.theory)
        if depth < 2:
            for v in goal.forall_vars:
                if table.datatype_of(v.sort) is not None:
                    out.append((Cases(v.name), -2.5))
        for v in recursive_fields(goal):
            # a step case whose induction hypothesis needs the shape of the recursive field
            # (sorted (cons z xs) with xs nil or cons): split on it
            out.append((Cases(v.name), -1.2))
        if not goal.forall_vars:
            for v in goal.fixed:
                if table.datatype_of(v.sort) is not None:
                    companions = companion_properties(goal, v.name)
                    if companions:
                        out.append((MutualInduct(v.name, companions), -0.95))
                    out.append((Induct(v.name), -1.0))
        return out

    def propose(self, goal: Goal, depth: int) -> list[Proposal]:
        return [Proposal(s, step_text(s), score, self.source) for s, score in
                self.steps(goal, depth)]


__all__ = ["Overseer", "induction_order", "generalization_candidates", "recursion_positions"]
