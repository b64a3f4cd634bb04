"""``bench tip`` streams its rows, holds a hard per-problem limit for every system, records
the time actually spent, survives being killed and resumes (issue 16, issue 15 part 0)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ida_ns.bench import BenchError, read_rows, run_tip_bench
from ida_ns.testing import budget_gen as gen

ROOT = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}


def small_folder(tmp_path: Path, n: int) -> Path:
    d = tmp_path / "probs"
    d.mkdir()
    for i in range(n):
        # quick for z3: alternately provable and refutable linear arithmetic
        goal = (f"(forall ((x Int)) (>= (+ x {i}) x))" if i % 2 == 0
                else f"(forall ((x Int)) (> x {i}))")
        (d / f"p{i:02}.smt2").write_text(f"(prove {goal})\n")
    return d


def test_rows_stream_with_time_spent_and_a_summary(tmp_path):
    d = small_folder(tmp_path, 3)
    (d / "tower.smt2").write_text(gen.tower(40))
    out = tmp_path / "rows.jsonl"
    rows = run_tip_bench(d, budget_s=1.0, jobs=2, out=str(out), systems=("z3", "ida-ns"),
                         hard_limit_s=4.0, quiet=True)
    lines = [json.loads(x) for x in out.read_text().splitlines()]
    assert "summary" in lines[-1] and lines[-1]["n"] == 4
    body = lines[:-1]
    assert sorted((r["file"], r["system"]) for r in body) == \
        sorted((r["file"], r["system"]) for r in rows)
    assert len(body) == 8  # a row per (problem, system), whatever happened
    for r in body:
        assert 0 < r["time_s"] <= r["wall_s"] + 1e-6
        assert r["wall_s"] < 4.0 + 5.0  # killed at the hard limit, not waited for
        if r.get("limit"):
            assert r["status"] == "unknown" and "phase" in r["reason"]
    z3 = {Path(r["file"]).name: r["status"] for r in body if r["system"] == "z3"}
    # (unknown only when a heavily loaded machine ate the 1 s budget)
    assert z3["p00.smt2"] in ("proved", "unknown") and z3["p01.smt2"] in ("refuted", "unknown")
    assert "proved" in z3.values() or "refuted" in z3.values()


def test_killed_bench_keeps_its_rows_and_resumes(tmp_path):
    d = small_folder(tmp_path, 6)
    out = tmp_path / "rows.jsonl"
    args = [sys.executable, "-m", "ida_ns.cli", "bench", "tip", str(d), "--budget", "1",
            "--jobs", "1", "--systems", "z3", "--json", str(out)]
    proc = subprocess.Popen(args, env=ENV, cwd=ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        for _ in range(1200):
            if out.exists() and len(out.read_text().splitlines()) >= 2:
                break
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait()
    kept = read_rows(out)
    assert len(kept) >= 2 and all(r["status"] in ("proved", "refuted") for r in kept)
    # a torn last line (a kill in the middle of a write) is tolerated too
    with open(out, "a") as f:
        f.write('{"file": "torn')
    r = subprocess.run(args + ["--resume"], env=ENV, cwd=ROOT, capture_output=True, text=True,
                       timeout=300)
    assert r.returncode == 0, r.stderr
    assert f"resuming: {len(kept)} finished rows kept, {6 - len(kept)} to run" in r.stdout
    rows = read_rows(out)
    keys = [(x["file"], x["system"]) for x in rows]
    assert len(keys) == len(set(keys)) == 6
    assert rows[:len(kept)] == kept  # the finished rows were not re-run


def test_bad_arguments_are_clear_errors(tmp_path):
    d = small_folder(tmp_path, 1)
    with pytest.raises(BenchError, match="unknown system"):
        run_tip_bench(d, systems=("vampire",), quiet=True)
    with pytest.raises(BenchError, match="no .smt2 files"):
        run_tip_bench(_empty(tmp_path), quiet=True)
    with pytest.raises(BenchError, match="cannot write"):
        run_tip_bench(d, out=str(tmp_path / "no" / "rows.jsonl"), quiet=True)
    bad = tmp_path / "old.json"
    bad.write_text('[\n{"file": "a"},\n{"file": "b"}\n]\n')
    with pytest.raises(BenchError, match="old.json:1"):
        read_rows(bad)


def _empty(tmp_path: Path) -> Path:
    e = tmp_path / "empty"
    e.mkdir()
    return e


@pytest.mark.slow
def test_interrupted_bench_stops_at_once_and_keeps_rows(tmp_path):
    d = small_folder(tmp_path, 1)
    (d / "tower.smt2").write_text(gen.tower(40))
    out = tmp_path / "rows.jsonl"
    args = [sys.executable, "-m", "ida_ns.cli", "bench", "tip", str(d), "--budget", "30",
            "--jobs", "1", "--systems", "z3,ida-ns", "--json", str(out)]
    proc = subprocess.Popen(args, env=ENV, cwd=ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    for _ in range(1200):
        if out.exists() and out.read_text().count("\n") >= 1:
            break
        time.sleep(0.05)
    time.sleep(1.0)  # the next problem is running now (up to 30 s if not stopped)
    proc.send_signal(signal.SIGINT)
    try:
        _, err = proc.communicate(timeout=20)  # not the 30 s budget, let alone 4 problems
    finally:
        proc.kill()
    assert proc.returncode == 130 and "interrupted" in err and "Traceback" not in err
    assert len(read_rows(out)) >= 1
