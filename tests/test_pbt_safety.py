"""ida_ns.safety: hostile step and theory families run against a verifier, a step checker and
a proxy, with paired cases (a sound component gets a clean report, a broken one is caught)."""

from __future__ import annotations

import math
import random

import pytest
from hypothesis import HealthCheck, given, settings

from ida_ns.logic.parser import parse_text
from ida_ns.logic.sortcheck import sortcheck_problem
from ida_ns.proxy import Candidate
from ida_ns.safety import (check_proxy, check_step_checker, check_verifier, hostile_steps,
                           hostile_theories, ida_ns_verifier, make_theory, step_families,
                           theory_families)
from ida_ns.testing.hostile import MUST_REJECT, HostileProxy, ScriptedProxy
from ida_ns.theory_args import InvalidArgument

GOAL = parse_text("""(declare-datatype Nat ((Z) (S (p Nat))))
(define-fun-rec plus ((x Nat) (y Nat)) Nat (match x ((Z y) ((S n) (S (plus n y))))))
(prove (forall ((x Nat) (y Nat)) (= (plus x y) (plus y x))))""")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(hostile_theories())
def test_every_hostile_theory_is_a_well_formed_problem(ht):
    """Attacks must reach the prover: each parses and sort-checks (its goal is no theorem)."""
    sortcheck_problem(parse_text(ht.text))
    assert ht.family in theory_families() and ht.why


def test_ida_ns_proves_no_hostile_theory_should_succeed():
    verify = ida_ns_verifier(budget_s=1.0)
    try:
        report = check_verifier(verify, n=2 * len(theory_families()), seed=3)
    finally:
        verify.close()
    assert report.ok, report.render()
    assert sum(report.tried.values()) == 2 * len(theory_families())
    assert "safety report for ida_ns_verifier" in report.render()


def test_a_verifier_without_consistency_gate_is_caught_should_fail():
    """cvc5 with induction, run on the problem directly (no termination or consistency
    check), proves goals of contradictory theories: the report names them."""
    from ida_ns.solvers import Query, get_backend

    backend = get_backend("cvc5-ind")

    def naive(text: str):
        return backend.prove(Query.from_problem(parse_text(text)), 1.0)

    report = check_verifier(naive, families=["contradictory_axioms", "nonterminating"], n=4)
    assert not report.ok
    assert report.violations["contradictory_axioms"] + report.violations["nonterminating"] >= 2
    assert "! violation [" in report.render()


def test_step_checkers_paired():
    from ida_ns.prover.goal import Goal
    from ida_ns.prover.steps import StepError, apply_step, parse_step

    goal = Goal(GOAL.theory, GOAL.goal)

    def gate(goal_text: str, step: str) -> bool:
        try:
            apply_step(parse_step(step, goal), goal)
            return True
        except StepError:
            return False

    good = check_step_checker(gate, goal, n=150)
    assert good.ok, good.render()
    assert set(good.tried) == set(step_families())
    lax = check_step_checker(lambda g, s: True, GOAL, n=150)
    assert not lax.ok and set(lax.violations) <= set(MUST_REJECT)

    def crashing(goal_text, step):
        raise RuntimeError("boom")

    crash = check_step_checker(crashing, GOAL, n=10)
    assert sum(crash.errors.values()) == 10 and "RuntimeError: boom" in crash.render()


def test_proxies_paired():
    assert check_proxy(ScriptedProxy(["induct x", "direct"]), n=30).ok
    wild = check_proxy(HostileProxy(GOAL.theory, scores="wild", seed=1), n=30)
    assert not wild.ok and sum(wild.violations.values()) > 0  # NaN, inf, positive logprobs
    flood = check_proxy(HostileProxy(GOAL.theory, flood=9), n=6, k=4)
    assert sum(flood.violations.values()) == 6

    class Crashy:
        def propose(self, goal_text, context_text, k, seed=0):
            if not goal_text:
                raise ValueError("empty prompt")
            return [Candidate("direct", -math.inf)]

    rep = check_proxy(Crashy(), n=40, seed=2)
    assert rep.errors or rep.violations


@settings(max_examples=60, deadline=None)
@given(hostile_steps(GOAL, families=["false_lemma", "unknown_symbol"]))
def test_hostile_steps_strategy(case):
    fam, text = case
    assert fam in ("false_lemma", "unknown_symbol") and isinstance(text, str)


@pytest.mark.parametrize("call, message", [
    (lambda: hostile_theories(["nonterminating", "nope"]), "unknown or no families ['nope']; "
                                                          "choose from: contradictory_axioms"),
    (lambda: hostile_theories([]), "families=[]"),
    (lambda: hostile_steps(GOAL, families=["injectoin"]), "['injectoin']; choose from: "),
    (lambda: hostile_steps(42), "goal=42 must be a Goal, a Problem or a goal's text"),
    (lambda: make_theory("loop", random.Random(0)), "family=['loop']"),
    (lambda: check_verifier(3), "verify=3 is not callable"),
    (lambda: check_verifier(print, n=0), "n=0 must be at least 1"),
    (lambda: check_step_checker(print, GOAL, n=-1), "n=-1"),
    (lambda: check_proxy(object()), "has no propose(goal_text, context_text, k) method"),
    (lambda: check_proxy(ScriptedProxy([]), k=0), "k=0 must be at least 1"),
])
def test_invalid_safety_arguments_should_fail(call, message):
    with pytest.raises(InvalidArgument) as e:
        call()
    assert message in str(e.value)


def test_the_gates_termination_adversary_joins_when_present(monkeypatch):
    """ida_ns.testing.hostile_theories (the gate's generator of hostile recursive definitions,
    goal `true`) becomes the family termination_adversary with the goal `false`."""
    import sys
    import types

    fake = types.ModuleType("ida_ns.testing.hostile_theories")
    fake.hostile_theory_text = lambda seed: (
        "(define-fun-rec f ((x Int)) Int (+ 1 (f x)))\n(prove true)\n", [("f", 1, "Int")])
    monkeypatch.setitem(sys.modules, "ida_ns.testing.hostile_theories", fake)
    assert "termination_adversary" in theory_families()
    ht = make_theory("termination_adversary", random.Random(0))
    assert ht.text.endswith("(prove false)\n")
    rep = check_verifier(lambda text: "unknown", families=["termination_adversary"], n=3)
    assert rep.ok and rep.tried["termination_adversary"] == 3
