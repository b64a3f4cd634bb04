"""The wheel a user installs: only ``ida_ns`` at top level (the repository's ``solvers/`` and
``specs/`` folders ship as ``ida_ns.solvers`` and ``ida_ns._specs``), and it imports and finds
its problem sets on its own, outside this checkout."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    r = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", str(ROOT),
                        "-w", str(out)], capture_output=True, text=True, timeout=600)
    if r.returncode != 0:
        pytest.skip(f"cannot build a wheel here (no build backend?): {r.stderr[-500:]}")
    return next(out.glob("ida_ns-*.whl"))


def test_wheel_adds_no_generic_top_level_names(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    tops = {n.split("/")[0] for n in names}
    assert {t for t in tops if not t.endswith(".dist-info")} == {"ida_ns"}, tops
    assert "ida_ns/solvers/pool.py" in names
    assert any(n.startswith("ida_ns/_specs/sets/") and n.endswith(".json") for n in names)
    assert not any(n.startswith(("solvers/", "specs/")) for n in names)


def test_wheel_imports_outside_the_checkout(wheel, tmp_path):
    code = ("import sys; sys.path.insert(0, sys.argv[1])\n"
            "import ida_ns, ida_ns.solvers.pool, ida_ns.specs as s\n"
            "assert ida_ns.__file__.startswith(sys.argv[1]), ida_ns.__file__\n"
            "print(sorted(s.builtin_sets()) if hasattr(s, 'builtin_sets') else 'ok')\n")
    # -S: no site-packages (and so no editable install of this checkout on the path)
    r = subprocess.run([sys.executable, "-S", "-c", code, str(wheel)], cwd=tmp_path,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr[-2000:]
