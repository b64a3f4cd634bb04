"""The gate's semantic measures beyond one measure at a time: size-change termination over
several semantic measures (node counts and spines, strict and weak edges, each an obligation
proved by ida-ns's prover), conditional membership lemmas for deleting functions, evidence that
re-checks and refuses tampering, and z3 timeouts reported as timeouts."""

from __future__ import annotations

import copy
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ida_ns.gate import recheck_evidence, run_gate
from ida_ns.logic.parser import parse_text
from ida_ns.termination import check_theory
from ida_ns.testing.hostile_theories import (DELETE_SORT, LEFT_ROTATION, rotation_diverges,
                                             rotation_theory_text)

TREE = "(declare-datatype tree ((Leaf) (Node (l tree) (v Int) (r tree))))\n"


@pytest.fixture(scope="module")
def pool():
    from ida_ns.solvers.pool import SolverPool

    with SolverPool("z3", workers=1, timeout_s=2.0) as p:
        yield p


def gate(src: str, pool, budget: float = 30.0):
    p = parse_text(src + "\n(prove true)")
    return p, run_gate(p.theory, prove_many=pool.prove_many, timeout_s=2.0,
                       deadline=time.perf_counter() + budget)


# ---- paired: should pass / should be refused ---------------------------------------------------

# A right-to-left rotation that needs the spine of the *second* recursive field (the node count
# stays the same), on a tree with two values per node; its twin rotates back and forth.
ROT_GOOD = TREE.replace("(v Int)", "(v Int) (w Int)") + """
(define-fun-rec g ((t tree)) Int
  (match t ((Leaf 0) ((Node a x z c) (match c ((Leaf (+ x z (g a)))
    ((Node b y u d) (g (Node (Node a x z b) y u d)))))))))"""
ROT_BAD = TREE.replace("(v Int)", "(v Int) (w Int)") + """
(define-fun-rec g ((t tree)) Int
  (match t ((Leaf 0) ((Node a x z c) (match c ((Leaf (+ x z (g a)))
    ((Node b y u d) (g (Node d y u (Node a x z b))))))))))"""

# Sorting by deleting the first element that satisfies a test through a guard function (not a
# built-in equality): the obligation needs elem-style lemmas; the twin deletes a value that is
# not a member (min - 1), so the list never shrinks.
DEL_GOOD = DELETE_SORT
DEL_BAD = DEL_GOOD.replace("(srt (del (least y ys) xs))", "(srt (del (- (least y ys) 1) xs))")


@pytest.mark.parametrize("good,bad", [(ROT_GOOD, ROT_BAD), (DEL_GOOD, DEL_BAD)],
                         ids=["right-rotation", "delete-least"])
def test_paired_semantic(good, bad, pool):
    p, rep = gate(good, pool)
    assert rep.status == "consistent", rep.reason
    assert recheck_evidence(p, rep.evidence, pool.prove_many) == []
    _, rep = gate(bad, pool, budget=15.0)
    assert rep.status != "consistent", rep.reason


def test_rotation_uses_a_lexicographic_pair_of_measures(pool):
    p, rep = gate(LEFT_ROTATION, pool)
    assert rep.status == "consistent", rep.reason
    ev = next(e["evidence"] for e in rep.evidence["termination"] if e["function"] == "flat")
    assert ev["method"] == "semantic-sct"
    # the rotation call: no strict decrease of the node count, a strict one of the left spine
    rot = ev["calls"][1]
    measures = [tuple(m) for m in ev["measures"]]
    strict = {measures[a] for a, _, r in rot["edges"] if r == 2}
    assert ("len", 0) not in strict and ("spine", 0, 0) in strict


# ---- evidence: re-checked, tampering refused ---------------------------------------------------

@pytest.fixture(scope="module")
def rotation_evidence(pool):
    p, rep = gate(LEFT_ROTATION, pool)
    assert rep.status == "consistent", rep.reason
    return p, rep.evidence


def _flat_ev(ev):
    return next(e["evidence"] for e in ev["termination"] if e["function"] == "flat")


def _upgrade_weak_edge(ev):
    for call in _flat_ev(ev)["calls"]:
        for e in call["edges"]:
            if e[2] == 1:
                e[2] = 2  # claim a strict decrease where only a weak one was proved
                return
    raise AssertionError("no weak edge")


def _drop_strict_edges(ev):
    call = _flat_ev(ev)["calls"][1]
    keep = [(e, p) for e, p in zip(call["edges"], call["proofs"]) if e[2] != 2]
    call["edges"], call["proofs"] = [e for e, _ in keep], [p for _, p in keep]


def _foreign_measure(ev):
    _flat_ev(ev)["measures"][0] = ["len", 7]


def _swap_proofs(ev):
    call = _flat_ev(ev)["calls"][1]
    call["proofs"] = [{"step": "direct", "solver": "z3", "children": []}] * len(call["edges"])
    call["edges"] = [[a, b, 2] for a, b, _ in call["edges"]]


def _off_diagonal(ev):
    e = _flat_ev(ev)["calls"][0]["edges"][0]
    e[1] = (e[0] + 1) % len(_flat_ev(ev)["measures"])


@pytest.mark.parametrize("tamper", [_upgrade_weak_edge, _drop_strict_edges, _foreign_measure,
                                    _swap_proofs, _off_diagonal])
def test_tampered_semantic_sct_evidence_is_rejected(tamper, rotation_evidence, pool):
    p, ev = rotation_evidence
    assert recheck_evidence(p, ev, pool.prove_many) == []
    bad = copy.deepcopy(ev)
    tamper(bad)
    assert recheck_evidence(p, bad, pool.prove_many, timeout_s=2.0) != []


# ---- timeouts are reported as timeouts ----------------------------------------------------------

def test_dropped_call_is_reported_as_a_timeout():
    src = ("(define-fun-rec h ((x Int) (y Int) (z Int)) Int (ite (and (> x 0) (= (+ (* x x x) "
           "(* y y y)) (* z z z))) (h (+ x 1) (* y y) (- z 1)) 0))\n(prove true)")
    r, = check_theory(parse_text(src).theory, time.perf_counter() + 30)
    assert not r.terminating
    assert "timeout" in r.measure and "obligation" in r.measure and "<" in r.measure
    assert "(h (+ x 1) (* y y) (- z 1))" in r.measure  # names the call


def test_easy_calls_are_not_called_timeouts():
    src = "(define-fun-rec h ((x Int)) Int (ite (> x 0) (h (+ x 1)) 0))\n(prove true)"
    r, = check_theory(parse_text(src).theory, time.perf_counter() + 30)
    assert not r.terminating and "timeout" not in r.measure


# ---- the rotation family: never a wrong "terminates" ---------------------------------------------

def test_rotation_family_reaches_both_answers():
    verdicts = {rotation_diverges(rotation_theory_text(s)) for s in range(12)}
    assert verdicts == {True, False}


@settings(max_examples=4, deadline=None, suppress_health_check=list(HealthCheck))
@given(seed=st.integers(min_value=0, max_value=2**40))
def test_rotation_family_never_wrong(pool, seed):
    text = rotation_theory_text(seed)
    p = parse_text(text)
    rep = run_gate(p.theory, prove_many=pool.prove_many, timeout_s=2.0,
                   deadline=time.perf_counter() + 10)
    if rep.status == "consistent":
        assert not rotation_diverges(text), text


@pytest.mark.slow
def test_rotation_family_many(pool):
    wrong, accepted = [], 0
    for seed in range(150):
        text = rotation_theory_text(seed)
        rep = run_gate(parse_text(text).theory, prove_many=pool.prove_many, timeout_s=2.0,
                       deadline=time.perf_counter() + 10)
        if rep.status == "consistent":
            accepted += 1
            if rotation_diverges(text):
                wrong.append(text)
    assert wrong == [] and accepted >= 20
