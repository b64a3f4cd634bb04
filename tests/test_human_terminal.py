"""The human overseer driven through a real terminal (tmux): a person's keystrokes prove
plus-commutativity (induction and two lemmas, one found false first), the certificate checks
with ``ida-ns check-proof``; and non-interactive sessions are refused with a clear message."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PLUS = ROOT / "tests" / "data" / "plus_comm.smt2"


def _env() -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env["OMP_NUM_THREADS"] = "1"
    return env


class Tmux:
    def __init__(self, command: str, tmp: Path):
        self.sock = f"idans-test-{os.getpid()}-{time.monotonic_ns()}"
        self.base = ["tmux", "-L", self.sock]
        subprocess.run(self.base + ["-f", "/dev/null", "new-session", "-d", "-s", "t",
                                    "-x", "200", "-y", "60", command],
                       check=True, env=_env(), cwd=tmp)

    def screen(self) -> str:
        r = subprocess.run(self.base + ["capture-pane", "-p", "-J", "-t", "t", "-S", "-"],
                           capture_output=True, text=True)
        return r.stdout

    def wait(self, pred, what: str, timeout: float = 90.0) -> str:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            s = self.screen()
            if pred(s):
                return s
            time.sleep(0.2)
        raise AssertionError(f"timed out waiting for {what}; screen:\n{self.screen()[-3000:]}")

    def type(self, text: str) -> None:
        subprocess.run(self.base + ["send-keys", "-t", "t", "-l", text], check=True)
        subprocess.run(self.base + ["send-keys", "-t", "t", "Enter"], check=True)

    def close(self) -> None:
        subprocess.run(self.base + ["kill-server"], capture_output=True)


@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux not installed (apt-get install "
                    "tmux; .ci/run installs it)")
def test_person_proves_plus_comm_with_induction_and_lemmas_at_the_terminal(tmp_path):
    cert, html, done = tmp_path / "cert.json", tmp_path / "proof.html", tmp_path / "done"
    cmd = (f"{shlex.quote(sys.executable)} -m ida_ns.cli prove {shlex.quote(str(PLUS))} "
           f"--overseer human --cert {shlex.quote(str(cert))} --html {shlex.quote(str(html))}"
           f"; echo EXIT=$? > {shlex.quote(str(done))}; sleep 60")
    t = Tmux(cmd, tmp_path)
    try:
        prompts = [0]

        def answer(text: str, expect: str | None = None) -> str:
            n = prompts[0] + 1
            t.wait(lambda s: s.count("step> ") >= n, f"prompt {n}")
            prompts[0] = n
            t.type(text)
            if expect:
                return t.wait(lambda s: s.count(expect) >= 1, repr(expect))
            return ""

        screen = t.wait(lambda s: "step> " in s, "the first prompt")
        assert "⊢ (forall ((x Nat) (y Nat)) (= (plus x y) (plus y x)))" in screen
        assert "(H) induct x" in screen  # H's suggestion is on the menu
        answer("1", "accepted 'induct x'")
        s = answer("lemma (forall ((y Nat)) (= (plus y Z) (S y)))", "counterexample: y = Z")
        assert "rejected at goal 1" in s  # a false lemma is refused, located, with the cex
        answer("lemma (forall ((y Nat)) (= (plus y Z) y))", "accepted 'lemma")
        answer("u", "undone: goal 1 is open again")
        answer("lemma (forall ((y Nat)) (= (plus y Z) y))")
        answer("induct y", "accepted 'induct y'")
        s = answer("c", "no counterexample found")
        assert "H0: (forall ((y Nat)) (= (plus n y) (plus y n)))" in s  # the IH is shown
        answer("lemma (forall ((a Nat) (b Nat)) (= (plus a (S b)) (S (plus a b))))")
        answer("induct a", "proof finished")
        t.wait(lambda s: done.exists(), "the command to exit", timeout=60)
        assert done.read_text().strip() == "EXIT=0"
    finally:
        t.close()
    data = json.loads(cert.read_text())
    srcs = []
    stack = [data["proof"]]
    while stack:
        n = stack.pop()
        srcs.append((n["step"], n["source"]))
        stack.extend(n["children"])
    assert ("induct x", "human") in srcs
    assert any(s.startswith("lemma") and src == "human" for s, src in srcs)
    r = subprocess.run([sys.executable, "-m", "ida_ns.cli", "check-proof", str(cert)],
                       capture_output=True, text=True, env=_env(), cwd=tmp_path, timeout=120)
    assert r.returncode == 0 and r.stdout.startswith("VALID"), r.stdout + r.stderr
    page = html.read_text()
    assert "human" in page and "plus_comm.smt2" in page


@pytest.mark.parametrize("argv", [
    ["prove", str(PLUS), "--overseer", "human"],
    ["run", "--overseer", "human", "--tiny", "--out", "RUN"],
])
def test_human_overseer_refuses_a_non_interactive_session(argv, tmp_path):
    argv = [str(tmp_path / "r") if a == "RUN" else a for a in argv]
    r = subprocess.run([sys.executable, "-m", "ida_ns.cli", *argv], stdin=subprocess.DEVNULL,
                       capture_output=True, text=True, env=_env(), cwd=tmp_path, timeout=120)
    assert r.returncode != 0
    assert "needs an interactive terminal" in r.stderr
    assert "Traceback" not in r.stderr
    assert not (tmp_path / "r").exists()  # nothing started


def test_run_rejects_a_bad_overseer_and_budget(tmp_path):
    for extra, msg in ((["--overseer", "robot"], "--overseer must be H or human"),
                       (["--overseer", "human", "--human-budget", "-1"],
                        "argument --human-budget: must be >= 0")):
        r = subprocess.run([sys.executable, "-m", "ida_ns.cli", "run", "--tiny", "--out",
                            str(tmp_path / "r"), *extra], stdin=subprocess.DEVNULL,
                           capture_output=True, text=True, env=_env(), timeout=120)
        assert r.returncode != 0 and msg in r.stderr and "Traceback" not in r.stderr


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux not installed")
def test_run_with_a_human_overseer_records_human_steps(tmp_path):
    """``ida-ns run --overseer human`` at a real terminal: the person's steps reach the trace,
    the audit log and the report, even though they took longer than the problem budget."""
    pytest.importorskip("torch")
    run, done = tmp_path / "run", tmp_path / "done"
    cmd = (f"{shlex.quote(sys.executable)} -m ida_ns.cli run --tiny --rounds 0 --epochs 1 "
           f"--workers 1 --overseer human --human-budget 2 --out {shlex.quote(str(run))}"
           f"; echo EXIT=$? > {shlex.quote(str(done))}; sleep 60")
    t = Tmux(cmd, tmp_path)
    try:
        t.wait(lambda s: s.count("step> ") >= 1, "the first question", timeout=300)
        time.sleep(4)  # think for longer than the problem's 2.5 s budget
        t.type("c")
        t.wait(lambda s: "counterexample" in s, "the counterexample search")
        t.type("1")
        t.wait(lambda s: s.count("step> ") >= 3, "the second question", timeout=300)
        time.sleep(3)
        t.type("h")  # defer to H: no budget used
        t.wait(lambda s: s.count("step> ") >= 4, "the third question", timeout=300)
        t.type("q")  # the rest is automatic
        t.wait(lambda s: done.exists(), "the run to end", timeout=600)
        assert done.read_text().strip() == "EXIT=0", t.screen()[-3000:]
    finally:
        t.close()
    traces = [json.loads(l) for l in (run / "traces.jsonl").read_text().splitlines()]
    first = traces[0]
    assert first["stats"]["proposed"].get("human") == 1, first
    if first["status"] == "proved":  # (a very loaded machine can time its leaves out)
        assert first["report"]["tree"]["source"] == "human"
    audit = (run / "audit.jsonl").read_text()
    assert '"source":"human"' in audit.replace(" ", "")
    from ida_ns.report.html import write_run_report
    from ida_ns.report.rundata import load_run

    assert load_run(run).human[0]["human_steps"] == 1
    write_run_report(run, tmp_path / "r.html")
    page = (tmp_path / "r.html").read_text()
    assert "human-override frequency" in page and '"source":"human"' in page
