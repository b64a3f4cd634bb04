"""A pool of long-lived solver worker processes with hard time and memory limits.

Each worker is a fresh Python process holding one backend (and its cache of translated
theories); the parent talks to it over a pipe, one request at a time.  The parent enforces a
hard wall limit per call (the solver's own ``timeout_s`` plus ``grace_s``): a worker that hangs
past it, crashes (segfault, exit) or answers garbage is killed and replaced, and that call
returns ``Unknown(reason)`` naming what happened.  Nothing else is lost::

    with SolverPool("cvc5-ind", workers=2, timeout_s=2.0, memory_mb=2048) as pool:
        verdicts = pool.prove_many(queries)

A theory crosses the pipe once per worker: later queries over the same theory send only its
hash, and the worker keeps the translated theory.  ``prove`` is thread-safe; ``prove_many``
runs one call per worker in parallel.
"""

from __future__ import annotations

import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
import weakref
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from multiprocessing.connection import Connection

from ida_ns.errors import IdaNsError, SolverCrashed
from ida_ns.verdict import Proved, Refuted, Unknown, Verdict

from .query import Query, theory_hash

_VERDICTS = (Proved, Refuted, Unknown)
_WORKER_THEORIES = 32  # translated theories a worker keeps (LRU)
_DEBUG_HOARD: list = []
DEBUG_ACTIONS = ("hang", "exit", "segv", "oom", "garbage", "bad_reply", "raise")


# --------------------------------------------------------------------------------------------
# Worker side


def _worker_entry() -> None:
    """``python -c 'from ida_ns.solvers.pool import _worker_entry; _worker_entry()' FD SOLVER MEM``."""
    from multiprocessing.connection import Connection

    fd, solver, mem = sys.argv[1], sys.argv[2], sys.argv[3]
    _die_with_parent()
    try:
        _worker_main(Connection(int(fd)), solver, int(mem) if mem != "-" else None)
    except (BrokenPipeError, ConnectionResetError, EOFError):
        # The parent closed its end (shutdown, or it exited before its death signal reached
        # us): nobody is left to answer, and nothing went wrong worth a traceback.
        os._exit(0)


def _die_with_parent() -> None:
    """Linux: get SIGKILL when the parent dies, so no worker outlives a killed parent."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except Exception:
        pass  # elsewhere a worker still exits at EOF on its pipe


def _worker_main(conn, solver: str, memory_mb: int | None) -> None:
    """Serve requests until "stop" or EOF.  Runs in the child process."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when workers stop
    from . import get_backend

    backend = get_backend(solver)
    if memory_mb is not None:
        import resource

        limit = int(memory_mb) * 2**20
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    conn.send(("ready", backend.name, backend.version, os.getpid()))
    theories: OrderedDict[str, object] = OrderedDict()
    while True:
        try:
            msg = conn.recv()
        except (EOFError, OSError):
            return
        op = msg[0]
        if op == "stop":
            return
        if op == "debug":
            try:
                _debug(conn, msg[1], memory_mb)
            except Exception as e:
                conn.send(("verdict", Unknown(f"worker error: {type(e).__name__}: {e}")))
            continue
        _, key, theory, goal, hyps, fixed, timeout_s = msg
        if theory is None:
            theory = theories.get(key)
            if theory is None:
                conn.send(("need_theory",))
                continue
        theories[key] = theory
        theories.move_to_end(key)
        while len(theories) > _WORKER_THEORIES:
            theories.popitem(last=False)
        try:
            verdict = backend.prove(Query(theory, goal, hyps, fixed), timeout_s)
            if isinstance(verdict, Unknown) and "out of memory" in verdict.reason:
                conn.send(("verdict", verdict, "restart"))  # the solver's state is suspect
                return
            conn.send(("verdict", verdict))
        except IdaNsError as e:  # the caller's query is malformed: re-raised in the parent
            conn.send(("error", type(e).__name__, str(e), dict(vars(e))))
        except MemoryError:
            conn.send(("verdict", Unknown(f"out of memory (limit {memory_mb} MiB)",
                                          backend.name, backend.version), "restart"))
            return
        except Exception as e:  # a solver-side failure costs this one query
            conn.send(("verdict", Unknown(f"worker error: {type(e).__name__}: {e}",
                                          backend.name, backend.version)))


def _debug(conn, action: str, memory_mb: int | None) -> None:
    """Fault injection for tests: misbehave in a real worker process."""
    if action == "hang":
        while True:
            time.sleep(3600)
    elif action == "exit":
        os._exit(3)
    elif action == "segv":
        os.kill(os.getpid(), signal.SIGSEGV)
        time.sleep(3600)
    elif action == "oom" and memory_mb is None:
        conn.send(("verdict", Unknown("debug action 'oom' needs a pool with memory_mb")))
    elif action == "oom":
        try:
            _DEBUG_HOARD.append(bytearray(memory_mb * 2**20))  # more than the limit leaves
        except MemoryError:
            conn.send(("verdict", Unknown(f"out of memory (limit {memory_mb} MiB)"),
                       "restart"))
            os._exit(0)
        conn.send(("verdict", Unknown("debug action 'oom' allocated without hitting the limit")))
    elif action == "garbage":
        conn.send_bytes(b"\x80\x05not a pickle at all")
    elif action == "bad_reply":
        conn.send(("verdict", "proved, trust me"))
    elif action == "raise":
        raise RuntimeError("injected")
    else:
        conn.send(("verdict", Unknown(f"unknown debug action {action!r}")))


# --------------------------------------------------------------------------------------------
# Parent side


@dataclass(eq=False)
class _Worker:
    proc: subprocess.Popen
    conn: Connection
    ready: bool = False
    theories: set = field(default_factory=set)  # theory hashes this worker (probably) holds


def _reap(workers: set) -> None:
    """Stop workers: ask politely, then kill.  Also used by the finaliser."""
    for w in list(workers):
        try:
            w.conn.send(("stop",))
        except Exception:
            pass
    for w in list(workers):
        try:
            w.proc.wait(timeout=1.0)
        except subprocess.TimeoutExpired:
            w.proc.kill()
            w.proc.wait()
        try:
            w.conn.close()
        except Exception:
            pass
    workers.clear()


class SolverPool:
    """``workers`` long-lived processes running backend ``solver`` ("z3", "cvc5", "cvc5-ind").

    ``timeout_s``: default solver time limit per call.  ``grace_s``: extra wall time before the
    parent kills a worker (default ``max(1, timeout/2)``; cvc5's ``tlimit-per`` overshoots by
    tenths of a second).  ``memory_mb``: address-space limit (RLIMIT_AS) of each worker; a
    bare worker with z3 and cvc5 loaded uses about 90 MiB of it.  ``wait_ready=False``
    returns as soon as the workers are spawned (each is awaited at its first call), so
    several pools can start side by side; a worker that fails to start then surfaces as
    :class:`SolverCrashed` at that call.  Create pools in a thread that outlives them: a
    worker is killed when the thread that spawned it exits (``PR_SET_PDEATHSIG``).
    """

    def __init__(self, solver: str = "z3", workers: int = 2, timeout_s: float = 2.0,
                 memory_mb: int | None = None, grace_s: float | None = None,
                 startup_timeout_s: float = 120.0, wait_ready: bool = True):
        from . import BACKENDS

        if solver not in BACKENDS:
            raise ValueError(f"unknown solver {solver!r}; choose one of {BACKENDS}")
        if workers < 1:
            raise ValueError(f"workers={workers} must be at least 1")
        self.solver = solver
        self.workers = workers
        self.timeout_s = timeout_s
        self.memory_mb = memory_mb
        self.grace_s = grace_s
        self.startup_timeout_s = startup_timeout_s
        self.version = ""
        self.replaced = 0  # workers killed and replaced so far
        self._idle: queue.Queue[_Worker] = queue.Queue()
        self._all: set[_Worker] = set()
        self._lock = threading.Lock()
        self._closed = False
        self._executor: ThreadPoolExecutor | None = None
        self._finalizer = weakref.finalize(self, _reap, self._all)
        started = [self._spawn() for _ in range(workers)]
        for w in started:
            if wait_ready:
                self._await_ready(w)
            self._idle.put(w)

    def wait_ready(self) -> None:
        """Wait until every idle worker has started (see ``wait_ready=False``)."""
        ws = []
        while True:
            try:
                ws.append(self._idle.get_nowait())
            except queue.Empty:
                break
        try:
            for w in ws:
                self._await_ready(w)
        finally:
            for w in ws:
                if w.proc.poll() is None or w.ready:
                    self._idle.put(w)
                else:
                    self._discard(w)
                    self._idle.put(self._spawn())

    # ---- lifecycle -------------------------------------------------------------------------
    def __enter__(self) -> "SolverPool":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        """Stop every worker (killing busy ones) and wait for them: no zombies left."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
        self._finalizer()

    @property
    def pids(self) -> list[int]:
        with self._lock:
            return sorted(w.proc.pid for w in self._all)

    def _spawn(self) -> _Worker:
        # A fresh interpreter (not multiprocessing's spawn, which re-runs the caller's
        # __main__ and fails under ``python -`` or notebooks), talking over a socket pair.
        parent, child = socket.socketpair()
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
        mem = str(self.memory_mb) if self.memory_mb is not None else "-"
        proc = subprocess.Popen(
            [sys.executable, "-c", "from ida_ns.solvers.pool import _worker_entry; _worker_entry()",
             str(child.fileno()), self.solver, mem],
            pass_fds=(child.fileno(),), stdin=subprocess.DEVNULL, env=env)
        child.close()
        w = _Worker(proc, Connection(parent.detach()))
        with self._lock:
            self._all.add(w)
        return w

    def _await_ready(self, w: _Worker) -> None:
        if w.ready:
            return
        try:
            if not w.conn.poll(self.startup_timeout_s):
                raise SolverCrashed(f"{self.solver} worker did not start within "
                                    f"{self.startup_timeout_s:g} s")
            msg = w.conn.recv()
        except (EOFError, OSError):
            self._discard(w)
            raise SolverCrashed(f"{self.solver} worker died while starting "
                                f"(exit {w.proc.poll()}); see its stderr") from None
        if msg[0] != "ready":
            self._discard(w)
            raise SolverCrashed(f"{self.solver} worker sent {msg!r} instead of 'ready'")
        w.ready = True
        self.version = msg[2]

    def _discard(self, w: _Worker) -> None:
        """Kill a worker and wait for it (never leaves a zombie)."""
        if w.proc.poll() is None:
            w.proc.kill()
        w.proc.wait()
        w.conn.close()
        with self._lock:
            self._all.discard(w)

    def _replace(self, w: _Worker) -> _Worker:
        self._discard(w)
        self.replaced += 1
        return self._spawn()

    def _checkout(self) -> _Worker:
        if self._closed:
            raise ValueError("SolverPool is closed")
        w = self._idle.get()
        try:
            self._await_ready(w)
        except SolverCrashed:
            self._idle.put(self._spawn())  # keep the pool at size for the next caller
            raise
        return w

    # ---- calls -----------------------------------------------------------------------------
    def prove(self, query: Query, timeout_s: float | None = None) -> Verdict:
        """Prove ``query`` in some idle worker; blocks until one is free."""
        timeout = self.timeout_s if timeout_s is None else timeout_s
        key = theory_hash(query.theory)

        def request(with_theory: bool):
            return ("prove", key, query.theory if with_theory else None, query.goal,
                    query.hyps, query.fixed, timeout)

        return self._call(request, timeout, key)

    def prove_many(self, queries, timeout_s: float | None = None) -> list[Verdict]:
        """Prove all queries, ``workers`` at a time; verdicts in the order of ``queries``."""
        queries = list(queries)
        if len(queries) <= 1 or self.workers == 1:
            return [self.prove(q, timeout_s) for q in queries]
        with self._lock:
            if self._executor is None:
                self._executor = ThreadPoolExecutor(self.workers,
                                                    thread_name_prefix="ida-ns-pool")
        return list(self._executor.map(lambda q: self.prove(q, timeout_s), queries))

    def _debug_action(self, action: str, timeout_s: float | None = None) -> Verdict:
        """Test hook: make a worker misbehave (see ``DEBUG_ACTIONS``) and return the verdict
        the pool makes of it."""
        timeout = self.timeout_s if timeout_s is None else timeout_s
        return self._call(lambda _: ("debug", action), timeout, None)

    def _call(self, request, timeout: float, key: str | None) -> Verdict:
        w = self._checkout()
        try:
            result, healthy = self._exchange(w, request, timeout, key)
        except BaseException:
            self._idle.put(self._replace(w))  # state unknown (e.g. KeyboardInterrupt)
            raise
        self._idle.put(w if healthy else self._replace(w))
        if isinstance(result, IdaNsError):
            raise result
        return result

    def _exchange(self, w: _Worker, request, timeout: float,
                  key: str | None) -> tuple[Verdict | IdaNsError, bool]:
        """One request/reply: (verdict, or the caller's error to raise; worker reusable?)."""
        grace = self.grace_s if self.grace_s is not None else max(1.0, 0.5 * timeout)
        t0 = time.perf_counter()
        deadline = t0 + timeout + grace

        def failed(reason: str) -> tuple[Verdict, bool]:
            return Unknown(reason, self.solver, self.version, time.perf_counter() - t0), False

        def crashed() -> tuple[Verdict, bool]:
            try:
                code = w.proc.wait(timeout=5.0)
            except subprocess.TimeoutExpired:
                code = None
            if code is not None and code < 0:
                try:
                    name = signal.Signals(-code).name
                except ValueError:
                    name = "signal"
                return failed(f"worker crashed (exit {code}, {name})")
            return failed(f"worker crashed (exit {code})")

        def send(payload) -> bool:
            """Send under the same hard limit as the reply: a stopped worker whose socket
            buffer is full would otherwise block the caller forever."""
            watchdog = threading.Timer(max(0.0, deadline - time.perf_counter()), w.proc.kill)
            watchdog.daemon = True
            watchdog.start()
            try:
                w.conn.send(payload)
                return True
            except (BrokenPipeError, OSError):
                return False
            finally:
                watchdog.cancel()

        send_theory = key is not None and key not in w.theories
        if not send(request(send_theory)):
            return crashed()
        while True:
            left = deadline - time.perf_counter()
            if left <= 0 or not w.conn.poll(left):
                return failed(f"timeout: killed after {time.perf_counter() - t0:.1f} s")
            try:
                reply = w.conn.recv()
            except (EOFError, OSError):
                return crashed()
            except Exception as e:  # unpicklable bytes
                return failed(f"garbage reply from worker ({type(e).__name__})")
            tag = reply[0] if isinstance(reply, tuple) and reply else None
            if tag == "need_theory" and key is not None and not send_theory:
                send_theory = True
                w.theories.discard(key)
                if not send(request(True)):
                    return crashed()
                continue
            if tag == "verdict" and len(reply) in (2, 3) and isinstance(reply[1], _VERDICTS):
                if key is not None:
                    w.theories.add(key)
                return reply[1], len(reply) == 2
            if tag == "error" and len(reply) == 4:
                if key is not None:
                    w.theories.add(key)
                return _rebuild_error(*reply[1:]), True
            return failed(f"garbage reply from worker: {reply!r:.80}")


def _rebuild_error(name: str, text: str, attrs: dict) -> IdaNsError:
    """The worker's IdaNsError, re-created in the parent with its message and fields."""
    import ida_ns.errors as errors

    cls = getattr(errors, name, None)
    if not (isinstance(cls, type) and issubclass(cls, IdaNsError)):
        cls = IdaNsError
    exc = cls.__new__(cls)
    Exception.__init__(exc, text)
    exc.__dict__.update(attrs)
    return exc
