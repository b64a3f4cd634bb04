"""A verdict must not depend on what the solver answered before.

z3 keeps one context per translated theory, and that context's history (every term earlier
queries created) changes how it searches: an easy leaf of the gate, proved in milliseconds in a
fresh context, timed out at 10 s after some other queries on its theory, so a re-check refused
evidence the gate had just produced.  The family here replays the gate's own queries after
random histories: every query a fresh context proves must still be proved."""

from __future__ import annotations

import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ida_ns import gate as gate_module
from ida_ns.gate import run_gate
from ida_ns.logic.parser import parse_text
from ida_ns.solvers.query import Query, theory_hash
from ida_ns.solvers.z3_backend import Z3Backend
from ida_ns.testing.hostile_theories import DELETE_SORT, LEFT_ROTATION
from ida_ns.verdict import Proved, Unknown

# DELETE_SORT: the gate proves length lemmas about del by induction, one of whose leaves is
# sensitive to history; LEFT_ROTATION: a second theory with its own obligations.

TARGET_S = 2.0  # a proved query gets this long after any history


def query(goal: str) -> Query:
    """``goal`` over DELETE_SORT's theory."""
    p = parse_text(DELETE_SORT + f"\n(prove {goal})")
    return Query(p.theory, p.goal)


EASY = "(= (del 1 nil) nil)"
HARD = "(forall ((x Int) (xs list)) (<= (least x (del x xs)) x))"  # needs induction


def gate_queries(src: str) -> list:
    """Every query the gate asks on ``src``'s theory, in order."""
    backend, asked = Z3Backend(), []

    def prove_many(queries, timeout_s=None):
        queries = list(queries)
        asked.extend(queries)
        return [backend.prove(q, timeout_s or 1.0) for q in queries]

    p = parse_text(src + "\n(prove true)")
    saved = dict(gate_module._MEMO)  # the gate's per-theory memo would answer without asking
    gate_module._MEMO.clear()
    try:
        rep = run_gate(p.theory, prove_many=prove_many, timeout_s=1.0,
                       deadline=time.perf_counter() + 60.0)
    finally:
        gate_module._MEMO.update(saved)
    assert rep.status == "consistent", rep.reason
    return asked


@pytest.fixture(scope="module")
def queries():
    """(all queries, the ones a fresh context proves within 0.5 s), each theory's in the
    gate's order."""
    asked = [q for src in (DELETE_SORT, LEFT_ROTATION) for q in gate_queries(src)]
    easy = [q for q in asked if isinstance(Z3Backend().prove(q, 0.5), Proved)]
    assert len(easy) >= 10
    return asked, easy


def test_the_gate_sequence_replayed_in_one_context():
    """The gate's own order: a leaf proved at its fourth query timed out at its seventh, the
    same query after two others on the theory."""
    asked = gate_queries(DELETE_SORT)
    backend = Z3Backend()
    missed = {i: q for _ in range(2) for i, q in enumerate(asked)  # the sequence twice
              if not isinstance(backend.prove(q, 1.0), Proved)}
    wrong = [i for i, q in missed.items() if isinstance(Z3Backend().prove(q, 0.5), Proved)]
    assert not wrong, f"proved fresh, not after the queries before them: {wrong}"


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_a_proved_query_stays_proved_after_any_history(queries, data):
    asked, easy = queries
    target = data.draw(st.sampled_from(easy), label="target")
    same = [q for q in asked if theory_hash(q.theory) == theory_hash(target.theory)]
    history = data.draw(st.lists(st.sampled_from(same), max_size=25), label="history")
    backend = Z3Backend()
    for q in history:
        backend.prove(q, 0.1)
    v = backend.prove(target, TARGET_S)
    assert isinstance(v, Proved), (v, len(history))


def test_a_used_context_gives_way_to_a_fresh_one_within_the_budget():
    """An unanswered query in a used context is retried in a fresh translation, which takes
    the cached one's place; the two attempts share the caller's time and the reason names
    it whole."""
    hard = query(HARD)
    b = Z3Backend()
    assert isinstance(b.prove(query(EASY), 1.0), Proved)
    first = next(iter(b.cache.entries.values()))
    v = b.prove(hard, 0.4)
    assert isinstance(v, Unknown) and v.reason == "unknown: timeout after 0.4 s"
    assert v.time_s >= 0.3  # both attempts ran: the used context alone had 0.3 s
    now = next(iter(b.cache.entries.values()))
    assert now is not first and len(b.cache.entries) == 1 and now.answered == 1
    # a fresh context gets the whole budget on its first query
    v = Z3Backend().prove(hard, 0.4)
    assert isinstance(v, Unknown) and v.reason == "unknown: timeout after 0.4 s"


def test_a_theory_too_big_to_translate_again_keeps_its_context():
    """Translating again must fit in half the time a retry would have; otherwise the used
    context keeps the whole budget (a 10,000-definition theory takes seconds to translate)."""
    b = Z3Backend()
    assert isinstance(b.prove(query(EASY), 1.0), Proved)
    ctx = next(iter(b.cache.entries.values()))
    ctx.build_s = 5.0  # as if translating it took that long
    hard = query(HARD)
    assert theory_hash(hard.theory) == next(iter(b.cache.entries))[0]
    v = b.prove(hard, 0.4)
    assert isinstance(v, Unknown) and v.reason == "unknown: timeout after 0.4 s"
    assert len(b.cache.entries) == 1 and next(iter(b.cache.entries.values())) is ctx
    assert ctx.answered == 2
