"""The HTML report opened in a real headless Chromium (DevTools protocol), as a person uses it:
a finished ``ida-ns run`` reported with ``ida-ns report``, searched, a problem opened, a proof
node expanded; no console errors; a screenshot saved (``$IDA_NS_TEST_ARTEFACTS`` or the test's
temporary folder) and opened.  A generated 1,000-problem run must open and be usable too."""

from __future__ import annotations

import os
import struct
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ida_ns.testing.browser import Browser, find_chromium

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.skipif(find_chromium() is None, reason="Chromium not installed "
                                "(Debian: apt-get install -y chromium; .ci/run installs it)")
READY = "document.body.dataset.ready === '1'"


def _env() -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env["OMP_NUM_THREADS"] = "1"
    return env


def _cli(*args, cwd, code: int = 0) -> subprocess.CompletedProcess:
    r = subprocess.run([sys.executable, "-m", "ida_ns.cli", *map(str, args)], cwd=cwd,
                       capture_output=True, text=True, env=_env(), timeout=600)
    assert r.returncode == code, r.stdout[-2000:] + r.stderr[-2000:]
    return r


def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    return struct.unpack(">II", data[16:24])


@pytest.fixture(scope="module")
def browser():
    with Browser() as b:
        yield b


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory):
    pytest.importorskip("torch")
    pytest.importorskip("transformers")
    d = tmp_path_factory.mktemp("run")
    _cli("run", "--tiny", "--rounds", "1", "--epochs", "1", "--workers", "1", "--out",
         d / "run", cwd=d)
    return d / "run"


def test_report_of_a_finished_run_in_chromium(finished_run, browser, tmp_path):
    from ida_ns.audit import verify_log

    out = tmp_path / "report.html"
    r = _cli("report", finished_run, "-o", out, cwd=tmp_path)
    assert "report:" in r.stdout and out.exists()
    browser.errors.clear()
    browser.open(out.as_uri())
    browser.wait_for(READY)
    ev = browser.eval
    assert ev("document.querySelectorAll('#kpis svg').length") == 3
    assert "held-out goals solved" in ev("document.getElementById('kpis').textContent")
    lineage = ev("document.getElementById('lineage').textContent")
    assert "gen-000" in lineage and "gen-001" in lineage
    records = verify_log(finished_run / "audit.jsonl").records
    assert ev("document.getElementById('audit-status').textContent") == \
        f"audit chain verified up to record {records} (all records)"
    rows = ev("document.querySelectorAll('#problems tr.row').length")
    assert rows >= 3
    ids = ev("[...document.querySelectorAll('#problems tr.row')].map(r => r.dataset.id)")
    # search narrows the table; a miss shows none
    browser.type_into("#search", ids[1])
    browser.wait_for("document.querySelectorAll('#problems tr.row').length === 1")
    browser.type_into("#search", "no-such-problem-zz")
    browser.wait_for("document.querySelectorAll('#problems tr.row').length === 0")
    assert ev("document.getElementById('count').textContent").startswith(f"0 of {rows}")
    # open a proved problem (on a very loaded machine a tiny run may prove none: then an
    # unknown one, whose report shows what the search tried)
    browser.type_into("#search", "")
    browser.wait_for(f"document.querySelectorAll('#problems tr.row').length === {rows}")
    statuses = ev("[...document.querySelectorAll('#problems tr.row td:nth-child(3)')]"
                  ".map(td => td.textContent)")
    want = "proved" if "proved" in statuses else "unknown"
    assert want in statuses, statuses
    browser.type_into("#search", want)
    browser.wait_for("document.querySelectorAll('#problems tr.row').length > 0")
    browser.click("#problems tr.row")
    browser.wait_for("document.querySelector('#detail details') !== null")
    detail = ev("document.getElementById('detail').textContent")
    assert "⊢" in detail
    assert ("proof tree" if want == "proved" else "what the search tried") in detail
    # lazy tree: a closed child has no body until it is opened
    closed = "document.querySelectorAll('#detail details:not([open])').length"
    n_closed = ev(closed)
    if n_closed:
        before = ev("document.querySelectorAll('#detail .nb').length")
        browser.click("#detail details:not([open]) > summary")
        browser.wait_for(f"document.querySelectorAll('#detail .nb').length > {before}")
    art = Path(os.environ.get("IDA_NS_TEST_ARTEFACTS") or tmp_path)
    art.mkdir(parents=True, exist_ok=True)
    shot = browser.screenshot(art / "report.png", full_page=True)
    w, h = _png_size(shot)
    assert w >= 800 and h >= 600 and shot.stat().st_size > 20_000
    assert browser.errors == [], browser.errors


def test_proof_report_from_prove_html(browser, tmp_path):
    out = tmp_path / "proof.html"
    _cli("prove", ROOT / "tests" / "data" / "plus_zero.smt2", "--strong", "none", "--html",
         out, cwd=tmp_path)
    browser.errors.clear()
    browser.open(out.as_uri())
    browser.wait_for(READY)
    browser.wait_for("document.querySelector('#detail details') !== null")
    detail = browser.eval("document.getElementById('detail').textContent")
    assert "induct x" in detail and "(= (plus x Z) x)" in detail
    assert "proved" in browser.eval("document.querySelector('.summary').textContent")
    assert browser.errors == [], browser.errors


def test_unknown_proof_report_shows_open_leaves(browser, tmp_path):
    out = tmp_path / "rev.html"
    _cli("prove", ROOT / "tests" / "data" / "rev_rev.smt2", "--strong", "none", "--budget",
         "2", "--html", out, cwd=tmp_path, code=2)  # 2: unknown
    browser.errors.clear()
    browser.open(out.as_uri())
    browser.wait_for(READY)
    browser.wait_for("document.querySelector('#detail details') !== null")
    for _ in range(3):  # open every node, level by level (children are built on opening)
        browser.eval("document.querySelectorAll('#detail details').forEach(d => d.open = true)")
    text = browser.eval("document.getElementById('detail').innerText")
    assert "what the search tried" in text and "induct xs" in text
    assert browser.eval("document.querySelectorAll('#detail .b-open').length") >= 1
    assert browser.errors == [], browser.errors


def test_hostile_run_text_stays_text_in_the_browser(browser, tmp_path):
    import json

    from ida_ns.report.html import write_run_report
    from ida_ns.report.synthetic import make_run

    run = make_run(tmp_path / "run", problems=2, rounds=0)
    evil = '</script><img src=x onerror="window.PWNED=1"><b id=pwn>x</b>'
    lines = (run / "traces.jsonl").read_text().splitlines()
    rec = json.loads(lines[0])
    rec["problem"] = evil
    rec["report"] = {"status": "proved", "tree": {"goal": evil, "step": evil,
                                                  "source": evil, "children": []}}
    lines[0] = json.dumps(rec)
    (run / "traces.jsonl").write_text("\n".join(lines) + "\n")
    out = tmp_path / "r.html"
    write_run_report(run, out)
    browser.errors.clear()
    browser.open(out.as_uri())
    browser.wait_for(READY)
    browser.click("#problems tr.row")
    browser.wait_for("document.querySelector('#detail details') !== null")
    assert browser.eval("document.getElementById('pwn') === null && !window.PWNED")
    assert evil in browser.eval("document.getElementById('detail').textContent")
    assert browser.errors == [], browser.errors


def test_a_thousand_problem_run_opens_and_is_usable(browser, tmp_path):
    from ida_ns.report.html import write_run_report
    from ida_ns.report.synthetic import make_run

    run = make_run(tmp_path / "big", problems=1000, rounds=3)
    out = tmp_path / "big.html"
    write_run_report(run, out)
    browser.errors.clear()
    t0 = time.perf_counter()
    browser.open(out.as_uri())
    browser.wait_for(READY, timeout=60)
    browser.type_into("#search", "gen_00777")
    browser.wait_for("document.querySelectorAll('#problems tr.row').length === 1", timeout=60)
    browser.click("#problems tr.row")
    browser.wait_for("document.getElementById('detail').textContent.includes('gen_00777')",
                     timeout=60)
    took = time.perf_counter() - t0
    assert took < 60  # generous: figures come from benchmarks/bench_report.py
    assert browser.eval("document.getElementById('count').textContent") == \
        "1 of 1000 problems"
    assert browser.errors == [], browser.errors
