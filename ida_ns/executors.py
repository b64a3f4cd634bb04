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
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
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


# ---- local: a process pool that survives a lost worker --------------------------------------


class LocalExecutor(Executor):
    """``ProcessPoolExecutor`` with ``jobs`` workers.  A worker killed mid-task breaks the whole
    pool (every pending future fails with ``BrokenProcessPool``); the pool is then rebuilt and
    the unfinished tasks resubmitted, each charged one attempt (the killed one cannot be told
    apart from its neighbours)."""

    name = "local"

    def map_unordered(self, fn, tasks, *, init=None, init_args=()):
        attempts = [0] * len(tasks)
        todo = list(range(len(tasks)))
        while todo:
            broken: list[int] = []
            with ProcessPoolExecutor(max_workers=min(self.jobs, len(todo)),
                                     initializer=_local_init,
                                     initargs=(init, init_args)) as ex:
                futs = {}
                for i in todo:
                    attempts[i] += 1
                    futs[ex.submit(fn, *tasks[i])] = i
                pending = set(futs)
                while pending:
                    done, pending = wait(pending, return_when=FIRST_COMPLETED)
                    for fut in done:
                        i = futs[fut]
                        try:
                            value = fut.result()
                        except BrokenProcessPool:
                            broken.append(i)
                            continue
                        except Exception as e:  # fn raised: its result, not retried
                            yield TaskResult(i, failure=f"{type(e).__name__}: {e}",
                                             attempts=attempts[i])
                            continue
                        yield TaskResult(i, value, attempts=attempts[i])
            todo = []
            for i in sorted(broken):
                if attempts[i] > self.retries:
                    yield TaskResult(i, failure="worker process lost (killed or crashed) on "
                                     f"every one of {attempts[i]} attempts",
                                     attempts=attempts[i])
                else:
                    todo.append(i)


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


class RayExecutor(Executor):
    """Each task is a Ray task (``num_cpus=1``, Ray's own retries off: ours count them).  At
    most ``jobs`` are in flight (for a cluster, ``jobs`` defaults up to its CPU count).

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
            env = {"OMP_NUM_THREADS": "1",
                   "PYTHONPATH": os.pathsep.join([_package_root()] + [
                       p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p])}
            kwargs: dict[str, Any] = dict(include_dashboard=False, log_to_driver=False,
                                          configure_logging=False,
                                          runtime_env={"env_vars": env})
            if address:
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
