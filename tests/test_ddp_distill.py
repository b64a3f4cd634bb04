"""Distributed distillation (ida_ns.distributed): ``ida-ns distill`` under ``torchrun`` with 2
CPU processes (gloo) saves a generation in the single-process trainer's format, which loads
with ``from_pretrained`` and matches the single-process result on the same data."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")
pytest.importorskip("tokenizers")

import torch  # noqa: E402

from ida_ns.distributed import DistillInputError, read_pairs  # noqa: E402
from ida_ns.proxy import DistillConfig, Proxy, ProxyConfig  # noqa: E402
from ida_ns.proxy.distill import distill  # noqa: E402

pytestmark = pytest.mark.neural

ROOT = Path(__file__).resolve().parents[1]
TINY = ProxyConfig(n_layer=1, n_embd=32, n_head=2, n_positions=96, vocab_size=400,
                   max_new_tokens=16)
VARS = ["xs", "ys", "n", "m", "t"]


def pairs(n: int) -> list[list[str]]:
    out = []
    for i in range(n):
        a, b = VARS[i % 5], VARS[(i * 3 + 1) % 5]
        out.append([f"(forall (({a} T) ({b} T)) (= (f{i % 7} {a} {b}) (g {b} {a})))",
                    "f : T T -> T", f"induct {a}"])
    return out


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    d = tmp_path_factory.mktemp("ddp")
    parent = Proxy.new(TINY, [t for p in pairs(40) for t in p] + ["induct", "direct"], seed=0)
    parent.save(d / "gen-000", {"format": "ida-ns-proxy-card/1", "generation": 0,
                                "parent": None, "dataset_sha256": None})
    # a run's traces.jsonl: round 0 is replayed, round 1 is new
    traces = [{"round": 0, "problem": "p0", "pairs": pairs(40)[:10]},
              {"round": 1, "problem": "p1", "pairs": pairs(40)[10:]},
              {"round": 2, "problem": "p2", "pairs": [["(= a a)", "", "direct"]]}]
    (d / "traces.jsonl").write_text("".join(json.dumps(t) + "\n" for t in traces))
    return d


def torchrun(args: list[str], nproc: int = 2, timeout: int = 300):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone",
           "--nproc-per-node", str(nproc), "-m", "ida_ns.cli", "distill", *args]
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout)


FLAGS = ["--epochs", "3", "--batch-size", "6", "--lr", "3e-3", "--device", "cpu"]


def test_two_process_gloo_distillation_saves_a_loadable_generation(setup):
    out = setup / "gen-001"
    r = torchrun(["--parent", str(setup / "gen-000"), "--pairs", str(setup / "traces.jsonl"),
                  "--round", "1", "--out", str(out), *FLAGS])
    assert r.returncode == 0, r.stderr[-3000:]
    assert "on 2 process(es) (gloo, cpu)" in r.stdout
    assert not out.with_name("gen-001.tmp").exists()

    # loads as a plain HF model and as a proxy
    from transformers import AutoModelForCausalLM

    hf = AutoModelForCausalLM.from_pretrained(out)
    child = Proxy.load(out)
    card = json.loads((out / "card.json").read_text())
    assert card["generation"] == 1 and card["metrics"]["world_size"] == 2
    assert card["metrics"]["backend"] == "gloo"
    assert card["dataset"]["offered_pairs"] == 30 and card["dataset"]["offered_replay"] == 10

    # the single-process trainer on the same data: same format, (nearly) the same weights
    new, replay = read_pairs(setup / "traces.jsonl", 1)
    cfg = DistillConfig(epochs=3, batch_size=6, lr=3e-3, device="cpu")
    single, _ = distill(Proxy.load(setup / "gen-000"), new, replay, cfg, setup / "single")
    ref = json.loads((setup / "single" / "card.json").read_text())
    assert set(card) == set(ref)
    assert set(ref["metrics"]) <= set(card["metrics"])
    assert card["dataset_sha256"] == ref["dataset_sha256"]
    assert card["dataset"] == ref["dataset"]
    assert sorted(p.name for p in out.iterdir()) == sorted(p.name for p in
                                                           (setup / "single").iterdir())
    parent = Proxy.load(setup / "gen-000").model.state_dict()
    theirs = single.model.state_dict()
    moved = 0.0
    for name, w in hf.state_dict().items():
        moved = max(moved, float((theirs[name] - parent[name]).abs().max()))
        assert torch.allclose(w, theirs[name], atol=2e-4), name
    assert moved > 1e-3, "training changed nothing: the comparison proves nothing"
    assert torch.equal(child.model.state_dict()["lm_head.weight"], hf.state_dict()["lm_head.weight"])


def test_distill_refuses_to_overwrite_and_bad_pairs(setup, tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('["goal", "ctx", "step"]\n{"round": 0, "pairs": [["a", "b"]]}\n')
    with pytest.raises(DistillInputError, match=r"bad.jsonl:2: a pair is \[goal, context, step\]"):
        read_pairs(bad)
    bad.write_text('["goal", "ctx", "step"]\nnot json\n')
    with pytest.raises(DistillInputError, match=r"bad.jsonl:2: not JSON"):
        read_pairs(bad)
    from ida_ns.cli import main

    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "x").write_text("keep me")
    good = tmp_path / "good.jsonl"
    good.write_text("".join(json.dumps(p) + "\n" for p in pairs(4)))
    rc = main(["distill", "--pairs", str(good), "--parent", str(setup / "gen-000"),
               "--out", str(tmp_path / "taken"), "--epochs", "1"])
    assert rc == 3 and (tmp_path / "taken" / "x").read_text() == "keep me"
    rc = main(["distill", "--pairs", str(good), "--parent", str(tmp_path),
               "--out", str(tmp_path / "o")])
    assert rc == 3 and not (tmp_path / "o").exists()


def test_single_process_generation_zero(tmp_path):
    """Without torchrun (world size 1) the same entry point trains a fresh generation 0."""
    from ida_ns.distributed import distill_distributed

    cfg = DistillConfig(epochs=2, batch_size=8, lr=3e-3, device="cpu")
    card = distill_distributed(None, pairs(20), [], cfg, tmp_path / "gen-000", proxy_config=TINY)
    assert card["generation"] == 0 and card["parent"] is None
    assert card["metrics"]["world_size"] == 1 and card["metrics"]["steps"] == 6
    assert sorted(p.name for p in tmp_path.iterdir()) == ["gen-000"]  # no .init/.tmp left
    loaded = Proxy.load(tmp_path / "gen-000")
    assert loaded.config == TINY and loaded.card["model_sha256"] == card["model_sha256"]
