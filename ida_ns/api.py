"""The public Python API of ida-ns: load a problem, prove it with a budget and a policy, read a
typed result, check a certificate.

    from ida_ns import load_problem, prove, check_certificate

    problem = load_problem("specs/examples/rev_rev.smt2")        # a path, or SMT-LIB/TIP text
    result = prove(problem, budget_s=10)                          # overseer H decomposes
    if result.proved:
        print(result.render())                                    # the proof tree
        result.save_certificate("rev_rev.cert.json")
        print(check_certificate("rev_rev.cert.json", problem=problem).ok)
    elif result.refuted:
        print(result.counterexample)                              # (("xs", "(cons 0 nil)"),)
    else:
        print(result.reason, result.open_goals)                   # what is left to prove

A *policy* proposes decomposition steps for a goal (see :class:`Policy`): the overseer H is
the default; a user policy is a class with a ``name`` and a ``propose(goal, depth)`` method
returning :class:`Proposal` values.  Whatever a policy proposes passes the verify gate before
it is used, so a wrong policy costs time, never soundness.

Nothing heavy is imported here: solvers start when :func:`prove` runs, torch only with a
neural proxy.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import IdaNsError
from .verdict import Proved, Refuted, Unknown, Verdict

if TYPE_CHECKING:  # pragma: no cover - names for type checkers only
    from .logic.ast import Problem
    from .prover.goal import Goal
    from .prover.search import Policy

__all__ = ["ProofResult", "load_problem", "prove", "check_certificate", "step_proposal"]


def load_problem(source: str | Path, *, name: str | None = None) -> "Problem":
    """Parse and sort-check a problem.

    ``source`` is a :class:`~pathlib.Path`, a path string, ``"-"`` for standard input, or the
    SMT-LIB/TIP text itself (a string whose first non-blank character is ``(`` or ``;``).
    Errors are :class:`~ida_ns.errors.SpecError` values naming file:line:col and the token.
    """
    import sys

    from .logic.parser import parse_file, parse_text
    from .logic.sortcheck import sortcheck_problem

    if isinstance(source, Path):
        problem = parse_file(source)
    elif not isinstance(source, str):
        raise TypeError(f"load_problem(source={source!r}): expected a path or SMT-LIB text, "
                        f"got {type(source).__name__}")
    elif source == "-":
        problem = parse_text(sys.stdin.read(), name or "<stdin>", require_goal=True)
    elif source.lstrip()[:1] in ("(", ";"):
        problem = parse_text(source, name or "<text>", require_goal=True)
    else:
        problem = parse_file(source)
    sortcheck_problem(problem)
    return problem


@dataclass(frozen=True)
class ProofResult:
    """What :func:`prove` found.  Exactly one of ``proved``/``refuted``/``unknown`` holds.

    - proved: ``proof`` is the verified tree, ``lemmas`` the lemmas it uses (each with its
      own proof); :meth:`certificate` / :meth:`save_certificate` give what ``check-proof``
      re-verifies;
    - refuted: ``counterexample`` binds the goal's variables to printed values;
    - unknown: ``reason`` says why, ``open_goals`` lists the goals left open in the most
      advanced partial proof (the root goal when nothing was decomposed).
    """

    problem: Any
    verdict: Verdict
    proof: Any = None
    lemmas: dict = field(default_factory=dict)
    counterexample: tuple = ()
    open_goals: tuple = ()
    time_s: float = 0.0
    raw: Any = None  # the prover's own result object (search statistics, consistency report)

    @property
    def status(self) -> str:
        return self.verdict.status

    @property
    def proved(self) -> bool:
        return isinstance(self.verdict, Proved)

    @property
    def refuted(self) -> bool:
        return isinstance(self.verdict, Refuted)

    @property
    def unknown(self) -> bool:
        return isinstance(self.verdict, Unknown)

    @property
    def reason(self) -> str:
        return self.verdict.reason if isinstance(self.verdict, Unknown) else ""

    def render(self, name: str | None = None) -> str:
        """The text ``ida-ns prove`` prints: verdict, proof tree or open goals, statistics."""
        from .prover.render import render_result

        return render_result(name or self.problem.source or "<problem>", self.raw)

    def certificate(self) -> dict:
        """The certificate of a proved result (a JSON-able dict)."""
        if not self.proved:
            raise IdaNsError(f"no certificate: the result is {self.status}, not proved")
        from .prover.certificate import certificate_json

        return certificate_json(self.problem, self.proof, self.lemmas, self.verdict.solver)

    def save_certificate(self, path: str | Path) -> None:
        """Write :meth:`certificate` atomically to ``path``."""
        from .storage import atomic_write_json

        atomic_write_json(path, self.certificate())

    def graph(self):
        """The proof graph (networkx DiGraph) of a proved result."""
        if self.proof is None:
            raise IdaNsError(f"no proof graph: the result is {self.status}")
        from .prover.proof import proof_graph

        return proof_graph(self.proof, self.lemmas)


def step_proposal(goal: "Goal", text: str, *, score: float = 0.0, source: str = "user"):
    """A :class:`Proposal` from step text such as ``"induct xs"`` or
    ``"lemma (forall ((x Nat)) (= (plus x Z) x))"``.  Text that does not parse becomes a
    proposal with ``step=None`` and the error, which the search counts and skips."""
    from .prover.search import Proposal
    from .prover.steps import parse_step

    try:
        return Proposal(parse_step(text, goal), text, score, source)
    except IdaNsError as e:
        return Proposal(None, text, score, source, str(e))


def prove(problem: "Problem | str | Path", *, budget_s: float = 5.0,
          policy: "Policy | None" = None, solver: str = "z3", strong_root: bool = True,
          leaf_timeout_s: float = 0.25, workers: int = 2, seed: int = 0) -> ProofResult:
    """Prove ``problem`` (a parsed :class:`Problem`, a path or text) within ``budget_s``
    wall seconds.

    ``policy`` proposes steps (default: the overseer H with theory exploration);
    ``solver`` closes leaves (``"z3"`` or ``"cvc5"``); ``strong_root`` first tries cvc5 with
    induction once on the whole goal, as a portfolio leaf (``False`` shows decomposition
    alone).  Every step passes the verify gate; every leaf is closed by a solver.
    """
    from contextlib import ExitStack

    from .prover.prover import ProverConfig, prove_problem
    from .prover.verify import Checker
    from ida_ns.solvers.pool import SolverPool

    if not isinstance(budget_s, (int, float)) or budget_s <= 0:
        raise ValueError(f"prove(budget_s={budget_s!r}): must be a positive number of seconds")
    if solver not in ("z3", "cvc5", "cvc5-ind"):
        raise ValueError(f"prove(solver={solver!r}): choose one of 'z3', 'cvc5', 'cvc5-ind'")
    if not isinstance(workers, int) or workers < 1:
        raise ValueError(f"prove(workers={workers!r}): must be an integer >= 1")
    if not isinstance(problem, (str, Path)) and not hasattr(problem, "theory"):
        raise TypeError(f"prove(problem=...): expected a Problem, a path or text, got "
                        f"{type(problem).__name__}")
    if isinstance(problem, (str, Path)):
        problem = load_problem(problem)
    if policy is not None and not (hasattr(policy, "propose") or callable(policy)):
        raise TypeError(f"prove(policy={policy!r}): a policy needs a propose(goal, depth) "
                        f"method (see ida_ns.Policy)")
    cfg = ProverConfig(budget_s=float(budget_s), solver=solver, leaf_timeout_s=leaf_timeout_s,
                       seed=seed)
    with ExitStack() as stack:
        pool = stack.enter_context(SolverPool(solver, workers=workers,
                                              timeout_s=leaf_timeout_s))
        checker = Checker.from_pool(pool, leaf_timeout_s=leaf_timeout_s)
        strong = None
        if strong_root:
            sp = stack.enter_context(SolverPool("cvc5-ind", workers=1, timeout_s=cfg.strong_s))
            strong = ("cvc5-ind", sp.prove_many)
        res = prove_problem(problem, checker, cfg, policy=policy, strong=strong)
    return ProofResult(problem, res.verdict, res.proof, dict(res.lemmas),
                       tuple(res.counterexample), tuple(getattr(res, "open_goals", ()) or ()),
                       res.time_s, res)


def check_certificate(certificate: str | Path | dict, *, problem: "Problem | str | Path | None"
                      = None, solver: str | None = None, timeout_s: float = 5.0, **options):
    """Re-verify a certificate (a path or a dict) independently: re-parse the problem,
    re-run the consistency gate, re-derive every step, re-run every leaf.  With ``problem``,
    a certificate for any other problem is refused.  Returns a report with ``.ok``,
    ``.render()`` and ``.as_dict()``."""
    import json
    import tempfile

    from .prover import certificate as cert_mod

    if isinstance(certificate, dict):
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
            json.dump(certificate, f)
            certificate = f.name
    kwargs: dict = dict(solver=solver, timeout_s=timeout_s, **options)
    if problem is not None:
        if isinstance(problem, (str, Path)):
            problem = load_problem(problem)
        kwargs["problem"] = problem
    return cert_mod.check_certificate(certificate, **kwargs)
