"""The worker pool: real worker processes that hang, crash, run out of memory or answer
garbage cost one Unknown each and are replaced; nothing outlives the pool."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from ida_ns.errors import SpecError
from ida_ns.logic.ast import (App, Constructor, Datatype, FunDef, Match, MatchCase, PatCon, Sort,
                              Theory, Var, eq, forall)
from ida_ns.solvers import Query, SolverPool, query_hash, theory_hash

NAT = Sort("Nat")
NAT_DT = Datatype("Nat", (Constructor("Z"), Constructor("S", (("p", NAT),))))
x, y, z = Var("x", NAT), Var("y", NAT), Var("z", NAT)
Z = App("Z", (), NAT)


def S(a):
    return App("S", (a,), NAT)


def plus(a, b):
    return App("plus", (a, b), NAT)


PLUS = FunDef("plus", (x, y), NAT, Match(x, (
    MatchCase(PatCon("Z"), y), MatchCase(PatCon("S", (z,)), S(plus(z, y)))), NAT))
NATS = Theory(datatypes=((NAT_DT,),), defs=((PLUS,),))
EASY = Query(NATS, forall([x], eq(plus(Z, x), x)))  # proved at once
HARD = Query(NATS, forall([x], eq(plus(x, Z), x)))  # needs induction: z3 times out
FALSE = Query(NATS, forall([x], eq(plus(x, x), x)))  # refuted by z3

TIMEOUT, GRACE = 0.3, 0.4


@pytest.fixture(scope="module")
def pool():
    with SolverPool("z3", workers=2, timeout_s=TIMEOUT, memory_mb=1024, grace_s=GRACE) as p:
        yield p


def alive(pid: int) -> bool:
    """True while the process exists, zombie included."""
    return Path(f"/proc/{pid}").exists()


def test_prove_and_refute_through_workers(pool):
    assert pool.prove(EASY).status == "proved"
    v = pool.prove(FALSE)
    assert v.status == "refuted" and v.solver == "z3" and v.version == pool.version
    assert pool.prove(HARD).status == "unknown"


def test_solver_timeout_is_not_a_kill(pool):
    before = pool.pids
    v = pool.prove(HARD, timeout_s=0.2)
    assert v.reason == "unknown: timeout after 0.2 s"
    assert pool.pids == before


def test_prove_many_keeps_order_and_runs_in_parallel(pool):
    queries = [HARD, EASY, FALSE, HARD, EASY, HARD]
    t0 = time.perf_counter()
    verdicts = pool.prove_many(queries)
    wall = time.perf_counter() - t0
    assert [v.status for v in verdicts] == ["unknown", "proved", "refuted", "unknown",
                                            "proved", "unknown"]
    assert wall < 3 * TIMEOUT + 5.0  # completes (generous: the machine may be loaded)


@pytest.mark.parametrize("action, reason", [
    ("hang", "timeout: killed after"),
    ("exit", "worker crashed (exit 3)"),
    ("segv", "worker crashed (exit -11, SIGSEGV)"),
    ("oom", "out of memory (limit 1024 MiB)"),
    ("garbage", "garbage reply from worker (UnpicklingError)"),
    ("bad_reply", "garbage reply from worker: ('verdict', 'proved, trust me')"),
])
def test_faulty_worker_costs_one_unknown_and_is_replaced(pool, action, reason):
    before = set(pool.pids)
    t0 = time.perf_counter()
    v = pool._debug_action(action)
    assert v.status == "unknown" and v.reason.startswith(reason), v.reason
    assert time.perf_counter() - t0 < TIMEOUT + GRACE + 5.0
    after = set(pool.pids)
    assert len(after) == 2 and len(after - before) == 1  # exactly one worker replaced
    dead = (before - after).pop()
    assert not alive(dead)  # killed and reaped: no zombie
    assert pool.prove(EASY).status == "proved"
    assert pool.prove_many([EASY, EASY, EASY]) and pool.prove(FALSE).status == "refuted"


def test_hang_is_killed_at_its_limit(pool):
    t0 = time.perf_counter()
    v = pool._debug_action("hang", timeout_s=0.1)
    wall = time.perf_counter() - t0
    assert v.reason == f"timeout: killed after {0.1 + GRACE:.1f} s"
    assert 0.1 + GRACE <= wall < 0.1 + GRACE + 5.0  # killed at its limit, not before


def test_worker_error_keeps_the_worker(pool):
    before = pool.pids
    v = pool._debug_action("raise")
    assert v.status == "unknown" and v.reason == "worker error: RuntimeError: injected"
    assert pool.pids == before


def test_malformed_query_raises_in_caller_and_keeps_the_worker(pool):
    before = pool.pids
    with pytest.raises(SpecError, match="free variable a") as info:
        pool.prove(Query(NATS, eq(Var("a", NAT), Z)))
    assert info.value.token == "a"
    assert pool.pids == before
    assert pool.prove(EASY).status == "proved"


def test_theory_resent_when_worker_lost_it(pool):
    """The parent believes a worker holds a theory it does not: the worker asks for it."""
    other = Theory(datatypes=((NAT_DT,),), defs=((PLUS,),), axioms=(eq(Z, Z),))
    workers = [pool._idle.get() for _ in range(pool.workers)]
    for w in workers:
        w.theories.add(theory_hash(other))
        pool._idle.put(w)
    assert pool.prove(Query(other, EASY.goal)).status == "proved"


def test_cvc5_ind_pool_proves_by_induction():
    with SolverPool("cvc5-ind", workers=1, timeout_s=2.0) as p:
        v = p.prove(HARD)
        assert v.status == "proved" and v.solver == "cvc5-ind"


def test_close_leaves_no_process_behind():
    p = SolverPool("z3", workers=2, timeout_s=TIMEOUT, grace_s=GRACE)
    pids = p.pids
    assert len(pids) == 2 and all(alive(q) for q in pids)
    p.prove(EASY)
    p.close()
    assert not any(alive(q) for q in pids)
    p.close()  # idempotent
    with pytest.raises(ValueError, match="closed"):
        p.prove(EASY)


def test_garbage_collected_pool_reaps_workers():
    p = SolverPool("z3", workers=1, timeout_s=TIMEOUT)
    pids = p.pids
    del p
    import gc

    gc.collect()
    deadline = time.time() + 5
    while any(alive(q) for q in pids) and time.time() < deadline:
        time.sleep(0.05)
    assert not any(alive(q) for q in pids)


def test_bad_arguments():
    with pytest.raises(ValueError, match="unknown solver 'yices'"):
        SolverPool("yices")
    with pytest.raises(ValueError, match="workers=0"):
        SolverPool("z3", workers=0)


def test_query_hash_is_the_same_in_another_process():
    import subprocess
    import sys

    code = ("import sys; sys.path.insert(0, sys.argv[1]); import test_pool as t; "
            "print(t.query_hash(t.HARD))")
    out = subprocess.run([sys.executable, "-c", code, str(Path(__file__).parent)],
                         capture_output=True, text=True, check=True, cwd=os.getcwd())
    assert out.stdout.strip() == query_hash(HARD)
