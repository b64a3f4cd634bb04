"""Proof certificates: a saved proof tree that ``ida-ns check-proof`` re-verifies on its own.

The certificate stores the *problem text* and, per node, only the *step text* and the children.
The checker trusts nothing else in it: it re-parses the problem, re-runs the consistency gate,
re-parses every step against its goal, re-derives the subgoals with the one sound rule
(:func:`ida_ns.prover.steps.apply_step`), checks the lemma dependency graph for cycles, and
re-runs every leaf with a solver (optionally a different one from the prover's, and with
``cross`` a second solver as well).  It shares no verdict cache with the search: every leaf is
a fresh solver call.

What was proved is stated, not assumed: the report names the goal it validated, and with
``problem`` (``check-proof CERT --problem FILE``) the certificate must be for exactly that
problem -- the hash of the *parsed* problem (theory and goal as ASTs, :func:`problem_hash`), so
comments, layout and file names do not matter, and another goal never passes.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import IdaNsError
from ..logic.ast import BOOL, Problem, Term
from ..verdict import Proved
from .goal import Goal
from .proof import ProofNode, lemma_ids
from .steps import Direct, StepError, apply_step, parse_step, step_text

FORMAT = "ida-ns-certificate/1"

# The second solver ``--cross`` uses by default for a leaf closed by each solver.
CROSS_DEFAULT = {"z3": "cvc5", "cvc5": "z3", "cvc5-ind": "z3"}


def problem_hash(problem: Problem) -> str:
    """sha256 of the parsed problem (theory and goal ASTs; not the file's bytes, not its
    name)."""
    from ida_ns.solvers.query import Query, query_hash

    return query_hash(Query.from_problem(problem))


class CertificateError(IdaNsError):
    """A certificate that cannot be read (not JSON, wrong format, missing fields)."""


def _node_json(node: ProofNode, lemma_ids: dict[Term, str]) -> dict:
    out = {"step": step_text(node.step), "source": node.source}
    if isinstance(node.step, Direct):
        out["solver"] = node.solver
        out["time_s"] = round(node.time_s, 4)
        out["uses"] = [lemma_ids[l] for l in node.step.lemmas]
    out["children"] = [_node_json(c, lemma_ids) for c in node.children]
    return out


def certificate_json(problem: Problem, proof: ProofNode, lemmas: dict[Term, ProofNode],
                     solver: str) -> dict:
    from ..logic.printer import print_problem, print_term

    # Lemmas in dependency order (a lemma after those its proof uses), named as everywhere.
    try:
        ids = lemma_ids(lemmas)
    except ValueError:
        raise CertificateError("circular lemma use in proof") from None
    order = sorted(ids, key=lambda l: int(ids[l][1:]))
    text = print_problem(problem, dialect="tip")
    return {
        "format": FORMAT,
        "source": problem.source,
        "goal": print_term(problem.goal),
        "problem": text,
        "problem_sha256": hashlib.sha256(text.encode()).hexdigest(),
        "problem_hash": problem_hash(problem),
        "solver": solver,
        "lemmas": [{"id": ids[l], "formula": print_term(l), "proof": _node_json(lemmas[l], ids)}
                   for l in order],
        "proof": _node_json(proof, ids),
    }


def save_certificate(path, problem: Problem, result, solver: str) -> None:
    from ..storage import atomic_write_json

    data = certificate_json(problem, result.proof, result.lemmas, solver)
    report = getattr(result, "consistency", None)
    if report is not None:  # the prover's consistency verdict, for the reader
        data["consistency"] = {"status": report.status, "reason": report.reason,
                               "termination": list(report.termination)}
        if getattr(report, "evidence", None) is not None:
            data["gate_evidence"] = report.evidence  # re-checked by check-proof
    atomic_write_json(path, data)


@dataclass
class CertificateReport:
    path: str
    ok: bool = False
    solver: str = ""
    leaves: int = 0
    steps: int = 0
    lemmas: int = 0
    failures: list = field(default_factory=list)  # (where, reason)
    time_s: float = 0.0
    goal: str = ""  # the goal validated (printed from the parsed problem), "" if unparsable
    source: str = ""  # the certificate's own account of where its problem came from
    problem_hash: str = ""  # problem_hash of the certificate's problem
    problem_file: str = ""  # the --problem file it was checked against, if any
    problem_match: bool = False  # that file's parsed problem is the certificate's
    cross: dict = field(default_factory=dict)  # second solver -> {status: leaves}
    theory: str = ""  # the consistency gate's verdict, as re-derived by the checker

    def as_dict(self) -> dict:
        return {"file": self.path, "ok": self.ok, "goal": self.goal, "source": self.source,
                "problem_hash": self.problem_hash, "problem_file": self.problem_file or None,
                "problem_match": self.problem_match if self.problem_file else None,
                "solver": self.solver, "leaves": self.leaves, "steps": self.steps,
                "lemmas": self.lemmas, "theory": self.theory, "cross": self.cross,
                "time_s": round(self.time_s, 3),
                "failures": [{"where": w, "reason": r} for w, r in self.failures]}

    def render(self) -> str:
        head = (f"{'VALID' if self.ok else 'INVALID'}: {self.path} — {self.steps} steps, "
                f"{self.leaves} leaves re-proved with {self.solver}, {self.lemmas} lemmas, "
                f"{self.time_s:.2f}s")
        lines = [head, f"  goal: {_clip(self.goal) if self.goal else '(problem unreadable)'}"]
        if self.theory:
            lines.append(f"  theory: {_clip(self.theory, 300)} (re-derived by the checker)")
        if self.problem_file and self.problem_match:
            lines.append(f"  problem: {self.problem_file} (the same parsed problem, hash "
                         f"{self.problem_hash[:16]}…)")
        for name, counts in self.cross.items():
            lines.append(f"  cross-checked with {name}: "
                         + ", ".join(f"{n} {k}" for k, n in sorted(counts.items())))
        return "\n".join(lines + [f"  {w}: {r}" for w, r in self.failures])


def _clip(text: str, n: int = 400) -> str:
    return text if len(text) <= n else text[:n] + f"… ({len(text)} chars)"


def _load(path) -> dict:
    try:
        data = json.loads(Path(path).read_text())
    except OSError as e:
        raise CertificateError(f"{path}: cannot read: {e.strerror or e}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise CertificateError(f"{path}: not a JSON certificate: {e}") from None
    except RecursionError:
        raise CertificateError(f"{path}: JSON nested too deeply") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise CertificateError(f"{path}: not an {FORMAT} certificate")
    for k, t in (("problem", str), ("proof", dict), ("lemmas", list)):
        if not isinstance(data.get(k), t):
            raise CertificateError(f"{path}: field {k!r} missing or not a {t.__name__}")
    return data


def check_certificate(path, solver: str | None = None, timeout_s: float = 5.0,
                      prove_many=None, provers: dict | None = None,
                      problem: Problem | None = None, cross: str | None = None
                      ) -> CertificateReport:
    """Re-verify a certificate.  ``prove_many(queries, timeout)`` is used for the main
    solver; ``provers`` maps further solver names to such callables; any other solver a
    leaf names gets a fresh pool.  With ``problem``, the certificate must be for exactly that
    (parsed) problem.  With ``cross`` (a solver name, or ``"auto"`` for
    :data:`CROSS_DEFAULT`), every leaf must also be proved by a second, different solver."""
    t0 = time.perf_counter()
    data = _load(path)
    default = data.get("solver") if isinstance(data.get("solver"), str) else "z3"
    rep = CertificateReport(str(path), solver=solver or default)
    if problem is not None:
        rep.problem_file = problem.source
    main_solver = rep.solver  # the solver ``prove_many`` runs (rep.solver is for display)
    pools: dict = {}

    def prove_with(name: str, exact: bool = False):
        """Leaves are re-run with ``solver`` if given, else with the solver that closed
        them (a certificate may mix z3 leaves and cvc5-with-induction leaves); ``exact``
        (the cross-check's second solver) ignores ``solver``."""
        name = name if exact else (solver or name)
        if prove_many is not None and name == main_solver:
            return prove_many
        if provers and name in provers:
            return provers[name]
        if name not in pools:
            from ida_ns.solvers import BACKENDS
            from ida_ns.solvers.pool import SolverPool

            if name not in BACKENDS:
                raise CertificateError(f"{path}: unknown solver {name!r}")
            pools[name] = SolverPool(name, workers=2, timeout_s=timeout_s).__enter__()
        return pools[name].prove_many

    try:
        _check(data, rep, prove_with, timeout_s, default, solver, problem, cross)
    finally:
        for p in pools.values():
            p.close()
    rep.ok = not rep.failures
    rep.time_s = time.perf_counter() - t0
    return rep


def _check(data: dict, rep: CertificateReport, prove_with, timeout_s: float,
           default_solver: str, solver_override: str | None = None,
           expected: Problem | None = None, cross: str | None = None) -> None:
    import networkx as nx

    from ..consistency import check_consistency
    from ..logic.parser import parse_term, parse_text
    from ..logic.printer import print_term
    from ..logic.sortcheck import sortcheck_problem

    if isinstance(data.get("source"), str):
        rep.source = data["source"][:500]
    try:
        problem = parse_text(data["problem"], file=f"{rep.path}#problem", require_goal=True)
        sortcheck_problem(problem)
    except IdaNsError as e:
        rep.failures.append(("problem", str(e)))
        return
    rep.goal = print_term(problem.goal)
    rep.problem_hash = problem_hash(problem)
    if not _bound_to(data, problem, rep, expected):
        return
    main = prove_with(default_solver)
    if isinstance(data.get("gate_evidence"), dict):  # the consistency evidence travels
        from ..gate import recheck_evidence

        for why in recheck_evidence(problem, data["gate_evidence"], main, timeout_s):
            rep.failures.append(("gate_evidence", why))
        if rep.failures:
            return
        rep.theory = "consistent: the certificate's gate evidence re-checked"
        gate = None
    else:
        gate = check_consistency(problem.theory, prove=lambda q, t: main([q], t)[0],
                                 timeout_s=timeout_s)
        rep.theory = f"{gate.status}: {gate.reason}"
    if gate is not None and not gate.ok:
        rep.failures.append(("theory", f"consistency {gate.status}: {gate.reason}"))
        return
    theory = problem.theory
    lemma_by_id: dict[str, Term] = {}
    deps = nx.DiGraph()
    leaves: list[tuple[str, Goal, tuple[Term, ...], str]] = []
    entries = []
    for i, entry in enumerate(data["lemmas"]):
        where = f"lemmas[{i}]"
        if not isinstance(entry, dict) or not isinstance(entry.get("id"), str) \
                or not isinstance(entry.get("formula"), str) or not isinstance(
                    entry.get("proof"), dict):
            rep.failures.append((where, "lemma entry needs id, formula, proof"))
            return
        try:
            f = parse_term(entry["formula"], theory, {}, expected=BOOL, file=where)
        except IdaNsError as e:
            rep.failures.append((where, str(e)))
            return
        if entry["id"] in lemma_by_id:
            rep.failures.append((where, f"duplicate lemma id {entry['id']!r}"))
            return
        lemma_by_id[entry["id"]] = f
        deps.add_node(entry["id"])
        entries.append((where, entry, f))
    rep.lemmas = len(entries)

    def walk(node: dict, goal: Goal, where: str, owner: str) -> None:
        stack = [(node, goal, where)]
        while stack:
            n, g, w = stack.pop()
            if not isinstance(n, dict) or not isinstance(n.get("step"), str):
                rep.failures.append((w, "node needs a 'step' string"))
                continue
            try:
                step = parse_step(n["step"], g)
            except StepError as e:
                rep.failures.append((w, str(e)))
                continue
            rep.steps += 1
            children = n.get("children", [])
            if not isinstance(children, list):
                rep.failures.append((w, "'children' must be a list"))
                continue
            if isinstance(step, Direct):
                uses = n.get("uses", [])
                if not isinstance(uses, list) or any(
                        not isinstance(u, str) or u not in lemma_by_id for u in uses):
                    rep.failures.append((w, f"unknown lemma in uses: {uses!r}"))
                    continue
                for u in uses:
                    deps.add_edge(owner, u)
                if children:
                    rep.failures.append((w, "a direct step has no subgoals"))
                    continue
                by = n.get("solver") if isinstance(n.get("solver"), str) and n.get(
                    "solver") else default_solver
                leaves.append((w, g, tuple(lemma_by_id[u] for u in uses), by))
                continue
            try:
                subgoals = apply_step(step, g)
            except StepError as e:
                rep.failures.append((w, str(e)))
                continue
            if len(subgoals) != len(children):
                rep.failures.append((w, f"step {n['step']!r} yields {len(subgoals)} subgoals, "
                                        f"certificate has {len(children)} children"))
                continue
            for i, (c, sg) in enumerate(zip(children, subgoals)):
                stack.append((c, sg, f"{w}/children/{i}"))

    deps.add_node("goal")
    for where, entry, f in entries:
        walk(entry["proof"], Goal(theory, f), f"{where}/proof", entry["id"])
    walk(data["proof"], Goal(theory, problem.goal), "proof", "goal")
    try:
        cycle = nx.find_cycle(deps)
        rep.failures.append(("lemmas", f"circular lemma use: {cycle}"))
    except nx.NetworkXNoCycle:
        pass
    rep.leaves = len(leaves)
    used = sorted({solver_override or b for *_, b in leaves}) if leaves else []
    if used:
        rep.solver = ",".join(used)
    for by in sorted({b for *_, b in leaves}):
        group = [x for x in leaves if x[3] == by]
        try:
            run = prove_with(by)
        except CertificateError as e:
            rep.failures.append((group[0][0], str(e)))
            continue
        verdicts = run([g.query(ls) for _, g, ls, _ in group], timeout_s)
        for (w, _, _, _), v in zip(group, verdicts):
            if not isinstance(v, Proved):
                rep.failures.append((w, f"leaf not re-proved by {by}: {v.status}"
                                        + (f" ({v.reason})" if hasattr(v, "reason") else "")))
    if cross:
        _cross_check(leaves, rep, prove_with, timeout_s, solver_override, cross)


def _bound_to(data: dict, problem: Problem, rep: CertificateReport,
              expected: Problem | None) -> bool:
    """The certificate's problem is the one it says (its own hashes) and, when ``expected`` is
    given, exactly that problem.  False (with a failure recorded) stops the check."""
    from ..logic.printer import print_term

    text = data["problem"]
    sha = data.get("problem_sha256")
    if sha is not None and sha != hashlib.sha256(text.encode("utf-8", "surrogatepass")
                                                 ).hexdigest():
        rep.failures.append(("problem_sha256", "does not match the certificate's problem text "
                                               "(the certificate was edited)"))
        return False
    claimed = data.get("problem_hash")
    if claimed is not None and claimed != rep.problem_hash:
        rep.failures.append(("problem_hash", "does not match the certificate's parsed problem "
                                             "(the certificate was edited)"))
        return False
    if expected is None:
        return True
    if problem_hash(expected) == rep.problem_hash:
        rep.problem_match = True
        return True
    if expected.goal != problem.goal:
        why = (f"the certificate proves {_clip(rep.goal, 200)}, but {expected.source} asks "
               f"{_clip(print_term(expected.goal), 200)}")
    else:
        why = f"same goal, but the theory differs from the one in {expected.source}"
    rep.failures.append(("problem", "certificate is not for this problem: " + why))
    return False


def _cross_check(leaves, rep: CertificateReport, prove_with, timeout_s: float,
                 solver_override: str | None, cross: str) -> None:
    """Every leaf again, with a second solver different from the one that re-proved it."""
    from collections import Counter

    plan: dict[str, list] = {}
    for w, g, ls, by in leaves:
        first = solver_override or by
        second = CROSS_DEFAULT.get(first, "z3") if cross == "auto" else cross
        if second == first:
            rep.failures.append((w, f"cross-check: the second solver must differ from the "
                                    f"first ({first})"))
            continue
        plan.setdefault(second, []).append((w, g, ls, first))
    for second, group in sorted(plan.items()):
        try:
            run = prove_with(second, exact=True)
        except CertificateError as e:
            rep.failures.append((group[0][0], str(e)))
            continue
        verdicts = run([g.query(ls) for _, g, ls, _ in group], timeout_s)
        counts = Counter()
        for (w, _, _, first), v in zip(group, verdicts):
            counts[v.status] += 1
            if isinstance(v, Proved):
                continue
            what = ("DISAGREES: it refutes the leaf" if v.status == "refuted"
                    else f"could not confirm it ({v.status}"
                    + (f": {v.reason}" if getattr(v, "reason", "") else "") + ")")
            rep.failures.append((w, f"cross-check: proved by {first}, but {second} {what}"))
        rep.cross[second] = dict(counts)
