"""``prove`` and ``check`` under one budget, enforced from outside.

The whole command body — parsing, sort checking, the consistency gate, random testing, search,
solver calls — runs in a child started by :func:`ida_ns.budget.run_limited`, with a hard wall
limit derived from the command's budget and an address-space cap (``--memory-mb``).  The
parent only prints.  Whatever the input does, the command ends with a verdict or a one-line
``unknown`` naming the phase that ran out; exit codes follow the CLI's convention
(:mod:`ida_ns.cli`): 0 proved, 1 refuted, 2 unknown (the prover's own, or a hard limit or the
memory cap that ended the work), 3 bad input (the message names file:line).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from .budget import DEFAULT_MEMORY_MB, STARTUP_GRACE_S, Outcome, phase, run_limited

EXIT_PROVED, EXIT_REFUTED, EXIT_UNKNOWN, EXIT_INPUT = 0, 1, 2, 3
EXIT_LIMIT = EXIT_UNKNOWN  # a limit that ended the work is an unknown verdict
_EXIT = {"proved": EXIT_PROVED, "refuted": EXIT_REFUTED, "unknown": EXIT_UNKNOWN}


def prove_hard_limit(budget_s: float) -> float:
    """Wall seconds after which ``prove --budget B`` is killed: B plus a quarter (at least a
    second and a half) for the prover's last solver call to come back, plus the start-up of
    the child and its solver workers (not counted in B, as before: on a loaded machine it
    would otherwise eat the budget)."""
    return budget_s + max(1.5, 0.25 * budget_s) + STARTUP_GRACE_S


def check_hard_limit(timeout_s: float) -> float:
    """Per file: the goal's solver call, the gate (at most 2 s of it) and start-up."""
    return timeout_s + min(2.0, max(0.5, 0.25 * timeout_s)) + STARTUP_GRACE_S


# --------------------------------------------------------------------------------------------
# prove


@dataclass(frozen=True)
class ProveOptions:
    budget_s: float = 5.0
    solver: str = "z3"
    leaf_timeout_s: float | None = None  # None: scaled with the budget (0.25 s at 5 s)
    strong: str = "cvc5-ind"
    strong_root: bool = True  # False: the --no-strong-root ablation
    workers: int = 2
    json: bool = False
    cert: str | None = None
    graph: str | None = None
    cache: str | None = None
    name: str | None = None  # the file's display name (e.g. "<stdin>")
    html: str | None = None  # write a self-contained HTML report of the proof here


def prove_job(file: str, opts: ProveOptions) -> dict:
    """The body of ``ida-ns prove`` (runs in the budgeted child): ``{"text", "status",
    "notes"}`` — what to print, the verdict, and notes on the files written."""
    import json
    from contextlib import ExitStack

    from .logic.parser import parse_file
    from .logic.sortcheck import sortcheck_problem
    from .prover.outputs import write_outputs
    from .prover.prover import ProverConfig, prove_problem
    from .prover.render import render_result
    from .prover.verify import Checker, VerdictCache

    t0 = time.perf_counter()
    phase("parse")
    problem = parse_file(file)
    name = opts.name or file
    phase("sortcheck")
    sortcheck_problem(problem)
    spent = time.perf_counter() - t0  # parsing and sort checking count against the budget
    cfg = ProverConfig.for_budget(max(0.1, opts.budget_s - spent), solver=opts.solver,
                                  strong_root=opts.strong_root, root_parallel=True)
    if opts.leaf_timeout_s is not None:
        cfg.leaf_timeout_s = opts.leaf_timeout_s
    phase("solver start-up")
    with ExitStack() as stack:
        pool, sp = _start_pools(stack, (opts.solver, opts.workers, cfg.leaf_timeout_s),
                                (opts.strong, 1, max(cfg.strong_s, cfg.strong_leaf_s))
                                if opts.strong != "none" else None)
        checker = Checker.from_pool(pool, leaf_timeout_s=cfg.leaf_timeout_s,
                                    cache=VerdictCache(opts.cache) if opts.cache else None)
        strong = (opts.strong, sp.prove_many) if sp is not None else None
        phase("prove")
        from .report.recorder import SearchRecorder

        with SearchRecorder(checker) as rec:  # what the search tried, for --html
            result = prove_problem(problem, checker, cfg, strong=strong,
                                   on_event=rec.wrap(None))
    phase("certificate and graph")
    notes = write_outputs(name, problem, result, opts.solver, cert=opts.cert, graph=opts.graph)
    if opts.html:
        from .report.html import write_proof_report
        from .report.tree import result_tree

        phase("html report")
        write_proof_report(opts.html, name, result_tree(result, rec), problem)
        notes.append(f"HTML report written: {opts.html}")
    phase("render")
    if opts.json:
        from .prover.render import result_json

        text = json.dumps(result_json(name, result))
    else:
        text = render_result(name, result)
    return {"text": text, "status": result.status, "notes": notes}


def _start_pools(stack, *specs):
    """Start solver pools ``(solver, workers, timeout_s)`` side by side (each worker is a
    fresh interpreter importing its solver: awaiting them one pool after the other would
    spend the budget waiting), from this thread (workers die with the thread that spawned
    them); ``None`` specs give ``None``.  Returns when every worker is ready."""
    from ida_ns.solvers.pool import SolverPool

    pools = tuple(stack.enter_context(SolverPool(name, workers=n, timeout_s=t,
                                                 wait_ready=False))
                  if spec is not None else None
                  for spec in specs for name, n, t in [spec or (None, 0, 0)])
    for p in pools:
        if p is not None:
            p.wait_ready()
    return pools


def limit_line(file: str, out: Outcome, as_json: bool, **extra) -> str:
    """The one line a command prints when its budget ended the work."""
    import json

    if as_json:
        return json.dumps({"file": file, "status": "unknown", "reason": out.reason,
                           "phase": out.phase, "limit": out.kind,
                           "time_s": round(out.time_s, 4), **extra})
    return f"{file}: unknown ({out.reason})"


def run_prove(file: str, opts: ProveOptions, memory_mb: int | None = DEFAULT_MEMORY_MB
              ) -> tuple[str, int, Outcome, list]:
    """Run ``prove`` under its budget: (text to print, exit code, outcome, notes)."""
    out = run_limited("ida_ns.limited:prove_job", (file, opts),
                      wall_s=prove_hard_limit(opts.budget_s), memory_mb=memory_mb)
    if out.ok:
        v = out.value
        return v["text"], _EXIT.get(v["status"], EXIT_UNKNOWN), out, list(v["notes"])
    if out.kind == "error":  # bad input: the IdaNsError's message (file:line ...)
        return out.reason, EXIT_INPUT, out, []
    notes = [f"unknown: no certificate or graph written ({out.reason})"] \
        if (opts.cert or opts.graph) else []
    return limit_line(opts.name or file, out, opts.json), EXIT_LIMIT, out, notes


# --------------------------------------------------------------------------------------------
# check


def check_job(file: str, solver: str, timeout_s: float) -> dict:
    """The body of ``ida-ns check`` for one file (runs in the budgeted child): one row."""
    from ida_ns.solvers import get_backend

    from .check import check_file

    phase("solver start-up")
    backend = get_backend(solver)  # fresh, in this child: the answer depends on nothing else
    return check_file(file, _Phased(backend), solver, timeout_s).as_dict()


class _Phased:
    """A backend whose calls are reported as phases (gate, then the goal)."""

    def __init__(self, backend):
        self.backend = backend
        self.calls = 0

    def prove(self, query, timeout_s=None):
        from .logic.ast import FALSE

        self.calls += 1
        phase("gate (solver)" if query.goal == FALSE and self.calls == 1 else "solver")
        return self.backend.prove(query, timeout_s if timeout_s is not None else 5.0)


def run_check(file: str, solver: str, timeout_s: float,
              memory_mb: int | None = DEFAULT_MEMORY_MB) -> tuple[dict, Outcome]:
    """``check`` for one file under its hard limit: (row as a dict, outcome)."""
    out = run_limited("ida_ns.limited:check_job", (file, solver, timeout_s),
                      wall_s=check_hard_limit(timeout_s), memory_mb=memory_mb)
    if out.ok:
        row = dict(out.value)
    else:
        row = {"file": file, "status": "error" if out.kind == "error" else "unknown",
               "solver": solver, "time_s": round(out.time_s, 4), "reason": out.reason,
               "version": "", "phase": out.phase, "limit": out.kind}
    if out.peak_mb is not None:
        row["peak_mb"] = out.peak_mb
    return row, out
