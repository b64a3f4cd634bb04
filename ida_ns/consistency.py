"""The consistency gate's entry point (kept for its callers: prove, check, bench, the IDA loop,
the certificate checker).  The gate itself lives in :mod:`ida_ns.gate`; see there for what
"consistent", "inconsistent" and "unknown" mean and for the evidence a report carries."""

from __future__ import annotations

from .gate import GateReport, recheck_evidence, run_gate
from .logic.ast import Term, Theory, Var

ConsistencyReport = GateReport

__all__ = ["ConsistencyReport", "GateReport", "check_consistency", "recheck_evidence"]


def check_consistency(theory: Theory, prove=None, hyps: tuple[Term, ...] = (),
                      fixed: tuple[Var, ...] = (), timeout_s: float = 2.0,
                      deadline: float | None = None) -> ConsistencyReport:
    """Run the gate.  ``prove`` is a callable ``Query -> Verdict`` (a SolverPool's ``prove``
    or an in-process backend's); without it only the termination analysis runs.
    ``deadline`` (a ``time.perf_counter()`` value) bounds the whole gate; by default it is
    ``4 * timeout_s`` (at least 2 s) from now."""
    return run_gate(theory, prove=prove, hyps=hyps, fixed=fixed, timeout_s=timeout_s,
                    deadline=deadline)
