"""Solver backends (z3, cvc5, cvc5 with induction) behind one interface, and a pool of
killable worker processes.

    from ida_ns.solvers import Query, SolverPool, get_backend
    verdict = get_backend("z3").prove(Query(theory, goal), timeout_s=2.0)   # in-process
    with SolverPool("cvc5-ind", workers=2, timeout_s=2.0) as pool:          # isolated
        verdicts = pool.prove_many(queries)

Importing this package does not import z3 or cvc5; ``get_backend`` does.
"""

from __future__ import annotations

from ida_ns.errors import BackendMissing

from .base import Backend, Consistency, check_consistency
from .pool import SolverPool
from .query import Query, consistency_query, query_hash, theory_hash

BACKENDS = ("z3", "cvc5", "cvc5-ind")


def get_backend(name: str) -> Backend:
    """An in-process backend: "z3", "cvc5" (plain) or "cvc5-ind" (with induction)."""
    if name == "z3":
        try:
            from .z3_backend import Z3Backend
        except ImportError as e:
            raise BackendMissing(f"backend z3 needs z3-solver: pip install z3-solver ({e})") \
                from e
        return Z3Backend(name)
    if name in ("cvc5", "cvc5-ind"):
        try:
            from .cvc5_backend import Cvc5Backend
        except ImportError as e:
            raise BackendMissing(f"backend {name} needs cvc5: pip install cvc5 ({e})") from e
        return Cvc5Backend(name)
    raise ValueError(f"unknown solver backend {name!r}; choose one of {BACKENDS}")


__all__ = ["BACKENDS", "Backend", "Consistency", "Query", "SolverPool", "check_consistency",
           "consistency_query", "get_backend", "query_hash", "theory_hash"]
