"""A solver's validated counter-model of the root goal is reported as refuted, after the ground
evaluator re-checks it (random testing cannot reach values like 10^6000)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings, strategies as st

from ida_ns.logic.parser import parse_text
from ida_ns.prover.goal import Goal
from ida_ns.prover.prover import ProverConfig, prove_problem
from ida_ns.prover.refute import recheck_refutation
from ida_ns.prover.verify import Checker
from ida_ns.verdict import Refuted

BIG = "1" + "0" * 6000


@pytest.fixture(scope="module")
def z3pool():
    from ida_ns.solvers.pool import SolverPool

    with SolverPool("z3", workers=1, timeout_s=3.0) as p:
        yield p


def _prove(text, pool):
    problem = parse_text(text)
    cfg = ProverConfig(budget_s=4.0, explore=False, stuck_lemmas=0)
    return prove_problem(problem, Checker.from_pool(pool, leaf_timeout_s=1.0), cfg)


def test_false_goal_beyond_random_testing_is_refuted_should_succeed(z3pool):
    res = _prove(f"(prove (forall ((x Int)) (=> (> x {BIG}) (< x 0))))", z3pool)
    assert res.status == "refuted"
    (name, value), = res.verdict.counterexample
    assert name == "x" and value.isdigit() and len(value) >= len(BIG)
    assert res.verdict.solver == "z3"


def test_refutation_is_reported_after_a_search_that_runs_its_course(z3pool):
    problem = parse_text(f"(prove (forall ((x Int)) (=> (> x {BIG}) (< x 0))))")
    cfg = ProverConfig(budget_s=1.5, explore=False, stuck_lemmas=0, stop_on_refuted=False)
    res = prove_problem(problem, Checker.from_pool(z3pool, leaf_timeout_s=0.5), cfg)
    assert res.status == "refuted" and res.verdict.counterexample[0][0] == "x"


def test_true_goal_beyond_random_testing_is_not_refuted_should_fail(z3pool):
    res = _prove(f"(prove (forall ((x Int)) (=> (> x {BIG}) (> x 0))))", z3pool)
    assert res.status == "proved"


def test_false_goal_over_a_datatype_is_refuted_with_a_rechecked_model(z3pool):
    text = """(declare-datatype Nat ((Z) (S (p Nat))))
(define-fun-rec plus ((x Nat) (y Nat)) Nat (match x ((Z y) ((S n) (S (plus n y))))))
(prove (forall ((x Nat) (k Int)) (=> (> k 7000000000000) (= (plus x x) x))))"""
    res = _prove(text, z3pool)
    assert res.status == "refuted"
    assert dict(res.verdict.counterexample)["k"].isdigit()


def _goal(text):
    p = parse_text(text)
    return Goal(p.theory, p.goal)


def test_recheck_accepts_a_real_counter_model_should_succeed():
    g = _goal(f"(prove (forall ((x Int)) (=> (> x {BIG}) (< x 0))))")
    ok, why = recheck_refutation(g, Refuted((("x", BIG + "1"),), solver="z3"))
    assert ok, why


@pytest.mark.parametrize("cex, reason", [
    ((("x", "5"),), "holds"),  # the hypothesis is false there: no counterexample
    ((("x", "(- 3)"),), "holds"),
    ((("y", BIG + "1"),), "binds no value"),
    ((("x", "true"),), "not re-checked"),  # ill-sorted
    ((("x", "(+ x 1)"),), "not re-checked"),  # not ground
    ((("x", "(("),), "not re-checked"),
])
def test_recheck_refuses_a_bogus_counter_model_should_fail(cex, reason):
    g = _goal(f"(prove (forall ((x Int)) (=> (> x {BIG}) (< x 0))))")
    ok, why = recheck_refutation(g, Refuted(cex, solver="z3"))
    assert not ok and reason in why


@settings(max_examples=60, deadline=None)
@given(a=st.integers(-10**30, 10**30), b=st.integers(-10**30, 10**30),
       x=st.integers(-10**31, 10**31))
def test_recheck_refutes_exactly_when_the_goal_is_false_at_the_model(a, b, x):
    """Soundness: the re-check says refuted exactly when the goal is false at the values."""
    def num(n):
        return str(n) if n >= 0 else f"(- {-n})"

    g = _goal(f"(prove (forall ((x Int)) (=> (> x {num(a)}) (> x {num(b)}))))")
    ok, _ = recheck_refutation(g, Refuted((("x", num(x)),), solver="z3"))
    assert ok == (x > a and not x > b)


def test_cli_prove_reports_the_rechecked_refutation(tmp_path):
    import json
    import os
    import subprocess
    import sys

    false, true = tmp_path / "false.smt2", tmp_path / "true.smt2"
    false.write_text(f"(assert (not (forall ((x Int)) (=> (> x {BIG}) (< x 0)))))\n")
    true.write_text(f"(assert (not (forall ((x Int)) (=> (> x {BIG}) (> x 0)))))\n")
    from pathlib import Path

    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[1]),
               OMP_NUM_THREADS="1")
    rows = []
    for f in (false, true):
        r = subprocess.run([sys.executable, "-m", "ida_ns.cli", "prove", str(f), "--budget",
                            "5", "--json"], capture_output=True, text=True, timeout=120,
                           env=env)
        assert "Traceback" not in r.stderr
        rows.append((r.returncode, json.loads(r.stdout.strip().splitlines()[-1])))
    (code_f, row_f), (code_t, row_t) = rows
    assert code_f == 1 and row_f["status"] == "refuted"
    assert len(row_f["counterexample"]["x"]) > 6000
    assert code_t == 0 and row_t["status"] == "proved"
