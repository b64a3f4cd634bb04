"""Exception hierarchy.  What a prover *says* (proved, refuted, unknown) is a value
(see :mod:`ida_ns.verdict`); what *breaks* is an exception under :class:`IdaNsError`."""

from __future__ import annotations


class IdaNsError(Exception):
    """Root of every error ida-ns raises on purpose."""


class SpecError(IdaNsError):
    """Malformed or ill-sorted input, located at file:line:col with the offending token."""

    def __init__(self, message: str, file: str = "<input>", line: int = 0, col: int = 0,
                 token: str | None = None):
        self.message = message
        self.file = file
        self.line = line
        self.col = col
        self.token = token
        where = f"{file}:{line}:{col}" if line else file
        if token is not None and len(token) > 120:  # a 1 MB numeral stays out of messages
            tok = f" (at {token[:60] + '…' + token[-20:]!r}, {len(token)} characters)"
        else:
            tok = f" (at {token!r})" if token is not None else ""
        super().__init__(f"{where}: {message}{tok}")


class UnsupportedFeature(SpecError):
    """Input that is well formed but uses a feature ida-ns does not handle."""


class SolverCrashed(IdaNsError):
    """A solver worker died or misbehaved underneath a check."""


class BackendMissing(IdaNsError):
    """An optional backend's package is not installed; the message says how to install it."""


class InconsistentTheory(IdaNsError):
    """The theory's definitions and axioms are contradictory; nothing proved from it counts."""
