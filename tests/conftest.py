"""Shared fixtures.  Tests that read ../shared/benchmarks skip (with the reason) when absent."""

from __future__ import annotations

from pathlib import Path

import pytest

TIP_DIR = Path(__file__).resolve().parents[2] / "shared" / "benchmarks" / "tip"


@pytest.fixture(scope="session")
def tip_dir() -> Path:
    """The TIP benchmark folder (native/ and smtlib/), or skip when it is not there."""
    if not TIP_DIR.is_dir():
        pytest.skip(f"TIP benchmarks not found at {TIP_DIR} (expected the repository's sibling "
                    f"shared/benchmarks/tip)")
    return TIP_DIR
