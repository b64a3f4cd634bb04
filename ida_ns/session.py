"""An interactive proof session, in the spirit of LeanDojo's ``Dojo``.

    with ProofSession.open("goal.smt2") as s:
        g = s.goals[0]                       # OpenGoal(id=0, goal=Goal(...))
        r = s.apply("induct xs")             # Progress(new goals) | Closed | Rejected
        r = s.apply(Lemma(formula), goal=3)  # typed steps work too
        s.undo()                             # take the last step back
        s.save_certificate("proof.json")     # once s.finished: `ida-ns check-proof` accepts it

Every step passes the same gate as the search's: the text is parsed by
:func:`ida_ns.prover.steps.parse_step` against the goal's scope, the subgoals come from the one
sound rule (:func:`ida_ns.prover.steps.apply_step`) inside :meth:`Checker.gate` (which also tests
lemmas and generalisations for counterexamples), and a ``direct`` leaf is closed only by a
solver.  By default each new subgoal is offered to the solver at once (``auto_close``); the
ones it closes become ``direct`` leaves.

The session does not trust its caller: a step for a goal that is not open, an unparsable step or
a step that does not apply gives a :class:`Rejected` value naming the goal and the offending
text, and leaves the session unchanged.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Union

from .errors import IdaNsError
from .logic.ast import Problem
from .prover.goal import Goal
from .prover.proof import ProofNode
from .prover.steps import Direct, Step, StepError, parse_step, step_text
from .prover.verify import Accepted, Checker
from .verdict import Proved

SOURCES = ("human", "H", "proxy", "hindsight", "external")


class SessionError(IdaNsError):
    """A session that cannot be opened (bad theory) or used (unfinished proof exported)."""


@dataclass(frozen=True)
class OpenGoal:
    id: int
    goal: Goal
    depth: int = 0

    def __repr__(self) -> str:
        from .logic.printer import print_term

        return f"OpenGoal(id={self.id}, depth={self.depth}, goal={print_term(self.goal.concl)!r})"

    def text(self) -> str:
        """The goal as a person reads it: fixed variables, hypotheses, then the conclusion."""
        return render_goal(self.goal)


@dataclass(frozen=True)
class Progress:
    """The step was accepted; ``new_goals`` are its subgoals still open (solved ones are
    closed by the solver already), ``closed`` how many the solver closed at once."""

    goal_id: int
    step: str
    new_goals: tuple[OpenGoal, ...]
    closed: int = 0


@dataclass(frozen=True)
class Closed:
    """A ``direct`` step: the solver closed the goal."""

    goal_id: int
    solver: str
    time_s: float


@dataclass(frozen=True)
class Rejected:
    """The step was not accepted; the session is unchanged.  ``counterexample`` is set when
    the gate refuted a lemma or generalisation (variable -> printed value)."""

    goal_id: int | None
    step: str
    reason: str
    counterexample: tuple[tuple[str, str], ...] = ()

    def render(self) -> str:
        where = f"goal {self.goal_id}" if self.goal_id is not None else "session"
        out = f"rejected at {where}: {self.step[:120]!r}: {self.reason}"
        if self.counterexample:
            out += "\n  counterexample: " + ", ".join(f"{k} = {v}"
                                                     for k, v in self.counterexample)
        return out


StepResult = Union[Progress, Closed, Rejected]


def render_goal(goal: Goal) -> str:
    from .logic.printer import print_term

    lines = []
    if goal.fixed:
        lines.append("  fix " + ", ".join(f"{v.name} : {v.sort}" for v in goal.fixed))
    for i, h in enumerate(goal.hyps):
        lines.append(f"  H{i}: {print_term(h)}")
    lines.append("  ⊢ " + print_term(goal.concl))
    return "\n".join(lines)


@dataclass
class _Node:
    goal: Goal
    parent: int | None
    depth: int
    step: Step | None = None
    source: str = ""
    children: tuple[int, ...] = ()
    solver: str = ""
    time_s: float = 0.0
    rejected: list = field(default_factory=list)  # (step text, source, reason, cex)


class ProofSession:
    """One goal (the problem's), proved step by step.  Use as a context manager (it owns a
    solver pool unless a :class:`Checker` is given)."""

    def __init__(self, problem: Problem, checker: Checker | None = None, *, solver: str = "z3",
                 leaf_timeout_s: float = 1.0, workers: int = 1, auto_close: bool = True,
                 check_theory: bool = True):
        self.problem = problem
        self.solver = checker.solver if checker is not None else solver
        self.leaf_timeout_s = leaf_timeout_s
        self.auto_close = auto_close
        self._pool = None
        if checker is None:
            from ida_ns.solvers.pool import SolverPool

            self._pool = SolverPool(solver, workers=workers, timeout_s=leaf_timeout_s)
            self._pool.__enter__()
            checker = Checker.from_pool(self._pool, leaf_timeout_s=leaf_timeout_s)
        self.checker = checker
        self._nodes: dict[int, _Node] = {0: _Node(Goal(problem.theory, problem.goal), None, 0)}
        self._history: list[int] = []  # goal ids in the order steps were applied
        self.log: list[dict] = []  # every attempt (accepted or rejected), for traces/reports
        if check_theory:
            try:
                self._check_theory()
            except BaseException:
                self.close()
                raise

    # ---- opening and closing ---------------------------------------------------------------
    @classmethod
    def open(cls, source: str | Path | Problem, **kw) -> "ProofSession":
        """A session on a problem: a :class:`Problem`, a file path, or SMT-LIB/TIP text."""
        from .logic.parser import parse_file, parse_text
        from .logic.sortcheck import sortcheck_problem

        if isinstance(source, Problem):
            problem = source
        elif isinstance(source, Path) or (isinstance(source, str) and "(" not in source):
            problem = parse_file(source)
        elif isinstance(source, str):
            problem = parse_text(source, file="<session>")
        else:
            raise SessionError(f"cannot open a session on a {type(source).__name__}")
        sortcheck_problem(problem)
        return cls(problem, **kw)

    def _check_theory(self) -> None:
        from .consistency import check_consistency

        rep = check_consistency(self.problem.theory,
                                prove=lambda q, t: self.checker.prove_many([q], t)[0],
                                timeout_s=self.leaf_timeout_s)
        if not rep.ok:
            raise SessionError(f"theory {rep.status}: {rep.reason} (nothing proved from it "
                               "would count)")

    def close(self) -> None:
        if self._pool is not None:
            self._pool.__exit__(None, None, None)
            self._pool = None

    def __enter__(self) -> "ProofSession":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ---- state -----------------------------------------------------------------------------
    @property
    def goals(self) -> tuple[OpenGoal, ...]:
        """Open goals, depth first from the root (the first is the one to work on)."""
        out = []
        stack = [0]
        while stack:
            i = stack.pop()
            n = self._nodes[i]
            if n.step is None:
                out.append(OpenGoal(i, n.goal, n.depth))
            stack.extend(reversed(n.children))
        return tuple(out)

    @property
    def finished(self) -> bool:
        return not self.goals

    def goal(self, goal_id: int) -> Goal:
        return self._nodes[goal_id].goal

    def path(self, goal_id: int) -> list[int]:
        """Goal ids from the root to ``goal_id``."""
        out = []
        i: int | None = goal_id
        while i is not None:
            out.append(i)
            i = self._nodes[i].parent
        return out[::-1]

    # ---- steps -----------------------------------------------------------------------------
    def apply(self, step: Step | str, goal: int | None = None, source: str = "human"
              ) -> StepResult:
        """Apply ``step`` (typed, or text in the step language) to open goal ``goal`` (the
        first open goal by default)."""
        text = step if isinstance(step, str) else _safe_text(step)
        open_ids = [g.id for g in self.goals]
        gid = open_ids[0] if goal is None and open_ids else goal
        if gid is None:
            return self._rejected(None, text, source, "no open goals: the proof is finished")
        if not isinstance(gid, int) or isinstance(gid, bool) or gid not in open_ids:
            return self._rejected(None, text, source,
                                  f"goal {gid!r} is not open (open goals: {open_ids})")
        node = self._nodes[gid]
        if isinstance(step, str):
            try:
                step = parse_step(step, node.goal)
            except StepError as e:
                return self._rejected(gid, text, source, str(e))
            except RecursionError:
                return self._rejected(gid, text[:200], source, "step text nested too deeply")
        if isinstance(step, Direct):
            return self._direct(gid, step, text, source)
        result = self.checker.gate(node.goal, step)
        if not isinstance(result, Accepted):
            return self._rejected(gid, text, source, result.reason, result.counterexample)
        ancestors = {self._nodes[i].goal.key() for i in self.path(gid)}
        if any(g.key() in ancestors for g in result.subgoals):
            return self._rejected(gid, text, source,
                                  "circular: a subgoal repeats an ancestor goal")
        ids = []
        for g in result.subgoals:
            i = len(self._nodes)
            while i in self._nodes:
                i += 1
            self._nodes[i] = _Node(g, gid, node.depth + 1)
            ids.append(i)
        node.step, node.source, node.children = step, source, tuple(ids)
        self._history.append(gid)
        closed = 0
        if self.auto_close and ids:
            verdicts = self.checker.close_leaves([(self._nodes[i].goal, ()) for i in ids])
            for i, v in zip(ids, verdicts):
                if isinstance(v, Proved):
                    c = self._nodes[i]
                    c.step, c.source, c.solver, c.time_s = Direct(), "H", self.solver, v.time_s
                    closed += 1
        self.log.append({"goal": gid, "step": text, "source": source, "accepted": True,
                         "subgoals": ids, "closed": closed})
        return Progress(gid, text, tuple(OpenGoal(i, self._nodes[i].goal, node.depth + 1)
                                         for i in ids if self._nodes[i].step is None), closed)

    def _direct(self, gid: int, step: Direct, text: str, source: str) -> StepResult:
        if step.lemmas:
            return self._rejected(gid, text, source, "direct: a session leaf uses no library "
                                  "lemmas (introduce them with a lemma step)")
        node = self._nodes[gid]
        t0 = time.perf_counter()
        v = self.checker.close_leaves([(node.goal, ())])[0]
        if not isinstance(v, Proved):
            why = getattr(v, "reason", "") or v.status
            return self._rejected(gid, text, source, f"direct: {self.solver} could not close "
                                  f"the goal ({v.status}{': ' + why if why != v.status else ''})")
        node.step, node.source, node.solver = Direct(), source, self.solver
        node.time_s = v.time_s or (time.perf_counter() - t0)
        self._history.append(gid)
        self.log.append({"goal": gid, "step": text, "source": source, "accepted": True,
                         "subgoals": [], "closed": 1})
        return Closed(gid, self.solver, node.time_s)

    def _rejected(self, gid, text, source, reason, cex=()) -> Rejected:
        r = Rejected(gid, text, reason, tuple(cex))
        if gid is not None:
            self._nodes[gid].rejected.append((text[:500], source, reason[:500], tuple(cex)))
        self.log.append({"goal": gid, "step": text[:500], "source": source, "accepted": False,
                         "reason": reason[:500], "counterexample": dict(cex)})
        return r

    def undo(self) -> int | None:
        """Take back the last accepted step; returns the goal id that is open again (None if
        nothing to undo)."""
        if not self._history:
            return None
        gid = self._history.pop()
        node = self._nodes[gid]
        stack = list(node.children)
        while stack:
            i = stack.pop()
            stack.extend(self._nodes[i].children)
            del self._nodes[i]
        node.step, node.source, node.children, node.solver, node.time_s = None, "", (), "", 0.0
        self.log.append({"goal": gid, "undo": True})
        return gid

    def counterexample(self, goal: int | None = None) -> tuple[tuple[str, str], ...] | None:
        """A validated counterexample to an open goal by random testing, or None."""
        gid = self.goals[0].id if goal is None and self.goals else goal
        if gid not in self._nodes:
            raise SessionError(f"no goal {gid!r}")
        return self.checker.counterexample(self._nodes[gid].goal)

    # ---- export ----------------------------------------------------------------------------
    def proof(self) -> ProofNode:
        """The finished proof tree (raises SessionError while goals are open)."""
        if not self.finished:
            raise SessionError(f"proof not finished: {len(self.goals)} open goal(s), first: "
                               f"goal {self.goals[0].id}")
        return self._proof_node(0)

    def _proof_node(self, i: int) -> ProofNode:
        # iterative post-order, so deep proofs do not hit the recursion limit
        built: dict[int, ProofNode] = {}
        stack = [(i, False)]
        while stack:
            j, ready = stack.pop()
            n = self._nodes[j]
            if not ready:
                stack.append((j, True))
                stack.extend((c, False) for c in n.children)
                continue
            built[j] = ProofNode(n.goal, n.step, tuple(built[c] for c in n.children),
                                 n.solver, n.time_s, n.source)
        return built[i]

    def certificate(self) -> dict:
        from .prover.certificate import certificate_json

        return certificate_json(self.problem, self.proof(), {}, self.solver)

    def save_certificate(self, path: str | Path) -> None:
        from .storage import atomic_write_json

        atomic_write_json(path, self.certificate())

    def tree(self) -> dict:
        """The session's tree (finished or not) in the report's JSON node format."""
        from .report.tree import session_tree

        return session_tree(self)


def _safe_text(step) -> str:
    try:
        return step_text(step)
    except TypeError:
        return repr(step)[:200]


__all__ = ["ProofSession", "OpenGoal", "Progress", "Closed", "Rejected", "StepResult",
           "SessionError", "render_goal"]
