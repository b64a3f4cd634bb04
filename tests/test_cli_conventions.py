"""The CLI's conventions, tested as a user runs it (a subprocess per call): exit codes
0 proved / 1 refuted / 2 unknown / 3 usage or input error, --version, validated arguments with
a message naming the flag and no traceback, graph formats by extension, ``-`` for stdin, and the
partial output of an Unknown ``prove``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

NAT = "(declare-datatype Nat ((Z) (S (p Nat))))\n"
PLUS = ("(define-fun-rec plus ((x Nat) (y Nat)) Nat\n"
        "  (match x ((Z y) ((S n) (S (plus n y))))))\n")
TRUE_GOAL = NAT + PLUS + "(prove (forall ((y Nat)) (= (plus Z y) y)))\n"
FALSE_GOAL = NAT + PLUS + "(prove (forall ((x Nat)) (= (plus x x) x)))\n"
REV_REV = (ROOT / "examples" / "problems" / "rev_rev.smt2").read_text()


def cli(*args, stdin: str | None = None, timeout: float = 240):
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""),
           "OMP_NUM_THREADS": "1"}
    return subprocess.run([sys.executable, "-m", "ida_ns.cli", *map(str, args)], cwd=ROOT,
                          input=stdin, capture_output=True, text=True, timeout=timeout, env=env)


def no_traceback(p) -> None:
    assert "Traceback" not in p.stderr and "Traceback" not in p.stdout, p.stderr[-2000:]


@pytest.fixture()
def files(tmp_path):
    out = {}
    for name, text in (("true", TRUE_GOAL), ("false", FALSE_GOAL), ("revrev", REV_REV),
                       ("bad", "(declare-datatype Nat ((Z) (S (p Nat)))\n(prove (= Z"),
                       ("nogoal", NAT + PLUS)):
        f = tmp_path / f"{name}.smt2"
        f.write_text(text)
        out[name] = f
    return out


def test_version():
    p = cli("--version")
    from ida_ns import __version__

    assert p.returncode == 0 and p.stdout.strip() == f"ida-ns {__version__}"


def test_check_exit_codes_one_per_verdict(files):
    assert cli("check", files["true"]).returncode == 0
    assert cli("check", files["false"]).returncode == 1
    p = cli("check", files["bad"])
    assert p.returncode == 3 and "bad.smt2:" in p.stdout
    no_traceback(p)
    # several files: the most severe code, 3 > 1 > 2 > 0
    assert cli("check", files["true"], files["false"]).returncode == 1
    assert cli("check", files["true"], files["false"], files["bad"]).returncode == 3


def test_check_unknown_exits_2(files):
    p = cli("check", files["revrev"], "--timeout", "0.5")
    assert "unknown" in p.stdout and p.returncode == 2, p.stdout + p.stderr


def test_check_reads_stdin():
    p = cli("check", "-", "--json", stdin=TRUE_GOAL)
    row = json.loads(p.stdout.splitlines()[0])
    assert p.returncode == 0 and row["status"] == "proved" and row["file"] == "<stdin>"


def test_prove_exit_codes_and_stdin(files, tmp_path):
    p = cli("prove", "-", "--strong", "none", "--budget", "10", stdin=TRUE_GOAL)
    assert p.returncode == 0 and "proved" in p.stdout, p.stdout + p.stderr
    assert cli("prove", files["false"], "--strong", "none").returncode == 1
    p = cli("prove", files["bad"])
    assert p.returncode == 3 and "bad.smt2:" in p.stderr
    no_traceback(p)


def test_unknown_prove_shows_open_goals_and_writes_partial_outputs(files, tmp_path):
    """rev (rev xs) = xs needs a lemma: with a tiny budget and no strong root the result is
    unknown; the partial tree, the open goals, the graph and the partial JSON are written."""
    graph, cert = tmp_path / "g.dot", tmp_path / "partial.json"
    p = cli("prove", files["revrev"], "--strong", "none", "--budget", "0.5",
            "--graph", graph, "--cert", cert)
    assert p.returncode == 2, p.stdout + p.stderr
    assert "open goals" in p.stdout and "(rev (rev" in p.stdout
    assert graph.read_text().startswith("digraph proof {")
    data = json.loads(cert.read_text())
    assert data["format"] == "ida-ns-partial/1" and data["status"] == "unknown"
    assert data["open_goals"]
    # a partial proof is not a certificate
    p = cli("check-proof", cert)
    assert p.returncode == 3 and "certificate" in p.stderr
    no_traceback(p)


@pytest.mark.parametrize("ext", [".json", ".graphml", ".dot"])
def test_graph_formats_by_extension(files, tmp_path, ext):
    out = tmp_path / f"proof{ext}"
    p = cli("prove", files["true"], "--strong", "none", "--graph", out)
    assert p.returncode == 0, p.stderr
    text = out.read_text()
    if ext == ".json":
        assert "links" in json.loads(text)
    elif ext == ".graphml":
        assert "<graphml" in text
    else:
        assert text.startswith("digraph proof {") and "->" not in text.split("\n")[0]


def test_check_proof_exit_codes(files, tmp_path):
    cert = tmp_path / "c.json"
    assert cli("prove", files["true"], "--strong", "none", "--cert", cert).returncode == 0
    assert cli("check-proof", cert).returncode == 0
    data = json.loads(cert.read_text())
    data["problem"] = data["problem"].replace("(= (plus Z y) y)", "(= (plus y Z) Z)")
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(data))
    p = cli("check-proof", bad)
    assert p.returncode == 1 and "INVALID" in p.stdout
    p = cli("check-proof", tmp_path / "missing.json")
    assert p.returncode == 3
    no_traceback(p)


@pytest.mark.parametrize("argv, flag", [
    (["prove", "F", "--budget", "-1"], "--budget"),
    (["prove", "F", "--budget", "nan"], "--budget"),
    (["prove", "F", "--budget", "abc"], "--budget"),
    (["prove", "F", "--workers", "0"], "--workers"),
    (["prove", "F", "--leaf-timeout", "0"], "--leaf-timeout"),
    (["prove", "F", "--graph", "x.png"], "--graph"),
    (["prove", "F", "--solver", "vampire"], "--solver"),
    (["check", "F", "--timeout", "-2"], "--timeout"),
    (["check-proof", "F", "--timeout", "0"], "--timeout"),
    (["bench", "tip", "D", "--json", "o.jsonl", "--jobs", "0"], "--jobs"),
    (["bench", "tip", "D", "--json", "o.jsonl", "--budget", "-5"], "--budget"),
    (["run", "--node-budget", "-3"], "--node-budget"),
    (["run", "--workers", "0"], "--workers"),
    (["run", "--rounds", "-1"], "--rounds"),
    (["run", "--leaf-timeout", "0"], "--leaf-timeout"),
    (["nosuchcommand"], "invalid choice"),
])
def test_invalid_arguments_exit_3_naming_the_argument(argv, flag):
    p = cli(*argv)
    assert p.returncode == 3, p.stderr
    assert flag in p.stderr and "error:" in p.stderr
    no_traceback(p)


def test_missing_input_file_is_a_located_error(tmp_path):
    p = cli("prove", tmp_path / "nope.smt2")
    assert p.returncode == 3 and "nope.smt2" in p.stderr
    no_traceback(p)


def test_help_shows_defaults():
    p = cli("prove", "--help")
    assert p.returncode == 0 and "(default: 5.0)" in p.stdout


def test_run_accepts_resume_with_a_path():
    from ida_ns.cli import build_parser
    from ida_ns.ida_config import RunConfig

    args = build_parser().parse_args(["run", "--resume", "runs/x"])
    cfg = RunConfig.from_args(args)
    assert cfg.resume is True and cfg.out == "runs/x"
    cfg = RunConfig.from_args(build_parser().parse_args(["run", "--resume", "--out", "r"]))
    assert cfg.resume is True and cfg.out == "r"
