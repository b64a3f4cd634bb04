"""Soundness of the step rules (``apply_step``), tested semantically.

Bounded semantics: every variable and every quantifier ranges over the values of size <= K.
For structural induction and case splits the rule is sound in this semantics too (take a
smallest counterexample: its fields are smaller, so the induction hypotheses hold on the whole
bounded domain).  So: whenever a goal is false in the bounded semantics, one of its subgoals
must be false there.  Generalize and Lemma are checked the same way.
"""

from __future__ import annotations

import itertools

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ida_ns.logic.ast import App, Quant, Sort, Var, eq, forall, free_vars
from ida_ns.logic.evaluate import Evaluator
from ida_ns.logic.values import CtorVal
from ida_ns.prover.goal import Goal, split_forall
from ida_ns.prover.steps import (
    Cases, Direct, Generalize, Induct, Lemma, StepError, apply_step, parse_step, step_text,
)

from prover_fixtures import problem

NAT, LIST = Sort("Nat"), Sort("list")
THEORY = problem("true").theory
EV = Evaluator(THEORY)


def _nat(n):
    v = CtorVal("Z")
    for _ in range(n):
        v = CtorVal("S", (v,))
    return v


def _lst(xs):
    v = CtorVal("nil")
    for x in reversed(xs):
        v = CtorVal("cons", (_nat(x), v))
    return v


DOMAIN = {
    NAT: [_nat(i) for i in range(4)],
    LIST: [_lst(list(xs)) for n in range(3) for xs in itertools.product(range(2), repeat=n)],
}


def holds(t, env) -> bool:
    """Bounded truth: quantifiers range over DOMAIN."""
    vs, body = split_forall(t)
    for vals in itertools.product(*(DOMAIN[v.sort] for v in vs)):
        if not EV.eval(body, {**env, **dict(zip(vs, vals))}):
            return False
    return True


def bounded_valid(g: Goal) -> bool:
    for vals in itertools.product(*(DOMAIN[v.sort] for v in g.fixed)):
        env = dict(zip(g.fixed, vals))
        if all(holds(h, env) for h in g.hyps) and not holds(g.concl, env):
            return False
    return True


# ---- random goals over the theory -----------------------------------------------------
X, Y = Var("x", NAT), Var("y", NAT)
XS, YS = Var("xs", LIST), Var("ys", LIST)


def nat_terms(depth):
    base = st.sampled_from([X, Y, App("Z", (), NAT)])
    if depth == 0:
        return base
    sub, lsub = nat_terms(depth - 1), list_terms(depth - 1)
    return st.one_of(base, st.builds(lambda a: App("S", (a,), NAT), sub),
                     st.builds(lambda a, b: App("plus", (a, b), NAT), sub, sub),
                     st.builds(lambda a: App("len", (a,), NAT), lsub))


def list_terms(depth):
    base = st.sampled_from([XS, YS, App("nil", (), LIST)])
    if depth == 0:
        return base
    sub, nsub = list_terms(depth - 1), nat_terms(depth - 1)
    return st.one_of(base, st.builds(lambda a, b: App("append", (a, b), LIST), sub, sub),
                     st.builds(lambda a: App("rev", (a,), LIST), sub),
                     st.builds(lambda h, t: App("cons", (h, t), LIST), nsub, sub))


equations = st.one_of(st.builds(eq, nat_terms(2), nat_terms(2)),
                      st.builds(eq, list_terms(2), list_terms(2)))


def closed_goal(body) -> Goal:
    vs = tuple(v for v in (X, Y, XS, YS) if v in free_vars(body))
    return Goal(THEORY, forall(vs, body))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=equations, data=st.data())
def test_induct_and_cases_are_sound(body, data):
    g = closed_goal(body)
    if not g.forall_vars:
        return
    v = data.draw(st.sampled_from(g.forall_vars))
    for step in (Induct(v.name), Cases(v.name)):
        subs = apply_step(step, g)
        if not bounded_valid(g):
            assert any(not bounded_valid(s) for s in subs), (step, g)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=equations, lemma=equations)
def test_lemma_is_sound(body, lemma):
    g = closed_goal(body)
    lem = closed_goal(lemma).concl
    try:
        subs = apply_step(Lemma(lem), g)
    except StepError:
        return
    if not bounded_valid(g):
        assert any(not bounded_valid(s) for s in subs)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=equations, data=st.data())
def test_generalize_is_sound(body, data):
    """∀v. B[t:=v] implies B: at any counterexample of the goal, v := t is one of the
    generalized goal (checked pointwise, since t's value may leave the bounded domain)."""
    g = closed_goal(body)
    from ida_ns.logic.ast import subterms

    cands = [s for s in subterms(body) if isinstance(s, App) and s.args]
    if not cands:
        return
    t = data.draw(st.sampled_from(cands))
    try:
        (sub,) = apply_step(Generalize(t), g)
    except StepError:
        return
    vs, b = split_forall(g.concl)
    svs, sb = split_forall(sub.concl)
    new_var = svs[-1]
    for vals in itertools.product(*(DOMAIN[v.sort] for v in vs)):
        env = dict(zip(vs, vals))
        if not EV.eval(b, env):
            env2 = {**env, new_var: EV.eval(t, env)}
            assert not EV.eval(sb, {k: env2[k] for k in env2 if k in free_vars(sb)})


def test_induct_on_nat_gives_base_and_step_with_ih():
    g = Goal(THEORY, problem("(forall ((x Nat)) (= (plus x Z) x))").goal)
    base, step = apply_step(Induct("x"), g)
    assert not base.hyps and not base.fixed
    assert len(step.fixed) == 1 and len(step.hyps) == 1
    assert isinstance(step.hyps[0], App) and step.hyps[0].fn == "="


def test_induct_on_fixed_variable_reverts_its_hypotheses():
    g = Goal(THEORY, problem("(forall ((x Nat)) (= (plus x Z) x))").goal)
    _, step = apply_step(Induct("x"), g)
    n = step.fixed[0]
    subs = apply_step(Induct(n.name), step)
    assert len(subs) == 2
    for s in subs:
        assert n not in s.fixed


def test_bad_steps_are_rejected_with_a_reason():
    g = Goal(THEORY, problem("(forall ((x Nat) (xs list)) (= (len xs) (len xs)))").goal)
    for text, msg in [("induct q", "unknown variable"), ("cases", "unrecognised"),
                      ("lemma (= x", "lemma"), ("lemma (plus x x)", "lemma"),
                      ("generalize (len ys)", "generalize"),
                      ("lemma x) (assert false", "lemma"),
                      ("explode everything", "unrecognised"), ("x" * 5000, "too long")]:
        with pytest.raises(StepError, match=msg):
            parse_step(text, g)
    with pytest.raises(StepError, match="not a datatype"):
        apply_step(Induct("b"), Goal(THEORY, problem(
            "(forall ((b Bool)) (or b (not b)))").goal))
    with pytest.raises(StepError, match="free variables"):
        apply_step(Lemma(eq(X, X)), g)
    with pytest.raises(StepError, match="circular"):
        apply_step(Lemma(g.concl), g)


def test_step_text_round_trips():
    g = Goal(THEORY, problem("(forall ((xs list) (ys list)) "
                             "(= (len (append xs ys)) (len (append ys xs))))").goal)
    lemma = problem("(forall ((a list) (b list)) (= (len (append a b)) (plus (len a) (len b))))")
    for step in (Direct(), Induct("xs"), Cases("ys"), Lemma(lemma.goal),
                 Generalize(App("append", (XS, YS), LIST))):
        assert parse_step(step_text(step), g) == step


def test_quantified_goal_helpers():
    g = Goal(THEORY, problem("(forall ((x Nat)) (= x x))").goal)
    assert isinstance(g.concl, Quant)
    assert [v.name for v in g.forall_vars] == ["x"]
