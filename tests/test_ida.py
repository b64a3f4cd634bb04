"""The IDA loop end to end at a tiny size, the audit chain of a run, and the ablations."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")

from ida_ns.ida import list_proxies, run  # noqa: E402
from ida_ns.ida_config import RunConfig  # noqa: E402

REQUIRED = ("round", "train_solved", "heldout_solved", "heldout_total", "proxy_only_solved",
            "proxy_precision", "overrides", "nodes_per_proof", "drift", "accepted_but_false")


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("run") / "r"
    rows = run(RunConfig(tiny=True, rounds=1, out=str(out), epochs=2, workers=1))
    return out, rows


def test_loop_writes_metrics_for_every_round(tiny_run):
    out, rows = tiny_run
    lines = [json.loads(l) for l in (out / "metrics.jsonl").read_text().splitlines()]
    assert [r["round"] for r in lines] == [0, 1]
    for r in lines:
        for k in REQUIRED:
            assert k in r, k
        assert r["accepted_but_false"] == 0  # the gate is on
    assert (out / "kpis.png").stat().st_size > 1000


def test_generations_load_with_auto_model_and_lineage(tiny_run):
    from transformers import AutoModelForCausalLM

    out, _ = tiny_run
    last = out / "proxies" / "gen-001"
    model = AutoModelForCausalLM.from_pretrained(last)
    assert model.config.n_layer >= 1
    card = json.loads((last / "card.json").read_text())
    assert card["parent"].endswith("gen-000") and card["dataset_sha256"]
    table = list_proxies(out)
    assert "gen-000" in table and "gen-001" in table


def test_audit_of_a_run_verifies_and_breaks_on_change(tiny_run, tmp_path):
    out, _ = tiny_run
    ok = subprocess.run([sys.executable, "-m", "ida_ns.cli", "audit", "verify", str(out)],
                        capture_output=True, text=True)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    copy = tmp_path / "copy"
    import shutil

    shutil.copytree(out, copy)
    log = copy / "audit.jsonl"
    data = bytearray(log.read_bytes())
    i = len(data) // 2
    data[i] = ord("X") if data[i] != ord("X") else ord("Y")
    log.write_bytes(bytes(data))
    bad = subprocess.run([sys.executable, "-m", "ida_ns.cli", "audit", "verify", str(copy)],
                         capture_output=True, text=True)
    assert bad.returncode == 1 and "FAILED" in bad.stdout


def test_traces_hold_only_verified_proofs(tiny_run):
    out, _ = tiny_run
    for line in (out / "traces.jsonl").read_text().splitlines():
        t = json.loads(line)
        if t["status"] != "proved":
            assert t["pairs"] == []


def test_existing_run_needs_resume(tiny_run):
    from ida_ns.errors import IdaNsError

    out, _ = tiny_run
    with pytest.raises(IdaNsError, match="--resume"):
        run(RunConfig(tiny=True, rounds=1, out=str(out)))


def test_resume_of_a_finished_run_changes_nothing(tiny_run):
    out, rows = tiny_run
    before = (out / "traces.jsonl").read_text()
    again = run(RunConfig(tiny=True, rounds=1, out=str(out), resume=True))
    assert (out / "traces.jsonl").read_text() == before
    assert [r["round"] for r in again] == [r["round"] for r in rows]


def test_eval_command_rows_for_every_policy(tiny_run, tmp_path):
    out, _ = tiny_run
    rows_path = tmp_path / "rows.json"
    res = subprocess.run([sys.executable, "-m", "ida_ns.cli", "eval", str(out), "default",
                          "--limit", "1", "--json", str(rows_path)],
                         capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stdout + res.stderr
    rows = json.loads(rows_path.read_text())
    assert sorted(r["policy"] for r in rows) == ["H", "proxy", "proxy+H"]
    for r in rows:
        assert {"file", "policy", "status", "nodes"} <= set(r)
        assert r["nodes"] <= 12 and r["generation"] == "gen-001"
    assert "proxy+H" in res.stdout and "solved" in res.stdout


def test_eval_of_something_that_is_not_a_run_is_a_clear_error(tmp_path):
    res = subprocess.run([sys.executable, "-m", "ida_ns.cli", "eval", str(tmp_path),
                          "default"], capture_output=True, text=True, timeout=120)
    assert res.returncode == 3 and "not a run directory" in res.stderr
    assert "Traceback" not in res.stderr


def test_metrics_rows_carry_the_h_alone_control_and_origin_shares(tiny_run):
    out, _ = tiny_run
    for line in (out / "metrics.jsonl").read_text().splitlines():
        r = json.loads(line)
        assert "heldout_H" in r and r["verified"] is True
        assert set(r["origin_shares"]) == {"proxy", "H", "hindsight"}
        assert (out / "eval" / f"round-{r['round']:03d}.json").exists()
