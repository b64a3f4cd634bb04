"""A solver worker whose parent hangs up mid-query exits quietly (no BrokenPipeError
traceback on the terminal at the end of ``bench``); the paired case checks the same worker
still answers when the parent stays."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from multiprocessing.connection import Connection

import pytest

from ida_ns.logic.ast import Constructor, Datatype, Sort, Theory, Var, eq, forall

NAT = Sort("Nat")
THEORY = Theory(datatypes=((Datatype("Nat", (Constructor("Z"), Constructor(
    "S", (("p", NAT),)))),),))


def _worker():
    parent, child = socket.socketpair()
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
    proc = subprocess.Popen(
        [sys.executable, "-c", "from ida_ns.solvers.pool import _worker_entry; _worker_entry()",
         str(child.fileno()), "z3", "-"], pass_fds=(child.fileno(),),
        stdin=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    child.close()
    conn = Connection(parent.detach())
    assert conn.poll(120) and conn.recv()[0] == "ready"
    return proc, conn


def _request():
    x = Var("x", NAT)
    goal = forall((x,), eq(x, x))
    return ("prove", "k", THEORY, goal, (), (), 2.0)


@pytest.mark.parametrize("hang_up", [True, False], ids=["parent-hangs-up", "parent-stays"])
def test_worker_exits_quietly_when_the_parent_hangs_up(hang_up):
    proc, conn = _worker()
    conn.send(_request())
    if hang_up:
        conn.close()  # the worker's reply now hits a closed socket
    else:
        assert conn.poll(60)
        tag, verdict = conn.recv()[:2]
        assert tag == "verdict" and verdict.status == "proved"
        conn.send(("stop",))
        conn.close()
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 0
    assert b"Traceback" not in err and b"BrokenPipe" not in err, err.decode(errors="replace")
