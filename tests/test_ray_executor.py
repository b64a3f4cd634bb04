"""Executors (ida_ns.executors): the local pool and Ray give the same results; a killed worker
costs its task a retry, never the run; ``bench tip --executor ray`` matches ``--executor local``.

One local Ray session is shared by the whole module (starting Ray costs seconds).  The Ray
tests skip when ray is not installed (``pip install 'ida-ns[ray]'``).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

import executor_tasks as T
from ida_ns.errors import BackendMissing
from ida_ns.executors import ExecutorError, LocalExecutor, RayExecutor, make_executor

ROOT = Path(__file__).resolve().parents[1]
HERE = Path(__file__).resolve().parent

try:
    import ray
except ImportError:
    ray = None
needs_ray = pytest.mark.skipif(ray is None, reason="ray is not installed: "
                               "pip install 'ida-ns[ray]' to run the Ray executor tests")


@pytest.fixture(scope="module")
def ray_session():
    if ray is None:
        pytest.skip("ray is not installed: pip install 'ida-ns[ray]'")
    path = os.pathsep.join([str(ROOT), str(HERE)] + [
        p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p])
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, address="local",
             configure_logging=False,
             runtime_env={"env_vars": {"PYTHONPATH": path, "OMP_NUM_THREADS": "1"}})
    yield ray
    ray.shutdown()


def _by_index(results):
    return {r.index: r for r in results}


# ---- the interface, both backends ------------------------------------------------------------


def test_unknown_executor_and_bad_settings_are_clear_errors():
    with pytest.raises(ExecutorError, match="unknown executor 'dask'"):
        make_executor("dask")
    with pytest.raises(ExecutorError, match="jobs=-1"):
        make_executor("local", jobs=-1)
    with pytest.raises(ExecutorError, match="--ray-address is for --executor ray"):
        make_executor("local", address="10.0.0.1:6379")


def test_ray_missing_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray -> ImportError
    with pytest.raises(BackendMissing, match=r"pip install 'ida-ns\[ray\]'"):
        RayExecutor(1)


def _check_basic(ex):
    tasks = [(i,) for i in range(6)]
    res = _by_index(ex.map_unordered(T.square, tasks, init=T.setup, init_args=("s",)))
    assert sorted(res) == list(range(6))
    assert all(r.ok and r.attempts == 1 for r in res.values())
    assert [res[i].value[0] for i in range(6)] == [i * i for i in range(6)]
    # init ran exactly once in each worker process, before its first task
    assert all(r.value[2] == ["s"] for r in res.values())
    out = _by_index(ex.map_unordered(T.divide, [(1, 0), (4, 2)]))
    assert out[1].ok and out[1].value == 2.0
    assert not out[0].ok and out[0].failure.startswith("ZeroDivisionError")
    assert out[0].attempts == 1  # fn raising is its result: not retried


def _check_killed_worker(ex, tmp_path):
    marker = tmp_path / "killed"
    res = _by_index(ex.map_unordered(T.die_once, [(str(marker), i) for i in range(4)]))
    assert marker.exists(), "the worker was never killed: the test tested nothing"
    assert all(r.ok for r in res.values()), [r.failure for r in res.values()]
    assert [res[i].value for i in range(4)] == [1, 2, 3, 4]
    assert max(r.attempts for r in res.values()) == 2


def _check_always_killed(ex):
    res = _by_index(ex.map_unordered(T.die_always, [(1,)]))
    assert not res[0].ok and "lost" in res[0].failure
    assert res[0].attempts == ex.retries + 1


def test_local_executor_results(tmp_path):
    with LocalExecutor(2) as ex:
        _check_basic(ex)


def test_local_executor_survives_a_killed_worker(tmp_path):
    with LocalExecutor(2, retries=1) as ex:
        _check_killed_worker(ex, tmp_path)
        _check_always_killed(ex)


@needs_ray
def test_ray_executor_results(ray_session):
    with make_executor("ray", jobs=2) as ex:
        assert isinstance(ex, RayExecutor) and not ex._owned  # the module's session
        _check_basic(ex)


@needs_ray
def test_ray_executor_survives_a_killed_worker(ray_session, tmp_path):
    with make_executor("ray", jobs=2, retries=1) as ex:
        _check_killed_worker(ex, tmp_path)
        _check_always_killed(ex)
    assert ray_session.is_initialized()


# ---- bench tip: same verdicts, and a worker killed from outside ------------------------------

NAT = """(declare-datatype Nat ((Z) (S (p Nat))))
(define-fun-rec plus ((x Nat) (y Nat)) Nat (match x ((Z y) ((S z) (S (plus z y))))))
"""
PROBLEMS = {
    "a_plus_zero.smt2": NAT + "(prove (forall ((n Nat)) (= (plus n Z) n)))\n",
    "b_zero_plus.smt2": NAT + "(prove (forall ((n Nat)) (= (plus Z n) n)))\n",
    "c_false.smt2": NAT + "(prove (forall ((n Nat)) (= (plus n n) n)))\n",
    "d_plus_succ.smt2": NAT + "(prove (forall ((n Nat) (m Nat)) "
                              "(= (plus n (S m)) (S (plus n m)))))\n",
    "e_broken.smt2": NAT + "(prove (forall ((n Nat)) (= (plus n) n)))\n",
}


@pytest.fixture
def tip_folder(tmp_path):
    d = tmp_path / "tip"
    d.mkdir()
    for name, text in PROBLEMS.items():
        (d / name).write_text(text)
    return d


def _verdicts(rows):
    return {(Path(r["file"]).name, r["system"]): r["status"] for r in rows}


class Killer(threading.Thread):
    """Kills the first Ray worker below ``root`` seen running a task (once)."""

    def __init__(self, root: int):
        super().__init__(daemon=True)
        self.root, self.killed, self.stop = root, None, threading.Event()

    def run(self):
        while not self.stop.is_set() and self.killed is None:
            for pid in T.busy_ray_workers(self.root):
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    continue
                self.killed = pid
                break
            time.sleep(0.02)


@needs_ray
def test_bench_ray_gives_local_verdicts_and_survives_a_killed_worker(ray_session, tip_folder,
                                                                     tmp_path, capsys):
    from ida_ns.bench import run_tip_bench

    # a generous budget: every problem here settles in well under a second, so the verdicts
    # do not depend on how loaded the machine is
    kw = dict(budget_s=20.0, jobs=2, systems=("ida-ns",))
    local = run_tip_bench(tip_folder, out=str(tmp_path / "local.json"), **kw)
    killer = Killer(os.getpid())
    killer.start()
    try:
        remote = run_tip_bench(tip_folder, out=str(tmp_path / "ray.json"), executor="ray",
                               **kw)
    finally:
        killer.stop.set()
        killer.join()
    assert killer.killed is not None, "no busy Ray worker was seen: nothing was killed"
    v_local, v_ray = _verdicts(local), _verdicts(remote)
    assert v_ray == v_local, (local, remote)
    # the verdicts are the expected ones, not just equal
    assert v_local[("a_plus_zero.smt2", "ida-ns")] == "proved"
    assert v_local[("c_false.smt2", "ida-ns")] == "refuted"
    assert v_local[("e_broken.smt2", "ida-ns")] == "error"
    assert sum(r.get("attempts", 1) == 2 for r in remote) == 1  # the killed task's retry
    assert "lost its worker" in capsys.readouterr().err


@needs_ray
@pytest.mark.slow
@pytest.mark.shared
def test_cli_bench_ray_on_isaplanner_matches_local(tip_dir, tmp_path):
    """The command as people run it (its own local Ray), a worker killed from outside."""
    folder = tip_dir / "native" / "isaplanner"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    base = [sys.executable, "-m", "ida_ns.cli", "bench", "tip", str(folder), "--limit", "8",
            "--budget", "3", "--jobs", "2"]
    subprocess.run(base + ["--json", str(tmp_path / "l.json")], env=env, check=True,
                   capture_output=True, timeout=600)
    proc = subprocess.Popen(base + ["--json", str(tmp_path / "r.json"), "--executor", "ray"],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    killer = Killer(proc.pid)
    killer.start()
    try:
        out, err = proc.communicate(timeout=600)
    finally:
        killer.stop.set()
        killer.join()
    assert proc.returncode == 0, err.decode()[-2000:]
    assert killer.killed is not None
    from ida_ns.bench import read_rows  # JSON Lines: a row per (problem, system)

    local = read_rows(tmp_path / "l.json")
    remote = read_rows(tmp_path / "r.json")
    assert _verdicts(remote) == _verdicts(local)
    assert any(r.get("attempts") == 2 for r in remote)


@needs_ray
@pytest.mark.parametrize("address", ["127.0.0.1:1", "ray://127.0.0.1:1", "nohost.invalid:6379"])
def test_unreachable_ray_address_is_a_clear_error_not_a_hang(address):
    from ida_ns import executors

    if ray.is_initialized():
        pytest.skip("a Ray session is already initialised in this process")
    with pytest.raises(ExecutorError, match="cannot reach the Ray cluster"):
        executors._probe_ray_address(address, timeout_s=2.0)
    with pytest.raises(ExecutorError, match="cannot reach the Ray cluster"):
        RayExecutor(1, address=address)  # before ray.init, which retries for minutes


@needs_ray
@pytest.mark.parametrize("address", ["6379", "host:", "host:port", "host:70000"])
def test_malformed_ray_address_is_named(address):
    from ida_ns import executors

    with pytest.raises(ExecutorError, match="is not host:port"):
        executors._probe_ray_address(address)
