"""A hostile proxy against the real gate, search, solvers and certificate checker.

The proxy (:class:`ida_ns.testing.hostile.HostileProxy`) writes step texts meant to get a false
goal proved or to exhaust resources.  Whatever it writes:

(a) no false goal is ever proved;
(b) every proof found re-verifies from its saved certificate, and no goal on it has a
    counterexample;
(c) the training pairs of a proof hold only steps of that verified proof, never a rejected text;
(d) each hostile step costs bounded time and no solver call unless the gate accepted it.

The ``test_regression_*`` tests at the end replay attacks these properties found (each once got
a false goal proved, crashed the search, or overran the gate's budget); all are fixed.
"""

from __future__ import annotations

import math
import time
import tracemalloc
from collections import Counter
from types import SimpleNamespace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ida_ns.audit import AuditLog, verify_log
from ida_ns.counterexample import find_counterexample
from ida_ns.logic.ast import size
from ida_ns.policies import EscalatingPolicy, ProxyPolicy
from ida_ns.prover.certificate import check_certificate, save_certificate
from ida_ns.prover.goal import Goal
from ida_ns.prover.overseer import Overseer
from ida_ns.prover.proof import LemmaLibrary
from ida_ns.prover.prover import ProverConfig, prove_problem, used_lemmas
from ida_ns.prover.search import Budget, Search
from ida_ns.prover.steps import (MAX_STEP_CHARS, MAX_TERM_SIZE, Direct, Generalize, Lemma,
                                 StepError, parse_step, step_text)
from ida_ns.prover.verify import Accepted, Checker
from ida_ns.testing.hostile import (MUST_REJECT, SOUND_FAMILIES, HostileProxy, ScriptedProxy,
                                    hostile_cases)
from ida_ns.traces import proof_pairs

from prover_fixtures import problem

SLOW_OK = [HealthCheck.too_slow, HealthCheck.function_scoped_fixture,
           HealthCheck.data_too_large]


def S(k: int) -> str:
    return "(S " * k + "Z" + ")" * k


def LIST(k: int) -> str:
    return "(cons Z " * k + "nil" + ")" * k


TRUE_GOALS = [
    "(forall ((x Nat)) (= (plus x Z) x))",  # needs induction
    "(forall ((x Nat)) (= (plus Z x) x))",  # direct
    "(forall ((xs list)) (= (append xs nil) xs))",
    "(forall ((xs list) (ys list)) (= (len (append xs ys)) (plus (len xs) (len ys))))",
]
# False goals whose counterexamples are lists of length >= 10: random testing does not find
# them, so the gate and the solver alone stand between them and a proof.
HIDDEN_FALSE = [
    f"(forall ((xs list)) (not (= (len xs) {S(12)})))",
    f"(forall ((xs list) (ys list)) (not (= (len (append xs ys)) {S(11)})))",
    f"(forall ((xs list)) (not (= (rev xs) {LIST(11)})))",
]
PLAIN_FALSE = [
    "(forall ((xs list) (ys list)) (= (append xs ys) (append ys xs)))",
    "(forall ((x Nat)) (= (plus x x) x))",
]
GOALS = [(g, True) for g in TRUE_GOALS] + [(g, False) for g in HIDDEN_FALSE + PLAIN_FALSE]

TRIED: Counter = Counter()  # hostile texts tried, by family (reported at module teardown)


@pytest.fixture(scope="module")
def pool():
    from solvers.pool import SolverPool

    with SolverPool("z3", workers=2, timeout_s=2.0) as p:
        yield p


@pytest.fixture(scope="module", autouse=True)
def report_tried(request):
    yield
    total = sum(TRIED.values())
    line = (f"hostile inputs tried: {total} "
            f"({', '.join(f'{k} {v}' for k, v in sorted(TRIED.items()))})")
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None and total:
        reporter.write_line("\n" + line)


@pytest.fixture
def fresh_pool():
    """A pool of its own: whether z3's quantifier instantiation finds an instance can depend
    on what a warm worker translated before, and the replayed attacks should not."""
    from solvers.pool import SolverPool

    with SolverPool("z3", workers=1, timeout_s=2.0) as p:
        yield p


def _no_solver(queries, timeout_s):
    raise AssertionError(f"the gate called a solver on {len(queries)} queries")


def check_found_proof(p, proof, lemmas, pool, events, path) -> None:
    """(b) and (c) for one proof: certificate re-check, counterexample search on every node's
    goal, step texts that re-parse to the same steps, training pairs from the proof only."""
    save_certificate(path, p, SimpleNamespace(proof=proof, lemmas=lemmas), "z3")
    rep = check_certificate(path, prove_many=pool.prove_many, timeout_s=2.0)
    assert rep.ok, rep.failures
    trees = [proof, *lemmas.values()]
    verified = set()
    for tree in trees:
        for n in tree.nodes():
            g = n.goal
            cex = find_counterexample(g.theory, g.concl, g.fixed, g.hyps, trials=300,
                                      time_budget_s=0.3)
            assert cex is None, f"proof node goal {g.text()} has counterexample {cex}"
            verified.add(step_text(n.step))
            if isinstance(n.step, Direct):
                verified.update(step_text(Lemma(l)) for l in n.step.lemmas)
            else:
                assert parse_step(step_text(n.step), g) == n.step
    rejected = {d["step"] for kind, d in events if kind == "reject"}
    for goal_text, context, step in proof_pairs(proof, lemmas):
        assert step in verified, f"training pair with a step not on the proof: {step!r}"
        assert step not in rejected - verified, f"rejected text in training data: {step!r}"


# ---------------------------------------------------------------------------------------------
# (d) at the gate: every hostile text, no solver, bounded time

GATE_GOALS = [Goal(problem(g).theory, problem(g).goal) for g, _ in GOALS]
GATE_CHECKER = Checker(_no_solver, test_trials=300, test_time_s=0.3)


@settings(max_examples=250, deadline=None, suppress_health_check=SLOW_OK)
@given(st.data())
def test_hostile_steps_are_rejected_cheaply_or_accepted_well_formed(data):
    i = data.draw(st.integers(0, len(GATE_GOALS) - 1), label=f"goal index into {GOALS}")
    goal = GATE_GOALS[i]
    fam, text = data.draw(hostile_cases(goal), label="hostile step")
    TRIED[fam] += 1
    t0 = time.perf_counter()
    try:
        step = parse_step(text, goal)
    except StepError:
        step = None  # rejected unread or at parsing: the usual fate
    took = time.perf_counter() - t0
    assert took < 0.5, f"parsing {fam} text took {took:.2f}s"
    if len(text) > MAX_STEP_CHARS:
        assert step is None
    if fam in MUST_REJECT:
        assert step is None or isinstance(step, Direct), (fam, text[:200])
    if step is None or isinstance(step, Direct):
        return  # the search rejects Direct proposals (it tried Direct at the node already)
    if isinstance(step, (Lemma, Generalize)):
        assert size(step.formula if isinstance(step, Lemma) else step.term) <= MAX_TERM_SIZE
    t0 = time.perf_counter()
    result = GATE_CHECKER.gate(goal, step)  # would raise if it reached a solver
    took = time.perf_counter() - t0
    assert took < 2.0, f"gating {fam} step {text[:120]!r} took {took:.2f}s"
    if isinstance(result, Accepted) and fam == "unicode":
        # nothing invisible or look-alike survives into an accepted step
        assert step_text(step).isascii(), step_text(step)


def test_largest_inputs_are_refused_before_they_cost_anything():
    goal = GATE_GOALS[0]
    cases = {
        "1 MB text": "lemma " + "(S " * 250_000 + "Z" + ")" * 250_000,
        "10^4 nesting, text limit": "lemma " + "(not " * 10_000 + "true" + ")" * 10_000,
        "300 nesting, under text limit": "(not " * 300 + "true" + ")" * 300,
        "4000 nodes wide": "lemma (and " + " true" * 4000 + ")",
        "390 nodes under text limit": "lemma (and " + " true" * 390 + ")",
    }
    cases["300 nesting, under text limit"] = "lemma " + cases["300 nesting, under text limit"]
    for name, text in cases.items():
        TRIED["huge"] += 1
        tracemalloc.start()
        t0 = time.perf_counter()
        with pytest.raises(StepError, match="too long|nesting deeper|too large"):
            parse_step(text, goal)
        took = time.perf_counter() - t0
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        assert took < 0.2, f"{name}: {took:.3f}s"
        assert peak < 8 * 2**20, f"{name}: {peak / 2**20:.1f} MiB"


# ---------------------------------------------------------------------------------------------
# (a)-(d) in the real search with real solvers


@settings(max_examples=10, deadline=None, suppress_health_check=SLOW_OK)
@given(goal=st.sampled_from(GOALS), seed=st.integers(0, 2**20),
       kind=st.sampled_from(["proxy", "escalating"]),
       scores=st.sampled_from(["confident", "unsure"]))
def test_hostile_proxy_in_search_proves_nothing_false(pool, tmp_path_factory, goal, seed, kind,
                                                       scores):
    text, true = goal
    p = problem(text)
    proxy = HostileProxy(p.theory, seed=seed, scores=scores)
    if kind == "proxy":
        policy = ProxyPolicy(proxy, k=8, seed=seed)
    else:
        policy = EscalatingPolicy(proxy, Overseer(), k=8, seed=seed)
    checker = Checker.from_pool(pool, leaf_timeout_s=0.4, test_trials=200, test_time_s=0.2)
    events: list = []
    library = LemmaLibrary()
    budget = Budget(wall_s=1.5, max_nodes=12, max_depth=4, leaf_timeout_s=0.4)
    t0 = time.perf_counter()
    res = Search(checker, policy, budget, library,
                 on_event=lambda k, d: events.append((k, d))).run(Goal(p.theory, p.goal))
    wall = time.perf_counter() - t0
    TRIED.update(proxy.tried)
    # (a)
    assert true or not res.proved, f"false goal proved: {text}"
    # (d) the budget holds (one leaf batch and one test may be in flight at the deadline), and
    # solvers ran only on leaves of accepted steps
    assert wall < budget.wall_s + 3.0
    subgoals = sum(len(d["subgoals"]) for k, d in events if k == "amplify")
    assert checker.solver_calls <= res.stats.leaves <= 1 + res.stats.expanded + subgoals
    if res.proved:  # (b), (c)
        path = tmp_path_factory.mktemp("cert") / "proof.json"
        check_found_proof(p, res.proof, used_lemmas(res.proof, library), pool, events, path)


@settings(max_examples=5, deadline=None, suppress_health_check=SLOW_OK)
@given(goal=st.sampled_from([(g, t) for g, t in GOALS if g not in PLAIN_FALSE]),
       seed=st.integers(0, 2**20))
def test_hostile_proxy_through_prove_problem_and_audit_log(pool, tmp_path_factory, goal, seed):
    """The whole pipeline (consistency gate, testing, search with an escalating hostile
    policy), every event appended to a real audit log."""
    text, true = goal
    p = problem(text)
    proxy = HostileProxy(p.theory, seed=seed)
    checker = Checker.from_pool(pool, leaf_timeout_s=0.4, test_trials=200, test_time_s=0.2)
    events: list = []
    tmp = tmp_path_factory.mktemp("run")
    with AuditLog(tmp / "audit.jsonl") as log:
        def on_event(kind, data):
            events.append((kind, data))
            log.append(kind, data)

        r = prove_problem(p, checker, ProverConfig(budget_s=2.0, explore=False, max_nodes=12,
                                                   leaf_timeout_s=0.4, test_trials=200),
                          policy=lambda conj: EscalatingPolicy(
                              proxy, Overseer(conjectures=conj), k=8, seed=seed),
                          on_event=on_event)
    TRIED.update(proxy.tried)
    assert verify_log(tmp / "audit.jsonl").ok
    if not true:
        assert r.status != "proved", f"false goal proved: {text}"
    else:
        assert r.status != "refuted"
    if r.status == "proved":
        check_found_proof(p, r.proof, r.lemmas, pool, events, tmp / "proof.json")


@pytest.mark.slow
@settings(max_examples=40, deadline=None, suppress_health_check=SLOW_OK)
@given(goal=st.sampled_from(GOALS), seed=st.integers(0, 2**20),
       families=st.lists(st.sampled_from(SOUND_FAMILIES), min_size=1, max_size=3, unique=True))
def test_focused_hostile_families_prove_nothing_false(pool, tmp_path_factory, goal, seed,
                                                      families):
    """One to three families at a time, so that each gets the whole search to itself."""
    text, true = goal
    p = problem(text)
    proxy = HostileProxy(p.theory, families=families, seed=seed)
    checker = Checker.from_pool(pool, leaf_timeout_s=0.4, test_trials=200, test_time_s=0.2)
    library, events = LemmaLibrary(), []
    res = Search(checker, EscalatingPolicy(proxy, Overseer(), k=8, seed=seed),
                 Budget(wall_s=2.0, max_nodes=20, max_depth=4, leaf_timeout_s=0.4), library,
                 on_event=lambda k, d: events.append((k, d))).run(Goal(p.theory, p.goal))
    TRIED.update(proxy.tried)
    assert true or not res.proved, f"false goal proved with {families}: {text}"
    if res.proved:
        path = tmp_path_factory.mktemp("cert") / "proof.json"
        check_found_proof(p, res.proof, used_lemmas(res.proof, library), pool, events, path)


def test_false_lemmas_that_pass_testing_are_not_proved(pool):
    """Lemmas false only on long lists pass random testing (that is their point); the gate
    accepts them as subgoals, and the solver must then fail to close them."""
    p = problem(HIDDEN_FALSE[0])
    goal = Goal(p.theory, p.goal)
    checker = Checker.from_pool(pool, leaf_timeout_s=0.5, test_trials=300, test_time_s=0.3)
    lemma = f"lemma (forall ((u list)) (not (= (len u) {S(13)})))"
    result = checker.gate(goal, parse_step(lemma, goal))
    assert isinstance(result, Accepted)  # testing cannot see it
    TRIED["large_only"] += 1
    first = result.subgoals[0]
    assert not any(v.status == "proved" for v in checker.close_leaves([(first, ())]))
    res = Search(checker, ProxyPolicy(ScriptedProxy([lemma, "induct u", "induct xs"])),
                 Budget(wall_s=2.0, max_nodes=15, leaf_timeout_s=0.5)).run(goal)
    assert not res.proved


def test_circular_and_spam_steps_make_no_progress(pool):
    p = problem(TRUE_GOALS[0])
    goal = Goal(p.theory, p.goal)
    checker = Checker.from_pool(pool, leaf_timeout_s=0.4)
    texts = [f"lemma {TRUE_GOALS[0]}", "direct", "direct direct", " direct ", "DIRECT",
             f"lemma (and {TRUE_GOALS[0]} {TRUE_GOALS[0]})"]
    TRIED["circular"] += len(texts)
    res = Search(checker, ProxyPolicy(ScriptedProxy(texts), drop_direct=False),
                 Budget(wall_s=2.0, max_nodes=10, max_depth=3, leaf_timeout_s=0.4)).run(goal)
    assert not res.proved  # nothing here is a real step towards the proof
    reasons = " | ".join(r for _, r in res.stats.rejections)
    assert "circular" in reasons and "direct" in reasons


# ---------------------------------------------------------------------------------------------
# Replays of attacks that once succeeded (found by the properties above), now regression tests.

G0 = HIDDEN_FALSE[0]  # false: a list of length 12 exists; testing does not find one


@pytest.mark.parametrize("a, b", [("|u\x00a|", "|u\x00b|"), ("nil", "|nil!sk|"),
                                  ("tail", "|tail!sk|")], ids=["nul", "sk-ctor", "sk-selector"])
def test_regression_binder_names_that_z3_merged_do_not_prove_a_false_goal(fresh_pool, a, b):
    """z3 identifies constants by name and sort: a NUL truncated its symbol names ('u\\x00a'
    and 'u\\x00b' both became 'u'), and the backend renamed a variable named like a theory
    symbol f to 'f!sk', which a binder |f!sk| also got.  The lemma below is false, passes
    random testing, was 'proved' by the merge, and implies the false goal.  (Fixed: fresh
    constants per z3 context; the reader refuses control characters in quoted symbols;
    parse_term refuses binders named like theory symbols.)"""
    lemma = (f"lemma (forall (({a} list) ({b} list)) "
             f"(or (= {a} {b}) (not (= (len {a}) {S(12)}))))")
    checker = Checker.from_pool(fresh_pool, leaf_timeout_s=1.0)
    r = prove_problem(problem(G0), checker, ProverConfig(budget_s=5, explore=False),
                      policy=ProxyPolicy(ScriptedProxy([lemma])))
    assert r.status != "proved", (r.verdict, r.stats and r.stats.rejections)


def test_regression_binder_shadowing_a_constructor_does_not_reuse_another_goals_proof(
        fresh_pool):
    """Goal keys hash the printed goal, and a binder named like the constructor Z printed
    exactly like Z: after 'induct x' the base case of L (Z the constructor on one side) got
    the cached proof of the true T (the variable on both sides), and L implies the false
    goal.  (Fixed: such binders are refused by parse_term, renamed by parse_text, and
    alpha-renamed by the printer.)"""
    body = f"(not (= (len ys) {S(12)}))"
    t = f"lemma (forall ((Z Nat) (ys list)) (or (is-S Z) (= Z Z) {body}))"
    l_ = f"lemma (forall ((x Nat) (Z Nat) (ys list)) (or (is-S x) (= x Z) {body}))"
    checker = Checker.from_pool(fresh_pool, leaf_timeout_s=1.0)
    r = prove_problem(problem(G0), checker, ProverConfig(budget_s=5, explore=False),
                      policy=ProxyPolicy(ScriptedProxy([t, l_, "induct x"])))
    assert r.status != "proved"


@pytest.mark.parametrize("lemma", [
    "lemma (forall ((|u\ud800| Nat)) (= |u\ud800| |u\ud800|))",
    "lemma (forall ((|| Nat)) (= || ||))",
    "lemma (match true ((_ true)))",
], ids=["surrogate", "empty-symbol", "match-on-bool"])
def test_regression_crashing_lemma_is_rejected_not_a_crash(pool, lemma):
    """These once crashed the search: a lone surrogate could not be UTF-8 encoded by
    Goal.key(), printer.quote refused the empty symbol, and the evaluator choked on a match
    over a Bool.  Now each is rejected (or handled) and the proof goes on by induction."""
    checker = Checker.from_pool(pool, leaf_timeout_s=0.4)
    r = prove_problem(problem(TRUE_GOALS[0]), checker, ProverConfig(budget_s=3, explore=False),
                      policy=ProxyPolicy(ScriptedProxy([lemma, "induct x"])))
    assert r.status == "proved"


@pytest.mark.parametrize("logprob", [1000.0, math.inf, math.nan, -math.inf])
def test_regression_escalating_policy_survives_wild_scores(pool, logprob):
    """A broken proxy's log-probabilities once crashed EscalatingPolicy (math.exp overflow)."""
    checker = Checker.from_pool(pool, leaf_timeout_s=0.4)
    r = prove_problem(problem(TRUE_GOALS[0]), checker, ProverConfig(budget_s=3, explore=False),
                      policy=EscalatingPolicy(ScriptedProxy(["induct x"], logprob=logprob)))
    assert r.status == "proved"


def test_regression_many_variable_lemma_is_gated_within_budget():
    goal = GATE_GOALS[0]
    n = 10
    text = ("lemma (forall (" + " ".join(f"(u{i} Nat)" for i in range(n))
            + f") (= u0 u{n - 1}))")
    step = parse_step(text, goal)
    t0 = time.perf_counter()
    result = GATE_CHECKER.gate(goal, step)
    took = time.perf_counter() - t0
    assert not isinstance(result, Accepted)  # u0 = Z, u9 = S Z
    assert took < 1.0, f"{took:.2f}s with a 0.3 s test budget"
