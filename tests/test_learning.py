"""Learning that cannot be fooled: verified-only training data by construction, the independent
re-check (paired should-pass / should-fail), hindsight, the empty round, problem sources,
calibration, the proxy's prompt, the static KV cache and any HF causal LM as the proxy."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ida_ns.errors import IdaNsError, SpecError
from ida_ns.policies import (Calibrator, ProxyPolicy, expected_calibration_error, goal_prompt,
                             normalized_score)
from ida_ns.prover.goal import Goal
from ida_ns.prover.prover import ProverConfig, prove_problem
from ida_ns.prover.verify import Checker, VerdictCache
from ida_ns.recheck import (Rechecker, UnverifiedPairs, VerifiedPairs, pairs_sha256,
                            recheck_goal_proof, unverified_pairs)
from ida_ns.sources import load_source, load_sources

from prover_fixtures import problem

REPO = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class _Cand:
    text: str
    logprob: float


class ScriptedProxy:
    """Always proposes the same steps, very confidently."""

    def __init__(self, steps):
        self.steps = steps

    def propose(self, goal_text, context_text, k=None, seed=0):
        return [_Cand(s, -0.01) for s in self.steps]


@pytest.fixture(scope="module")
def pools():
    from ida_ns.solvers.pool import SolverPool

    with SolverPool("z3", workers=1, timeout_s=1.0) as z3, \
            SolverPool("cvc5", workers=1, timeout_s=1.0) as cvc5:
        yield {"z3": z3.prove_many, "cvc5": cvc5.prove_many}


@pytest.fixture()
def rechecker(pools, tmp_path):
    return Rechecker(pools, "z3", tmp_path / "certs", timeout_s=1.0)


def _prove(goal, pools, **kw):
    checker = Checker(pools["z3"], solver="z3", leaf_timeout_s=0.5, cache=VerdictCache())
    return prove_problem(problem(goal), checker, ProverConfig(budget_s=6, explore=False), **kw)


TRUE_GOAL = "(forall ((x Nat)) (= (plus x Z) x))"
FALSE_GOAL = "(forall ((xs list) (ys list)) (= (append xs ys) (append ys xs)))"


# ----------------------------------------------------------------- verified by construction
def test_verified_pairs_cannot_be_made_outside_the_rechecker():
    pairs = (("g", "c", "induct x", "H"),)
    with pytest.raises(TypeError, match="only by ida_ns.recheck"):
        VerifiedPairs("p", "proof", pairs, "me", 1, pairs_sha256(pairs))


def test_saved_pairs_reload_only_when_attested_in_the_audit_log():
    pairs = [["g", "c", "induct x", "H"]]
    rec = {"problem": "p", "kind": "proof", "pairs": pairs, "checked_by": "x", "cost": 1,
           "sha256": pairs_sha256(pairs)}
    with pytest.raises(IdaNsError, match="not attested"):
        VerifiedPairs.from_record(rec, attested=set())
    ok = VerifiedPairs.from_record(rec, attested={rec["sha256"]})
    assert ok.pairs == (("g", "c", "induct x", "H"),)
    forged = dict(rec, pairs=[["g", "c", "lemma false", "H"]])  # same hash, other pairs
    with pytest.raises(IdaNsError, match="not attested"):
        VerifiedPairs.from_record(forged, attested={rec["sha256"]})


def test_trainer_input_refuses_anything_but_verified_pairs():
    from ida_ns.ida import training_pairs

    bad = UnverifiedPairs("p", "proof", (("g", "c", "direct", "proxy"),), 1, "0" * 64)
    with pytest.raises(TypeError, match="VerifiedPairs only"):
        training_pairs([bad])
    with pytest.raises(TypeError):
        training_pairs([("g", "c", "direct")])


# ----------------------------------------------------------------- the independent re-check
def test_recheck_accepts_a_real_proof_with_the_other_solver(pools, rechecker):
    res = _prove(TRUE_GOAL, pools)
    assert res.status == "proved"
    vp = rechecker.verified_proof("t", problem(TRUE_GOAL), res)
    assert isinstance(vp, VerifiedPairs)
    assert vp.checked_by.startswith("certificate:cvc5")
    # pairs are in canonical variable names (x is the goal's first variable: v0)
    assert ("induct v0" in [p[2] for p in vp.pairs]) and vp.cost >= 1
    assert list(rechecker.cert_dir.glob("*.json"))  # the certificate is kept


@pytest.mark.parametrize("steps", [["direct"], ["lemma (forall ((a list) (b list)) "
                                               "(= (append a b) (append b a)))"]])
def test_recheck_rejects_what_the_unsafe_path_accepted(pools, rechecker, steps):
    res = _prove(FALSE_GOAL, pools, accept_unverified=True,
                 policy=ProxyPolicy(ScriptedProxy(steps), drop_direct=False))
    assert res.status == "proved"  # the ablation let it through
    assert unverified_pairs("f", res).pairs  # and the unsafe path would train on it
    assert rechecker.verified_proof("f", problem(FALSE_GOAL), res) is None


def test_goal_level_recheck_pass_and_fail(pools):
    res = _prove(TRUE_GOAL, pools)
    proof = res.proof
    goal = proof.goal
    assert recheck_goal_proof(goal, proof, set(), pools, "z3", "cvc5", 1.0) is not None
    # the same proof offered for another goal: the derived subgoals do not match
    other = Goal(goal.theory, problem("(forall ((x Nat)) (= (plus Z x) x))").goal)
    assert recheck_goal_proof(other, proof, set(), pools, "z3", "cvc5", 1.0) is None


FALSE_STEPS = st.sampled_from([
    "direct", "lemma (forall ((a list) (b list)) (= (append a b) (append b a)))",
    "lemma (forall ((a list)) (= (append a nil) nil))",
    "lemma (forall ((a list) (b list)) (= (append a b) b))",
])
FALSE_GOALS = st.sampled_from([
    FALSE_GOAL, "(forall ((x Nat) (y Nat)) (= (plus x y) x))",
    "(forall ((xs list)) (= (rev xs) xs))",
])


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                HealthCheck.function_scoped_fixture])
@given(goal=FALSE_GOALS, steps=st.lists(FALSE_STEPS, min_size=1, max_size=3, unique=True))
def test_property_no_proof_of_a_false_goal_becomes_training_data(pools, tmp_path, goal, steps):
    """Soundness family: whatever an unchecked search accepts for a false goal, the
    independent re-check never turns it into VerifiedPairs."""
    rechecker = Rechecker(pools, "z3", tmp_path / "c", timeout_s=1.0)
    res = _prove(goal, pools, accept_unverified=True,
                 policy=ProxyPolicy(ScriptedProxy(steps), drop_direct=False))
    if res.proof is not None:
        assert rechecker.verified_proof("f", problem(goal), res) is None


# ----------------------------------------------------------------- sources
def test_tip_folder_is_a_source_with_true_labels():
    probs = load_source(str(REPO / "benchmarks" / "tip" / "prod"))
    assert len(probs) == 74 and all(p.label for p in probs)
    assert probs[0].id.startswith("prod/")
    p = probs[0].problem()
    assert p.goal is not None


def test_false_folder_is_labelled_false(tmp_path):
    d = tmp_path / "false"
    d.mkdir()
    (d / "a.smt2").write_text((REPO / "benchmarks/tip/prod/prop_01.smt2").read_text())
    assert [p.label for p in load_source(str(d))] == [False]


def test_unknown_source_and_empty_folder_are_clear_errors(tmp_path):
    with pytest.raises(SpecError, match="no such problem set"):
        load_source("no-such-thing-xyz")
    with pytest.raises(SpecError, match="no .smt2"):
        load_source(str(tmp_path))


def test_limit_is_a_seeded_sample():
    a = load_sources(["default", "benchmarks/tip/isaplanner"], limit=10, seed=1)
    b = load_sources(["default", "benchmarks/tip/isaplanner"], limit=10, seed=1)
    assert [p.id for p in a] == [p.id for p in b] and len(a) == 10


def test_the_same_source_on_both_sides_is_refused(tmp_path):
    from ida_ns.ida import run
    from ida_ns.ida_config import RunConfig

    with pytest.raises(IdaNsError, match="both"):
        run(RunConfig(train=("benchmarks/tip/prod",), heldout=("benchmarks/tip/prod",),
                      out=str(tmp_path / "r")))


# ----------------------------------------------------------------- prompt and scores
def test_prompt_carries_signatures_and_definitions():
    p = problem("(forall ((xs list)) (= (len (rev xs)) (len xs)))")
    g, c = goal_prompt(Goal(p.theory, p.goal))
    from ida_ns.proxy.canon import function_names

    fn = function_names(p.theory)  # functions read by their definition fingerprints
    assert fn["len"] in g
    assert f"sig {fn['len']} (list) Nat" in c and f"sig {fn['rev']} (list) list" in c
    assert f"def ({fn['rev']} xs)" in c
    plain = goal_prompt(Goal(p.theory, p.goal), canonical=False)[1]
    assert "sig len (list) Nat" in plain and "def (rev xs)" in plain


def test_length_normalised_score():
    from ida_ns.proxy import Candidate

    assert normalized_score(Candidate("lemma long", -6.0, 12)) == -0.5
    assert normalized_score(Candidate("induct x", -2.0, 3)) == pytest.approx(-2 / 3)
    assert normalized_score(_Cand("x", -1.5)) == -1.5  # no token count: the total
    assert normalized_score(Candidate("x", math.nan, 2)) < -1e6


def test_calibration_and_ece():
    # overconfident: says 0.95, right half of the time
    over = [(0.95, i % 2) for i in range(100)]
    assert expected_calibration_error(over) == pytest.approx(0.45, abs=0.01)
    cal = Calibrator.fit(over)
    fixed = [(cal(c), y) for c, y in over]
    assert expected_calibration_error(fixed) < 0.05
    assert Calibrator()(0.3) == 0.3  # unfitted: identity
    assert Calibrator.from_dict(cal.to_dict())(0.95) == cal(0.95)
    assert expected_calibration_error([]) is None


# ----------------------------------------------------------------- the proxy
@pytest.fixture(scope="module")
def trained_tiny(tmp_path_factory):
    pytest.importorskip("torch")
    from ida_ns.proxy.config import DistillConfig, ProxyConfig
    from ida_ns.proxy.distill import distill

    cfg = ProxyConfig(n_layer=1, n_embd=32, n_head=2, vocab_size=400)
    pairs = [("(forall ((x Nat)) (= (plus x Z) x))", "", "induct x"),
             ("(= a b)", "fix (a Nat)", "cases a")] * 8
    proxy, _ = distill(None, pairs, [], DistillConfig(epochs=30, lr=3e-3),
                       tmp_path_factory.mktemp("p"), proxy_config=cfg)
    return proxy


def test_static_kv_cache_matches_the_dynamic_one(trained_tiny):
    import dataclasses

    items = [("(forall ((x Nat)) (= (plus x Z) x))", ""), ("(= a b)", "fix (a Nat)")]
    p = trained_tiny
    base = p.config
    try:
        dyn = p.propose_batch(items, 4, seed=3)
        p.config = dataclasses.replace(base, static_cache="on")
        sta = p.propose_batch(items, 4, seed=3)
    finally:
        p.config = base
    assert any(dyn)
    assert [[c.text for c in r] for r in dyn] == [[c.text for c in r] for r in sta]
    for a, b in zip(dyn, sta):
        for x, y in zip(a, b):
            assert x.logprob == pytest.approx(y.logprob, abs=1e-4) and x.tokens == y.tokens


def test_any_local_hf_causal_lm_is_a_proxy(tmp_path):
    pytest.importorskip("transformers")
    from transformers import LlamaConfig, LlamaForCausalLM

    from ida_ns.proxy.config import DistillConfig
    from ida_ns.proxy.distill import distill
    from ida_ns.proxy.model import Proxy
    from ida_ns.proxy.tokenizer import train_tokenizer

    tok = train_tokenizer(["(forall ((x Nat)) (= (plus x Z) x))", "induct x"], 400)
    tok.sep_token = None  # a plain LM tokenizer: no <sep> (the loader adds what is missing)
    model = LlamaForCausalLM(LlamaConfig(vocab_size=len(tok), hidden_size=32,
                                         intermediate_size=64, num_hidden_layers=1,
                                         num_attention_heads=2, num_key_value_heads=2,
                                         max_position_embeddings=256))
    d = tmp_path / "llama"
    model.save_pretrained(d)
    tok.save_pretrained(d)
    p = Proxy.from_pretrained(d)
    assert p.tokenizer.sep_token_id is not None and p.config.n_layer == 1
    assert isinstance(p.propose("(= a b)", "", 2, seed=0), list)
    child, m = distill(p, [("(forall ((x Nat)) (= (plus x Z) x))", "", "induct x")] * 4, [],
                       DistillConfig(epochs=2), tmp_path / "child")
    assert m["steps"] >= 1 and Proxy.load(tmp_path / "child").config.n_layer == 1
    with pytest.raises(IdaNsError, match="not a local Hugging Face"):
        Proxy.from_pretrained(tmp_path / "missing")


# ----------------------------------------------------------------- the loop
def test_a_round_with_nothing_verified_keeps_the_proxy_and_the_loop_goes_on(tmp_path):
    """Only false training goals: no verified pair ever; every round keeps X_{r+1} = X_r,
    logged and audited, and the loop runs all its rounds."""
    pytest.importorskip("torch")
    from ida_ns.audit import read_records
    from ida_ns.ida import run
    from ida_ns.ida_config import RunConfig

    (tmp_path / "theories").mkdir()
    (tmp_path / "theories" / "nat.smt2").write_text(
        (REPO / "specs" / "theories" / "nat.smt2").read_text())
    man = {"name": "falses", "theory_dir": ".", "problems": [
        {"id": f"f{i}", "theory": "theories/nat.smt2", "goal": g, "label": False,
         "difficulty": "easy", "split": s}
        for i, (g, s) in enumerate([
            ("(forall ((x Nat) (y Nat)) (= (minus x y) (minus y x)))", "train"),
            ("(forall ((x Nat)) (= (plus x x) x))", "train"),
            ("(forall ((x Nat) (y Nat)) (= (plus x y) x))", "heldout")])]}
    (tmp_path / "falses.json").write_text(json.dumps(man))
    out = tmp_path / "run"
    rows = run(RunConfig(spec=str(tmp_path / "falses.json"), rounds=2, out=str(out), epochs=1,
                         workers=1, tiny=False, train_limit=0, heldout_limit=0,
                         problem_budget_s=1.0, eval_budget_s=0.5, k=2))
    assert [r["round"] for r in rows] == [0, 1, 2]
    assert all(r["accepted_but_false"] == 0 and r["pairs"] == 0 for r in rows)
    cards = [json.loads((out / "proxies" / f"gen-{i:03d}" / "card.json").read_text())
             for i in (1, 2)]
    assert all("empty round" in c["note"] for c in cards)
    kinds = [r["kind"] for r in read_records(out / "audit.jsonl")]
    assert kinds.count("distill") == 2 and "trainset" in kinds


def test_score_batch_agrees_with_sampling(trained_tiny):
    g, c = "(forall ((x Nat)) (= (plus x Z) x))", ""
    cands = trained_tiny.propose(g, c, 3, seed=0)
    assert cands
    scores = trained_tiny.score_batch([(g, c, x.text) for x in cands])
    for x, s in zip(cands, scores):
        assert s == pytest.approx(x.logprob, abs=1e-4)
    assert trained_tiny.score_batch([(g, c, "x " * 200)]) == [-math.inf]  # cannot be written


class ValueProxy:
    """Scores 'direct' high only on subgoals mentioning (S ...): a stand-in value head."""

    def __init__(self):
        self.calls = 0

    def score_batch(self, items):
        self.calls += 1
        return [-0.1 if "(S " in g or "(S " in c else -8.0 for g, c, _ in items]


def test_value_estimate_orders_the_steps():
    from ida_ns.policies import parse_candidates, value_ordered

    p = problem("(forall ((x Nat) (y Nat)) (= (plus x y) (plus y x)))")
    goal = Goal(p.theory, p.goal)
    props = parse_candidates(goal, [_Cand("cases y", -1.0), _Cand("lemma (= Z Z)", -1.0)],
                             "proxy")
    out = value_ordered(ValueProxy(), goal, props, 0.5)
    by = {q.text: q.score for q in out}
    assert by["cases y"] > by["lemma (= Z Z)"]  # its (S ...) case looks closable
    assert value_ordered(object(), goal, props, 0.5) == props  # no value head: unchanged


class CountingProxy:
    """Records how many goals each call asked about."""

    def __init__(self):
        self.sizes = []

    def propose(self, g, c, k=None, seed=0):
        self.sizes.append(1)
        return [_Cand("cases y", -0.1)]

    def propose_batch(self, items, k=None, seed=0):
        self.sizes.append(len(items))
        return [[_Cand("cases y", -0.2)] for _ in items]


def test_prefetch_batches_the_next_frontier():
    from ida_ns.prover.steps import apply_step

    p = problem("(forall ((x Nat) (y Nat)) (= (plus x y) (plus y x)))")
    goal = Goal(p.theory, p.goal)
    proxy = CountingProxy()
    pol = ProxyPolicy(proxy, k=2, prefetch=True)
    props = pol.propose(goal, 0)
    children = apply_step(props[0].step, goal)
    assert proxy.sizes == [1, len(children)]  # the goal, then all its subgoals in one batch
    pol.propose(children[0], 1)
    assert proxy.sizes.count(1) == 1  # the child's candidates came from the batch
    assert ProxyPolicy(CountingProxy()).prefetch is False  # CPU default: off


@pytest.mark.slow
def test_ensemble_members_are_trained_and_consulted(tmp_path):
    pytest.importorskip("torch")
    from ida_ns.ida import _members, run
    from ida_ns.ida_config import RunConfig
    from ida_ns.proxy.model import Proxy

    out = tmp_path / "run"
    cfg = RunConfig(tiny=True, rounds=1, out=str(out), epochs=2, workers=1, ensemble=2)
    run(cfg)
    gen1 = out / "proxies" / "gen-001"
    assert (gen1 / "members" / "m1" / "card.json").exists()
    ms = _members(Proxy.load(gen1), cfg)
    assert len(ms) == 2 and ms[0].path != ms[1].path


def test_proved_lemmas_join_the_training_goals(tmp_path):
    from ida_ns.ida import LemmaGoal, _curriculum
    from ida_ns.specs import load_problem_set

    sp = load_problem_set("default").by_id("nat_plus_zero_right")
    lemma = "(forall ((x Nat)) (= (plus x Z) x))"
    rec = {"round": 0, "problem": sp.id, "status": "proved", "label": True, "pairs": [],
           "hindsight": [{"kind": "hindsight", "lemma": lemma, "pairs": [], "sha256": "a"},
                         {"kind": "hindsight", "pairs": [], "sha256": "b"}]}
    (tmp_path / "traces.jsonl").write_text(json.dumps(rec) + "\n")
    assert _curriculum(tmp_path, [sp], 0) == []  # only lemmas of earlier rounds
    goals = _curriculum(tmp_path, [sp], 1)
    assert len(goals) == 1 and isinstance(goals[0], LemmaGoal)
    p = goals[0].problem()
    assert p.goal is not None and goals[0].id.startswith(sp.id + "#lemma-")
    bad = LemmaGoal.make(sp, "(forall ((x Nat)) (= (frob x) x))")
    with pytest.raises(IdaNsError):
        bad.problem()


def test_a_bad_source_fails_before_a_run_directory_is_made(tmp_path):
    from ida_ns.ida import run
    from ida_ns.ida_config import RunConfig

    with pytest.raises(SpecError, match="no such problem set"):
        run(RunConfig(train=("no-such-source",), out=str(tmp_path / "r")))
    assert not (tmp_path / "r").exists()
