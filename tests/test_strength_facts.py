"""Facts and conditional lemmas calculated from stuck step cases (``== x x``, totality of
``le`` under the case condition), the propositional-triviality filter, case splits on a step
case's recursive field, and the rule that a calculated lemma is proved before it is used."""

from __future__ import annotations

import pytest
from hypothesis import given, settings, strategies as st

from ida_ns.counterexample import find_counterexample
from ida_ns.logic.parser import parse_text
from ida_ns.logic.printer import print_term
from ida_ns.prover.goal import Goal
from ida_ns.prover.overseer import Overseer, recursive_fields
from ida_ns.prover.steps import Cases, Induct, Lemma, apply_step
from ida_ns.prover.stuck import StuckLemmas, trivial

ORD = """
(declare-datatype Nat ((Z) (S (p Nat))))
(declare-datatype list ((nil) (cons (head Nat) (tail list))))
(define-fun-rec eqn ((x Nat) (y Nat)) Bool
  (match x ((Z (match y ((Z true) ((S z) false))))
            ((S x2) (match y ((Z false) ((S y2) (eqn x2 y2))))))))
(define-fun-rec lt ((x Nat) (y Nat)) Bool
  (match y ((Z false) ((S z) (match x ((Z true) ((S x2) (lt x2 z))))))))
(define-fun-rec le ((x Nat) (y Nat)) Bool
  (match x ((Z true) ((S z) (match y ((Z false) ((S y2) (le z y2))))))))
(define-fun-rec elem ((x Nat) (y list)) Bool
  (match y ((nil false) ((cons z xs) (ite (eqn x z) true (elem x xs))))))
(define-fun-rec ins ((x Nat) (y list)) list
  (match y ((nil (cons x nil)) ((cons z xs) (ite (lt x z) (cons x y) (cons z (ins x xs)))))))
(define-fun-rec insort ((x Nat) (y list)) list
  (match y ((nil (cons x nil)) ((cons z xs) (ite (le x z) (cons x y) (cons z (insort x xs)))))))
(define-fun-rec sorted ((x list)) Bool
  (match x ((nil true) ((cons y z) (match z ((nil true) ((cons y2 ys) (and (le y y2) (sorted z)))))))))
"""


def _goal(text: str) -> Goal:
    p = parse_text(ORD + f"(prove {text})", file="<test>")
    return Goal(p.theory, p.goal)


def _texts(lemmas):
    return [print_term(l) for l in lemmas]


def test_fact_reflexivity_from_the_stuck_step_case_should_succeed():
    g = _goal("(forall ((x Nat) (xs list)) (elem x (ins x xs)))")
    step = apply_step(Induct("xs"), g)[1]
    texts = _texts(StuckLemmas(g.theory, limit=3)(step))
    assert texts[0] == "(forall ((x Nat)) (eqn x x))", texts
    # the induction hypothesis (or the goal) again is no news
    assert not any(t.startswith("(forall ((x Nat) (xs1 list)) (elem x (ins x xs1))") or
                   "(elem x (ins x" in t and "=>" not in t for t in texts), texts


def test_conditional_fact_totality_under_the_case_condition_should_succeed():
    g = _goal("(forall ((x Nat) (xs list)) (=> (sorted xs) (sorted (insort x xs))))")
    step = apply_step(Induct("xs"), g)[1]
    assert [v.name for v in recursive_fields(step)] == ["xs1"]
    assert Cases("xs1") in {p.step for p in Overseer().propose(step, 1)}
    nil_case = apply_step(Cases("xs1"), step)[0]
    texts = _texts(StuckLemmas(g.theory, limit=3)(nil_case))
    assert "(forall ((n Nat) (x Nat)) (=> (not (le x n)) (le n x)))" in texts, texts


def test_false_facts_are_never_calculated_should_fail():
    # lt x n, not (eqn x n), ... occur in the stuck case but are false: testing drops them
    g = _goal("(forall ((x Nat) (xs list)) (elem x (ins x xs)))")
    step = apply_step(Induct("xs"), g)[1]
    for lemma in StuckLemmas(g.theory, limit=8)(step):
        assert find_counterexample(g.theory, lemma, trials=500, time_budget_s=2.0) is None, \
            print_term(lemma)
    texts = _texts(StuckLemmas(g.theory, limit=8)(step))
    assert "(forall ((n Nat) (x Nat)) (lt x n))" not in texts
    assert "(forall ((n Nat) (x Nat)) (not (eqn x n)))" not in texts


def test_no_recursive_field_split_outside_step_cases_should_fail():
    g = _goal("(forall ((x Nat) (xs list)) (=> (sorted xs) (sorted (insort x xs))))")
    assert recursive_fields(g) == []  # the root goal: nothing fixed
    base = apply_step(Induct("xs"), g)[0]
    assert recursive_fields(base) == []
    # a Nat head (no hypothesis mentions it) is not split either
    step = apply_step(Induct("xs"), g)[1]
    assert all(v.sort.name == "list" for v in recursive_fields(step))


@pytest.mark.parametrize("text, expect", [
    ("(forall ((g Bool) (n Nat) (x Nat)) (=> g (ite (eqn x n) true g)))", True),
    ("(forall ((g Bool) (h Bool)) (=> (and g h) (or h (le Z Z))))", True),
    ("(forall ((x Nat)) (eqn x x))", False),
    ("(forall ((n Nat) (x Nat)) (=> (not (le x n)) (le n x)))", False),
    ("(forall ((g Bool) (n Nat) (x Nat)) (=> g (ite (eqn x n) g (le x n))))", False),
])
def test_propositionally_trivial_candidates(text, expect):
    assert trivial(_goal(text).concl) is expect


@settings(max_examples=40, deadline=None)
@given(st.sampled_from([
    "(forall ((x Nat) (y Nat)) (le x y))", "(forall ((x Nat) (y Nat)) (=> (le x y) (lt x y)))",
    "(forall ((x Nat)) (lt x x))", "(forall ((x Nat) (y Nat)) (=> (lt x y) (eqn x y)))",
    "(forall ((x Nat) (xs list)) (elem x xs))", "(forall ((x Nat)) (eqn x x))",
    "(forall ((x Nat) (y Nat)) (=> (not (le x y)) (le y x)))"]),
    st.sampled_from(["(forall ((x Nat) (xs list)) (elem x (ins x xs)))",
                     "(forall ((x Nat) (xs list)) (=> (sorted xs) (sorted (insort x xs))))"]))
def test_a_lemma_step_makes_the_lemma_a_subgoal_so_a_false_one_is_never_used(lemma, goal):
    """Soundness of using calculated lemmas: a Lemma step's first subgoal is the lemma on its
    own (no hypotheses, nothing fixed), and the goal gets it only as a hypothesis of the
    second subgoal; so a false lemma can close nothing unless its own subgoal is proved."""
    g = _goal(goal)
    step = apply_step(Induct("xs"), g)[1]
    phi = _goal(lemma).concl
    first, rest = apply_step(Lemma(phi), step)
    assert first.concl == phi and not first.hyps and not first.fixed
    assert phi in rest.hyps and rest.concl == step.concl
