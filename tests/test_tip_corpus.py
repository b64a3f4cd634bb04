"""Every TIP benchmark (native and SMT-LIB, all folders) parses, sort-checks and round-trips
through the printer in both dialects."""

from __future__ import annotations

import dataclasses
import time

import pytest

from ida_ns.errors import SpecError
from ida_ns.logic.parser import parse_file, parse_text
from ida_ns.logic.printer import print_problem
from ida_ns.logic.sortcheck import sortcheck_problem

pytestmark = pytest.mark.shared

FOLDERS = [f"{d}/{s}" for d in ("native", "smtlib") for s in ("isaplanner", "prod", "false")]


@pytest.mark.parametrize("folder", FOLDERS)
def test_folder_parses_sortchecks_and_roundtrips(tip_dir, folder):
    files = sorted((tip_dir / folder).glob("*.smt2"))
    assert files, f"no .smt2 files in {tip_dir / folder}"
    failures = []
    for f in files:
        try:
            p = parse_file(f)
            sortcheck_problem(p)
            for dialect in ("tip", "smtlib"):
                q = parse_text(print_problem(p, dialect), f"{f.name} printed as {dialect}")
                if dataclasses.replace(q, source=p.source) != p:
                    failures.append(f"{f.name}: {dialect} round trip changed the problem")
        except SpecError as e:
            failures.append(str(e))
    assert not failures, "\n".join(failures)


def test_whole_corpus_parses_in_seconds(tip_dir):
    files = sorted(tip_dir.glob("*/*/*.smt2"))
    assert len(files) == 466
    start = time.perf_counter()
    for f in files:
        parse_file(f)
    assert time.perf_counter() - start < 20  # about 1.5 s on a 2-core machine


def test_native_and_smtlib_versions_agree_on_goal_shape(tip_dir):
    """The SMT-LIB copies were monomorphised by TIP's tools; ours must give the same symbols
    (up to TIP's renaming of extra instances) for a polymorphic example."""
    nat = parse_file(tip_dir / "native/isaplanner/prop_01.smt2")
    smt = parse_file(tip_dir / "smtlib/isaplanner/prop_01.smt2")
    assert {d.name for d in nat.theory.all_defs()} == {d.name for d in smt.theory.all_defs()}
    assert type(nat.goal) is type(smt.goal)
