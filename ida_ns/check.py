"""``ida-ns check``: parse, sort-check, consistency gate, then prove the goal directly."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from .budget import phase
from .errors import IdaNsError
from .verdict import Proved, Refuted, Unknown, Verdict


@dataclass(frozen=True)
class CheckRow:
    file: str
    status: str  # proved | refuted | unknown | error
    solver: str
    time_s: float
    reason: str = ""
    version: str = ""
    counterexample: tuple = ()

    def as_dict(self) -> dict:
        d = {"file": self.file, "status": self.status, "solver": self.solver,
             "time_s": round(self.time_s, 4), "reason": self.reason, "version": self.version}
        if self.counterexample:
            d["counterexample"] = dict(self.counterexample)
        return d


def check_file(path: str | Path, pool, solver: str, timeout_s: float) -> CheckRow:
    """One file through the whole direct-checking pipeline; never raises for bad input."""
    from ida_ns.solvers.query import Query

    from .consistency import check_consistency
    from .logic.parser import parse_file
    from .logic.sortcheck import sortcheck_problem

    t0 = time.perf_counter()
    name = str(path)
    try:
        phase("parse")
        problem = parse_file(path)
        phase("sortcheck")
        sortcheck_problem(problem)
    except IdaNsError as e:
        return CheckRow(name, "error", solver, time.perf_counter() - t0, str(e))
    except OSError as e:
        return CheckRow(name, "error", solver, time.perf_counter() - t0,
                        f"{name}: cannot read: {e.strerror or e}")
    phase("gate")
    try:
        report = check_consistency(problem.theory, prove=pool.prove,
                                   timeout_s=min(timeout_s, 2.0))
        verdict: Verdict = pool.prove(Query.from_problem(problem), timeout_s)
    except IdaNsError as e:
        return CheckRow(name, "error", solver, time.perf_counter() - t0, str(e))
    except Exception as e:  # a bug underneath: this file's row says so, the others still run
        return CheckRow(name, "error", solver, time.perf_counter() - t0,
                        f"internal error (a bug in ida-ns, please report it): "
                        f"{type(e).__name__}: {e}")
    if not report.ok and isinstance(verdict, Proved):
        # Nothing proved from an inconsistent (or not-known-consistent) theory is accepted.
        verdict = Unknown(f"proof not accepted: theory {report.status}: {report.reason}",
                          verdict.solver, verdict.version, verdict.time_s)
    reason = verdict.reason if isinstance(verdict, Unknown) else ""
    cex = verdict.counterexample if isinstance(verdict, Refuted) else ()
    return CheckRow(name, verdict.status, verdict.solver or solver, time.perf_counter() - t0,
                    reason, verdict.version, cex)
