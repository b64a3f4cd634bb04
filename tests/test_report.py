"""The HTML report read as files: what a run directory holds, defensively; escaping of hostile
text; clear errors for bad input.  (The browser tests are in test_report_browser.py.)"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from ida_ns.report.html import write_proof_report, write_run_report
from ida_ns.report.rundata import ReportError, load_run
from ida_ns.report.synthetic import make_run

ROOT = Path(__file__).resolve().parents[1]


def _data(page: str) -> dict:
    m = re.search(r'<script id="data" type="application/json">(.*?)</script>', page, re.S)
    assert m, "no data block"
    return json.loads(m.group(1))


def test_generated_run_round_trips_into_the_page(tmp_path):
    run = make_run(tmp_path / "run", problems=30, rounds=2)
    out = tmp_path / "r.html"
    info = write_run_report(run, out)
    assert info == {"problems": 30, "rounds": 3, "audit": f"ok up to record "
                    f"{load_run(run).audit['records']}"}
    page = out.read_text()
    assert page.count("<svg") == 3  # solved / proxy / accepted-but-false
    assert "H alone" in page and "proxy alone" in page and "proxy + H" in page
    assert "gen-002" in page and "audit chain verified up to record" in page
    assert 'id="search"' in page
    assert len(_data(page)["problems"]) == 30
    assert "http://" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "https://" not in page and "<link" not in page  # nothing fetched
    assert out.stat().st_mode & 0o044  # readable by others, like any written file


def test_hostile_text_cannot_break_out_of_the_page(tmp_path):
    run = make_run(tmp_path / "run", problems=3, rounds=0)
    evil = '</script><script>window.PWNED=1</script><img src=x onerror="window.PWNED=2">'
    lines = (run / "traces.jsonl").read_text().splitlines()
    rec = json.loads(lines[0])
    rec["problem"] = evil
    rec["report"] = {"status": "proved", "tree": {"goal": evil, "step": evil, "source": evil,
                                                  "children": []}}
    lines[0] = json.dumps(rec)
    (run / "traces.jsonl").write_text("\n".join(lines) + "\n")
    (run / "config.json").write_text(json.dumps({"spec": evil}))
    out = tmp_path / "r.html"
    write_run_report(run, out)
    page = out.read_text()
    assert page.count("</script>") == 2  # the data block's and the code's, nothing else
    assert "<img" not in page and "onerror=\"window" not in page
    assert any(p["id"] == evil for p in _data(page)["problems"])


def test_a_run_with_few_fields_still_reports(tmp_path):
    run = tmp_path / "old"
    run.mkdir()
    (run / "traces.jsonl").write_text(json.dumps({"round": 0, "problem": "p1",
                                                  "status": "proved",
                                                  "pairs": [["g", "", "induct x"]]}) + "\n")
    out = tmp_path / "r.html"
    info = write_run_report(run, out)
    assert info["problems"] == 1 and info["rounds"] == 0 and info["audit"] == "absent"
    page = out.read_text()
    assert "no metrics.jsonl rows" in page and "no audit log" in page
    assert _data(page)["problems"][0]["attempts"][0]["pairs"] == [["g", "", "induct x"]]


@pytest.mark.parametrize("setup,msg", [
    (lambda d: None, "not a run directory (no such folder)"),
    (lambda d: d.mkdir(), "not a run directory (none of"),
    (lambda d: (d.mkdir(), (d / "metrics.jsonl").write_text('{"round": 0}\n{oops\n')),
     "metrics.jsonl:2: invalid JSON line"),
])
def test_bad_run_directories_give_a_clear_error(tmp_path, setup, msg):
    d = tmp_path / "run"
    setup(d)
    with pytest.raises(ReportError, match=re.escape(msg)):
        load_run(d)
    r = subprocess.run([sys.executable, "-m", "ida_ns.cli", "report", str(d), "-o",
                        str(tmp_path / "x.html")], capture_output=True, text=True,
                       cwd=tmp_path, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    assert r.returncode != 0 and msg in r.stderr and "Traceback" not in r.stderr
    assert not (tmp_path / "x.html").exists()


def test_a_broken_audit_chain_is_reported_with_the_record(tmp_path):
    run = make_run(tmp_path / "run", problems=5, rounds=1)
    log = run / "audit.jsonl"
    lines = log.read_text().splitlines()
    rec = json.loads(lines[2])
    rec["data"]["status"] = "tampered"
    lines[2] = json.dumps(rec)
    log.write_text("\n".join(lines) + "\n")
    out = tmp_path / "r.html"
    info = write_run_report(run, out)
    assert info["audit"] == "broken at 3"
    assert "audit chain BROKEN: verified up to record 2" in out.read_text()


def test_proof_report_of_a_result(tmp_path):
    from ida_ns.report.tree import result_tree
    from ida_ns.prover.prover import ProveResult
    from ida_ns.verdict import Refuted

    rec = result_tree(ProveResult(Refuted((("xs", "(cons Z nil)"),), solver="testing")))
    assert rec == {"status": "refuted", "time_s": 0.0,
                   "counterexample": {"xs": "(cons Z nil)"}}
    out = tmp_path / "p.html"
    write_proof_report(out, "f.smt2", rec)
    page = out.read_text()
    assert "f.smt2: refuted" in page and _data(page)["kind"] == "proof"


def test_search_recorder_records_without_changing_decisions(tmp_path):
    from ida_ns.solvers.pool import SolverPool

    from ida_ns.logic.parser import parse_file
    from ida_ns.prover.goal import Goal
    from ida_ns.prover.prover import ProverConfig, prove_problem
    from ida_ns.prover.steps import parse_step
    from ida_ns.prover.verify import Checker, Rejected
    from ida_ns.report.recorder import SearchRecorder
    from ida_ns.report.tree import result_tree

    problem = parse_file(ROOT / "tests" / "data" / "rev_rev.smt2")
    with SolverPool("z3", workers=1, timeout_s=0.5) as pool:
        checker = Checker.from_pool(pool, leaf_timeout_s=0.3)
        goal = Goal(problem.theory, problem.goal)
        bad = parse_step("lemma (forall ((xs list)) (= (rev xs) xs))", goal)
        plain = checker.gate(goal, bad)
        with SearchRecorder(checker) as rec:
            assert checker.gate(goal, bad) == plain and isinstance(plain, Rejected)
            res = prove_problem(problem, checker, ProverConfig(budget_s=1.5, explore=False),
                                on_event=rec.wrap(None))
        assert "gate" not in checker.__dict__ and "close_leaves" not in checker.__dict__
    assert res.status == "unknown"  # rev (rev xs) = xs needs a lemma
    rec_json = result_tree(res, rec)
    ex = rec_json["explored"]
    assert ex["goal"] == "(forall ((xs list)) (= (rev (rev xs)) xs))"
    assert ex["rejected"][0]["cex"] and "counterexample" in ex["rejected"][0]["reason"]
    steps = [a["step"] for a in ex["alternatives"]]
    assert "induct xs" in steps
    nodes, stack = [], [ex]
    while stack:
        n = stack.pop()
        nodes.append(n)
        for a in n.get("alternatives", []):
            stack.extend(a["children"])
    assert any(n["step"] is None for n in nodes)  # open leaves
    assert any(n["step"] == "direct" and n["solver"] == "z3" for n in nodes)  # closed ones


def test_recorded_proxy_confidence_reaches_the_tree():
    import math

    from ida_ns.solvers.pool import SolverPool

    from ida_ns.logic.parser import parse_file
    from ida_ns.prover.prover import ProverConfig, prove_problem
    from ida_ns.prover.search import Proposal
    from ida_ns.prover.steps import Induct
    from ida_ns.prover.verify import Checker
    from ida_ns.report.recorder import SearchRecorder
    from ida_ns.report.tree import result_tree

    class SureOfInduction:  # a user's policy (the Policy protocol), reporting as a proxy
        name = "proxy"

        def propose(self, goal, depth):
            return [Proposal(Induct(v.name), f"induct {v.name}", math.log(0.8), "proxy")
                    for v in goal.forall_vars[:1]]

    def factory(conjectures):
        return SureOfInduction()

    factory.human_budget = "kept"
    problem = parse_file(ROOT / "tests" / "data" / "plus_zero.smt2")
    with SolverPool("z3", workers=1, timeout_s=0.5) as pool:
        checker = Checker.from_pool(pool, leaf_timeout_s=0.5)
        with SearchRecorder(checker) as rec:
            wrapped = rec.policy(factory)
            assert wrapped.human_budget == "kept" and rec.policy(None) is None
            res = prove_problem(problem, checker, ProverConfig(budget_s=10, explore=False),
                                policy=wrapped, on_event=rec.wrap(None))
    assert res.status == "proved"
    tree = result_tree(res, rec)["tree"]
    assert tree["step"] == "induct x" and tree["source"] == "proxy"
    assert tree["conf"] == 0.8
