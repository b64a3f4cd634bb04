"""The overseer prover end to end: search, budgets, caching, certificates, the gate."""

from __future__ import annotations

import json
import time

import pytest

from ida_ns.logic.parser import parse_text
from ida_ns.prover.certificate import check_certificate, save_certificate
from ida_ns.prover.goal import Goal
from ida_ns.prover.overseer import Overseer
from ida_ns.prover.proof import LemmaLibrary, find_lemma_cycle, proof_graph
from ida_ns.prover.prover import ProverConfig, prove_problem
from ida_ns.prover.search import Budget, Search
from ida_ns.prover.verify import Checker, VerdictCache
from ida_ns.verdict import Proved, Refuted, Unknown

from prover_fixtures import NAT_LIST, problem


@pytest.fixture(scope="module")
def pool():
    from ida_ns.solvers.pool import SolverPool

    with SolverPool("z3", workers=2, timeout_s=2.0) as p:
        yield p


@pytest.fixture
def checker(pool):
    return Checker.from_pool(pool, leaf_timeout_s=1.0)


def test_induction_proves_what_z3_alone_cannot(pool, checker):
    p = problem("(forall ((x Nat)) (= (plus x Z) x))")
    from ida_ns.solvers.query import Query

    assert not isinstance(pool.prove(Query.from_problem(p), 1.0), Proved)
    r = prove_problem(p, checker, ProverConfig(budget_s=10, explore=False))
    assert isinstance(r.verdict, Proved)
    assert r.proof.step.var == "x" and len(r.proof.children) == 2


def test_false_goal_is_refuted_with_counterexample_never_proved(checker):
    p = problem("(forall ((xs list) (ys list)) (= (append xs ys) (append ys xs)))")
    r = prove_problem(p, checker, ProverConfig(budget_s=5))
    assert isinstance(r.verdict, Refuted)
    names = dict(r.counterexample)
    assert set(names) == {"xs", "ys"}


def test_lemma_needed_goal_proved_with_exploration(checker):
    p = problem("(forall ((xs list)) (= (rev (rev xs)) xs))")
    # exploration alone (calculated lemmas become Lemma steps inside the tree instead)
    r = prove_problem(p, checker, ProverConfig(budget_s=20, stuck_lemmas=0))
    assert isinstance(r.verdict, Proved), r.verdict
    assert r.lemmas, "rev (rev xs) = xs needs a lemma"
    assert find_lemma_cycle(r.lemmas) is None
    g = proof_graph(r.proof, r.lemmas)
    assert any(d.get("kind") == "uses" for _, _, d in g.edges(data=True))


def test_search_respects_wall_budget(checker):
    p = problem("(forall ((xs list) (ys list)) (= (rev (append xs ys)) "
                "(append (rev ys) (rev xs))))")
    budget = Budget(wall_s=0.6, max_nodes=10_000, leaf_timeout_s=0.3)
    t0 = time.perf_counter()
    res = Search(checker, Overseer(), budget).run(Goal(p.theory, p.goal))
    elapsed = time.perf_counter() - t0
    # one leaf batch may be in flight at the deadline; generous for a loaded machine
    assert elapsed < 0.6 + 0.3 + 5.0
    if not res.proved:
        assert res.reason.startswith("budget")


def test_search_respects_node_budget(checker):
    p = problem("(forall ((xs list) (ys list)) (= (rev (append xs ys)) "
                "(append (rev ys) (rev xs))))")
    res = Search(checker, Overseer(), Budget(wall_s=60, max_nodes=3)).run(Goal(p.theory,
                                                                              p.goal))
    assert res.stats.expanded <= 3


def test_leaf_cache_hits_and_persists(pool, tmp_path):
    cache = VerdictCache(tmp_path / "v.jsonl")
    c = Checker(pool.prove_many, "z3", 1.0, cache)
    g = Goal(problem("true").theory, problem("(forall ((x Nat)) (= (plus Z x) x))").goal)
    other = Goal(g.theory, problem("(forall ((x Nat)) (= (plus Z x) (S x)))").goal)
    v1 = c.close_leaves([(g, ())])[0]
    calls = c.solver_calls
    v2 = c.close_leaves([(g, ())])[0]
    assert isinstance(v1, Proved) and isinstance(v2, Proved)
    assert c.solver_calls == calls  # second time from the cache
    assert not isinstance(c.close_leaves([(other, ())])[0], Proved)  # no false sharing
    again = VerdictCache(tmp_path / "v.jsonl")
    assert isinstance(again.get(__import__("ida_ns.prover.verify", fromlist=["x"]).leaf_key(
        g, (), "z3"), 1.0), Proved)


def test_certificate_round_trip_and_tampering(checker, pool, tmp_path):
    p = problem("(forall ((xs list)) (= (len (append xs nil)) (len xs)))")
    r = prove_problem(p, checker, ProverConfig(budget_s=10))
    assert isinstance(r.verdict, Proved)
    cert = tmp_path / "c.json"
    save_certificate(cert, p, r, "z3")
    ok = check_certificate(cert, prove_many=pool.prove_many, timeout_s=2)
    assert ok.ok, ok.failures
    data = json.loads(cert.read_text())
    # a certificate for a different (false) goal with the same proof must fail
    bad = dict(data, problem=data["problem"].replace("(len xs)", "(S (len xs))"))
    (tmp_path / "bad.json").write_text(json.dumps(bad))
    rep = check_certificate(tmp_path / "bad.json", prove_many=pool.prove_many, timeout_s=2)
    assert not rep.ok
    # a step that does not apply
    bad2 = json.loads(cert.read_text())
    bad2["proof"]["step"] = "induct nosuchvar"
    (tmp_path / "bad2.json").write_text(json.dumps(bad2))
    rep = check_certificate(tmp_path / "bad2.json", prove_many=pool.prove_many, timeout_s=2)
    assert not rep.ok and "unknown variable" in rep.failures[0][1]
    # a leaf claimed direct that is not
    bad3 = json.loads(cert.read_text())
    bad3["proof"] = {"step": "direct", "children": [], "uses": []}
    (tmp_path / "bad3.json").write_text(json.dumps(bad3))
    rep = check_certificate(tmp_path / "bad3.json", prove_many=pool.prove_many, timeout_s=1)
    assert not rep.ok


def test_certificate_rejects_circular_lemmas(pool, tmp_path):
    p = problem("(forall ((x Nat)) (= (plus x Z) x))")
    from ida_ns.logic.printer import print_problem

    lemma = "(forall ((y Nat)) (= (plus y Z) y))"
    cert = {"format": "ida-ns-certificate/1", "problem": print_problem(p, dialect="tip"),
            "solver": "z3",
            "lemmas": [{"id": "L0", "formula": lemma,
                        "proof": {"step": "direct", "uses": ["L0"], "children": []}}],
            "proof": {"step": "direct", "uses": ["L0"], "children": []}}
    (tmp_path / "circ.json").write_text(json.dumps(cert))
    rep = check_certificate(tmp_path / "circ.json", prove_many=pool.prove_many, timeout_s=1)
    assert not rep.ok
    assert any("circular" in r for _, r in rep.failures)


def test_certificate_loader_errors_are_clear(tmp_path):
    from ida_ns.prover.certificate import CertificateError

    (tmp_path / "x.json").write_text("{not json")
    with pytest.raises(CertificateError, match="not a JSON certificate"):
        check_certificate(tmp_path / "x.json", prove_many=lambda q, t: [])
    with pytest.raises(CertificateError, match="cannot read"):
        check_certificate(tmp_path / "missing.json", prove_many=lambda q, t: [])


def test_inconsistent_theory_proves_nothing(checker):
    text = NAT_LIST + """
(define-fun-rec bad ((x Nat)) Nat (S (bad x)))
(prove (forall ((x Nat)) (= (plus x Z) (S x))))"""
    r = prove_problem(parse_text(text), checker, ProverConfig(budget_s=5))
    assert not isinstance(r.verdict, Proved)
    assert r.consistency is not None and not r.consistency.ok


def test_lemma_library_relevance():
    lib = LemmaLibrary()
    p = problem("(forall ((x Nat)) (= (plus x Z) x))")
    q = problem("(forall ((xs list)) (= (rev (rev xs)) xs))")
    from ida_ns.prover.proof import ProofNode
    from ida_ns.prover.steps import Direct

    g = Goal(p.theory, p.goal)
    lib.add(g, ProofNode(g, Direct()))
    assert lib.relevant(Goal(p.theory, p.goal)) == (p.goal,)
    assert lib.relevant(Goal(q.theory, q.goal)) == ()


def test_unknown_is_a_value_with_reason(checker):
    p = problem("(forall ((xs list) (ys list)) (= (rev (append xs ys)) "
                "(append (rev ys) (rev xs))))")
    r = prove_problem(p, checker, ProverConfig(budget_s=0.5, explore=False))
    if not isinstance(r.verdict, Proved):
        assert isinstance(r.verdict, Unknown) and r.verdict.reason


def test_portfolio_leaf_is_rechecked_with_its_own_solver(pool, checker, tmp_path):
    """A root leaf closed by cvc5 with induction is re-run with cvc5-ind, even when the
    checker's main solver is z3 (regression: it was sent to z3 and failed)."""
    from ida_ns.solvers.pool import SolverPool

    p = problem("(forall ((x Nat)) (= (plus x Z) x))")
    with SolverPool("cvc5-ind", workers=1, timeout_s=2.0) as strong:
        r = prove_problem(p, checker, ProverConfig(budget_s=10),
                          strong=("cvc5-ind", strong.prove_many))
        assert isinstance(r.verdict, Proved) and r.proof.solver == "cvc5-ind"
        save_certificate(tmp_path / "c.json", p, r, "z3")
        rep = check_certificate(tmp_path / "c.json", prove_many=pool.prove_many, timeout_s=2,
                                provers={"cvc5-ind": strong.prove_many})
        assert rep.ok, rep.failures
        assert rep.solver == "cvc5-ind"
