"""Typed verdicts: ``Proved | Refuted | Unknown`` as values, never strings."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Union


@dataclass(frozen=True)
class Proved:
    solver: str = ""
    version: str = ""
    time_s: float = 0.0
    stats: tuple[tuple[str, object], ...] = ()

    status = "proved"


@dataclass(frozen=True)
class Refuted:
    """The goal is false; ``counterexample`` maps variable names to printed values (may be
    empty when the solver gave no usable model)."""

    counterexample: tuple[tuple[str, str], ...] = ()
    solver: str = ""
    version: str = ""
    time_s: float = 0.0

    status = "refuted"


@dataclass(frozen=True)
class Unknown:
    reason: str
    solver: str = ""
    version: str = ""
    time_s: float = 0.0

    status = "unknown"


Verdict = Union[Proved, Refuted, Unknown]


def verdict_to_json(v: Verdict) -> dict:
    out: dict = {"status": v.status, "solver": v.solver, "version": v.version,
                 "time_s": round(v.time_s, 6)}
    if isinstance(v, Refuted):
        out["counterexample"] = dict(v.counterexample)
    if isinstance(v, Unknown):
        out["reason"] = v.reason
    return out
