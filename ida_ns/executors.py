"""Where per-problem work runs: one interface, a local process pool or a Ray cluster.

A *task* is one call ``fn(*args)`` of a module-level function (one problem: parse, prove with
its own solver workers and hard limits, return a JSON-able row).  Tasks are independent, so
the executor may run them anywhere and in any order::

    with make_executor("ray", jobs=8) as ex:      # or "local"
        for r in ex.map_unordered(one_problem, tasks, init=setup, init_args=(budget,)):
            r.index, r.value, r.attempts, r.failure   # value is fn's result when r.ok

``init(*init_args)`` runs once per worker process before its first task (long-lived solver
pools, caches), as ``ProcessPoolExecutor``'s ``initializer`` does.

Failures: an exception raised by ``fn`` is the task's result (``failure`` set, not retried:
it would raise again).  A *lost worker* (the process was killed, crashed, ran out of memory,
or its node left the cluster) costs that task a retry, on another worker; only after
``retries`` retries is it given up as a failure.  The run never stops for either.

Backends: ``local`` (default) is a process pool on this machine; ``ray`` submits each task as a
Ray task (``num_cpus=1``) to a local Ray started here, or to the cluster named by ``address``
or ``RAY_ADDRESS``.  Ray is an optional extra (``pip install 'ida-ns[ray]'``) and is imported
only when the ``ray`` executor is made.
"""

from __future__ import annotations

import os
import sys
from abc import ABC, abstractmethod
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

from .errors import BackendMissing, IdaNsError

EXECUTORS = ("local", "ray")
RAY_EXTRA = "pip install 'ida-ns[ray]'"


class ExecutorError(IdaNsError):
    """The executor itself cannot run (bad settings, no cluster to join)."""


@dataclass(frozen=True)
class TaskResult:
    """One task's outcome: ``value`` (fn's return) when ``failure`` is None; ``attempts`` is 1
    plus the retries spent on lost workers."""

    index: int
    value: Any = None
    failure: str | None = None
    attempts: int = 1

    @property
    def ok(self) -> bool:
        return self.failure is None


# ---- worker side: run init once per process, then the task ---------------------------------

_INITIALISED: dict[str, tuple] = {}


def _qualname(fn: Callable) -> str:
    return f"{fn.__module__}.{fn.__qualname__}"


def run_task(fn: Callable, args: tuple, init: Callable | None, init_args: tuple) -> Any:
    """Body of every task, in the worker process: ``init(*init_args)`` once per process (again
    only if the settings change), then ``fn(*args)``."""
    if init is not None:
        key = _qualname(init)
        if _INITIALISED.get(key) != init_args:
            init(*init_args)
            _INITIALISED[key] = init_args
    return fn(*args)


def _local_init(init: Callable | None, init_args: tuple) -> None:
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    if init is not None:
        init(*init_args)
        _INITIALISED[_qualname(init)] = init_args


# ---- the interface -------------------------------------------------------------------------


class Executor(ABC):
    name: str = "?"

    def __init__(self, jobs: int, retries: int = 2):
        if jobs < 0:
            raise ExecutorError(f"jobs={jobs} must be >= 0 (0: every CPU there is)")
        if retries < 0:
            raise ExecutorError(f"retries={retries} must be >= 0")
        self.jobs = jobs or (os.cpu_count() or 1)
        self.retries = retries

    @abstractmethod
    def map_unordered(self, fn: Callable, tasks: Sequence[tuple], *,
                      init: Callable | None = None,
                      init_args: tuple = ()) -> Iterator[TaskResult]:
        """Run ``fn(*t)`` for every ``t`` in ``tasks``; yield one :class:`TaskResult` per task
        as each finishes (``index`` = position in ``tasks``)."""

    def describe(self) -> str:
        return f"{self.name} ({self.jobs} jobs)"

    def close(self) -> None:
        pass

    def __enter__(self) -> "Executor":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def make_executor(name: str = "local", jobs: int = 2, *, address: str | None = None,
                  retries: int = 2) -> Executor:
    """``local`` or ``ray``; ``address`` (else ``RAY_ADDRESS``) joins an existing Ray cluster,
    otherwise a local one is started with ``jobs`` CPUs."""
    if name == "local":
        if address:
            raise ExecutorError("--ray-address is for --executor ray")
        return LocalExecutor(jobs, retries)
    if name == "ray":
        return RayExecutor(jobs, retries, address=address)
    raise ExecutorError(f"unknown executor {name!r}; choose one of {', '.join(EXECUTORS)}")


def check_executor(name: str) -> None:
    """Fail early (before anything is written) on an unknown executor or a missing backend."""
    if name not in EXECUTORS:
        raise ExecutorError(f"unknown executor {name!r}; choose one of {', '.join(EXECUTORS)}")
    if name == "ray":
        _import_ray()


# ---- local: worker processes that survive a lost worker -------------------------------------


def _local_worker(conn, init: Callable | None, init_args: tuple) -> None:
    """A local worker process: ``init`` once, then one task at a time from the pipe."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when workers stop
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    broken = None
    try:
        _local_init(init, init_args)
    except Exception as e:  # every task of this worker then reports it
        broken = f"worker initialisation failed: {type(e).__name__}: {e}"
    while True:
        try:
            msg = conn.recv()
        except (EOFError, OSError):
            return
        if msg is None:
            return
        i, fn, args = msg
        if broken is not None:
            conn.send((i, False, broken))
            continue
        try:
            value = fn(*args)
        except Exception as e:
            conn.send((i, False, f"{type(e).__name__}: {e}"))
            continue
        try:
            conn.send((i, True, value))
        except Exception as e:  # an unpicklable result
            conn.send((i, False, f"result not sendable: {type(e).__name__}: {e}"))


class LocalExecutor(Executor):
    """``jobs`` worker processes on this machine, one task at a time each (like a process pool,
    but a worker killed mid-task costs only that task a retry: the worker is replaced and the
    other tasks never notice)."""

    name = "local"

    def map_unordered(self, fn, tasks, *, init=None, init_args=()):
        import multiprocessing as mp
        from multiprocessing.connection import wait as wait_conns

        ctx = mp.get_context("fork" if sys.platform.startswith("linux") else "spawn")
        queue = deque(range(len(tasks)))
        attempts = [0] * len(tasks)
        workers: dict = {}  # connection -> [process, task index or None]

        def spawn() -> None:
            parent, child = ctx.Pipe()
            proc = ctx.Process(target=_local_worker, args=(child, init, init_args))
            proc.start()
            child.close()
            workers[parent] = [proc, None]

        def retire(conn) -> None:
            proc, busy = workers.pop(conn)
            conn.close()
            proc.join(timeout=0 if busy is not None else 5)  # a busy one is not waited for
            if proc.is_alive():
                proc.kill()
                proc.join()

        try:
            for _ in range(min(self.jobs, len(tasks))):
                spawn()
            while queue or any(w[1] is not None for w in workers.values()):
                for conn, w in workers.items():
                    if w[1] is None and queue:
                        i = queue.popleft()
                        attempts[i] += 1
                        w[1] = i
                        conn.send((i, fn, tasks[i]))
                busy = [c for c, w in workers.items() if w[1] is not None]
                for conn in wait_conns(busy):
                    i = workers[conn][1]
                    try:
                        j, ok, value = conn.recv()
                    except (EOFError, OSError):  # the worker died under its task
                        code = workers[conn][0].exitcode
                        retire(conn)
                        spawn()
                        if attempts[i] <= self.retries:
                            print(f"executor: task {i} lost its worker (exit code {code}); "
                                  f"retry {attempts[i]}/{self.retries}", file=sys.stderr,
                                  flush=True)
                            queue.appendleft(i)
                        else:
                            yield TaskResult(i, failure=f"worker process lost (exit code "
                                             f"{code}) on every one of {attempts[i]} "
                                             "attempts", attempts=attempts[i])
                        continue
                    workers[conn][1] = None
                    yield (TaskResult(j, value, attempts=attempts[j]) if ok else
                           TaskResult(j, failure=value, attempts=attempts[j]))
        finally:
            for conn in list(workers):
                try:
                    conn.send(None)
                except OSError:
                    pass
            for conn in list(workers):
                retire(conn)


# ---- Ray -----------------------------------------------------------------------------------


def _import_ray():
    try:
        import ray
    except ImportError as e:
        raise BackendMissing(f"--executor ray needs the 'ray' package; install it with "
                             f"`{RAY_EXTRA}`") from e
    return ray


def _package_root() -> str:
    return str(Path(__file__).resolve().parents[1])


RAY_PROBE_TIMEOUT_S = 5.0


def _probe_ray_address(address: str, timeout_s: float = RAY_PROBE_TIMEOUT_S) -> None:
    """Fail fast on a cluster address nobody answers at: ``ray.init`` retries a dead or
    filtered address for minutes.  ``auto``/``local`` are Ray's own lookups and pass; a
    ``[ray://]host:port`` must accept a TCP connection within ``timeout_s``."""
    import socket

    if address in ("auto", "local"):
        return
    hostport = address.split("://", 1)[1] if "://" in address else address
    host, sep, port = hostport.rpartition(":")
    host = host.strip("[]")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ExecutorError(f"--ray-address {address!r} is not host:port or ray://host:port")
    try:
        with socket.create_connection((host, int(port)), timeout=timeout_s):
            pass
    except OSError as e:
        raise ExecutorError(f"cannot reach the Ray cluster at {address} within "
                            f"{timeout_s:g} s ({e.__class__.__name__}: {e}); start it with "
                            f"`ray start --head` there, or leave --ray-address out for a "
                            f"local Ray") from e


class RayExecutor(Executor):
    """Each task is a Ray task (``num_cpus=1``, Ray's own retries off: ours count them).  At
    most ``jobs`` are in flight (``jobs=0``: as many as the cluster has CPUs).

    Joining: ``address`` or ``RAY_ADDRESS`` (``ray://host:10001`` or ``host:6379``); the
    nodes need ida-ns and its solvers installed (same versions).  Otherwise a private local
    Ray is started with ``jobs`` CPUs and shut down on :meth:`close`; an already initialised
    Ray in this process (a test's shared session) is used as it is and left running."""

    name = "ray"

    def __init__(self, jobs: int, retries: int = 2, address: str | None = None):
        super().__init__(jobs, retries)
        ray = _import_ray()
        self._ray = ray
        self._owned = False
        address = address or os.environ.get("RAY_ADDRESS") or None
        self.address = address
        if not ray.is_initialized():
            env = {"OMP_NUM_THREADS": "1"}
            if not address:  # local workers import this very ida-ns; a cluster's nodes
                # have their own installation (same version)
                env["PYTHONPATH"] = os.pathsep.join([_package_root()] + [
                    p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p])
            kwargs: dict[str, Any] = dict(include_dashboard=False, log_to_driver=False,
                                          configure_logging=False,
                                          runtime_env={"env_vars": env})
            if address:
                _probe_ray_address(address)
                kwargs["address"] = address
            else:
                kwargs.update(num_cpus=self.jobs, address="local")
            try:
                ray.init(**kwargs)
            except (ConnectionError, RuntimeError, ValueError) as e:
                where = address or "a local Ray"
                raise ExecutorError(f"cannot start or join Ray at {where}: {e}") from e
            self._owned = True
        cpus = int(ray.cluster_resources().get("CPU", 0))
        if cpus < 1:
            raise ExecutorError(f"the Ray cluster at {address or 'local'} offers no CPUs")
        if jobs == 0:  # as many tasks in flight as the cluster has CPUs
            self.jobs = cpus
        self._remote = ray.remote(num_cpus=1, max_retries=0)(run_task)

    def describe(self) -> str:
        where = self.address or "local Ray"
        return f"ray ({where}, {self.jobs} tasks in flight)"

    def map_unordered(self, fn, tasks, *, init=None, init_args=()):
        ray = self._ray
        from ray import exceptions as rex

        queue = deque(range(len(tasks)))
        attempts = [0] * len(tasks)
        inflight: dict = {}

        def submit(i: int) -> None:
            attempts[i] += 1
            inflight[self._remote.remote(fn, tasks[i], init, init_args)] = i

        while queue or inflight:
            while queue and len(inflight) < self.jobs:
                submit(queue.popleft())
            ready, _ = ray.wait(list(inflight), num_returns=1)
            for ref in ready:
                i = inflight.pop(ref)
                try:
                    value = ray.get(ref)
                except rex.RayTaskError as e:  # fn raised: its result, not retried
                    cause = e.cause if getattr(e, "cause", None) is not None else e
                    yield TaskResult(i, failure=f"{type(cause).__name__}: {cause}",
                                     attempts=attempts[i])
                    continue
                except (rex.RayError, ConnectionError) as e:  # lost worker / node / object
                    if attempts[i] <= self.retries:
                        print(f"executor: task {i} lost its worker ({type(e).__name__}); "
                              f"retry {attempts[i]}/{self.retries}", file=sys.stderr,
                              flush=True)
                        queue.appendleft(i)
                    else:
                        yield TaskResult(i, failure=f"worker lost on every one of "
                                         f"{attempts[i]} attempts ({type(e).__name__})",
                                         attempts=attempts[i])
                    continue
                yield TaskResult(i, value, attempts=attempts[i])

    def close(self) -> None:
        if self._owned and self._ray.is_initialized():
            self._ray.shutdown()
        self._owned = False
