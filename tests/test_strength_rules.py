"""Soundness of the stronger induction rules (``induct x y``, ``finduct f x̄``), tested
semantically as in test_rules.py: in the bounded semantics (every variable and quantifier
ranges over values of size <= K, a domain closed under subterms), take a counterexample that
is smallest in the lexicographic order / in the call relation: the hypotheses of its case are
instances at smaller tuples, so they hold, and its case subgoal is false.  So whenever a goal
is false in the bounded semantics one of its subgoals must be false there."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ida_ns.logic.ast import App, Sort, Var, eq, forall, free_vars
from ida_ns.logic.evaluate import Evaluator
from ida_ns.logic.parser import parse_text
from ida_ns.logic.values import CtorVal
from ida_ns.prover.goal import Goal, split_forall
from ida_ns.prover.steps import (
    FunInduct, InductMany, StepError, apply_step, function_terminates, parse_step, step_text,
)

THEORY_TEXT = """
(declare-datatypes ((Nat 0)) (((Z) (S (p Nat)))))
(declare-datatypes ((list 0)) (((nil) (cons (head Nat) (tail list)))))
(define-fun-rec plus ((x Nat) (y Nat)) Nat (match x ((Z y) ((S n) (S (plus n y))))))
(define-fun-rec minus ((x Nat) (y Nat)) Nat
  (match x ((Z Z) ((S n) (match y ((Z x) ((S m) (minus n m))))))))
(define-fun-rec le ((x Nat) (y Nat)) Bool
  (match x ((Z true) ((S n) (match y ((Z false) ((S m) (le n m))))))))
(define-fun-rec append ((xs list) (ys list)) list
  (match xs ((nil ys) ((cons h t) (cons h (append t ys))))))
(define-fun-rec len ((xs list)) Nat (match xs ((nil Z) ((cons h t) (S (len t))))))
(define-fun-rec evens ((xs list)) list
  (match xs ((nil nil) ((cons h t) (match t ((nil (cons h nil)) ((cons h2 t2) (cons h (evens t2)))))))))
(define-fun-rec drop ((n Nat) (xs list)) list
  (match n ((Z xs) ((S m) (match xs ((nil nil) ((cons h t) (drop m t))))))))
(define-fun-rec ins ((x Nat) (xs list)) list
  (match xs ((nil (cons x nil))
             ((cons h t) (ite (le x h) (cons x xs) (cons h (ins x t)))))))
(define-fun-rec loop ((x Nat)) Nat (loop (S x)))
"""
PROBLEM = parse_text(THEORY_TEXT + "(prove true)", "<test>")
THEORY = PROBLEM.theory
EV = Evaluator(THEORY)
NAT, LIST = Sort("Nat"), Sort("list")


def _nat(n):
    v = CtorVal("Z")
    for _ in range(n):
        v = CtorVal("S", (v,))
    return v


def _list(xs):
    v = CtorVal("nil")
    for x in reversed(xs):
        v = CtorVal("cons", (_nat(x), v))
    return v


DOMAIN = {  # closed under subterms
    NAT: [_nat(i) for i in range(4)],
    LIST: [_list(xs) for n in range(3) for xs in itertools.product(range(2), repeat=n)],
}


def holds(t, env) -> bool:
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


X, Y = Var("x", NAT), Var("y", NAT)
XS, YS = Var("xs", LIST), Var("ys", LIST)
Z = App("Z", (), NAT)


def nat_terms(depth):
    base = st.sampled_from([X, Y, Z])
    if depth == 0:
        return base
    sub, lsub = nat_terms(depth - 1), list_terms(depth - 1)
    return st.one_of(base, st.builds(lambda a: App("S", (a,), NAT), sub),
                     st.builds(lambda a, b: App("plus", (a, b), NAT), sub, sub),
                     st.builds(lambda a, b: App("minus", (a, b), NAT), sub, sub),
                     st.builds(lambda a: App("len", (a,), NAT), lsub))


def list_terms(depth):
    base = st.sampled_from([XS, YS, App("nil", (), LIST)])
    if depth == 0:
        return base
    sub, nsub = list_terms(depth - 1), nat_terms(depth - 1)
    return st.one_of(base, st.builds(lambda a, b: App("append", (a, b), LIST), sub, sub),
                     st.builds(lambda a: App("evens", (a,), LIST), sub),
                     st.builds(lambda n, a: App("drop", (n, a), LIST), nsub, sub),
                     st.builds(lambda n, a: App("ins", (n, a), LIST), nsub, sub),
                     st.builds(lambda h, t: App("cons", (h, t), LIST), nsub, sub))


equations = st.one_of(st.builds(eq, nat_terms(2), nat_terms(2)),
                      st.builds(eq, list_terms(2), list_terms(2)),
                      st.builds(lambda a, b: App("le", (a, b), Sort("Bool")),
                                nat_terms(2), nat_terms(2)))

SCHEMES = [("plus", (X, Y)), ("minus", (X, Y)), ("le", (X, Y)), ("minus", (Y, X)),
           ("append", (XS, YS)), ("len", (XS,)), ("evens", (XS,)), ("drop", (X, XS)),
           ("drop", (Y, YS)), ("ins", (X, XS)), ("ins", (Y, YS))]


def closed_goal(body) -> Goal:
    vs = tuple(v for v in (X, Y, XS, YS) if v in free_vars(body))
    return Goal(THEORY, forall(vs, body))


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=equations, data=st.data())
def test_fun_induct_is_sound(body, data):
    g = closed_goal(body)
    fn, args = data.draw(st.sampled_from(SCHEMES))
    if not all(a in g.forall_vars for a in args):
        return
    subs = apply_step(FunInduct(fn, tuple(a.name for a in args)), g)
    if not bounded_valid(g):
        assert any(not bounded_valid(s) for s in subs), (fn, g)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=equations, data=st.data())
def test_induct_many_is_sound(body, data):
    g = closed_goal(body)
    if len(g.forall_vars) < 2:
        return
    vs = data.draw(st.permutations(g.forall_vars))[:data.draw(st.integers(2, 3))]
    subs = apply_step(InductMany(tuple(v.name for v in vs)), g)
    if not bounded_valid(g):
        assert any(not bounded_valid(s) for s in subs), (vs, g)


def _goal(text):
    return Goal(THEORY, parse_text(THEORY_TEXT + f"(prove {text})", "<t>").goal)


def test_fun_induct_follows_the_recursion_should_succeed():
    g = _goal("(forall ((x Nat) (y Nat)) (le (minus x y) x))")
    subs = apply_step(parse_step("finduct minus x y", g), g)
    # cases: x=Z; x=S n, y=Z; x=S n, y=S m (with the hypothesis at (n, m))
    assert len(subs) == 3
    with_ih = [s for s in subs if s.hyps]
    assert len(with_ih) == 1 and len(with_ih[0].fixed) == 2
    assert step_text(parse_step("finduct minus x y", g)) == "finduct minus x y"


def test_fun_induct_ite_guard_becomes_a_premise():
    g = _goal("(forall ((x Nat) (xs list)) (= (len (ins x xs)) (S (len xs))))")
    subs = apply_step(FunInduct("ins", ("x", "xs")), g)
    (step,) = [s for s in subs if s.hyps]
    (ih,) = step.hyps
    assert "=>" in str(ih) or "not" in repr(ih)


def test_fun_induct_on_non_terminating_function_should_fail():
    assert not function_terminates(THEORY, "loop")
    g = _goal("(forall ((x Nat)) (= (loop x) Z))")
    with pytest.raises(StepError, match="termination of loop is not established"):
        apply_step(FunInduct("loop", ("x",)), g)


@pytest.mark.parametrize("text,match", [
    ("finduct nosuch x", "not a defined function"),
    ("finduct minus x", "takes 2 arguments"),
    ("finduct minus x x", "named twice"),
    ("finduct minus x xs", "expects Nat"),
    ("finduct minus x q", "unknown variable"),
])
def test_bad_fun_induct_is_rejected_with_a_reason(text, match):
    g = _goal("(forall ((x Nat) (xs list)) (= (len (drop x xs)) (minus (len xs) x)))")
    with pytest.raises(StepError, match=match):
        apply_step(parse_step(text, g), g)


def test_induct_many_gives_lexicographic_hypotheses():
    g = _goal("(forall ((x Nat) (y Nat)) (= (plus x y) (plus y x)))")
    subs = apply_step(parse_step("induct x y", g), g)
    assert len(subs) == 4
    # x = S n, y = S m: hypotheses ∀y. P(n, y) and P(S n, m)
    last = subs[-1]
    assert len(last.hyps) == 2
    assert step_text(parse_step("induct x y", g)) == "induct x y"
    with pytest.raises(StepError, match="named twice"):
        apply_step(parse_step("induct x x", g), g)
