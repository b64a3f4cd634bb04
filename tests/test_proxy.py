"""The neural proxy: configuration, tokenizer, proposals, save/load, ensemble disagreement.

Tests that need torch/transformers skip (via ``pytest.importorskip``) where the ``neural``
extra is not installed; the configuration and import-hygiene tests always run.
"""

from __future__ import annotations

import json
import math
import re
import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ida_ns.proxy import Candidate, DistillConfig, ProxyConfig
from ida_ns.proxy.config import cli_fields

GOALS = [
    "(forall ((x Nat) (y Nat)) (= (plus x (S y)) (S (plus x y))))",
    "(forall ((xs list)) (= (rev (rev xs)) xs))",
    "(forall ((n Nat) (xs list)) (= (++ (take n xs) (drop n xs)) xs))",
    "(forall ((t Tree)) (= (mirror (mirror t)) t))",
]
STEPS = ["direct", "induct xs", "cases n", "lemma (forall ((x Nat)) (= (plus x Z) x))",
         "generalize (rev xs)"]
CONTEXT = "plus : Nat Nat -> Nat; rev : list -> list; take : Nat list -> list"
STEP_GRAMMAR = re.compile(r"direct|(induct|cases) \S+|(lemma|generalize) \S.*")


def needs_neural():
    pytest.importorskip("torch")
    pytest.importorskip("transformers")
    pytest.importorskip("tokenizers")


# -- no torch needed ---------------------------------------------------------------------------


def test_importing_ida_ns_and_proxy_package_does_not_import_torch():
    code = ("import sys, ida_ns, ida_ns.proxy; from ida_ns.proxy import Candidate, ProxyConfig;"
            "print(sorted(m for m in ('torch', 'transformers') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out == "[]"


def test_candidate_is_a_frozen_value():
    c = Candidate("induct xs", -0.5)
    assert c == Candidate("induct xs", -0.5) and hash(c) == hash(Candidate("induct xs", -0.5))
    with pytest.raises(AttributeError):
        c.text = "direct"  # type: ignore[misc]


def test_proxy_config_should_succeed_with_defaults_and_round_trip_through_dict():
    cfg = ProxyConfig()
    assert ProxyConfig.from_dict(json.loads(json.dumps(cfg.to_dict()))) == cfg


@pytest.mark.parametrize("kwargs, message", [
    ({"n_embd": 130, "n_head": 4}, "n_embd=130 must be divisible by n_head=4"),
    ({"max_new_tokens": 250, "n_positions": 256}, "max_new_tokens=250"),
    ({"temperature": 0.0}, "temperature=0.0"),
    ({"vocab_size": 100}, "vocab_size=100"),
])
def test_proxy_config_should_fail_on_bad_values(kwargs, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        ProxyConfig(**kwargs)


def test_proxy_config_from_dict_should_fail_on_unknown_field():
    with pytest.raises(ValueError, match="unknown ProxyConfig fields \\['n_layers'\\]"):
        ProxyConfig.from_dict({"n_layers": 2})


def test_distill_config_should_fail_on_bad_switch():
    with pytest.raises(ValueError, match="bf16='yes'"):
        DistillConfig(bf16="yes")


@pytest.mark.parametrize("cls", [ProxyConfig, DistillConfig])
def test_every_config_field_has_help_for_the_cli(cls):
    flags = list(cli_fields(cls))
    assert flags and all(flag.startswith("--") and help_ for flag, _, help_ in flags)


# -- tokenizer ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tokenizer():
    needs_neural()
    from ida_ns.proxy.tokenizer import train_tokenizer

    return train_tokenizer(GOALS + STEPS + [CONTEXT], vocab_size=1024)


@pytest.mark.neural
@pytest.mark.parametrize("text", GOALS + STEPS + [CONTEXT])
def test_tokenizer_round_trips_goal_and_step_text(tokenizer, text):
    ids = tokenizer.encode(text, add_special_tokens=False)
    assert tokenizer.decode(ids) == text
    assert tokenizer.unk_token_id not in ids


@pytest.mark.neural
def test_tokenizer_keeps_seen_symbols_whole_and_splits_parentheses(tokenizer):
    toks = tokenizer.convert_ids_to_tokens(
        tokenizer.encode("(= (rev (rev xs)) xs)", add_special_tokens=False))
    assert toks == ["(", "=", "Ġ(", "rev", "Ġ(", "rev", "Ġxs", ")", ")", "Ġxs", ")"]
    assert tokenizer.convert_ids_to_tokens(
        tokenizer.encode("induct xs", add_special_tokens=False)) == ["induct", "Ġxs"]


@pytest.mark.neural
def test_tokenizer_spells_unseen_symbols_with_byte_pieces_not_unk(tokenizer):
    text = "lemma (= (frobnicate zq') (f\u00fcr zq'))"
    ids = tokenizer.encode(text, add_special_tokens=False)
    assert tokenizer.unk_token_id not in ids
    assert tokenizer.decode(ids) == text


@pytest.mark.neural
@settings(max_examples=60, deadline=None)
@given(st.text(max_size=80))
def test_tokenizer_round_trips_any_text(tokenizer, text):
    assert tokenizer.decode(tokenizer.encode(text, add_special_tokens=False)) == text


@pytest.mark.neural
def test_tokenizer_special_tokens_have_fixed_ids(tokenizer):
    from ida_ns.proxy.tokenizer import SPECIAL_TOKENS

    assert tokenizer.convert_tokens_to_ids(list(SPECIAL_TOKENS)) == list(range(6))
    assert (tokenizer.pad_token_id, tokenizer.bos_token_id, tokenizer.eos_token_id,
            tokenizer.sep_token_id) == (0, 1, 2, 3)


@pytest.mark.neural
def test_tokenizer_training_is_deterministic_and_order_independent():
    needs_neural()
    from ida_ns.proxy.tokenizer import train_tokenizer

    a = train_tokenizer(GOALS + STEPS, 600)
    b = train_tokenizer(list(reversed(GOALS + STEPS)) + GOALS, 600)
    assert a.get_vocab() == b.get_vocab()


# -- proxy -------------------------------------------------------------------------------------

TINY = ProxyConfig(n_layer=2, n_embd=64, n_head=4, n_positions=128, vocab_size=600,
                   max_new_tokens=24, num_candidates=4)
# (goal, step): induction on the first quantified variable, lemma for two goals.
FIRST_VAR = re.compile(r"\(\((\w+)")
TRAIN = [(g, "induct " + FIRST_VAR.search(g).group(1)) for g in GOALS[:3]] + [
    ("(forall ((t Tree)) (= (mirror (mirror t)) t))", "lemma (forall ((t Tree)) (= t t))")]


@pytest.fixture(scope="module")
def untrained():
    needs_neural()
    from ida_ns.proxy import Proxy

    return Proxy.new(TINY, GOALS + STEPS + [CONTEXT], seed=0)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A tiny proxy fitted to four (goal -> step) pairs (~1 s on one CPU thread)."""
    needs_neural()
    from ida_ns.proxy.distill import distill

    out = tmp_path_factory.mktemp("proxy") / "gen0"
    proxy, _ = distill(None, [(g, CONTEXT, s) for g, s in TRAIN], [],
                       DistillConfig(epochs=100, lr=3e-3, batch_size=4, warmup_ratio=0.1),
                       out, proxy_config=TINY, tokenizer_corpus=GOALS + STEPS + [CONTEXT])
    return proxy


@pytest.mark.neural
def test_propose_returns_distinct_parseable_candidates_sorted_by_finite_logprob(trained):
    cands = trained.propose(GOALS[1], CONTEXT, k=6)
    assert 1 <= len(cands) <= 7
    assert len({c.text for c in cands}) == len(cands)
    assert all(isinstance(c, Candidate) and math.isfinite(c.logprob) and c.logprob <= 0
               for c in cands)
    assert [c.logprob for c in cands] == sorted((c.logprob for c in cands), reverse=True)
    assert cands[0].text == "induct xs"
    assert all(STEP_GRAMMAR.fullmatch(c.text) for c in cands[:1])


@pytest.mark.neural
def test_propose_greedy_candidate_reproduces_each_training_pair(trained):
    results = trained.propose_batch([(g, CONTEXT) for g, _ in TRAIN], k=0)
    assert [r[0].text for r in results] == [s for _, s in TRAIN]
    assert all(r[0].logprob > math.log(0.5) for r in results)


@pytest.mark.neural
def test_propose_untrained_output_is_untrusted_text_with_finite_logprobs(untrained):
    for c in untrained.propose(GOALS[0], CONTEXT, k=8):
        assert isinstance(c.text, str) and c.text == " ".join(c.text.split())
        assert math.isfinite(c.logprob) and c.logprob <= 0


@pytest.mark.neural
def test_propose_batch_equals_one_by_one_despite_padding(trained, untrained):
    for proxy in (trained, untrained):
        items = [(GOALS[0], ""), (GOALS[2], CONTEXT), (GOALS[3], CONTEXT)]
        batched = proxy.propose_batch(items, k=0)
        for item, got in zip(items, batched):
            alone = proxy.propose(*item, k=0)
            assert [c.text for c in got] == [c.text for c in alone]
            assert [c.logprob for c in got] == pytest.approx([c.logprob for c in alone],
                                                             abs=1e-4)


@pytest.mark.neural
def test_propose_is_deterministic_for_a_seed(untrained):
    import torch

    state = torch.random.get_rng_state()
    a = untrained.propose(GOALS[0], CONTEXT, k=8, seed=3)
    assert untrained.propose(GOALS[0], CONTEXT, k=8, seed=3) == a
    assert torch.equal(torch.random.get_rng_state(), state)  # global RNG untouched


@pytest.mark.neural
def test_propose_should_fail_on_negative_k(untrained):
    with pytest.raises(ValueError, match="k=-1"):
        untrained.propose(GOALS[0], CONTEXT, k=-1)


@pytest.mark.neural
def test_long_prompt_keeps_goal_head_and_marks_truncation(untrained):
    from ida_ns.proxy.tokenizer import TRUNC

    tok, budget = untrained.tokenizer, untrained.prompt_budget()
    huge_goal = "(forall ((x Nat)) " + "(and (= x x) " * 200 + ")" * 201
    ids = untrained.encode_prompt(huge_goal, CONTEXT * 20)
    assert len(ids) <= budget + 3
    assert ids[0] == tok.bos_token_id and ids[-1] == tok.sep_token_id
    trunc = tok.convert_tokens_to_ids(TRUNC)
    assert ids.count(trunc) == 2  # both segments cut
    head = tok.decode(ids[1:12])
    assert head.startswith("(forall ((x Nat)) (and")
    # a short goal with a long context: the goal stays whole, only the context is cut
    ids = untrained.encode_prompt(GOALS[2], CONTEXT * 50)
    goal_ids = tok.encode(GOALS[2], add_special_tokens=False)
    assert ids[1:1 + len(goal_ids)] == goal_ids and ids.count(trunc) == 1
    # and proposing on it works
    assert isinstance(untrained.propose(huge_goal, CONTEXT * 20, k=1), list)


@pytest.mark.neural
def test_short_prompt_is_not_truncated(untrained):
    from ida_ns.proxy.tokenizer import TRUNC

    ids = untrained.encode_prompt(GOALS[0], CONTEXT)
    assert untrained.tokenizer.convert_tokens_to_ids(TRUNC) not in ids
    assert untrained.tokenizer.decode(ids, skip_special_tokens=False) == \
        f"<bos>{GOALS[0]}<sep>{CONTEXT}<sep>"


# -- save / load -------------------------------------------------------------------------------


@pytest.mark.neural
def test_save_load_round_trip_via_auto_classes(trained, tmp_path):
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from ida_ns.proxy import Proxy
    from ida_ns.proxy.model import file_sha256

    card = trained.save(tmp_path / "p", {"note": "round trip"})
    assert card["model_sha256"] == file_sha256(tmp_path / "p" / "model.safetensors")
    assert json.loads((tmp_path / "p" / "card.json").read_text()) == card

    model = AutoModelForCausalLM.from_pretrained(tmp_path / "p")
    tok = AutoTokenizer.from_pretrained(tmp_path / "p")
    ids = torch.tensor([trained.encode_prompt(GOALS[0], CONTEXT)])
    with torch.no_grad():
        assert torch.allclose(model(ids).logits, trained.model(ids).logits, atol=1e-5)
    assert tok.encode(GOALS[1], add_special_tokens=False) == \
        trained.tokenizer.encode(GOALS[1], add_special_tokens=False)

    again = Proxy.load(tmp_path / "p")
    assert again.config == trained.config and again.card["note"] == "round trip"
    assert again.propose(GOALS[1], CONTEXT, k=3) == trained.propose(GOALS[1], CONTEXT, k=3)


@pytest.mark.neural
def test_load_should_fail_on_a_directory_that_is_not_a_proxy(tmp_path):
    needs_neural()
    from ida_ns.errors import IdaNsError
    from ida_ns.proxy import Proxy

    with pytest.raises(IdaNsError, match="proxy_config.json is missing"):
        Proxy.load(tmp_path)


# -- ensemble ----------------------------------------------------------------------------------


@pytest.mark.neural
def test_ensemble_disagreement_is_zero_for_agreeing_members(trained):
    from ida_ns.proxy import ensemble_disagreement

    assert ensemble_disagreement([trained, trained.clone()], GOALS[1], CONTEXT) == 0.0


@pytest.mark.neural
def test_ensemble_disagreement_grows_when_members_differ(trained, untrained):
    from ida_ns.proxy import ensemble_disagreement

    d = ensemble_disagreement([trained, trained, untrained], GOALS[1], CONTEXT)
    assert d == pytest.approx(1 / 3)
