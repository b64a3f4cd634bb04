"""The public API as README documents it: its example runs as written, the exports resolve
lazily (no solver or torch on import), invalid arguments name themselves, and every script in
examples/ runs."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _env():
    return {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""),
            "OMP_NUM_THREADS": "1"}


def test_readme_api_example_runs_as_written(tmp_path):
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Python API", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    p = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True,
                       text=True, timeout=300, env=_env())
    assert p.returncode == 0, p.stdout + p.stderr
    assert p.stdout.splitlines()[0] == "proved"
    assert (tmp_path / "plus_z.cert.json").exists()


def test_import_is_cheap_and_exports_resolve():
    code = ("import sys, ida_ns\n"
            "heavy = [m for m in ('torch', 'transformers', 'z3', 'cvc5', 'ray') if m in sys.modules]\n"
            "assert not heavy, heavy\n"
            "for name in ida_ns.__all__:\n"
            "    getattr(ida_ns, name)\n"
            "assert 'torch' not in sys.modules\n"
            "print('ok')\n")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                       timeout=120, env=_env())
    assert p.returncode == 0 and p.stdout.strip() == "ok", p.stderr


def test_unknown_attribute_is_an_attribute_error():
    import ida_ns

    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        ida_ns.nope  # noqa: B018


@pytest.mark.parametrize("kwargs, name", [
    ({"budget_s": -1}, "budget_s"),
    ({"budget_s": "5"}, "budget_s"),
    ({"solver": "vampire"}, "solver"),
    ({"workers": 0}, "workers"),
    ({"policy": 42}, "policy"),
])
def test_prove_argument_errors_name_the_argument(kwargs, name):
    from ida_ns import load_problem, prove

    problem = load_problem("(declare-datatype Nat ((Z) (S (p Nat))))\n(prove (= Z Z))")
    with pytest.raises((ValueError, TypeError), match=name):
        prove(problem, **kwargs)


def test_load_problem_errors_are_located(tmp_path):
    from ida_ns import SpecError, load_problem

    with pytest.raises(SpecError, match=r"<text>:2:"):
        load_problem("(declare-datatype Nat ((Z) (S (p Nat))))\n(prove (= Z nope))")
    with pytest.raises(TypeError, match="load_problem"):
        load_problem(42)


def test_refuted_and_unknown_results_are_typed():
    from ida_ns import Refuted, Unknown, load_problem, prove

    nat = "(declare-datatype Nat ((Z) (S (p Nat))))\n"
    r = prove(load_problem(nat + "(prove (forall ((x Nat)) (= x Z)))"), budget_s=5,
              strong_root=False)
    assert r.refuted and isinstance(r.verdict, Refuted) and r.counterexample
    rev = (ROOT / "examples" / "problems" / "rev_rev.smt2")
    r = prove(load_problem(rev), budget_s=0.5, strong_root=False)
    assert r.unknown and isinstance(r.verdict, Unknown) and r.open_goals
    assert "open goals" in r.render()
    with pytest.raises(Exception, match="not proved"):
        r.certificate()


@pytest.mark.parametrize("script", sorted(p.name for p in (ROOT / "examples").glob("*.py")))
def test_example_runs(script, tmp_path):
    p = subprocess.run([sys.executable, str(ROOT / "examples" / script)], cwd=tmp_path,
                       capture_output=True, text=True, timeout=600, env=_env())
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-3000:]
