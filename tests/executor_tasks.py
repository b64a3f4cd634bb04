"""Task functions for tests/test_ray_executor.py.  They live in their own module so that Ray
worker processes (fresh interpreters) can import them: the test puts this folder on their
PYTHONPATH."""

from __future__ import annotations

import os
import signal
from pathlib import Path

_INIT_CALLS: list = []


def setup(tag: str) -> None:
    _INIT_CALLS.append(tag)


def square(x: int) -> tuple[int, int, list]:
    """x*x, this worker's pid, and the init calls this process has seen so far."""
    return x * x, os.getpid(), list(_INIT_CALLS)


def divide(a: float, b: float) -> float:
    return a / b


def die_once(marker: str, x: int) -> int:
    """SIGKILL this worker process the first time (the marker file records it), then work."""
    m = Path(marker)
    if not m.exists():
        m.write_text(str(os.getpid()))
        os.kill(os.getpid(), signal.SIGKILL)
    return x + 1


def die_always(x: int) -> int:
    os.kill(os.getpid(), signal.SIGKILL)
    return x


def proc_descendants(root: int) -> list[int]:
    """Pids of the live processes below ``root`` (Linux /proc)."""
    parent: dict[int, int] = {}
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                stat = (d / "stat").read_text()
                parent[int(d.name)] = int(stat.rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
    out = []
    for pid in parent:
        p, seen = pid, 0
        while p in parent and p != root and seen < 64:
            p, seen = parent[p], seen + 1
        if p == root and pid != root:
            out.append(pid)
    return out


def busy_ray_workers(root: int) -> list[int]:
    """Ray worker processes below ``root`` that are running one of our tasks (Ray titles a
    busy worker ``ray::run_task``, an idle one ``ray::IDLE``)."""
    out = []
    for pid in proc_descendants(root):
        try:
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        if cmd.startswith(b"ray::run_task"):
            out.append(pid)
    return out
