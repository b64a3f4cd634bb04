"""Distillation: dataset canonicalisation, learning, lineage (cards), determinism.

A tiny model (2 x 64) learns "induct <first quantified variable>" on a few dozen synthetic
goals in a couple of seconds on one CPU thread.
"""

from __future__ import annotations

import json
import random

import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")
pytest.importorskip("tokenizers")

import torch  # noqa: E402

from ida_ns.proxy import DistillConfig, Proxy, ProxyConfig  # noqa: E402
from ida_ns.proxy.distill import (  # noqa: E402
    IGNORE, build_dataset, canonical_pairs, collate, dataset_sha256, distill, lr_at,
)
from ida_ns.proxy.model import file_sha256  # noqa: E402

pytestmark = pytest.mark.neural

TINY = ProxyConfig(n_layer=2, n_embd=64, n_head=4, n_positions=128, vocab_size=600,
                   max_new_tokens=24)
SORTS = {"xs": "list", "ys": "list", "n": "Nat", "m": "Nat", "t": "Tree", "acc": "list"}
FUNS = ["rev", "len", "plus", "app", "mirror", "count"]
CTX = "rev : list -> list; len : list -> Nat; plus : Nat Nat -> Nat"


def induct_first_pairs(n: int, seed: int = 0) -> list[tuple[str, str, str]]:
    """Goals over 1-3 quantified variables; the step is induction on the first one."""
    rng = random.Random(seed)
    out = []
    while len(out) < n:
        vs = rng.sample(sorted(SORTS), rng.randint(1, 3))
        f = rng.choice(FUNS)
        binders = " ".join(f"({v} {SORTS[v]})" for v in vs)
        goal = f"(forall ({binders}) (= ({f} {' '.join(vs)}) ({f} {' '.join(reversed(vs))})))"
        out.append((goal, CTX, f"induct {vs[0]}"))
    return canonical_pairs(out)


FAST = DistillConfig(epochs=3, batch_size=8, lr=3e-3)


@pytest.fixture(scope="module")
def gen0(tmp_path_factory):
    """Generation 0 trained on 36 induct-first pairs: (proxy, metrics, pairs, dir)."""
    pairs = induct_first_pairs(36)
    out = tmp_path_factory.mktemp("run") / "gen0"
    proxy, metrics = distill(None, pairs, [], DistillConfig(epochs=40, batch_size=8, lr=3e-3),
                             out, proxy_config=TINY)
    return proxy, metrics, pairs, out


# -- dataset -----------------------------------------------------------------------------------


def test_dataset_is_deduplicated_normalised_and_order_independent():
    pairs = [("(= x  x)", "c", "direct"), ("(= y y)", "c", "induct y"), ("(= x x)", "c", "direct")]
    a, _ = build_dataset(pairs, [], None, 0)
    b, _ = build_dataset(list(reversed(pairs)) + [(" (= x x)\n", "c", "direct ")], [], None, 0)
    assert a == b == [("(= x x)", "c", "direct"), ("(= y y)", "c", "induct y")]
    assert dataset_sha256(a) == dataset_sha256(b)


def test_dataset_hash_changes_with_any_pair():
    a = canonical_pairs([("(= x x)", "c", "direct")])
    b = canonical_pairs([("(= x x)", "c", "induct x")])
    assert dataset_sha256(a) != dataset_sha256(b)


def test_replay_drops_duplicates_of_new_pairs_and_is_capped_deterministically():
    new = [(f"(p {i})", "", "direct") for i in range(4)]
    replay = [(f"(q {i})", "", "direct") for i in range(20)] + new
    n1, r1 = build_dataset(new, replay, 1.5, seed=7)
    n2, r2 = build_dataset(new, list(reversed(replay)), 1.5, seed=7)
    assert n1 == n2 and r1 == r2 and len(r1) == 6
    assert not set(r1) & set(n1)
    _, all_rep = build_dataset(new, replay, None, seed=7)
    assert len(all_rep) == 20


@pytest.mark.parametrize("bad", [("(= x x)", "direct"), ("", "c", "direct"),
                                 ("(= x x)", "c", "  ")])
def test_dataset_should_fail_on_malformed_pairs(bad):
    with pytest.raises(ValueError, match="pair"):
        canonical_pairs([bad])


def test_collate_puts_loss_only_on_step_tokens():
    batch = collate([([1, 10, 3, 11, 3, 20, 21, 2], 5), ([1, 12, 3, 3, 22, 2], 4)], pad_id=0)
    assert batch["labels"].tolist() == [[IGNORE] * 5 + [20, 21, 2],
                                        [IGNORE] * 4 + [22, 2, IGNORE, IGNORE]]
    assert batch["attention_mask"].tolist()[1] == [1] * 6 + [0, 0]
    fixed = collate([([1, 3, 3, 5, 2], 3)], pad_id=0, pad_to_multiple=8, pad_rows_to=3)
    assert fixed["input_ids"].shape == (3, 8)
    assert (fixed["labels"][1:] == IGNORE).all() and (fixed["attention_mask"][1:] == 1).all()


def test_learning_rate_warms_up_then_decays_to_the_floor():
    cfg = DistillConfig(lr=1e-3, warmup_ratio=0.1, min_lr_ratio=0.1)
    lrs = [lr_at(s, 100, cfg) for s in range(100)]
    assert lrs[0] < lrs[9] == pytest.approx(1e-3)
    assert all(a >= b for a, b in zip(lrs[10:], lrs[11:]))
    assert lrs[-1] == pytest.approx(1e-4, rel=0.05)


# -- learning ----------------------------------------------------------------------------------


def test_tiny_model_learns_induct_on_first_variable(gen0):
    proxy, metrics, pairs, _ = gen0
    assert metrics["final_loss"] < metrics["first_loss"] / 20
    results = proxy.propose_batch([(g, c) for g, c, _ in pairs], k=0)
    assert [r[0].text if r else None for r in results] == [s for _, _, s in pairs]
    assert metrics["tokens_per_s"] > 0 and metrics["device"] == "cpu"
    assert metrics["bf16"] is False and metrics["compiled"] is False


def test_distillation_changes_every_trainable_parameter(gen0, tmp_path):
    parent, _, pairs, _ = gen0
    before = {n: p.detach().clone() for n, p in parent.model.named_parameters()}
    child, _ = distill(parent, induct_first_pairs(16, seed=1), pairs, FAST, tmp_path / "gen1")
    for name, p in child.model.named_parameters():
        if p.requires_grad:
            assert not torch.equal(p.detach(), before[name]), f"{name} did not change"
    # the parent itself is untouched
    for name, p in parent.model.named_parameters():
        assert torch.equal(p.detach(), before[name]), f"parent's {name} changed"


def test_card_records_lineage_data_config_metrics_and_model_hash(gen0, tmp_path):
    parent, _, pairs, parent_dir = gen0
    new = induct_first_pairs(16, seed=2)
    child, metrics = distill(parent, new, pairs,
                             DistillConfig(epochs=2, batch_size=8, replay_ratio=0.5),
                             tmp_path / "gen1")
    card = json.loads((tmp_path / "gen1" / "card.json").read_text())
    assert card == child.card
    assert card["generation"] == 1 and card["parent"] == str(parent_dir.resolve())
    assert card["parent_model_sha256"] == parent.card["model_sha256"] == \
        file_sha256(parent_dir / "model.safetensors")
    assert card["model_sha256"] == file_sha256(tmp_path / "gen1" / "model.safetensors")
    n_new, n_rep = build_dataset(new, pairs, 0.5, 0)
    assert card["dataset"]["pairs"] == len(n_new) == 16
    assert card["dataset"]["replay"] == len(n_rep) == 8
    assert card["dataset_sha256"] == dataset_sha256(sorted(n_new + n_rep))
    assert card["distill_config"]["replay_ratio"] == 0.5
    assert ProxyConfig.from_dict(card["proxy_config"]) == parent.config
    assert card["metrics"]["steps"] == metrics["steps"] == 2 * 3  # 24 examples / 8, 2 epochs
    assert set(card["versions"]) == {"ida_ns", "torch", "transformers"}
    # the child loads back as a proxy with the same card
    assert Proxy.load(tmp_path / "gen1").card == card


def test_generation0_card_has_no_parent(gen0):
    _, _, _, out = gen0
    card = json.loads((out / "card.json").read_text())
    assert card["generation"] == 0 and card["parent"] is None
    assert card["parent_model_sha256"] is None


def test_distillation_is_deterministic_on_cpu(tmp_path):
    pairs = induct_first_pairs(12, seed=3)
    cfg = DistillConfig(epochs=2, batch_size=4)
    _, m1 = distill(None, pairs, [], cfg, tmp_path / "a", proxy_config=TINY)
    _, m2 = distill(None, list(reversed(pairs)), [], cfg, tmp_path / "b", proxy_config=TINY)
    card = [json.loads((tmp_path / d / "card.json").read_text()) for d in "ab"]
    assert card[0]["model_sha256"] == card[1]["model_sha256"]
    assert card[0]["dataset_sha256"] == card[1]["dataset_sha256"]
    assert m1["final_loss"] == m2["final_loss"]


def test_max_steps_caps_training(tmp_path):
    _, m = distill(None, induct_first_pairs(12), [], DistillConfig(epochs=5, batch_size=4,
                   max_steps=2), tmp_path / "a", proxy_config=TINY)
    assert m["steps"] == 2


def test_training_restores_the_thread_setting(tmp_path):
    before = torch.get_num_threads()
    distill(None, induct_first_pairs(4), [], DistillConfig(epochs=1, num_threads=1),
            tmp_path / "a", proxy_config=TINY)
    assert torch.get_num_threads() == before


# -- should fail -------------------------------------------------------------------------------


def test_distill_should_fail_without_pairs(tmp_path):
    with pytest.raises(ValueError, match="nothing to train on: 0 pairs"):
        distill(None, [], [], FAST, tmp_path / "a", proxy_config=TINY,
                tokenizer_corpus=["(= x x)"])


def test_distill_should_fail_when_every_step_is_too_long(tmp_path):
    long_step = "lemma " + "(and true " * 40 + "true" + ")" * 40
    with pytest.raises(ValueError, match="1 had steps longer than max_new_tokens=24"):
        distill(None, [("(= x x)", "", long_step)], [], FAST, tmp_path / "a", proxy_config=TINY)


def test_distill_should_fail_when_child_shape_differs_from_parent(gen0, tmp_path):
    parent = gen0[0]
    with pytest.raises(ValueError, match="proxy_config differs from the parent's"):
        distill(parent, induct_first_pairs(4), [], FAST, tmp_path / "a",
                proxy_config=ProxyConfig())


def test_distill_should_fail_when_a_child_gets_a_new_tokenizer_corpus(gen0, tmp_path):
    with pytest.raises(ValueError, match="tokenizer_corpus is for generation 0 only"):
        distill(gen0[0], induct_first_pairs(4), [], FAST, tmp_path / "a",
                tokenizer_corpus=["(= x x)"])


def test_distill_should_fail_on_cuda_without_cuda(tmp_path):
    if torch.cuda.is_available():
        pytest.skip("CUDA is available here")
    with pytest.raises(ValueError, match="CUDA is not available"):
        distill(None, induct_first_pairs(4), [], DistillConfig(device="cuda"), tmp_path / "a",
                proxy_config=TINY)
