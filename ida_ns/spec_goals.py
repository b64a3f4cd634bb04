"""The goals of a spec file, one by one, and proving them with the project's prover.

A spec file is SMT-LIB 2.6 or TIP: declarations and definitions, then any number of goals,
``(prove phi)`` or ``(assert-not phi)``.  :func:`load_goals` turns each goal into its own
:class:`~ida_ns.logic.ast.Problem` over the file's theory (the parser would conjoin them).
A goal is named by an SMT-LIB annotation, ``(prove (! phi :named rev_rev))``, else
``goal1``, ``goal2``, ... in file order.  A plain SMT-LIB file without ``prove`` whose goal is
its last ``(assert (not phi))`` gives one goal named ``goal``.

:class:`GoalProver` proves problems with :func:`ida_ns.prover.prover.prove_problem` (consistency
gate, counterexample testing, verified decomposition) on solver pools it starts on first use,
and :func:`counterexample_rows` shows a refutation's counterexample as Python values
(:mod:`ida_ns.convert`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from .errors import SpecError
from .logic.ast import Problem

__all__ = ["SpecGoal", "load_goals", "GoalProver", "CexRow", "counterexample_rows"]

GOAL_COMMANDS = ("prove", "assert-not")
_NAME_OK = re.compile(r"[A-Za-z0-9_.\-+]+\Z")


@dataclass(frozen=True)
class SpecGoal:
    file: str
    name: str
    line: int
    problem: Problem


def load_goals(path) -> list[SpecGoal]:
    """One :class:`SpecGoal` per goal of the file at ``path``; :class:`SpecError` (naming
    file:line:col) for anything that does not parse or sort-check, or a file with no goal."""
    from .logic.commands import CommandReader
    from .logic.parser import MAX_DEPTH
    from .logic.sexpr import SList, read_sexprs
    from .logic.sortcheck import sortcheck_problem

    p = Path(path)
    file = str(p)
    try:
        text = p.read_text(encoding="utf-8")
    except UnicodeDecodeError as e:
        raise SpecError(f"file is not UTF-8 text ({e.reason})", file) from None
    except OSError as e:
        raise SpecError(f"cannot read file: {e.strerror}", file) from None
    sxs = read_sexprs(text, file, max_depth=MAX_DEPTH)
    goals = [sx for sx in sxs if isinstance(sx, SList) and sx.head_symbol() in GOAL_COMMANDS]
    if not goals:
        if not any(isinstance(sx, SList) and sx.head_symbol() == "assert" for sx in sxs):
            raise SpecError("no goal in the file: add (prove formula) or "
                            "(assert (not formula))", file)
        problem = _read(CommandReader, file, sxs)
        sortcheck_problem(problem, file)
        return [SpecGoal(file, "goal", 1, problem)]
    out: list[SpecGoal] = []
    used: set[str] = set()
    for k, g in enumerate(goals, 1):
        name = _goal_name(g) or f"goal{k}"
        base, i = name, 2
        while name in used:
            name = f"{base}_{i}"
            i += 1
        used.add(name)
        problem = _read(CommandReader, file, [sx for sx in sxs if sx not in goals or sx is g])
        sortcheck_problem(problem, file)
        out.append(SpecGoal(file, name, g.line, problem))
    return out


def _read(reader_cls, file: str, sxs) -> Problem:
    try:
        return reader_cls(file).read(sxs)
    except RecursionError:
        raise SpecError("input nested too deeply to process", file) from None


def _goal_name(g) -> str | None:
    """The ``:named`` annotation of a goal command, if any (inside ``par`` too)."""
    from .logic.sexpr import Atom, SList

    if len(g) != 2:
        return None
    f = g[1]
    if isinstance(f, SList) and f.head_symbol() == "par" and len(f) == 3:
        f = f[2]
    if isinstance(f, SList) and f.head_symbol() == "!":
        items = f.items
        for a, b in zip(items[2:], items[3:]):
            if isinstance(a, Atom) and a.value == ":named" and isinstance(b, Atom) \
                    and isinstance(b.value, str) and _NAME_OK.match(b.value):
                return b.value
    return None


# --------------------------------------------------------------------------------------------
# Proving


class GoalProver:
    """Proves problems with :func:`~ida_ns.prover.prover.prove_problem`; the solver pools
    start on first use and stop at :meth:`close` (or when the process exits).

    ``budget_s``: wall time per goal; ``solver``: leaf solver; ``strong``: the closer tried
    once on the root goal ("cvc5-ind" or "none"); ``workers``: leaf solver processes."""

    def __init__(self, budget_s: float = 5.0, solver: str = "z3", strong: str = "cvc5-ind",
                 workers: int = 1, leaf_timeout_s: float = 0.25, seed: int = 0):
        from .theory_args import InvalidArgument

        if not isinstance(budget_s, (int, float)) or isinstance(budget_s, bool) \
                or not budget_s > 0:
            raise InvalidArgument(f"budget_s={budget_s!r} must be a positive number of seconds")
        from ida_ns.solvers import BACKENDS

        if solver not in BACKENDS:
            raise InvalidArgument(f"solver={solver!r} is not a solver; choose one of "
                                  f"{', '.join(BACKENDS)}")
        if strong not in ("cvc5-ind", "none"):
            raise InvalidArgument(f"strong={strong!r} must be 'cvc5-ind' or 'none'")
        if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
            raise InvalidArgument(f"workers={workers!r} must be an integer >= 1")
        self.budget_s = float(budget_s)
        self.solver = solver
        self.strong = strong
        self.workers = workers
        self.leaf_timeout_s = leaf_timeout_s
        self.seed = seed
        self._pool = None
        self._strong_pool = None

    def config(self):
        from .prover.prover import ProverConfig

        # the strong closer gets more time with a larger budget (a loaded machine needs it)
        return ProverConfig(budget_s=self.budget_s, solver=self.solver,
                            leaf_timeout_s=self.leaf_timeout_s, seed=self.seed,
                            strong_s=max(1.5, 0.3 * self.budget_s))

    def prove(self, problem: Problem):
        """A :class:`~ida_ns.prover.prover.ProveResult` for ``problem``."""
        from ida_ns.solvers.pool import SolverPool

        from .prover.prover import prove_problem
        from .prover.verify import Checker

        cfg = self.config()
        if self._pool is None:
            self._pool = SolverPool(self.solver, workers=self.workers,
                                    timeout_s=self.leaf_timeout_s)
        strong = None
        if self.strong != "none":
            if self._strong_pool is None:
                self._strong_pool = SolverPool(self.strong, workers=1, timeout_s=cfg.strong_s)
            strong = (self.strong, self._strong_pool.prove_many)
        checker = Checker.from_pool(self._pool, leaf_timeout_s=self.leaf_timeout_s,
                                    seed=self.seed)
        return prove_problem(problem, checker, cfg, strong=strong)

    def close(self) -> None:
        for p in (self._pool, self._strong_pool):
            if p is not None:
                p.close()
        self._pool = self._strong_pool = None

    def __enter__(self) -> "GoalProver":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


# --------------------------------------------------------------------------------------------
# Counterexamples as Python values


@dataclass(frozen=True)
class CexRow:
    name: str
    smt: str  # the SMT-LIB text of the value
    python: object = None  # its Python form (see ida_ns.convert), when it has one
    has_python: bool = False

    def render(self) -> str:
        if not self.has_python:
            return f"{self.name} = {self.smt}"
        py = repr(self.python)
        if py == self.smt:
            return f"{self.name} = {py}"
        return f"{self.name} = {py}    (SMT-LIB: {self.smt})"


def counterexample_rows(problem: Problem, counterexample) -> list[CexRow]:
    """The rows of a counterexample (``(name, SMT-LIB text)`` pairs, as in
    :class:`~ida_ns.verdict.Refuted`), each with its Python value when the text is a value of
    the goal variable's sort."""
    from .convert import Converter
    from .counterexample import split_goal
    from .errors import IdaNsError
    from .logic.evaluate import Evaluator
    from .logic.parser import parse_term

    vars_, _, _ = split_goal(problem.goal)
    by_name = {v.name: v for v in vars_}
    conv = Converter(problem.theory)
    ev = Evaluator(problem.theory, fuel=10_000)
    rows = []
    for name, text in counterexample:
        v = by_name.get(name)
        if v is None:
            rows.append(CexRow(name, text))
            continue
        try:
            term = parse_term(text, problem.theory, expected=v.sort, file="<counterexample>")
            py = conv.to_python(ev.eval(term), v.sort)
        except (IdaNsError, RecursionError):
            rows.append(CexRow(name, text))
            continue
        rows.append(CexRow(name, text, py, True))
    return rows


# --------------------------------------------------------------------------------------------
# One prover per process, shared by the pytest plugin's items and ``@proves`` tests

_SHARED: dict = {"prover": None, "options": {}, "results": {}, "files": {}}


def configure_shared(**options) -> None:
    """Options (those of :class:`GoalProver`) for :func:`shared_prover`; a prover already
    running with other options is closed."""
    GoalProver(**options)  # checks the options (starts nothing)
    if options != _SHARED["options"]:
        close_shared()
        _SHARED["options"] = dict(options)
        _SHARED["results"].clear()


def shared_prover() -> GoalProver:
    if _SHARED["prover"] is None:
        import atexit

        _SHARED["prover"] = GoalProver(**_SHARED["options"])
        atexit.register(close_shared)
    return _SHARED["prover"]


def close_shared() -> None:
    p = _SHARED["prover"]
    _SHARED["prover"] = None
    if p is not None:
        p.close()


def goals_of(path) -> dict[str, SpecGoal]:
    """:func:`load_goals` by name, cached per file and modification time."""
    p = Path(path).resolve()
    try:
        stamp = p.stat().st_mtime_ns
    except OSError:
        stamp = None
    hit = _SHARED["files"].get(p)
    if hit is not None and hit[0] == stamp:
        return hit[1]
    goals = {g.name: g for g in load_goals(p)}
    _SHARED["files"][p] = (stamp, goals)
    return goals


def prove_goal(goal: SpecGoal):
    """The shared prover's result for ``goal`` (each goal is proved once per process)."""
    key = (goal.file, goal.name, goal.line)
    hit = _SHARED["results"].get(key)
    if hit is None:
        hit = _SHARED["results"][key] = shared_prover().prove(goal.problem)
    return hit
