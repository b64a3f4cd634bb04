"""The lemma bank: the training sources' goals outside the re-amplified sample, proved once by
H in round 0; their re-checked proofs feed distillation, the lemma memory and the recall table
(provenance: training sources only), and they are never re-amplified."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from ida_ns.ida import _bank, _splits, check_memory_provenance
from ida_ns.ida_config import RunConfig

REPO = Path(__file__).resolve().parents[1]
ISA = "benchmarks/tip/isaplanner"


def _cfg(**kw):
    base = dict(train=(ISA,), heldout=("benchmarks/tip/prod",), train_limit=5,
                heldout_limit=2, out="unused")
    base.update(kw)
    return RunConfig(**base)


def test_bank_is_the_rest_of_the_training_sources_and_never_held_out():
    cfg = _cfg()
    train, heldout, _ = _splits(cfg)
    bank = _bank(cfg, train)
    ids = {p.id for p in train} | {p.id for p in bank}
    assert len(train) == 5 and len(bank) == 86 - 5 and len(ids) == 86
    assert not {p.id for p in bank} & {p.id for p in train}
    assert not {p.id for p in bank} & {p.id for p in heldout}
    assert all(p.id.startswith("isaplanner/") for p in bank)


def test_bank_limit_is_a_seeded_sample_and_the_bank_can_be_off():
    cfg = _cfg(bank_limit=7)
    train, _, _ = _splits(cfg)
    a, b = _bank(cfg, train), _bank(cfg, train)
    assert len(a) == 7 and [p.id for p in a] == [p.id for p in b]
    assert [p.id for p in _bank(_cfg(bank_limit=7, seed=1), train)] != [p.id for p in a]
    assert _bank(_cfg(no_bank=True), train) == []
    assert _bank(_cfg(train_limit=0), _splits(_cfg(train_limit=0))[0]) == []  # all trained
    assert _bank(_cfg(tiny=True), train) == []


def test_bank_flags_parse_and_are_checked():
    import argparse

    from ida_ns.ida_config import add_run_arguments

    p = argparse.ArgumentParser()
    add_run_arguments(p)
    ns = p.parse_args(["--bank-limit", "0", "--no-bank", "--bank-budget", "0.5"])
    cfg = RunConfig.from_args(ns)
    assert cfg.bank_limit == 0 and cfg.no_bank and cfg.bank_budget_s == 0.5
    with pytest.raises(SystemExit):
        p.parse_args(["--bank-limit", "-1"])
    with pytest.raises(SystemExit):
        p.parse_args(["--bank-budget", "0"])


@pytest.mark.slow
def test_a_run_with_a_bank_proves_it_once_and_learns_from_it(tmp_path):
    """Two training goals re-amplified every round, three banked (proved in round 0 only); the
    bank's verified proofs are distilled and enter the memory, with their own provenance."""
    pytest.importorskip("torch")
    from ida_ns.audit import read_records
    from ida_ns.ida import run
    from ida_ns.proxy.candidates import LemmaMemory

    src = tmp_path / "isa"
    src.mkdir()
    for n in ("prop_01", "prop_11", "prop_12", "prop_49", "prop_63"):
        shutil.copy(REPO / ISA / f"{n}.smt2", src / f"{n}.smt2")
    held = tmp_path / "held"
    held.mkdir()
    shutil.copy(REPO / "benchmarks/tip/prod/prop_38.smt2", held / "prop_38.smt2")
    out = tmp_path / "run"
    cfg = RunConfig(train=(str(src),), heldout=(str(held),), train_limit=2, heldout_limit=0,
                    rounds=1, out=str(out), epochs=1, workers=1, problem_budget_s=1.0,
                    eval_budget_s=2.0, bank_budget_s=2.0)
    rows = run(cfg)
    traces = [json.loads(x) for x in (out / "traces.jsonl").read_text().splitlines()]
    banked = [t for t in traces if t.get("bank")]
    assert len(banked) == 3 and all(t["round"] == 0 for t in banked)  # proved once
    assert {t["problem"] for t in traces if t["round"] == 1} \
        == {t["problem"] for t in traces if t["round"] == 0 and not t.get("bank")}
    proved = [t for t in banked if t.get("proof")]
    assert proved, "H proves some of these easy isaplanner goals"
    assert rows[0]["bank_total"] == 3 and rows[0]["bank_solved"] == len(proved)
    # the bank's pairs were distilled: the training set names their re-checked records
    trainset = [r for r in read_records(out / "audit.jsonl") if r["kind"] == "trainset"]
    shas = set(trainset[0]["data"]["records"])
    assert {t["proof"]["sha256"] for t in proved} <= shas
    memory = LemmaMemory.load(out / "proxies" / "gen-001")
    train, heldout, _ = _splits(cfg)
    bank = _bank(cfg, train)
    check_memory_provenance(memory, train + bank, heldout)  # from training sources only
    from_bank = [e for e in memory.entries if e["source"] in {p.id for p in bank}]
    if from_bank:  # the provenance check knows the bank is training data, nothing else
        from ida_ns.errors import IdaNsError

        with pytest.raises(IdaNsError, match="not from a training problem"):
            check_memory_provenance(memory, train, heldout)
