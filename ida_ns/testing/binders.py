"""Hostile binders against the step rule: goals whose binder names clash with fixed variables,
hypotheses' names, the rules' own fresh-name bases, constructors and theory symbols, and random
steps on them, judged in a bounded semantics.

The judge: every variable and every quantifier (nested ones too) ranges over the Nat values of
size < ``K`` (``Z``, ``S Z``, ...).  That domain is closed under taking fields, so structural
induction and case splits are sound in it (a smallest counterexample's fields are smaller), and
so are lemmas and reverting hypotheses.  Hence for every step the rule accepts: if the parent
goal is false in the bounded semantics, some subgoal is false there.  A step whose subgoals are
all bounded-valid while its parent is not is a soundness violation of
:func:`ida_ns.prover.steps.apply_step` (a rule that captures a variable, drops a hypothesis, or
instantiates the wrong binder shows up this way).  ``Generalize`` is judged pointwise, because
the generalised term's value may leave the bounded domain: at each bounded counterexample of
the parent, the new variable set to that value must falsify the subgoal.

Everything is driven by a :class:`random.Random`, so Hypothesis (``st.randoms()``) and the
trust benchmark run the same family.
"""

from __future__ import annotations

import itertools
import random
from collections import Counter
from dataclasses import dataclass

from ida_ns.logic.ast import (
    App, Quant, Sort, Term, Theory, Var, and_, eq, forall, free_vars, implies, not_, or_,
    subterms,
)

NAT = Sort("Nat")
K = 3  # bounded domain: the Nat values of size < K

THEORY_TEXT = """
(declare-datatypes ((Nat 0)) (((Z) (S (p Nat)))))
(define-fun-rec plus ((x Nat) (y Nat)) Nat (match x ((Z y) ((S n) (S (plus n y))))))
(define-fun-rec double ((x Nat)) Nat (match x ((Z Z) ((S n) (S (S (double n)))))))
"""

# Names a hostile goal draws its variables from: the rules' fresh-name bases ("n" for Nat
# fields, "g" for generalisation), names with digits (the fresh supply's suffixes), and the
# theory's own symbols (a constructor, a selector, defined functions, a parameter name).
NAME_POOL = ("n", "n1", "n2", "y", "m", "g", "g1", "x", "Z", "S", "p", "plus", "double")


def theory() -> Theory:
    from ida_ns.logic.parser import parse_text

    return parse_text(THEORY_TEXT + "(prove true)", file="<binders>").theory


Z = App("Z", (), NAT)


def S(t: Term) -> Term:
    return App("S", (t,), NAT)


def nat(k: int) -> Term:
    t = Z
    for _ in range(k):
        t = S(t)
    return t


# ---------------------------------------------------------------------------------------------
# The bounded judge


class Bounded:
    """Truth of formulas when every quantifier ranges over the Nat values of size < K.

    Boolean structure and quantifiers are interpreted here; atoms (no quantifier inside) go
    to the ground evaluator."""

    def __init__(self, th: Theory, k: int = K):
        from ida_ns.logic.evaluate import Evaluator

        self.ev = Evaluator(th)
        self.domain = [self.ev.eval(nat(i)) for i in range(k)]
        self._facts: dict[int, tuple] = {}  # id(term) -> (term, has a quantifier, free vars)

    def _info(self, t: Term) -> tuple:
        hit = self._facts.get(id(t))
        if hit is None or hit[0] is not t:
            if len(self._facts) > 200_000:
                self._facts.clear()
            hit = self._facts[id(t)] = (t, any(isinstance(s, Quant) for s in subterms(t)),
                                        tuple(free_vars(t)))
        return hit

    def holds(self, t: Term, env: dict) -> bool:
        if isinstance(t, Quant):
            want = t.kind == "forall"
            for vals in itertools.product(self.domain, repeat=len(t.vars)):
                inner = {**env, **dict(zip(t.vars, vals))}
                if self.holds(t.body, inner) is not want:
                    return not want
            return want
        _, quantified, fvs = self._info(t)
        if isinstance(t, App) and t.fn in ("and", "or", "not", "=>") and quantified:
            vals = [self.holds(a, env) for a in t.args]
            if t.fn == "and":
                return all(vals)
            if t.fn == "or":
                return any(vals)
            if t.fn == "not":
                return not vals[0]
            return (not vals[0]) or vals[1]
        return bool(self.ev.eval(t, {v: env[v] for v in fvs}))

    def envs(self, vs) -> list[dict]:
        return [dict(zip(vs, vals)) for vals in itertools.product(self.domain, repeat=len(vs))]

    def counterexample(self, goal) -> dict | None:
        """An assignment of the fixed variables making every hypothesis true and the
        conclusion false, in the bounded semantics (None: the goal is bounded-valid)."""
        for env in self.envs(goal.fixed):
            if all(self.holds(h, env) for h in goal.hyps) and not self.holds(goal.concl, env):
                return env
        return None


# ---------------------------------------------------------------------------------------------
# Hostile goals and steps


class _Gen:
    def __init__(self, rng: random.Random):
        self.r = rng

    def name(self, taken: set[str] = frozenset()) -> str:
        free = [n for n in NAME_POOL if n not in taken]
        return self.r.choice(free or list(NAME_POOL))

    def term(self, scope: dict[str, Var], depth: int) -> Term:
        r = self.r
        leaves = list(scope.values())
        if depth <= 0 or r.random() < 0.35:
            if leaves and r.random() < 0.75:
                return r.choice(leaves)
            return nat(r.randint(0, 1))
        k = r.random()
        if k < 0.4:
            return S(self.term(scope, depth - 1))
        if k < 0.8:
            return App("plus", (self.term(scope, depth - 1), self.term(scope, depth - 1)), NAT)
        return App("double", (self.term(scope, depth - 1),), NAT)

    def atom(self, scope: dict[str, Var]) -> Term:
        a, b = self.term(scope, 2), self.term(scope, 1)
        return eq(a, b) if self.r.random() < 0.7 else not_(eq(a, b))

    def formula(self, scope: dict[str, Var], depth: int = 2, quant: bool = True) -> Term:
        """A formula over ``scope``; nested quantifiers bind names from the pool (so they
        shadow fixed variables, other binders, and theory symbols' names)."""
        r = self.r
        if depth <= 0:
            return self.atom(scope)
        k = r.random()
        if quant and k < 0.3:
            vs = self.binders(1)
            inner = {**scope, **{v.name: v for v in vs}}
            return Quant(r.choice(["forall", "forall", "exists"]), vs,
                         self.formula(inner, depth - 1, quant=False))
        if k < 0.55:
            return or_(self.formula(scope, depth - 1, quant), self.formula(scope, 0))
        if k < 0.7:
            return and_(self.formula(scope, depth - 1, quant), self.formula(scope, 0))
        if k < 0.85:
            return implies(self.formula(scope, 0), self.formula(scope, depth - 1, quant))
        return self.atom(scope)

    def binders(self, n: int, prefer: tuple[str, ...] = ()) -> tuple[Var, ...]:
        """``n`` binders; with ``prefer`` (names of fixed variables), mostly those names."""
        taken: set[str] = set()
        out = []
        for _ in range(n):
            pick = [x for x in prefer if x not in taken]
            nm = self.r.choice(pick) if pick and self.r.random() < 0.85 else self.name(taken)
            taken.add(nm)
            out.append(Var(nm, NAT))
        return tuple(out)

    def goal(self, th: Theory):
        from ida_ns.prover.goal import Goal

        r = self.r
        if r.random() < 0.4:
            return self.capture_shape(th)
        fixed = self.binders(r.randint(0, 3))
        scope = {v.name: v for v in fixed}
        hyps = tuple(self.formula(scope, r.randint(0, 2)) for _ in range(r.randint(0, 2)))
        # The conclusion's binders are drawn from the same pool: they often carry a fixed
        # variable's name (shadowing it in the conclusion, not in the hypotheses).
        vs = self.binders(r.randint(1, 2), tuple(scope))
        inner = {**scope, **{v.name: v for v in vs}}
        body = self.formula(inner, 2)
        if hyps and r.random() < 0.7:
            # The conclusion restates a hypothesis: the same names, but where a binder
            # shadows a fixed variable they now mean the binder (a capture would make the
            # two the same and the goal trivial).
            h = r.choice(hyps)
            body = r.choice([h, or_(h, self.atom(inner)), and_(h, self.atom(inner))])
        return Goal(th, forall(vs, body), hyps, fixed)

    def capture_shape(self, th: Theory):
        """The shape a capturing revert turns into a tautology: fixed ``a b``, a hypothesis
        ``H(a, b)``, and a conclusion ``∀ b. H(a, b)`` whose binder ``b`` is a new variable
        that merely shares the fixed one's name (reverting ``a`` must not identify them)."""
        from ida_ns.prover.goal import Goal

        r = self.r
        fixed = self.binders(r.randint(2, 3))
        scope = {v.name: v for v in fixed}
        a, b = r.sample(fixed, 2)
        pair = {a.name: a, b.name: b}
        h = self.atom(pair) if r.random() < 0.5 else self.formula(scope, 1, quant=False)
        if not {a, b} <= free_vars(h):
            h = or_(eq(b, self.term({a.name: a}, 1)), h) if r.random() < 0.5 else and_(
                not_(eq(b, self.term({a.name: a}, 1))), h)
        hyps = (h,) + ((self.formula(scope, 1),) if r.random() < 0.3 else ())
        body = r.choice([h, h, or_(h, self.atom(scope)), and_(h, self.atom(scope))])
        return Goal(th, forall((b,), body), hyps, fixed)

    def step(self, goal):
        from ida_ns.prover.steps import Cases, Generalize, Induct, Lemma

        r = self.r
        names = sorted(set(goal.scope()) | {v.name for v in goal.fixed})
        risky = self.risky_reverts(goal)
        if risky and r.random() < 0.8:
            return Induct(r.choice(risky))
        k = r.random()
        if names and k < 0.55:
            return (Induct if r.random() < 0.65 else Cases)(r.choice(names))
        if k < 0.85:
            # A lemma over the fixed variables whose own binders reuse their names.
            scope = {v.name: v for v in goal.fixed}
            vs = self.binders(r.randint(1, 2), tuple(scope))
            body = self.formula({**scope, **{v.name: v for v in vs}}, 2)
            return Lemma(forall(vs, body))
        cands = [s for s in subterms(goal.body) if isinstance(s, App) and s.sort == NAT
                 and s.args]
        if not cands:
            return Induct(r.choice(names)) if names else Lemma(eq(Z, Z))
        return Generalize(r.choice(cands))


    @staticmethod
    def risky_reverts(goal) -> list[str]:
        """Fixed variables whose revert moves a hypothesis under a binder named like a
        variable that hypothesis mentions (the capture hazard)."""
        bound = {v.name for v in goal.forall_vars}
        out = []
        for x in goal.fixed:
            if x.name in bound:
                continue
            for h in goal.hyps:
                names = {v.name for v in free_vars(h)}
                if x.name in names and names & bound:
                    out.append(x.name)
                    break
        return out


@dataclass
class Violation:
    goal: str
    step: str
    detail: str


def judge_step(judge: Bounded, goal, step, subgoals, counterexample=None) -> str | None:
    """Why ``subgoals`` do not imply ``goal`` in the bounded semantics, or None.
    ``counterexample`` replaces ``judge.counterexample`` (a memo, say)."""
    from ida_ns.prover.goal import split_forall
    from ida_ns.prover.steps import Generalize

    counterexample = counterexample or judge.counterexample
    cex = counterexample(goal)
    if cex is None:
        return None  # a valid parent: any subgoals will do
    if isinstance(step, Generalize):
        (sub,) = subgoals
        vs, body = split_forall(goal.concl)
        svs, sbody = split_forall(sub.concl)
        new = svs[-1]
        for env in judge.envs(vs):
            env = {**cex, **env}
            if judge.holds(body, env):
                continue
            env2 = {**env, new: judge.ev.eval(step.term, {v: env[v]
                                                         for v in free_vars(step.term)})}
            if judge.holds(sbody, env2):
                return (f"generalize: parent false at {_show(env)} but the subgoal holds with "
                        f"{new.name} = its value")
            return None
        return None
    for s in subgoals:
        if counterexample(s) is not None:
            return None
    return f"parent false at {_show(cex)} but all {len(subgoals)} subgoals bounded-valid"


def _show(env: dict) -> str:
    from ida_ns.logic.values import show_value

    return ", ".join(f"{v.name} = {show_value(x)}" for v, x in env.items()) or "(no variables)"


def run_binder_family(rng: random.Random, th: Theory | None = None, judge: Bounded | None = None,
                      walk: int = 4, counts: Counter | None = None) -> list[Violation]:
    """One hostile goal and a walk of up to ``walk`` random steps down its subgoals; every
    accepted step is judged.  ``counts`` gets ``steps``, ``accepted``, ``rejected``, ``reverts``
    (steps that reverted a fixed variable)."""
    from ida_ns.prover.steps import Cases, Induct, StepError, apply_step, step_text

    th = th or theory()
    judge = judge or Bounded(th)
    counts = counts if counts is not None else Counter()
    gen = _Gen(rng)
    goal = gen.goal(th)
    bad: list[Violation] = []
    memo: dict = {}

    def cex(g):
        k = (g.concl, g.hyps, g.fixed)
        if k not in memo:
            memo[k] = judge.counterexample(g)
        return memo[k]

    for _ in range(walk):
        step = gen.step(goal)
        counts["steps"] += 1
        try:
            subs = apply_step(step, goal)
        except StepError:
            counts["rejected"] += 1
            continue
        counts["accepted"] += 1
        if isinstance(step, (Induct, Cases)) and step.var not in {
                v.name for v in goal.forall_vars} and any(step.var == v.name
                                                          for v in goal.fixed):
            counts["reverts"] += 1
        why = judge_step(judge, goal, step, subs, cex)
        if why is not None:
            bad.append(Violation(goal.text(), step_text(step), why))
        if not subs:
            break
        # An adversary follows a false branch: that is where a proof of a false goal must go.
        false = [s for s in subs if cex(s) is not None]
        goal = rng.choice(false if false and rng.random() < 0.8 else subs)
    return bad
