"""One budget, enforced from outside: run a piece of work in a killable child process under a
hard wall limit and a memory cap, and turn whatever happens into a typed outcome.

The work runs in a fresh Python interpreter (its own process group, so solver workers it
starts die with it) whose address space is capped with ``RLIMIT_AS`` (inherited by every
process it starts); the parent also adds up the resident memory of the whole group every
``SAMPLE_S`` seconds and kills the group when the total passes the cap.  While it runs it
reports the phase it is in (:func:`phase`); the parent waits for the result at most
``wall_s`` seconds and then kills the whole group.  So a problem that blows up in any phase —
parsing, sort checking, the gate, random testing, search, a solver call — ends as an
:class:`Outcome` naming the phase and what happened (time limit, memory cap, crash), never as
a hang, an OOM kill of the caller, or a traceback::

    out = run_limited("ida_ns.budget:_selftest", ("sleep", 10), wall_s=1.0)
    out.ok, out.reason   # False, "hard time limit in phase 'selftest': killed after 1.0 s"

Inside the child :func:`phase` sends a short message to the parent; outside any budget it only
records the name (so library code may call it unconditionally).  The child lifts Python's
int/str digit limit (safe there: the memory cap and the wall limit bound every conversion).
"""

from __future__ import annotations

import importlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any

from .errors import IdaNsError

DEFAULT_MEMORY_MB = 4096  # address space of a budgeted child (z3 + cvc5 loaded: ~1 GiB of it)
STARTUP_GRACE_S = 2.0  # a fresh interpreter importing the solvers, on a loaded machine
SAMPLE_S = 0.2  # how often the parent adds up the resident memory of the work's processes


class BudgetExceeded(IdaNsError):
    """A budgeted piece of work ran past its hard limits; the message names the phase."""


@dataclass(frozen=True)
class Outcome:
    """What became of a budgeted call.

    ``ok``: the target returned ``value``.  Otherwise ``kind`` says why not — ``"timeout"``
    (killed at the hard wall limit), ``"memory"`` (the memory cap), ``"crash"`` (the child
    died), ``"error"`` (the target raised an :class:`IdaNsError`: ``reason`` is its message) —
    and ``reason`` is a one-line explanation naming ``phase``.  ``time_s``: wall time actually
    spent; ``peak_mb``: the child's peak resident memory (its own, plus the solver workers
    it waited for) when known."""

    ok: bool
    value: Any = None
    kind: str = "ok"
    reason: str = ""
    phase: str = ""
    time_s: float = 0.0
    peak_mb: float | None = None
    phases: tuple[tuple[str, float], ...] = field(default=(), compare=False)


# --------------------------------------------------------------------------------------------
# Child side

_CONN: Connection | None = None
_CURRENT = ["main"]
_T0 = [time.perf_counter()]


def phase(name: str) -> None:
    """Enter phase ``name`` of the current budgeted work (a no-op outside a budget)."""
    _CURRENT[0] = name
    conn = _CONN
    if conn is not None:
        try:
            conn.send(("phase", name, time.perf_counter() - _T0[0]))
        except (OSError, ValueError):
            pass


def current_phase() -> str:
    return _CURRENT[0]


def _peak_mb() -> float:
    import resource

    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(own, kids) / 1024.0  # Linux: KiB


def _child_entry() -> None:
    """``python -c 'from ida_ns.budget import _child_entry; _child_entry()' FD MEM``."""
    global _CONN
    fd, mem = int(sys.argv[1]), sys.argv[2]
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # die with the parent
    except Exception:
        pass
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides
    if mem != "-":
        import resource

        limit = int(mem) * 2**20
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    if hasattr(sys, "set_int_max_str_digits"):
        sys.set_int_max_str_digits(0)  # bounded here by the memory cap and the wall limit
    conn = Connection(fd)
    _CONN = conn
    _T0[0] = time.perf_counter()
    try:
        target, args, kwargs = conn.recv()
    except (EOFError, OSError):
        return
    try:
        mod, fn = target.split(":")
        result = getattr(importlib.import_module(mod), fn)(*args, **kwargs)
        reply = ("result", result, _peak_mb())
    except MemoryError:
        reply = ("memory", current_phase(), _peak_mb())
    except IdaNsError as e:
        reply = ("error", current_phase(), str(e), type(e).__name__, _peak_mb())
    except RecursionError:
        reply = ("crash", current_phase(), "recursion too deep", _peak_mb())
    except BaseException as e:  # a bug in the work: reported in one line, never a traceback
        import traceback

        tb = traceback.extract_tb(e.__traceback__)
        where = f" at {os.path.basename(tb[-1].filename)}:{tb[-1].lineno}" if tb else ""
        reply = ("crash", current_phase(), f"internal error {type(e).__name__}: {e}{where}",
                 _peak_mb())
    try:
        conn.send(reply)
    except MemoryError:
        conn.send(("memory", current_phase(), None))
    except Exception as e:  # unpicklable result
        conn.send(("crash", current_phase(), f"result not transferable: {e}", None))
    conn.close()


# --------------------------------------------------------------------------------------------
# Parent side

_LIVE: set[int] = set()  # process groups of budgeted work in progress
_LIVE_LOCK = threading.Lock()


def kill_all() -> int:
    """Kill every budgeted child (and its group) of this process; how many there were.  For
    an interrupted caller (Ctrl-C in a bench), so nothing keeps running behind it."""
    with _LIVE_LOCK:
        groups = list(_LIVE)
    for g in groups:
        try:
            os.killpg(g, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    return len(groups)


def run_limited(target: str, args: tuple = (), kwargs: dict | None = None, *,
                wall_s: float, memory_mb: int | None = DEFAULT_MEMORY_MB,
                on_phase=None) -> Outcome:
    """Call ``module:function(*args, **kwargs)`` in a fresh child process; kill it (and every
    process it started) after ``wall_s`` seconds; cap its address space at ``memory_mb``
    MiB.  Arguments and result cross a pipe (picklable).  Never raises for what the work
    does; raises only if no child can be started."""
    t0 = time.perf_counter()
    parent, child = socket.socketpair()
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
    env.setdefault("OMP_NUM_THREADS", "1")
    mem = str(int(memory_mb)) if memory_mb else "-"
    proc = subprocess.Popen(
        [sys.executable, "-c", "from ida_ns.budget import _child_entry; _child_entry()",
         str(child.fileno()), mem],
        pass_fds=(child.fileno(),), stdin=subprocess.DEVNULL, env=env,
        start_new_session=True)
    child.close()
    with _LIVE_LOCK:
        _LIVE.add(proc.pid)
    conn = Connection(parent.detach())
    deadline = t0 + wall_s
    next_sample = t0
    group_peak = 0.0
    over_cap = False
    cur = "startup"
    phases: list[tuple[str, float]] = []
    reply = None
    killed = False

    def kill_group() -> None:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass

    try:
        watchdog = threading.Timer(max(0.0, wall_s), kill_group)  # covers a blocked send
        watchdog.daemon = True
        watchdog.start()
        try:
            conn.send((target, tuple(args), dict(kwargs or {})))
        except (BrokenPipeError, OSError):
            pass
        finally:
            watchdog.cancel()
        while True:
            now = time.perf_counter()
            left = deadline - now
            if left <= 0:
                killed = True
                break
            if now >= next_sample:  # the whole group's resident memory, as a watchdog
                next_sample = now + SAMPLE_S
                rss = _group_rss_mb(proc.pid)
                group_peak = max(group_peak, rss)
                if memory_mb and rss > memory_mb:
                    over_cap = killed = True
                    break
            try:
                if not conn.poll(min(left, max(0.0, next_sample - time.perf_counter()))):
                    continue
                msg = conn.recv()
            except (EOFError, OSError):
                break
            except Exception:  # garbage on the pipe
                break
            if isinstance(msg, tuple) and msg and msg[0] == "phase":
                cur = str(msg[1])
                phases.append((cur, float(msg[2])))
                if on_phase is not None:
                    on_phase(cur)
                continue
            reply = msg
            break
    except BaseException:
        kill_group()
        _reap(proc)
        conn.close()
        with _LIVE_LOCK:
            _LIVE.discard(proc.pid)
        raise
    if killed:
        kill_group()
    else:
        # the work is done: solver workers it left behind go with its group
        try:
            proc.wait(timeout=5.0)
        except subprocess.TimeoutExpired:
            pass
        kill_group()
    rusage_mb = _reap(proc)
    with _LIVE_LOCK:
        _LIVE.discard(proc.pid)
    conn.close()
    spent = time.perf_counter() - t0
    ph = tuple(phases)
    if group_peak:
        rusage_mb = max(rusage_mb or 0.0, round(group_peak, 1))
    if over_cap:
        return Outcome(False, None, "memory",
                       f"memory cap ({memory_mb} MiB, all processes of the work together) "
                       f"reached in phase '{cur}': killed after {spent:.1f} s", cur, spent,
                       rusage_mb, ph)
    if killed:
        return Outcome(False, None, "timeout",
                       f"hard time limit in phase '{cur}': killed after {spent:.1f} s "
                       f"(limit {wall_s:g} s)", cur, spent, rusage_mb, ph)
    if isinstance(reply, tuple) and reply:
        tag = reply[0]
        if tag == "result" and len(reply) == 3:
            return Outcome(True, reply[1], "ok", "", cur, spent, _mb(reply[2], rusage_mb), ph)
        if tag == "memory":
            return Outcome(False, None, "memory",
                           f"memory cap ({memory_mb} MiB) reached in phase '{reply[1]}'",
                           reply[1], spent, _mb(reply[2], rusage_mb), ph)
        if tag == "error":
            return Outcome(False, None, "error", reply[2], reply[1], spent,
                           _mb(reply[4], rusage_mb), ph)
        if tag == "crash":
            return Outcome(False, None, "crash", f"{reply[2]} (phase '{reply[1]}')", reply[1],
                           spent, _mb(reply[3], rusage_mb), ph)
    code = proc.returncode
    if code is not None and code < 0:
        try:
            sig = signal.Signals(-code).name
        except ValueError:
            sig = f"signal {-code}"
        near_cap = bool(memory_mb and rusage_mb and rusage_mb > 0.8 * memory_mb)
        hint = f", at the memory cap ({memory_mb} MiB)" if near_cap else ""
        if not near_cap and sig in ("SIGABRT", "SIGSEGV", "SIGBUS") and memory_mb:
            hint = f" (a native allocation refused by the memory cap of {memory_mb} MiB " \
                   f"ends this way too)"
        return Outcome(False, None, "memory" if near_cap else "crash",
                       f"killed by {sig} in phase '{cur}'{hint}", cur, spent, rusage_mb, ph)
    return Outcome(False, None, "crash", f"worker exited (code {code}) in phase '{cur}' "
                   f"without a result", cur, spent, rusage_mb, ph)


_PAGE_MB = os.sysconf("SC_PAGE_SIZE") / 2**20 if hasattr(os, "sysconf") else 4096 / 2**20


def _group_rss_mb(pgid: int) -> float:
    """Resident memory (MiB) of every process in group ``pgid`` (Linux /proc; 0 elsewhere)."""
    total = 0
    try:
        names = os.listdir("/proc")
    except OSError:
        return 0.0
    for name in names:
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as f:
                data = f.read()
        except OSError:
            continue
        fields = data[data.rfind(b")") + 2:].split()
        # fields[0] is the state (field 3); pgrp is field 5, rss (pages) field 24
        try:
            if int(fields[2]) == pgid:
                total += int(fields[21])
        except (IndexError, ValueError):
            continue
    return total * _PAGE_MB


def _mb(reported, rusage_mb):
    vals = [v for v in (reported, rusage_mb) if v is not None]
    return round(max(vals), 1) if vals else None


def _reap(proc: subprocess.Popen) -> float | None:
    """Wait for ``proc`` (never leaves a zombie); its peak RSS in MiB when known."""
    if proc.returncode is not None:
        return None
    try:
        _, status, ru = os.wait4(proc.pid, 0)
    except ChildProcessError:
        proc.wait()
        return None
    proc.returncode = (-os.WTERMSIG(status) if os.WIFSIGNALED(status)
                       else os.WEXITSTATUS(status))
    return ru.ru_maxrss / 1024.0


def _selftest(action: str, arg=None):
    """Test target: misbehave in a real child (see tests/test_budget.py)."""
    phase("selftest")
    if action == "sleep":
        time.sleep(float(arg))
        return "slept"
    if action == "alloc":  # grow until the memory cap stops it
        hoard = []
        while True:
            hoard.append(bytearray(64 * 2**20))
    if action == "raise":
        raise BudgetExceeded(str(arg))
    if action == "bug":
        raise KeyError(arg)
    if action == "segv":
        os.kill(os.getpid(), signal.SIGSEGV)
        time.sleep(60)
    if action == "spawn_sleeper":  # a grandchild must die with the group
        p = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
        phase("waiting")
        with open(arg, "w") as f:
            f.write(str(p.pid))
        time.sleep(600)
    if action == "alloc_pair":  # two processes, each under the cap, together over it
        mb = int(arg)
        code = f"b = bytearray({mb} * 2**20); import time; time.sleep(600)"
        subprocess.Popen([sys.executable, "-c", code])
        hoard = bytearray(mb * 2**20)
        phase("holding")
        time.sleep(600)
        return len(hoard)
    if action == "bigint":
        return 7 ** int(arg)
    return action

