"""The interactive proof session (LeanDojo-style) and the human overseer as a search policy.

Paired cases: each accepted step has a rejected twin; a rejection is located (goal id, the
offending text) and leaves the session unchanged; a finished session's certificate passes
``check-proof``; a property family drives random step sequences and checks that whatever the
session lets finish is a valid certificate."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ida_ns.prover.certificate import check_certificate
from ida_ns.prover.steps import Induct, Lemma
from ida_ns.prover.verify import Checker
from ida_ns.session import Closed, Progress, ProofSession, Rejected, SessionError

PLUS = (Path(__file__).resolve().parent / "data" / "plus_comm.smt2").read_text()
LEMMA_Z = "lemma (forall ((y Nat)) (= (plus y Z) y))"
LEMMA_S = "lemma (forall ((a Nat) (b Nat)) (= (plus a (S b)) (S (plus a b))))"


@pytest.fixture(scope="module")
def pool():
    from ida_ns.solvers.pool import SolverPool

    with SolverPool("z3", workers=1, timeout_s=0.5) as p:
        yield p


def session(pool, text=PLUS, **kw) -> ProofSession:
    return ProofSession.open(text, checker=Checker.from_pool(pool, leaf_timeout_s=0.5), **kw)


def finish_plus(s: ProofSession) -> None:
    for step in ("induct x", LEMMA_Z, "induct y", LEMMA_S, "induct a"):
        r = s.apply(step)
        assert isinstance(r, Progress), r
    assert s.finished


def test_proof_by_text_steps_exports_a_certificate_check_proof_accepts(pool, tmp_path):
    s = session(pool)
    assert [g.id for g in s.goals] == [0]
    finish_plus(s)
    cert = tmp_path / "c.json"
    s.save_certificate(cert)
    rep = check_certificate(cert, prove_many=pool.prove_many)
    assert rep.ok, rep.render()
    assert rep.steps == 11 and rep.leaves == 6


def test_typed_steps_and_text_steps_agree(pool):
    from ida_ns.logic.parser import parse_term

    a, b = session(pool), session(pool)
    ra = a.apply("induct x")
    rb = b.apply(Induct("x"))
    assert [g.goal for g in ra.new_goals] == [g.goal for g in rb.new_goals]
    g1 = b.goals[0]
    lemma = parse_term("(forall ((y Nat)) (= (plus y Z) y))", g1.goal.theory, {})
    assert isinstance(b.apply(Lemma(lemma), goal=g1.id), Progress)
    assert isinstance(a.apply(LEMMA_Z, goal=g1.id), Progress)
    assert [g.goal for g in a.goals] == [g.goal for g in b.goals]


@pytest.mark.parametrize("good,bad,why", [
    ("induct x", "induct z", "unknown variable 'z'"),
    ("induct x", "induct (x)", "induct"),
    ("cases x", "cases y y", "unrecognised step"),
    ("lemma (forall ((y Nat)) (= (plus y Z) y))", "lemma (forall ((y Nat)) (= (plus y Z) (S y)))",
     "counterexample"),
    ("lemma (forall ((y Nat)) (= (plus y Z) y))", "lemma (forall ((y Nat)) (= (plus y Q) y))",
     "lemma:"),
    ("induct x", "generalize (plus y y)", "does not occur"),
    ("induct x", "generalize (plus x y)", "generalized goal has a counterexample"),
])
def test_paired_accept_and_reject_with_the_session_unchanged(pool, good, bad, why):
    s = session(pool)
    if good.startswith("lemma"):
        s.apply("induct x")
    before = [(g.id, g.goal) for g in s.goals]
    r = s.apply(bad)
    assert isinstance(r, Rejected), r
    assert why in r.reason and r.goal_id == before[0][0] and r.step == bad
    assert [(g.id, g.goal) for g in s.goals] == before  # unchanged
    assert isinstance(s.apply(good), Progress)


def test_a_false_lemma_is_rejected_with_its_counterexample(pool):
    s = session(pool)
    s.apply("induct x")
    r = s.apply("lemma (forall ((y Nat)) (= (plus y Z) (S y)))")
    assert isinstance(r, Rejected) and dict(r.counterexample) == {"y": "Z"}
    assert "counterexample: y = Z" in r.render()
    assert s.counterexample() is None  # the open goal itself is true
    t = s.tree()
    assert t["children"][0]["rejected"][0]["cex"] == {"y": "Z"}


def test_direct_closes_only_what_the_solver_proves(pool):
    s = session(pool, auto_close=False)
    s.apply("induct x")
    z_case, s_case = s.goals
    r = s.apply("direct", goal=s_case.id)
    assert isinstance(r, Rejected) and "could not close" in r.reason
    s.apply(LEMMA_Z, goal=z_case.id)
    closing = [g for g in s.goals if g.goal.hyps][0]  # the goal with the lemma as hypothesis
    assert isinstance(s.apply("direct", goal=closing.id), Closed)


def test_undo_and_goal_ids(pool):
    s = session(pool)
    assert s.undo() is None
    s.apply("induct x")
    open_before = [g.id for g in s.goals]
    s.apply(LEMMA_Z)
    assert s.undo() == open_before[0]
    assert [g.id for g in s.goals] == open_before
    for bad in (99, -1, "1", 0, True):
        r = s.apply("induct y", goal=bad)
        assert isinstance(r, Rejected) and "is not open" in r.reason
    with pytest.raises(SessionError, match="not finished"):
        s.proof()


def test_a_theory_not_known_consistent_is_refused():
    text = ("(define-fun-rec f ((x Int)) Int (+ (f (- x 1)) 1))\n"
            "(prove (forall ((x Int)) (= (f x) (f x))))")
    with pytest.raises(SessionError, match="theory"):
        ProofSession.open(text, leaf_timeout_s=1.0)


STEPS = ["induct x", "induct y", "cases x", "cases y", "direct", LEMMA_Z, LEMMA_S,
         "induct a", "induct b", "lemma (forall ((y Nat)) (= (plus y Z) (S y)))",
         "generalize (plus x y)", "lemma (= x x)", "undo", "induct n", "cases n"]


def _whatever_a_session_finishes_is_a_valid_certificate(pool, tmp_path, actions):
    s = session(pool)
    for text, k in actions:
        if s.finished:
            break
        if text == "undo":
            s.undo()
            continue
        gs = s.goals
        before = [(g.id, g.goal) for g in gs]
        r = s.apply(text, goal=gs[k % len(gs)].id)
        if isinstance(r, Rejected):
            assert [(g.id, g.goal) for g in s.goals] == before
    if not s.finished:
        finish_rest(s)
    if s.finished:
        cert = tmp_path / "p.json"
        s.save_certificate(cert)
        rep = check_certificate(cert, prove_many=pool.prove_many)
        assert rep.ok, rep.render()



_ACTIONS = st.lists(st.tuples(st.sampled_from(STEPS), st.integers(0, 3)), max_size=10)
_SETTINGS = dict(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                      HealthCheck.too_slow])


@settings(max_examples=3, **_SETTINGS)
@given(_ACTIONS)
def test_property_whatever_a_session_finishes_is_a_valid_certificate(pool, tmp_path, actions):
    _whatever_a_session_finishes_is_a_valid_certificate(pool, tmp_path, actions)


@pytest.mark.slow
@settings(max_examples=40, **_SETTINGS)
@given(_ACTIONS)
def test_property_whatever_a_session_finishes_is_a_valid_certificate_many(pool, tmp_path,
                                                                          actions):
    _whatever_a_session_finishes_is_a_valid_certificate(pool, tmp_path, actions)


def finish_rest(s: ProofSession) -> None:
    """Close what is left with the steps of the known proof, where they apply."""
    for _ in range(12):
        if s.finished:
            return
        g = s.goals[0]
        for step in ("direct", LEMMA_Z, LEMMA_S, "induct a", "induct y", "induct x",
                     "induct n"):
            if not isinstance(s.apply(step, goal=g.id), Rejected):
                break
        else:
            return


# ---- the human overseer as a search policy --------------------------------------------------
def test_human_policy_steps_pass_the_gate_and_are_recorded_as_human(pool):
    from ida_ns.human import HumanBudget, HumanPolicy, Terminal
    from ida_ns.logic.parser import parse_text
    from ida_ns.prover.overseer import Overseer
    from ida_ns.prover.prover import ProverConfig, prove_problem

    problem = parse_text(PLUS)
    out = io.StringIO()
    # a typo (rejected by the parser, asked again), then the person's induction, then defer
    term = Terminal(io.StringIO("induct q\ninduct x\nh\nh\nh\nh\n"), out)
    budget = HumanBudget(3)
    policy = HumanPolicy(Overseer(), budget, term)
    checker = Checker.from_pool(pool, leaf_timeout_s=1.0)
    res = prove_problem(problem, checker, ProverConfig(budget_s=20, explore=False,
                                                       leaf_timeout_s=1.0), policy=policy)
    text = out.getvalue()
    assert "rejected 'induct q'" in text and "(H) induct x" in text
    assert res.stats.proposed["human"] == 1
    assert budget.asked == 1
    assert res.stats.accepted["human"] == 1  # the person's step passed the same gate
    if res.proof is not None:  # H may finish first with a step of its own (e.g. induct x y)
        assert {n.source for n in res.proof.nodes()} <= {"human", "H", "H-override"}


def test_human_policy_after_its_budget_is_automatic():
    from ida_ns.human import HumanBudget, HumanPolicy, Terminal
    from ida_ns.logic.parser import parse_text
    from ida_ns.prover.goal import Goal
    from ida_ns.prover.overseer import Overseer

    p = parse_text(PLUS)
    out = io.StringIO()
    policy = HumanPolicy(Overseer(), HumanBudget(0), Terminal(io.StringIO(""), out))
    props = policy.propose(Goal(p.theory, p.goal), 0)
    assert props and all(x.source == "H" for x in props) and out.getvalue() == ""
    with pytest.raises(Exception, match="human-budget"):
        HumanBudget(-1)


def test_readme_session_example_runs_as_written(tmp_path, monkeypatch):
    import re

    root = Path(__file__).resolve().parents[1]
    readme = (root / "README.md").read_text()
    m = re.search(r"```python\n(from ida_ns\.session.*?)```", readme, re.S)
    assert m, "README lost its session example"
    code = m.group(1).replace('"tests/data/', '"' + str(root / "tests" / "data") + "/")
    monkeypatch.chdir(tmp_path)
    exec(compile(code, "README.md", "exec"), {})
    rep = check_certificate(tmp_path / "plus_comm.json")
    assert rep.ok, rep.render()


def test_terminal_output_cannot_carry_escape_sequences():
    from ida_ns.human import Terminal, printable

    assert printable("induct x\n⊢ (= a b)") == "induct x\n⊢ (= a b)"
    evil = "lemma \x1b]0;owned\x07 \x1b[2J x\r"
    out = io.StringIO()
    Terminal(io.StringIO(), out).say(evil)
    assert "\x1b" not in out.getvalue() and "\x07" not in out.getvalue()
    assert "\\x1b]0;owned\\x07" in out.getvalue()


def test_interactive_session_example_runs(tmp_path):
    import os
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[1]
    env = dict(os.environ, PYTHONPATH=str(root), OMP_NUM_THREADS="1")
    cert = tmp_path / "c.json"
    r = subprocess.run([sys.executable, str(root / "examples" / "interactive_session.py"),
                        str(cert)], capture_output=True, text=True, env=env, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "counterexample: y = Z" in r.stdout and "proved; certificate" in r.stdout
    rep = check_certificate(cert)
    assert rep.ok, rep.render()
