"""The IDA loop's per-problem work as executor tasks (``ida-ns run --executor ray``).

Evaluation: each held-out goal is one task, :func:`evaluate_task`, that runs
:func:`ida_ns.ida.evaluate_problem` (the same function the in-process loop runs) in a worker
process with its own solver pool and its own verdict cache, on X_r loaded from its saved
generation folder.  The verdicts it reaches are collected and appended to the run's audit log
by the driver in held-out order, so the log does not depend on which task finished first.

A task whose worker is lost is retried by the executor; one that still fails (or raises) is
counted as not solved and recorded in the audit log as ``task_failed`` with the reason.
"""

from __future__ import annotations

import os
import sys

_STATE: dict = {}


def init_eval(solver: str, leaf_timeout_s: float) -> None:
    """Once per worker process: one long-lived solver worker with hard limits."""
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    from solvers.pool import SolverPool

    old = _STATE.pop("pool", None)
    if old is not None:
        old.close()
    pool = SolverPool(solver, workers=1, timeout_s=leaf_timeout_s)
    pool.__enter__()
    _STATE["pool"] = pool


def _proxy(path: str | None):
    if path is None:
        return None
    if _STATE.get("proxy_path") != path:
        import torch

        from .proxy.model import Proxy

        torch.set_num_threads(1)
        _STATE["proxy"], _STATE["proxy_path"] = Proxy.load(path), path
    return _STATE["proxy"]


def evaluate_task(sp, proxy_path: str | None, cfg_dict: dict) -> dict:
    """One held-out goal, in a worker: its KPI contributions plus the verdict events."""
    from .ida import eval_prover_config, evaluate_problem
    from .ida_config import RunConfig
    from .prover.verify import Checker, VerdictCache

    cfg = RunConfig(**cfg_dict)
    events: list = []
    checker = Checker.from_pool(_STATE["pool"], leaf_timeout_s=cfg.leaf_timeout_s,
                                cache=VerdictCache(), seed=cfg.seed,
                                on_event=lambda kind, data: events.append((kind, data)))
    proxy = None if cfg.no_proxy else _proxy(proxy_path)
    one = evaluate_problem(sp, proxy, checker, cfg, eval_prover_config(cfg))
    one["events"] = events
    return one


def evaluate_remote(executor, heldout, proxy, cfg, audit):
    """Per held-out goal (in order): its KPI contributions, computed as executor tasks."""
    if not cfg.no_proxy and (proxy is None or not proxy.path):
        raise ValueError("evaluation on an executor needs X_r saved in a folder (proxy.path)")
    path = str(proxy.path) if proxy is not None and proxy.path else None
    tasks = [(sp, path, cfg.as_dict()) for sp in heldout]
    results: dict[int, object] = {}
    for res in executor.map_unordered(evaluate_task, tasks, init=init_eval,
                                      init_args=(cfg.solver, cfg.leaf_timeout_s)):
        results[res.index] = res
    for i, sp in enumerate(heldout):
        res = results[i]
        if not res.ok:
            print(f"evaluate: {sp.id}: task failed after {res.attempts} attempt(s): "
                  f"{res.failure}; counted as not solved", file=sys.stderr, flush=True)
            audit.append("task_failed", {"phase": "evaluate", "problem": sp.id,
                                         "attempts": res.attempts, "reason": res.failure})
            yield {"proved": 0, "refuted": 0, "nodes": [], "expanded": 0, "overrides": 0,
                   "proposed": 0, "accepted": 0, "false": 0, "only": 0}
            continue
        one = dict(res.value)
        for kind, data in one.pop("events"):
            audit.append(kind, data)
        if res.attempts > 1:
            audit.append("task_retried", {"phase": "evaluate", "problem": sp.id,
                                          "attempts": res.attempts})
        yield one
