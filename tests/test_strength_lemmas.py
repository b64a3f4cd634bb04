"""Lemmas calculated from stuck subgoals, and the lemma library file shared by a bench run."""

from __future__ import annotations

import json
import time

import pytest

from ida_ns.logic.ast import free_vars
from ida_ns.logic.parser import parse_text
from ida_ns.logic.printer import print_term
from ida_ns.prover.goal import Goal
from ida_ns.prover.lemma_store import LemmaStore
from ida_ns.prover.proof import LemmaLibrary, ProofNode
from ida_ns.prover.steps import Direct, Induct, Lemma, apply_step, parse_step
from ida_ns.prover.stuck import StuckLemmas
from ida_ns.verdict import Proved

from prover_fixtures import NAT_LIST

COUNT = """
(define-fun-rec count ((x Nat) (xs list)) Nat
  (match xs ((nil Z) ((cons y ys) (ite (= x y) (S (count x ys)) (count x ys))))))
(define-fun-rec minus ((x Nat) (y Nat)) Nat
  (match x ((Z Z) ((S n) (match y ((Z x) ((S m) (minus n m))))))))
"""


def _problem(goal: str):
    return parse_text(NAT_LIST + COUNT + f"(prove {goal})", file="<test>")


def _step_case(goal_text: str, var: str):
    p = _problem(goal_text)
    g = Goal(p.theory, p.goal)
    return p, apply_step(parse_step(f"induct {var}", g), g)[-1]


@pytest.fixture(scope="module")
def z3pool():
    from ida_ns.solvers.pool import SolverPool

    with SolverPool("z3", workers=1, timeout_s=3.0) as p:
        yield p


# ---- calculation ---------------------------------------------------------------------------
def test_fertilise_and_generalise_the_stuck_step_case():
    # count n xs = count n (rev xs): the step case needs count over (append g (cons y nil))
    p, sc = _step_case("(forall ((n Nat) (xs list)) (= (count n xs) (count n (rev xs))))",
                       "xs")
    lemmas = StuckLemmas(p.theory, limit=4)(sc)
    texts = [print_term(l) for l in lemmas]
    assert texts, "no lemma calculated"
    first = texts[0]
    assert "append" in first and "rev" not in first, first  # rev xs1 generalised away
    for l in lemmas:  # closed, and not the step case itself
        assert not free_vars(l) and l != sc.concl


def test_rippling_lemma_moves_the_wave_front_out():
    # minus (plus m n) n = m, induction on n: plus m (S n1) blocks; plus x (S y) = S (plus x y)
    p, sc = _step_case("(forall ((n Nat) (m Nat)) (= (minus (plus m n) n) m))", "n")
    texts = [print_term(l) for l in StuckLemmas(p.theory, limit=4)(sc)]
    assert any("(plus" in t and "(S (plus" in t for t in texts), texts


def test_no_lemma_without_hypotheses_and_false_candidates_are_dropped():
    p = _problem("(forall ((xs list)) (= (rev (rev xs)) xs))")
    g = Goal(p.theory, p.goal)
    assert StuckLemmas(p.theory)(g) == []  # the root goal: not a step case
    # A false goal's step case: whatever is calculated survived testing (the gate tests
    # again), and nothing false reaches the search as a proved fact.
    p2, sc = _step_case("(forall ((xs list) (ys list)) (= (append xs ys) (append ys xs)))",
                        "xs")
    from ida_ns.counterexample import find_counterexample

    for l in StuckLemmas(p2.theory, limit=4)(sc):
        assert find_counterexample(p2.theory, l, trials=400, time_budget_s=1.0) is None


def test_calculated_lemma_is_a_gated_lemma_step(z3pool):
    from ida_ns.prover.verify import Accepted, Checker

    p, sc = _step_case("(forall ((n Nat) (xs list)) (= (count n xs) (count n (rev xs))))",
                       "xs")
    (lemma, *_) = StuckLemmas(p.theory, limit=1)(sc)
    checker = Checker.from_pool(z3pool)
    got = checker.gate(sc, Lemma(lemma))
    assert isinstance(got, Accepted)
    first, rest = got.subgoals
    assert first.concl == lemma and not first.hyps  # to be proved on its own
    assert lemma in rest.hyps  # then used
    # with the lemma, z3 closes the stuck step case (the IH and the lemma instantiated)
    (v,) = checker.close_leaves([(rest, ())], 3.0)
    assert isinstance(v, Proved), v


def test_prover_proves_with_a_calculated_lemma_and_says_so(z3pool):
    from ida_ns.prover.prover import CALCULATED, ProverConfig, prove_problem
    from ida_ns.prover.verify import Checker

    p = _problem("(forall ((n Nat) (m Nat)) (= (minus (plus m n) n) m))")
    checker = Checker.from_pool(z3pool, leaf_timeout_s=0.5)
    cfg = ProverConfig(budget_s=30.0, leaf_timeout_s=0.5, strong_root=False)
    r = prove_problem(p, checker, cfg)
    assert r.status == "proved", r.verdict
    assert r.attribution["closed_by"] == CALCULATED
    assert r.attribution["calculated_lemmas"] >= 1
    # switched off, the calculated lemmas are not there
    off = ProverConfig(budget_s=2.0, leaf_timeout_s=0.5, strong_root=False, stuck_lemmas=0,
                       explore=False)
    r2 = prove_problem(p, checker, off)
    assert r2.status != "proved" or r2.attribution["calculated_lemmas"] == 0


# ---- the library file ----------------------------------------------------------------------
def _append_nil_library(p, checker):
    lemma = parse_text(NAT_LIST + "(prove (forall ((xs list)) (= (append xs nil) xs)))",
                       "<l>")
    g = Goal(p.theory, lemma.goal)
    subs = apply_step(Induct("xs"), g)
    vs = checker.close_leaves([(s, ()) for s in subs], 3.0)
    assert all(isinstance(v, Proved) for v in vs)
    lib = LemmaLibrary()
    lib.add(g, ProofNode(g, Induct("xs"), tuple(ProofNode(s, Direct(), (), "z3", 0.0, "H")
                                                  for s in subs)))
    return lib


def test_library_file_round_trip_and_replay(tmp_path, z3pool):
    from ida_ns.prover.verify import Checker

    checker = Checker.from_pool(z3pool)
    a = _problem("(forall ((xs list)) (= (rev (rev xs)) xs))")
    path = tmp_path / "lemmas.jsonl"
    writer = LemmaStore.load(str(path))
    assert len(writer) == 0
    assert writer.record(a.theory, _append_nil_library(a, checker)) == 1
    assert len(path.read_text().splitlines()) == 1
    # another process of the run: reads the file, re-proves the lemma in its own theory
    b = _problem("(forall ((xs list)) (= (len (append xs nil)) (len xs)))")
    reader = LemmaStore.load(str(path))
    assert reader.loaded == 1
    lib = LemmaLibrary()

    def close(solver, items, timeout):
        return checker.close_leaves(items, min(timeout, 3.0))

    gb = Goal(b.theory, b.goal)
    assert reader.replay(gb, lib, close, time.perf_counter() + 20) == 1
    (proof,) = lib.proofs.values()
    assert proof.goal.theory == b.theory


def test_library_file_is_never_evidence(tmp_path, z3pool):
    """A tampered line (a false lemma under the true lemma's script), a malformed line and a
    torn line: none becomes a lemma, nothing crashes."""
    from ida_ns.prover.verify import Checker

    checker = Checker.from_pool(z3pool)
    a = _problem("(forall ((xs list)) (= (rev (rev xs)) xs))")
    path = tmp_path / "lemmas.jsonl"
    LemmaStore.load(str(path)).record(a.theory, _append_nil_library(a, checker))
    (line,) = path.read_text().splitlines()
    row = json.loads(line)
    row["text"] = "(forall ((xs list)) (= (append xs nil) nil))"  # false
    path.write_text(json.dumps(row) + "\n" + "{not json\n" + json.dumps({"text": 3}) + "\n"
                    + line[: len(line) // 2])
    store = LemmaStore.load(str(path))
    assert store.loaded == 1 and store.skipped == 3
    b = _problem("(forall ((xs list)) (= (len (append xs nil)) (len xs)))")
    lib = LemmaLibrary()

    def close(solver, items, timeout):
        return checker.close_leaves(items, min(timeout, 3.0))

    assert store.replay(Goal(b.theory, b.goal), lib, close, time.perf_counter() + 20) == 0
    assert len(lib) == 0 and store.failed == 1


# ---- property: every calculated candidate is a well-formed, closed, re-parsable Lemma step --
def test_calculated_candidates_are_well_formed_lemma_steps():
    """Random equations over the theory (true or false), induction on each variable, every
    candidate the calculation yields for each step case (before testing, so false ones too):
    closed, well-sorted, printed and re-parsed to the same AST, accepted by the one Lemma
    rule with the lemma as its own closed subgoal."""
    from hypothesis import HealthCheck, given, settings, strategies as st

    from ida_ns.hypothesis import terms
    from ida_ns.logic.ast import BOOL, eq, forall
    from ida_ns.logic.parser import parse_term
    from ida_ns.logic.sortcheck import sortcheck_term
    from ida_ns.logic.symbols import symbol_table
    from ida_ns.prover.explore import _Normaliser
    from ida_ns.prover.steps import StepError
    from ida_ns.prover.stuck import calculate

    theory = _problem("true").theory
    table = symbol_table(theory)
    norm = _Normaliser(theory, split=True)
    scope = {"xs": "list", "ys": "list", "n": "Nat"}
    seen = [0]

    def sides(sort):
        return st.tuples(terms(theory, sort, variables=scope, max_depth=3),
                         terms(theory, sort, variables=scope, max_depth=3))

    @settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.sampled_from(["list", "Nat"]).flatmap(sides))
    def prop(lr):
        body = eq(*lr)
        fv = tuple(sorted(free_vars(body), key=lambda v: v.name))
        g = Goal(theory, forall(fv, body) if fv else body)
        for v in g.forall_vars:
            if table.datatype_of(v.sort) is None:
                continue
            try:
                cases = apply_step(Induct(v.name), g)
            except StepError:
                continue
            for sc in cases:
                norm.stop = time.perf_counter() + 0.2
                for i, (lemma, _) in enumerate(calculate(sc, norm, table)):
                    if i >= 10:
                        break
                    seen[0] += 1
                    assert lemma.sort == BOOL and not free_vars(lemma)
                    sortcheck_term(lemma, theory, BOOL)
                    again = parse_term(print_term(lemma), theory, {}, expected=BOOL)
                    assert again == lemma
                    first, rest = apply_step(Lemma(lemma), sc)
                    assert first.concl == lemma and not first.hyps
                    assert rest.concl == sc.concl and lemma in rest.hyps

    prop()
    assert seen[0] > 0, "the family never exercised the calculation"


# ---- bench --lemma-library, as a user runs it ----------------------------------------------
def test_bench_lemma_library_flag(tmp_path):
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONPATH": str(root), "OMP_NUM_THREADS": "1"}
    d = tmp_path / "probs"
    d.mkdir()
    (d / "a.smt2").write_text(NAT_LIST + "(prove (forall ((xs list)) "
                              "(= (len (rev xs)) (len xs))))\n")
    (d / "b.smt2").write_text(NAT_LIST + "(prove (forall ((xs list) (ys list)) "
                              "(= (len (rev (append xs ys))) (len (append xs ys)))))\n")
    lib = tmp_path / "lemmas.jsonl"
    lib.write_text("stale line from an earlier run\n")  # a fresh run starts empty
    out = tmp_path / "rows.jsonl"
    cmd = [sys.executable, "-m", "ida_ns.cli", "bench", "tip", str(d), "--budget", "6",
           "--jobs", "1", "--systems", "ida-ns-decomp", "--json", str(out)]
    p = subprocess.run(cmd + ["--lemma-library", str(lib)], env=env, capture_output=True,
                       text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    rows = {Path(r["file"]).name: r for r in (json.loads(x) for x in
                                               out.read_text().splitlines()) if "file" in r}
    assert set(rows) == {"a.smt2", "b.smt2"}
    for r in rows.values():
        assert set(r["library"]) == {"loaded", "replayed", "failed"}
    assert rows["a.smt2"]["library"]["loaded"] == 0  # the stale line was dropped
    per_system = Path(str(lib) + ".ida-ns-decomp")
    kept = per_system.read_text().splitlines() if per_system.exists() else []
    if rows["a.smt2"]["status"] == "proved" and kept:
        assert rows["b.smt2"]["library"]["loaded"] >= 1  # what a proved, b was offered
    for line in kept:
        e = json.loads(line)
        assert {"fingerprint", "text", "symbols", "script"} <= set(e)
    # the same bench without the flag: no library field, nothing written
    lib2 = tmp_path / "none.jsonl"
    p = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    assert all("library" not in json.loads(x) for x in out.read_text().splitlines())
    assert not lib2.exists()
    # a library in a folder that does not exist: a usage error naming it, exit 3
    p = subprocess.run(cmd + ["--lemma-library", str(tmp_path / "no" / "l.jsonl")], env=env,
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 3 and "l.jsonl" in (p.stderr + p.stdout)


def test_replayed_strong_leaf_counts_as_a_real_call(z3pool):
    """A stored lemma whose leaf cvc5-with-induction closed is re-closed by that solver in
    the consuming process, and the kernel's replay accepts that leaf (before the fix, every
    proof using such a lemma was refused: 'leaf not closed ... in this run')."""
    from ida_ns.prover.prover import ProverConfig, prove_problem
    from ida_ns.prover.verify import Checker, leaf_key
    from ida_ns.solvers.pool import SolverPool

    a = _problem("(forall ((xs list)) (= (rev (rev xs)) xs))")
    lemma = parse_text(NAT_LIST + "(prove (forall ((xs list)) (= (append xs nil) xs)))",
                       "<l>").goal
    ga = Goal(a.theory, lemma)
    lib = LemmaLibrary()
    lib.add(ga, ProofNode(ga, Direct(), (), "cvc5-ind", 0.0, "H"))
    store = LemmaStore()
    assert store.record(a.theory, lib) == 1
    b = _problem("(forall ((xs list)) (= (len (append xs nil)) (len xs)))")
    checker = Checker.from_pool(z3pool, leaf_timeout_s=0.5)
    with SolverPool("cvc5-ind", workers=1, timeout_s=5.0) as cvc5:
        cfg = ProverConfig(budget_s=8.0, strong_root=False, store_share=0.5,
                           strong_leaf_s=3.0)
        r = prove_problem(b, checker, cfg, strong=("cvc5-ind", cvc5.prove_many),
                          store=store)
    assert store.replayed == 1
    assert leaf_key(Goal(b.theory, lemma), (), "cvc5-ind") in checker.solver_proved
    assert "not admitted" not in getattr(r.verdict, "reason", "")
