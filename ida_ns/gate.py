"""The consistency gate: is a theory free of contradiction, and why (with evidence)?

Order of business (all under one deadline):

1. **Termination** of every recursive definition group (:mod:`ida_ns.termination`: size-change
   termination over structural and integer measures, then semantic measures whose decrease is
   proved by ida-ns's prover).  Terminating definitions over well-founded datatypes extend any
   interpretation of the declared symbols conservatively.
2. **Asserted formulas** (``assert``) are split: those over declared symbols only need a *model*
   (a solver finds one for them alone, no definitions involved); every other one is an
   *obligation* proved from the definitions (and those model-backed axioms) by ida-ns's prover —
   then it holds in the model, and the search may use it as a lemma.
3. Only if that fails: a solver is asked about the whole theory.  Deriving ``false`` means
   ``inconsistent``; a model is accepted only when the definitions terminate.
4. Otherwise ``unknown`` with the reason (the failed call, the unproved axiom, or the budget).

Hypotheses inside a goal (``=>``) are never part of the theory: an implication with an
unsatisfiable premise is simply true, so they need no model.

The evidence (measures, size-change graphs, obligation proofs, model claims) is a JSON object;
:func:`recheck_evidence` re-checks it from the problem alone (re-derived calls, fresh z3 for
integer edges, proofs re-derived step by step with leaves re-run; no cache shared with the
search).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from pathlib import Path

from .logic.ast import FALSE, Term, Theory, Var
from .logic.symbols import DEFINED, SymbolTable

EVIDENCE_FORMAT = "ida-ns-gate-evidence/1"


@dataclass(frozen=True)
class GateReport:
    status: str  # "consistent" | "inconsistent" | "unknown"
    reason: str
    termination: tuple[str, ...] = ()  # one line per recursive group
    evidence: dict | None = field(default=None, compare=False)
    lemmas: tuple[Term, ...] = ()  # asserted formulas proved from the definitions

    @property
    def ok(self) -> bool:
        return self.status == "consistent"


def _prove_many_of(prove):
    if prove is None:
        return None
    return lambda qs, t: [prove(q, t) for q in qs]


def run_gate(theory: Theory, prove=None, hyps: tuple[Term, ...] = (),
             fixed: tuple[Var, ...] = (), timeout_s: float = 2.0,
             deadline: float | None = None, prove_many=None, solver: str = "z3") -> GateReport:
    """The gate.  ``prove(query, timeout_s) -> Verdict`` (or ``prove_many``) runs solver checks;
    without either only the termination analysis runs (and axioms make the answer unknown)."""
    t0 = time.perf_counter()
    key = None
    if not hyps and not fixed:
        from ida_ns.solvers.query import theory_hash

        key = (theory_hash(theory), prove is None and prove_many is None)
        hit = _MEMO.get(key)
        if hit is not None:
            return hit
    rep = _run_gate(theory, prove, hyps, fixed, timeout_s, deadline, prove_many, solver, t0)
    if key is not None and rep.status in ("consistent", "inconsistent"):
        # definite answers only (an "unknown" may be the budget's); the IDA loop asks the
        # same theory for every problem.  recheck_evidence never reads this memo.
        if len(_MEMO) >= 256:
            _MEMO.pop(next(iter(_MEMO)))
        _MEMO[key] = rep
    return rep


_MEMO: dict = {}


def _run_gate(theory, prove, hyps, fixed, timeout_s, deadline, prove_many, solver, t0
              ) -> GateReport:
    if deadline is None:
        deadline = t0 + max(2.0, 4 * timeout_s)
    if prove_many is None:
        prove_many = _prove_many_of(prove)
    if prove is None and prove_many is not None:
        def prove(q, t):
            return prove_many([q], t)[0]
    from .gate_prove import Provers

    provers = Provers(prove_many, solver) if prove_many is not None else None
    try:
        return _gate_body(theory, prove, hyps, fixed, timeout_s, deadline, prove_many,
                          solver, provers)
    finally:
        if provers is not None:
            provers.close()


def _gate_body(theory, prove, hyps, fixed, timeout_s, deadline, prove_many, solver, provers
               ) -> GateReport:
    from .gate_measures import SemanticMeasures
    from .gate_prove import Discharger
    from .termination import check_theory

    table = SymbolTable(theory)
    discharger = Discharger(prove_many, solver, provers=provers) \
        if prove_many is not None else None
    sem = SemanticMeasures(discharger) if discharger is not None else None
    try:
        results = check_theory(theory, deadline, sem, table)
    except RecursionError:
        return GateReport("unknown", "termination not established: definitions nested too "
                          "deeply to analyse")
    lines = tuple(f"{r.function}: {'terminates by ' + r.measure if r.terminating else r.measure}"
                  for r in results)
    evidence: dict = {"format": EVIDENCE_FORMAT, "termination": [
        {"function": r.function, "terminating": r.terminating, "measure": r.measure,
         "evidence": r.evidence} for r in results if r.terminating]}
    nonterminating = [r for r in results if not r.terminating]
    if not nonterminating and not theory.axioms and not hyps:
        return GateReport("consistent", "all recursive definitions terminate", lines, evidence)
    lemmas: tuple[Term, ...] = ()
    if not nonterminating and not hyps and prove is not None:
        ok, why, ax_ev, lemmas = _axioms(theory, table, prove, discharger, timeout_s, deadline)
        if ok:
            evidence["axioms"] = ax_ev
            return GateReport("consistent", "definitions terminate; " + why, lines, evidence,
                              lemmas)
        axiom_reason = why
    else:
        axiom_reason = "axioms or hypotheses present and no model found"
    if prove is not None:
        from ida_ns.solvers.query import Query

        t = max(0.05, min(timeout_s, deadline - time.perf_counter() + timeout_s))
        verdict = prove(Query(theory, FALSE, tuple(hyps), tuple(fixed)), t)
        from .verdict import Proved, Refuted

        if isinstance(verdict, Proved):
            what = ("; ".join(r.measure for r in nonterminating) if nonterminating
                    else "axioms/hypotheses")
            return GateReport("inconsistent", f"{verdict.solver} derives false from the theory "
                              f"({what})", lines, None)
        if isinstance(verdict, Refuted) and not nonterminating:
            evidence["model"] = {"solver": verdict.solver, "of": "theory",
                                 "hypotheses": len(hyps)}
            return GateReport("consistent", f"{verdict.solver} found a model of the axioms; "
                              "definitions terminate", lines, evidence)
    if nonterminating:
        budget = any(r.budget for r in nonterminating)
        reason = ("unknown: budget: " if budget else "") + "termination not established: " + \
            "; ".join(f"{r.function}: {r.measure}" for r in nonterminating)
    else:
        reason = axiom_reason
    return GateReport("unknown", reason, lines, None)


def _axioms(theory: Theory, table: SymbolTable, prove, discharger, timeout_s: float,
            deadline: float):
    """Model-backed axioms (declared symbols only) and proved axioms (the rest)."""
    from .logic.printer import print_term
    from .verdict import Refuted

    def defined(t: Term) -> bool:
        from .logic.ast import symbols

        return any(table.kind(s) == DEFINED for s in symbols(t))

    free = [a for a in theory.axioms if not defined(a)]
    rest = [a for a in theory.axioms if defined(a)]
    ev: dict = {"model": None, "proved": []}
    if free:
        from ida_ns.solvers.query import Query

        base = replace(theory, defs=(), axioms=tuple(free))
        t = max(0.05, min(timeout_s, deadline - time.perf_counter()))
        v = prove(Query(base, FALSE), t)
        if not isinstance(v, Refuted):
            return False, (f"no model found for the axioms over declared symbols "
                           f"({v.status})"), ev, ()
        ev["model"] = {"solver": v.solver, "axioms": [print_term(a) for a in free]}
    proved: list[Term] = []
    for k, a in enumerate(rest):
        if discharger is None:
            return False, "asserted formula needs a proof and no prover was given", ev, ()
        th = replace(theory, axioms=tuple(free) + tuple(proved))
        d = discharger.prove(th, a, deadline)
        if d.proof is None:
            return False, (f"asserted formula #{theory.axioms.index(a) + 1} "
                           f"{_short(print_term(a))} is not proved from the definitions "
                           f"({d.reason}) and no model was found"), ev, ()
        proved.append(a)
        ev["proved"].append({"index": theory.axioms.index(a), "formula": print_term(a),
                             "proof": d.proof})
    parts = []
    if free:
        parts.append(f"a model of {len(free)} axiom(s) over declared symbols")
    if proved:
        parts.append(f"{len(proved)} asserted formula(s) proved from the definitions")
    return True, ", ".join(parts), ev, tuple(proved)


def _short(s: str, n: int = 120) -> str:
    return s if len(s) <= n else s[:n - 3] + "..."


# --------------------------------------------------------------------------------------------
# Re-checking evidence


def recheck_evidence(problem, evidence, prove_many=None, timeout_s: float = 5.0) -> list[str]:
    """Re-check ``evidence`` for ``problem``'s theory independently; the list of failures
    (empty: the evidence establishes consistency).  Integer edges are re-checked with an
    in-process z3; obligation proofs and model claims need ``prove_many`` (leaves that name
    cvc5 with induction go to a pool of it started here)."""
    from .gate_prove import Provers

    provers = Provers(prove_many) if prove_many is not None else None
    try:
        return _recheck(problem, evidence, prove_many, timeout_s, provers)
    finally:
        if provers is not None:
            provers.close()


def _recheck(problem, evidence, prove_many, timeout_s, provers) -> list[str]:
    from .gate_measures import recheck_semantic, recheck_semantic_sct
    from .gate_prove import recheck_proof
    from .termination import recheck_group

    theory = problem.theory if hasattr(problem, "theory") else problem
    fails: list[str] = []
    if not isinstance(evidence, dict) or evidence.get("format") != EVIDENCE_FORMAT:
        return [f"evidence is not an {EVIDENCE_FORMAT} object"]
    table = SymbolTable(theory)
    terms = evidence.get("termination")
    if not isinstance(terms, list):
        return ["evidence has no termination list"]
    by_fn = {}
    for e in terms:
        if isinstance(e, dict) and isinstance(e.get("function"), str):
            by_fn[e["function"]] = e
    from .termination import _calls_only

    done: list = []
    usable: set[str] = set()
    for group in theory.defs:
        e = by_fn.get(group[0].name)
        ev = e.get("evidence") if isinstance(e, dict) else None
        if isinstance(ev, dict) and ev.get("method") == "semantic":
            why = recheck_semantic(group, tuple(done), theory, table, ev, prove_many, timeout_s,
                                   provers)
        elif isinstance(ev, dict) and ev.get("method") == "semantic-sct":
            why = recheck_semantic_sct(group, tuple(done), theory, table, ev, prove_many,
                                       timeout_s, provers)
        else:
            why = recheck_group(group, table, ev)
        if why is not None:
            fails.append(f"{group[0].name}: {why}")
        elif _calls_only(group, usable, table):
            done.append(group)
            usable.update(f.name for f in group)
    if theory.axioms:
        ax = evidence.get("axioms")
        model = evidence.get("model")
        if isinstance(model, dict):
            if prove_many is None:
                fails.append("a model claim needs a solver to re-check")
            else:
                from ida_ns.solvers.query import Query

                from .verdict import Refuted

                v = prove_many([Query(theory, FALSE)], timeout_s)[0]
                if not isinstance(v, Refuted):
                    fails.append(f"model of the theory not re-found ({v.status})")
        elif not isinstance(ax, dict):
            fails.append("axioms present and no axiom evidence")
        else:
            from .verdict import Refuted

            def defined(t):
                from .logic.ast import symbols

                return any(table.kind(s) == DEFINED for s in symbols(t))

            free = [a for a in theory.axioms if not defined(a)]
            rest = [a for a in theory.axioms if defined(a)]
            if free:
                if prove_many is None:
                    fails.append("a model claim needs a solver to re-check")
                else:
                    from ida_ns.solvers.query import Query

                    v = prove_many([Query(replace(theory, defs=(), axioms=tuple(free)), FALSE)],
                                   timeout_s)[0]
                    if not isinstance(v, Refuted):
                        fails.append(f"no model re-found for the axioms over declared symbols "
                                     f"({v.status})")
            proofs = {p.get("index"): p.get("proof") for p in ax.get("proved", [])
                      if isinstance(p, dict)}
            proved: list[Term] = []
            for a in rest:
                i = theory.axioms.index(a)
                if i not in proofs:
                    fails.append(f"asserted formula #{i + 1} has no proof")
                    break
                if prove_many is None:
                    fails.append("axiom proofs need a solver to re-check")
                    break
                why = recheck_proof(replace(theory, axioms=tuple(free) + tuple(proved)), a,
                                    proofs[i], prove_many, timeout_s, provers)
                if why is not None:
                    fails.append(f"asserted formula #{i + 1}: {why}")
                    break
                proved.append(a)
    return fails


# --------------------------------------------------------------------------------------------
# ``ida-ns gate FILE...``


def gate_file(path, prove_many=None, timeout_s: float = 10.0, solver: str = "z3") -> dict:
    """One row ``{"file","status","reason","evidence","time_s"}``; never raises for bad input."""
    from .errors import IdaNsError
    from .logic.parser import parse_file
    from .logic.sortcheck import sortcheck_problem

    t0 = time.perf_counter()
    name = str(path)
    try:
        problem = parse_file(Path(path))
        sortcheck_problem(problem)
    except IdaNsError as e:
        return {"file": name, "status": "error", "reason": str(e), "evidence": None,
                "time_s": round(time.perf_counter() - t0, 4)}
    except OSError as e:
        return {"file": name, "status": "error", "reason": f"{name}: cannot read: "
                f"{e.strerror or e}", "evidence": None,
                "time_s": round(time.perf_counter() - t0, 4)}
    rep = run_gate(problem.theory, prove_many=prove_many, timeout_s=min(2.0, timeout_s),
                   deadline=t0 + timeout_s, solver=solver)
    return {"file": name, "status": rep.status, "reason": rep.reason,
            "evidence": rep.evidence, "termination": list(rep.termination),
            "time_s": round(time.perf_counter() - t0, 4)}
