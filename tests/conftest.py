"""Shared fixtures.  Tests that read ../shared/benchmarks skip (with the reason) when absent."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

# No wall-clock assertions in tests: Hypothesis's per-example deadline and its "too slow"
# health check both fail on a loaded (shared) machine, so they are off for every test.
settings.register_profile("ida-ns", deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("ida-ns")

TIP_DIR = Path(__file__).resolve().parents[2] / "shared" / "benchmarks" / "tip"


@pytest.fixture(scope="session")
def tip_dir() -> Path:
    """The TIP benchmark folder (native/ and smtlib/), or skip when it is not there."""
    if not TIP_DIR.is_dir():
        pytest.skip(f"TIP benchmarks not found at {TIP_DIR} (expected the repository's sibling "
                    f"shared/benchmarks/tip)")
    return TIP_DIR
