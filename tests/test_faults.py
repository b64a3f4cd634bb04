"""Faults in real solver worker processes while real proofs are searched.

A background thread SIGKILLs (crash) or SIGSTOPs (hang) live workers at random moments while
``prove_problem`` runs; and single faults (hang, exit, segfault, out of memory under the
address-space limit, garbage and malformed replies) are injected through the pool's
``_debug_action`` hook in place of one leaf check of a whole search.  In every case the call
completes within its budget plus the pool's limits, no verdict is wrong (a false goal is never
proved, a true one never refuted), a proof found still re-verifies from its certificate, each
fault costs one ``Unknown`` and one replaced worker, and the pool keeps working afterwards.
"""

from __future__ import annotations

import dataclasses
import signal
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from ida_ns.logic.ast import FunDecl, Sort
from ida_ns.prover.certificate import check_certificate, save_certificate
from ida_ns.prover.goal import Goal
from ida_ns.prover.overseer import Overseer
from ida_ns.prover.prover import ProverConfig, prove_problem
from ida_ns.prover.search import Budget, Search
from ida_ns.prover.verify import Checker, VerdictCache
from ida_ns.testing.hostile import FaultAtQuery, Saboteur
from ida_ns.verdict import Proved, Unknown

from prover_fixtures import problem

TIMEOUT, GRACE = 1.0, 0.5  # the pool's default solver limit and kill grace
LEAF = 0.5  # leaf limit used by the searches here: a hang is killed after LEAF + GRACE


def S(k: int) -> str:
    return "(S " * k + "Z" + ")" * k


EASY = "(forall ((x Nat)) (= (plus Z x) x))"  # the solver alone proves it
INDUCTIVE = "(forall ((x Nat)) (= (plus x Z) x))"  # needs induction (two leaves and more)
APPEND = "(forall ((xs list) (ys list)) (= (len (append xs ys)) (plus (len xs) (len ys))))"
HIDDEN_FALSE = f"(forall ((xs list)) (not (= (len xs) {S(12)})))"  # random testing misses it


@pytest.fixture(scope="module")
def shared_pool():
    from ida_ns.solvers.pool import SolverPool

    with SolverPool("z3", workers=2, timeout_s=TIMEOUT, memory_mb=1024, grace_s=GRACE) as p:
        yield p


@pytest.fixture
def pool(shared_pool):
    """The module's pool, with any damage a failed test left flushed first."""
    drain_and_check(shared_pool)
    return shared_pool


def alive(pid: int) -> bool:
    return Path(f"/proc/{pid}").exists()


def drain_and_check(pool, victims=()) -> None:
    """After faults: one call per worker flushes the damaged ones (a worker stopped or killed
    while idle costs the next call on it); then every call succeeds, the pool is at size,
    and no victim is left running or unreaped."""
    q = Goal(problem(EASY).theory, problem(EASY).goal).query()
    for _ in range(pool.workers):
        pool.prove(q, TIMEOUT)
    assert [v.status for v in pool.prove_many([q] * 4, TIMEOUT)] == ["proved"] * 4
    assert len(pool.pids) == pool.workers and all(alive(p) for p in pool.pids)
    for v in victims:
        assert v not in pool.pids and not alive(v), f"worker {v} left behind"


def check_proof(p, result, pool, tmp_path) -> None:
    save_certificate(tmp_path / "proof.json", p, result, "z3")
    rep = check_certificate(tmp_path / "proof.json", prove_many=pool.prove_many, timeout_s=2.0)
    assert rep.ok, rep.failures


# ---------------------------------------------------------------------------------------------
# Random kills and hangs during prove_problem


@pytest.mark.parametrize("goal, true, seed", [
    (INDUCTIVE, True, 1), (APPEND, True, 2), (HIDDEN_FALSE, False, 3),
])
def test_prove_problem_survives_random_kills_and_hangs(pool, tmp_path, goal, true, seed):
    p = problem(goal)
    checker = Checker.from_pool(pool, leaf_timeout_s=LEAF)
    before = pool.replaced
    budget = 4.0
    with Saboteur(pool, interval_s=(0.05, 0.4), seed=seed) as sab:
        t0 = time.perf_counter()
        r = prove_problem(p, checker, ProverConfig(budget_s=budget, leaf_timeout_s=LEAF,
                                                   stop_on_refuted=False))
        wall = time.perf_counter() - t0
    assert sab.total > 0, "no fault was injected"
    # the call completes: its budget, plus a batch in flight killed at its limit
    assert wall < budget + LEAF + GRACE + 15.0  # generous: the machine may be loaded
    assert r.status != ("refuted" if true else "proved"), r.verdict
    drain_and_check(pool, sab.victims)
    assert pool.replaced - before >= 1
    if r.status == "proved":
        check_proof(p, r, pool, tmp_path)


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(8))
def test_prove_problem_survives_fault_storms(pool, tmp_path, seed):
    goal, true = [(INDUCTIVE, True), (APPEND, True), (HIDDEN_FALSE, False)][seed % 3]
    p = problem(goal)
    checker = Checker.from_pool(pool, leaf_timeout_s=LEAF)
    with Saboteur(pool, interval_s=(0.01, 0.15), seed=seed) as sab:
        r = prove_problem(p, checker, ProverConfig(budget_s=6.0, leaf_timeout_s=LEAF,
                                                   stop_on_refuted=False))
    assert r.status != ("refuted" if true else "proved"), r.verdict
    drain_and_check(pool, sab.victims)
    if r.status == "proved":
        check_proof(p, r, pool, tmp_path)


def test_saboteur_kill_and_stop_each_cost_one_unknown(pool):
    """Should fail over, not fail: a killed and a stopped worker, each on its next call."""
    q = Goal(problem(EASY).theory, problem(EASY).goal).query()
    pool.prove_many([q, q])  # both workers started and ready
    for sig, reason in [(signal.SIGKILL, "worker crashed"), (signal.SIGSTOP, "timeout: killed")]:
        before = pool.replaced
        sab = Saboteur(pool, signals=(sig,))
        assert sab.strike()
        verdicts = [pool.prove(q, TIMEOUT) for _ in range(pool.workers)]
        bad = [v for v in verdicts if not isinstance(v, Proved)]
        assert len(bad) == 1 and bad[0].reason.startswith(reason), verdicts
        assert pool.replaced == before + 1
        drain_and_check(pool, sab.victims)


# ---------------------------------------------------------------------------------------------
# One injected fault in place of one leaf check of a whole search


FAULTS = [("hang", "timeout: killed after"), ("exit", "worker crashed (exit 3)"),
          ("segv", "worker crashed (exit -11, SIGSEGV)"), ("oom", "out of memory"),
          ("garbage", "garbage reply from worker"), ("bad_reply", "garbage reply from worker")]


@pytest.fixture(scope="module")
def clean_verdicts(shared_pool) -> list:
    """The leaf verdicts of the search below without any fault."""
    p = problem(INDUCTIVE)
    out: list = []
    checker = Checker.from_pool(shared_pool, leaf_timeout_s=LEAF,
                                on_event=lambda k, d: out.append(d) if k == "verdict" else None)
    assert Search(checker, Overseer(), Budget(wall_s=8, leaf_timeout_s=LEAF)).run(
        Goal(p.theory, p.goal)).proved
    return out


@pytest.mark.parametrize("action, reason", FAULTS, ids=[a for a, _ in FAULTS])
def test_one_fault_costs_one_unknown_and_the_search_completes(pool, clean_verdicts, tmp_path,
                                                             action, reason):
    """The fault hits the root's first Direct try; the search goes on by induction."""
    p = problem(INDUCTIVE)
    clean = clean_verdicts
    faulty = FaultAtQuery(pool, action, at=0)
    verdicts = []
    checker = Checker(faulty, "z3", leaf_timeout_s=LEAF, parallelism=pool.workers,
                      on_event=lambda k, d: verdicts.append(d) if k == "verdict" else None)
    before = pool.replaced
    t0 = time.perf_counter()
    res = Search(checker, Overseer(), Budget(wall_s=8, leaf_timeout_s=LEAF)).run(
        Goal(p.theory, p.goal))
    wall = time.perf_counter() - t0
    assert isinstance(faulty.fault, Unknown) and faulty.fault.reason.startswith(reason), \
        faulty.fault
    assert pool.replaced == before + 1  # exactly one worker replaced
    # and at most one Unknown more than the same search without the fault (the root's Direct
    # try, which the fault replaced, may be an Unknown anyway: it needs induction)
    unknowns = [sum(v["status"] == "unknown" for v in vs) for vs in (clean, verdicts)]
    assert unknowns[1] <= unknowns[0] + 1, (clean, verdicts)
    assert res.proved, res.reason
    assert wall < 8 + 10  # the search's budget, plus a generous margin for load
    check_proof(p, SimpleNamespace(proof=res.proof, lemmas={}), pool, tmp_path)
    drain_and_check(pool)


@pytest.mark.parametrize("action", ["exit", "hang"])
def test_one_fault_in_prove_problem_of_a_false_goal(pool, action):
    """prove_problem with the fault at a search leaf: completes, never proves the false goal."""
    p = problem(HIDDEN_FALSE)
    faulty = FaultAtQuery(pool, action, at=3)  # after the consistency gate's queries
    checker = Checker(faulty, "z3", leaf_timeout_s=LEAF, parallelism=pool.workers)
    r = prove_problem(p, checker, ProverConfig(budget_s=3.0, leaf_timeout_s=LEAF,
                                               stop_on_refuted=False))
    assert faulty.fault is not None and faulty.fault.status == "unknown"
    assert r.status != "proved"
    drain_and_check(pool)


def test_regression_fault_unknown_is_not_persisted_in_the_verdict_cache(pool, tmp_path):
    g = Goal(problem(EASY).theory, problem(EASY).goal)
    faulty = FaultAtQuery(pool, "exit", at=0)
    first = Checker(faulty, "z3", LEAF, VerdictCache(tmp_path / "verdicts.jsonl"))
    assert first.close_leaves([(g, ())])[0].status == "unknown"  # the crash
    later = Checker(pool.prove_many, "z3", LEAF, VerdictCache(tmp_path / "verdicts.jsonl"))
    assert isinstance(later.close_leaves([(g, ())])[0], Proved)


def test_regression_hung_worker_cannot_block_sending_a_large_theory(pool):
    small = problem(EASY)
    nat = Sort("Nat")
    theory = dataclasses.replace(small.theory, funs=tuple(
        FunDecl(f"f{i}_" + "q" * 300, (nat, nat, nat), nat) for i in range(3000)))
    q = Goal(theory, small.goal).query()
    pool.prove_many([Goal(small.theory, small.goal).query()] * 2)  # both workers ready
    victim = Saboteur(pool, signals=(signal.SIGSTOP,))
    assert victim.strike()
    out: list = []
    t = threading.Thread(target=lambda: out.extend(pool.prove(q, 0.3) for _ in range(2)),
                         daemon=True)
    t.start()
    t.join(2 * (0.3 + GRACE) + 2.0)  # both calls at their hard limits, and slack
    blocked = t.is_alive()
    if blocked:  # release the caller: kill the stopped worker ourselves
        with pool._lock:
            for w in pool._all:
                if w.proc.pid in victim.victims and w.proc.poll() is None:
                    w.proc.kill()
        t.join(30)
    assert not blocked, "a stopped worker blocked the caller past every limit"
    assert any(v.status == "unknown" for v in out)
