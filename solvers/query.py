"""What a solver is asked: a goal under a theory and hypotheses, with a canonical hash.

A :class:`Query` means: *prove* ``goal`` from the theory (datatypes, declared functions,
recursive definitions, axioms) plus the hypotheses ``hyps``.  ``fixed`` lists the free
variables of goal and hypotheses; they are universally quantified constants (skolems), shared
by goal and hypotheses.  A backend proves a query by showing ``theory ∧ hyps ∧ ¬goal``
unsatisfiable.

Consistency is asked with the same machinery but the opposite reading, so it gets its own
constructor and result type: see :func:`consistency_query` and
:func:`solvers.base.check_consistency`.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from dataclasses import dataclass
from threading import Lock

from ida_ns.logic.ast import FALSE, Problem, Term, Theory, Var

# Bump when the canonical text below changes, so old and new hashes never collide.
_HASH_VERSION = "ida-ns-query-1"


@dataclass(frozen=True)
class Query:
    """Prove ``goal`` from ``theory`` and ``hyps``; ``fixed`` are the skolem constants."""

    theory: Theory
    goal: Term
    hyps: tuple[Term, ...] = ()
    fixed: tuple[Var, ...] = ()

    @classmethod
    def from_problem(cls, problem: Problem) -> "Query":
        return cls(problem.theory, problem.goal)


def consistency_query(theory: Theory, hyps: tuple[Term, ...] = (),
                      fixed: tuple[Var, ...] = ()) -> Query:
    """The query "prove ``false`` from theory and hyps".

    Read its verdict *inverted*: ``Proved`` means theory ∧ hyps is INCONSISTENT (unsat);
    ``Refuted`` means the solver found a model (consistent, as far as the solver can tell);
    ``Unknown`` means nothing.  Prefer :func:`solvers.base.check_consistency`, which names the
    three outcomes explicitly.
    """
    return Query(theory, FALSE, tuple(hyps), tuple(fixed))


# --------------------------------------------------------------------------------------------
# Canonical hashing.  Until the SMT-LIB printer is the canonical form, the canonical text is
# the dataclass repr, which is deterministic (field order, no ids, no set iteration).
# Hashing a theory walks all of it, so theory hashes are memoised per object (held strongly
# in a small LRU so an id is never reused while its entry lives).

_THEORY_MEMO: "OrderedDict[int, tuple[Theory, str]]" = OrderedDict()
_THEORY_MEMO_SIZE = 256
_MEMO_LOCK = Lock()


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def theory_hash(theory: Theory) -> str:
    """sha256 of the theory's canonical text (memoised per theory object)."""
    key = id(theory)
    with _MEMO_LOCK:
        hit = _THEORY_MEMO.get(key)
        if hit is not None and hit[0] is theory:
            _THEORY_MEMO.move_to_end(key)
            return hit[1]
    digest = _sha(f"{_HASH_VERSION}:theory:{theory!r}")
    with _MEMO_LOCK:
        _THEORY_MEMO[key] = (theory, digest)
        while len(_THEORY_MEMO) > _THEORY_MEMO_SIZE:
            _THEORY_MEMO.popitem(last=False)
    return digest


def query_hash(q: Query) -> str:
    """Stable sha256 of a query: equal queries hash equal across processes and runs."""
    return _sha(f"{_HASH_VERSION}:{theory_hash(q.theory)}:{q.goal!r}:{q.hyps!r}:{q.fixed!r}")
