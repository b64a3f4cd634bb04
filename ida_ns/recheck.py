"""Verified-only by construction: the one type distillation accepts, and how it is made.

:class:`VerifiedPairs` can only be built here, by an *independent re-check* of a whole proof:

* a proof of a problem (and every proved explored lemma, itself a closed formula over the
  theory) is written as a certificate and re-verified by
  :func:`ida_ns.prover.certificate.check_certificate` (the trusted checker: re-parses the
  problem, re-runs the consistency gate, re-parses every step, re-derives every subgoal with the
  one sound rule, re-runs every leaf) — with the *other* solver first (cvc5 for a z3 run);
  leaves the other solver cannot close (it is weaker on some quantified goals) are re-run with
  the original solver, and the record says which;
* a subgoal closed inside a search (hindsight: failed searches too) is re-checked the same way
  at goal level by :func:`recheck_goal_proof` — step text re-parsed against the goal, subgoals
  re-derived and compared by key, leaves re-run (other solver first), lemmas used by a leaf
  must themselves be verified.

Nothing is trusted from the search that produced the proof: not its flags, not its verdict
cache, not its leaf verdicts.  The ``--no-verify`` ablation does not come through here: it
uses :func:`unverified_pairs`, a separately named unsafe path whose output is a different
type (:class:`UnverifiedPairs`) that the verified trainer refuses.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path

from .errors import IdaNsError

_SEAL = object()
ORIGINS = ("proxy", "H", "hindsight")


def pairs_sha256(pairs) -> str:
    h = hashlib.sha256()
    for p in pairs:
        h.update(json.dumps(list(p), ensure_ascii=False).encode("utf-8", "surrogatepass"))
        h.update(b"\n")
    return h.hexdigest()


def _origin(source: str) -> str:
    return "proxy" if source == "proxy" else "H"


@dataclass(frozen=True)
class VerifiedPairs:
    """Training pairs ``(goal, context, step, origin)`` of one independently re-checked proof.

    ``checked_by``: how (``"certificate:cvc5"``, ``"certificate:cvc5+z3"``, ``"goal:z3"``...);
    ``cost``: nodes of the proof (expert iteration keeps the cheapest per goal)."""

    problem: str
    kind: str  # "proof" (of the problem) | "hindsight" (a subgoal or explored lemma)
    pairs: tuple[tuple[str, str, str, str], ...]
    checked_by: str
    cost: int
    sha256: str
    _seal: object = None

    def __post_init__(self):
        if self._seal is not _SEAL:
            raise TypeError("VerifiedPairs are made only by ida_ns.recheck (an independent "
                            "re-check of the proof); use unverified_pairs for the ablation")
        if self.sha256 != pairs_sha256(self.pairs):
            raise ValueError("VerifiedPairs: pairs do not match their hash")

    def record(self) -> dict:
        return {"problem": self.problem, "kind": self.kind, "pairs": [list(p) for p in self.pairs],
                "checked_by": self.checked_by, "cost": self.cost, "sha256": self.sha256}

    @classmethod
    def from_record(cls, rec: dict, attested: set[str]) -> "VerifiedPairs":
        """Reload a saved record (``--resume``, later rounds): only if its hash was chained
        into the audit log by a ``verified`` record of this run (``attested``)."""
        pairs = tuple(tuple(p) for p in rec["pairs"])
        sha = pairs_sha256(pairs)
        if sha != rec.get("sha256") or sha not in attested:
            raise IdaNsError(f"trace of {rec.get('problem')!r}: its pairs are not attested as "
                             "verified in the audit log; refusing to train on them")
        return cls(rec["problem"], rec["kind"], pairs, rec["checked_by"], int(rec["cost"]),
                   sha, _SEAL)


@dataclass(frozen=True)
class UnverifiedPairs:
    """The ``--no-verify`` ablation's pairs: never accepted by the verified trainer."""

    problem: str
    kind: str
    pairs: tuple[tuple[str, str, str, str], ...]
    cost: int
    sha256: str

    def record(self) -> dict:
        return {"problem": self.problem, "kind": self.kind, "pairs": [list(p) for p in self.pairs],
                "checked_by": "UNVERIFIED", "cost": self.cost, "sha256": self.sha256}


# ---------------------------------------------------------------------------- pairs
def tree_pairs(proof, lemmas: dict | None = None, origin: str | None = None) -> list[tuple]:
    """(goal, context, step, origin) for every node of a proof tree and its lemma proofs, in
    the goal's canonical variable names (as the proxy reads and writes them); a
    ``Direct`` leaf that used lemmas is the explicit ``lemma L`` step (see ida_ns.traces)."""
    from .policies import canonical_step, goal_prompt
    from .prover.steps import Direct, Lemma, step_text

    out, seen = [], set()
    for tree in [proof, *(lemmas or {}).values()]:
        for node in tree.nodes():
            g, c = goal_prompt(node.goal)
            if isinstance(node.step, Direct) and node.step.lemmas:
                steps = [step_text(Lemma(l)) for l in node.step.lemmas]
            else:
                steps = [step_text(node.step)]
            for s in steps:
                s = canonical_step(node.goal, s)  # the proxy's names (ida_ns.proxy.canon)
                if (g, c, s) not in seen:
                    seen.add((g, c, s))
                    out.append((g, c, s, origin or _origin(node.source)))
    return out


def unverified_pairs(problem_id: str, result) -> UnverifiedPairs:
    """UNSAFE (``--no-verify`` only): pairs of a proof nobody re-checked."""
    pairs = tuple(tree_pairs(result.proof, result.lemmas))
    size = result.proof.size() + sum(p.size() for p in result.lemmas.values())
    return UnverifiedPairs(problem_id, "proof", pairs, size, pairs_sha256(pairs))


# ---------------------------------------------------------------------------- re-checks
class Rechecker:
    """Re-checks proofs with ``provers`` (solver name -> ``prove_many``), the *other* solver
    of ``solver`` first.  Certificates go to ``cert_dir``."""

    def __init__(self, provers: dict, solver: str, cert_dir: Path, timeout_s: float = 1.0):
        self.provers = provers
        self.solver = solver
        others = [s for s in provers if s != solver]
        self.other = others[0] if others else solver
        self.cert_dir = Path(cert_dir)
        self.timeout_s = timeout_s
        self.stats = {"checked": 0, "rejected": 0, "other_solver": 0, "fallback": 0}

    # -- whole problems (the certificate checker) --------------------------------------
    def check_problem(self, problem, proof, lemmas, name: str):
        """``(ok, checked_by, failures)`` for a proof of ``problem``."""
        from .prover.certificate import check_certificate, save_certificate
        from .prover.prover import ProveResult
        from .verdict import Proved

        self.cert_dir.mkdir(parents=True, exist_ok=True)
        path = self.cert_dir / (re.sub(r"[^A-Za-z0-9_.-]+", "_", name)[:120] + ".json")
        save_certificate(path, problem, ProveResult(Proved(solver=self.solver), proof=proof,
                                                    lemmas=dict(lemmas)), self.solver)
        provers = dict(self.provers)
        rep = check_certificate(path, solver=self.other, timeout_s=self.timeout_s,
                                prove_many=provers.get(self.other), provers=provers)
        self.stats["checked"] += 1
        if rep.ok:
            self.stats["other_solver"] += 1
            return True, f"certificate:{self.other}", []
        leaf_only = all(r.startswith("leaf not re-proved") for _, r in rep.failures)
        if leaf_only and self.other != self.solver:
            rep2 = check_certificate(path, solver=None, timeout_s=self.timeout_s,
                                     prove_many=provers.get(self.solver), provers=provers)
            if rep2.ok:
                self.stats["fallback"] += 1
                return True, f"certificate:{self.other}+{self.solver}", []
            rep = rep2
        self.stats["rejected"] += 1
        return False, "", rep.failures

    def verified_proof(self, problem_id: str, problem, result) -> VerifiedPairs | None:
        ok, how, _ = self.check_problem(problem, result.proof, result.lemmas, problem_id)
        if not ok:
            return None
        pairs = tuple(tree_pairs(result.proof, result.lemmas))
        size = result.proof.size() + sum(p.size() for p in result.lemmas.values())
        return VerifiedPairs(problem_id, "proof", pairs, how, size, pairs_sha256(pairs), _SEAL)

    def verified_lemma(self, problem_id: str, problem, formula, proof, lemmas
                       ) -> VerifiedPairs | None:
        """A proved explored lemma: a closed formula over the theory, checked as a problem."""
        from .logic.ast import Problem

        from .logic.printer import print_term

        lp = Problem(problem.theory, formula, source=problem.source)
        tag = hashlib.sha256(print_term(formula).encode("utf-8", "surrogatepass")).hexdigest()
        ok, how, _ = self.check_problem(lp, proof, lemmas, f"{problem_id}.lemma-{tag[:10]}")
        if not ok:
            return None
        pairs = tuple(tree_pairs(proof, lemmas, origin="hindsight"))
        return VerifiedPairs(problem_id, "hindsight", pairs, how, proof.size(),
                             pairs_sha256(pairs), _SEAL)

    # -- subgoals (goal level) ---------------------------------------------------------
    def verified_subgoal(self, problem_id: str, goal, proof, verified_lemmas: set
                         ) -> VerifiedPairs | None:
        how = recheck_goal_proof(goal, proof, verified_lemmas, self.provers, self.solver,
                                 self.other, self.timeout_s)
        self.stats["checked"] += 1
        if how is None:
            self.stats["rejected"] += 1
            return None
        self.stats["fallback" if "+" in how else "other_solver"] += 1
        pairs = tuple(tree_pairs(proof, None, origin="hindsight"))
        return VerifiedPairs(problem_id, "hindsight", pairs, how, proof.size(),
                             pairs_sha256(pairs), _SEAL)


def recheck_goal_proof(goal, proof, verified_lemmas: set, provers: dict, solver: str,
                       other: str, timeout_s: float) -> str | None:
    """Re-derive every step of ``proof`` for ``goal`` and re-run every leaf (``other``
    solver first, then ``solver``); lemmas a leaf uses must be in ``verified_lemmas``.
    Returns how it was checked, or None when any part fails."""
    from .prover.steps import Direct, StepError, apply_step, parse_step, step_text
    from .verdict import Proved

    leaves = []
    stack = [(proof, goal)]
    while stack:
        node, g = stack.pop()
        if node.goal.key() != g.key():
            return None
        try:
            step = parse_step(step_text(node.step), g)
        except StepError:
            return None
        if isinstance(step, Direct):
            if node.children or any(l not in verified_lemmas for l in node.step.lemmas):
                return None
            leaves.append(g.query(tuple(node.step.lemmas)))
            continue
        try:
            subs = apply_step(step, g)
        except StepError:
            return None
        if len(subs) != len(node.children):
            return None
        stack.extend(zip(node.children, subs))
    if not leaves:
        return None
    verdicts = provers[other](leaves, timeout_s) if other in provers else [None] * len(leaves)
    missing = [q for q, v in zip(leaves, verdicts) if not isinstance(v, Proved)]
    if not missing:
        return f"goal:{other}"
    if other == solver or solver not in provers:
        return None
    again = provers[solver](missing, timeout_s)
    if all(isinstance(v, Proved) for v in again):
        return f"goal:{other}+{solver}"
    return None
