"""Obligations of the consistency gate, proved by ida-ns's own prover, and re-checked.

An obligation is a closed formula over a theory that holds only definitions already shown
terminating (never the group being defined), so proving it cannot rely on what it is meant to
justify.  :class:`Discharger` proves it with a short best-first search (overseer H, solver
leaves, no lemma library, no shared caches) after random testing found no counterexample;
the proof travels as JSON (step text and children, leaves naming their solver) and
:func:`recheck_proof` re-derives every subgoal with the one sound rule and re-runs every leaf.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

from .logic.ast import Term, Theory

MAX_PROOF_NODES = 2000


@dataclass(frozen=True)
class Discharged:
    proof: dict | None  # JSON proof, None when not proved
    reason: str = ""


STRONG = "cvc5-ind"  # the prover's strong closer (cvc5 with induction)
DIRECT_S = 0.3  # the first, direct try of the main solver on an obligation
SCHEME_LEAF_S = 1.0  # each case of a functional-induction scheme tried before the search
SECOND = "cvc5"  # the second leaf solver: tried on a leaf z3 leaves unknown
# (z3's unfolding of recursive functions gives up on some leaves cvc5 closes at once, e.g.
# len (couple (rcons a (rcons b r))) <= len (rcons a (rcons b r)) under len (couple r) <= len r)


class Provers:
    """Solver pools by name, started on first use and closed together.  ``main`` (a
    ``prove_many``) serves its own solver's name; cvc5 with induction gets a killable pool of
    its own.  Using it for gate obligations is sound: an obligation's theory holds only
    definitions already shown terminating, and cvc5's unsoundness comes from admitting
    non-terminating definitions."""

    def __init__(self, main, main_name: str = "z3", extra: dict | None = None):
        self.main = main
        self.main_name = main_name
        self.extra = dict(extra or {})
        self.pools: list = []
        self.failed: set[str] = set()

    def get(self, name: str):
        if name == self.main_name or not name:
            return self.main
        if name in self.extra:
            return self.extra[name]
        if name in self.failed or name not in (STRONG, SECOND):
            return None
        try:
            from ida_ns.solvers.pool import SolverPool

            pool = SolverPool(name, workers=1, timeout_s=2.0)
            pool.__enter__()
        except Exception:  # cvc5 missing or a worker that cannot start: z3 leaves only
            self.failed.add(name)
            return None
        self.pools.append(pool)
        self.extra[name] = pool.prove_many
        return pool.prove_many

    def close(self) -> None:
        for p in self.pools:
            try:
                p.close()
            except Exception:
                pass
        self.pools.clear()


class Discharger:
    """Proves gate obligations.  ``prove_many(queries, timeout_s) -> [Verdict]`` runs the
    leaves (a solver pool's, or an in-process backend's); ``provers`` (a :class:`Provers`)
    adds the strong closer, tried once on each obligation before the search."""

    def __init__(self, prove_many, solver: str = "z3", per_obligation_s: float = 3.0,
                 leaf_timeout_s: float = 0.5, max_nodes: int = 80, provers=None,
                 strong_s: float = 1.0):
        self.prove_many = prove_many
        self.solver = solver
        self.per_obligation_s = per_obligation_s
        self.leaf_timeout_s = leaf_timeout_s
        self.max_nodes = max_nodes
        self.attempts = 0
        self.provers = provers
        self.strong_s = strong_s

    def _strong(self, theory: Theory, formula: Term, deadline: float) -> dict | None:
        from .prover.goal import Goal
        from .verdict import Proved

        if self.provers is None:
            return None
        run = self.provers.get(STRONG)
        if run is None:
            return None
        t = min(self.strong_s, deadline - time.perf_counter())
        if t <= 0.05:
            return None
        v = run([Goal(theory, formula).query()], t)[0]
        if not isinstance(v, Proved):
            return None
        proof = {"step": "direct", "solver": STRONG, "children": []}
        # re-run afresh at once, like every obligation proof
        if recheck_proof(theory, formula, proof, self.prove_many, max(1.0, 2 * t),
                         self.provers) is not None:
            return None
        return proof

    def _direct(self, goal, deadline: float) -> dict | None:
        """One short call of the main solver on the whole obligation (most are closed by
        unfolding: ``len Leaf < len (Node Leaf x c)`` under ``0 <= len c``), kept only if it
        re-checks at once."""
        from .verdict import Proved

        t = min(DIRECT_S, deadline - time.perf_counter())
        if t <= 0.05:
            return None
        v = self.prove_many([goal.query()], t)[0]
        if not isinstance(v, Proved):
            return None
        proof = {"step": "direct", "solver": self.solver, "children": []}
        if recheck_proof(goal.theory, goal.concl, proof, self.prove_many, max(1.0, 4 * t),
                         self.provers) is not None:
            return None
        return proof

    def _scheme(self, goal, deadline: float) -> dict | None:
        """Functional induction along the function the obligation is about, with every case
        closed directly: for ``forall x̄. .. h(x̄) ..`` (``h`` recursive and terminating, its
        arguments exactly distinct bound variables) the step ``finduct h x̄`` and one leaf per
        case (the main solver, then the second one on the cases it leaves unknown).  This is
        the proof most helper lemmas have (``len (pairwise x) <= len x``), found without a
        search; it is kept only if it re-checks at once."""
        from .errors import IdaNsError
        from .logic.ast import App, subterms
        from .prover.goal import split_forall
        from .prover.steps import StepError, apply_step, parse_step
        from .verdict import Proved

        if goal.hyps or goal.fixed:
            return None
        vs, body = split_forall(goal.concl)
        if not vs:
            return None
        steps = []
        for t in subterms(body):
            fd = goal.theory.fundef(t.fn) if isinstance(t, App) else None
            if fd is None or not fd.recursive or len(t.args) != len(fd.params) or \
                    len(set(t.args)) != len(t.args) or not all(a in vs for a in t.args):
                continue
            text = f"finduct {t.fn} " + " ".join(a.name for a in t.args)
            if text not in steps:
                steps.append(text)
        leaves = self._portfolio()
        for text in steps[:2]:
            t = min(SCHEME_LEAF_S, deadline - time.perf_counter())
            if t <= 0.05:
                return None
            try:
                subgoals = apply_step(parse_step(text, goal), goal)
            except (StepError, IdaNsError, ValueError):  # not applicable here
                continue
            if not subgoals or len(subgoals) > 12:
                continue
            vs_ = leaves([g.query() for g in subgoals], t)
            if not all(isinstance(v, Proved) for v in vs_):
                continue
            proof = {"step": text, "children": [
                {"step": "direct", "solver": v.solver or self.solver, "children": []}
                for v in vs_]}
            if recheck_proof(goal.theory, goal.concl, proof, self.prove_many,
                             max(1.0, 2 * t), self.provers) is None:
                return proof
        return None

    def _portfolio(self):
        """``prove_many`` whose unknown leaves go to the second solver (its verdict, naming
        it, replaces the unknown; a proof's leaf then names the solver that closed it)."""
        from .verdict import Proved, Refuted

        if self.provers is None or self.solver == SECOND:
            return self.prove_many
        main, provers = self.prove_many, self.provers

        def run(queries, timeout_s):
            vs = list(main(queries, timeout_s))
            todo = [i for i, v in enumerate(vs) if not isinstance(v, (Proved, Refuted))]
            second = provers.get(SECOND) if todo else None
            if second is not None:
                for i, v in zip(todo, second([queries[i] for i in todo], timeout_s)):
                    if isinstance(v, Proved):
                        vs[i] = v
            return vs

        return run

    def prove(self, theory: Theory, formula: Term, deadline: float,
              per_obligation_s: float | None = None, max_nodes: int | None = None,
              axioms_are_lemmas: bool = False) -> Discharged:
        """A re-checked proof of ``formula`` over ``theory``, or the reason there is none;
        ``per_obligation_s`` / ``max_nodes`` lower the search's effort for this call."""
        from .prover.goal import Goal
        from .prover.overseer import Overseer
        from .prover.proof import LemmaLibrary
        from .prover.search import Budget, Search
        from .prover.verify import Checker, VerdictCache

        self.attempts += 1
        left = deadline - time.perf_counter()
        if left <= 0.05:
            return Discharged(None, "budget")
        goal = Goal(theory, formula)
        leaves = self._portfolio()
        checker = Checker(leaves, solver=self.solver,
                          leaf_timeout_s=self.leaf_timeout_s, cache=VerdictCache(),
                          test_trials=150, test_time_s=min(0.2, left / 4))
        try:
            # when the axioms are lemmas proved from the definitions (true in the standard
            # model), test over the definitions alone: testing cannot evaluate them
            cex = checker.counterexample(Goal(replace(theory, axioms=()), formula)
                                         if theory.axioms and axioms_are_lemmas else goal)
        except Exception:  # testing is advisory here (it only saves time): the proof counts
            cex = None
        if cex is not None:
            shown = ", ".join(f"{k} = {v}" for k, v in cex)
            return Discharged(None, f"counterexample: {shown}")
        direct = self._direct(goal, deadline)
        if direct is not None:
            return Discharged(direct)
        scheme = self._scheme(goal, deadline)
        if scheme is not None:
            return Discharged(scheme)
        strong = self._strong(theory, formula, deadline)
        if strong is not None:
            return Discharged(strong)
        per = self.per_obligation_s if per_obligation_s is None else per_obligation_s
        nodes = self.max_nodes if max_nodes is None else max_nodes
        budget = Budget(wall_s=min(per, left), max_nodes=nodes, max_depth=5,
                        leaf_timeout_s=self.leaf_timeout_s)
        search = Search(checker, Overseer(), budget, LemmaLibrary(), {}, None,
                        min(deadline, time.perf_counter() + per))
        res = search.run(goal)
        if not res.proved:
            return Discharged(None, res.reason or "not proved")
        try:
            proof = proof_json(res.proof)
        except ValueError as e:
            return Discharged(None, str(e))
        # Evidence must re-check: leaves closed by a lucky quantifier instantiation (solver
        # state differs between calls) are re-run at once, afresh, and the proof is kept only
        # if they hold again.
        why = recheck_proof(theory, formula, proof, self.prove_many,
                            max(1.0, 4 * self.leaf_timeout_s), self.provers)
        if why is not None:
            return Discharged(None, f"proof did not re-check: {why}")
        return Discharged(proof)


def proof_json(node) -> dict:
    """A proof tree as JSON (no lemma uses: obligations are proved without a library)."""
    from .prover.steps import Direct, step_text

    out = {"step": step_text(node.step)}
    if isinstance(node.step, Direct):
        if node.step.lemmas:
            raise ValueError("obligation proof uses library lemmas")
        out["solver"] = node.solver
    out["children"] = [proof_json(c) for c in node.children]
    return out


def recheck_proof(theory: Theory, formula: Term, proof, prove_many, timeout_s: float = 5.0,
                  provers=None) -> str | None:
    """None if ``proof`` proves ``formula`` over ``theory``; else the reason it does not.
    Leaves are re-run with ``prove_many`` (the caller's solver), except those that name the
    strong closer, which go to it (through ``provers``, or a pool started here)."""
    from .errors import IdaNsError
    from .prover.goal import Goal
    from .prover.steps import Direct, StepError, apply_step, parse_step
    from .verdict import Proved, Refuted

    leaves = []
    stack = [(proof, Goal(theory, formula), "proof")]
    count = 0
    while stack:
        n, g, w = stack.pop()
        count += 1
        if count > MAX_PROOF_NODES:
            return "proof too large"
        if not isinstance(n, dict) or not isinstance(n.get("step"), str):
            return f"{w}: node needs a 'step' string"
        children = n.get("children", [])
        if not isinstance(children, list):
            return f"{w}: 'children' must be a list"
        try:
            step = parse_step(n["step"], g)
        except (StepError, IdaNsError) as e:
            return f"{w}: {e}"
        if isinstance(step, Direct):
            if step.lemmas or children:
                return f"{w}: a direct step of an obligation uses no lemmas and has no subgoals"
            by = n.get("solver") if n.get("solver") in (STRONG, SECOND) else ""
            leaves.append((w, g, by))
            continue
        try:
            subgoals = apply_step(step, g)
        except StepError as e:
            return f"{w}: {e}"
        if len(subgoals) != len(children):
            return f"{w}: step yields {len(subgoals)} subgoals, proof has {len(children)}"
        for i, (c, sg) in enumerate(zip(children, subgoals)):
            stack.append((c, sg, f"{w}/children/{i}"))
    if not leaves:
        return None
    own = None
    if any(by for *_, by in leaves) and provers is None:
        own = provers = Provers(prove_many)
    try:
        for by in sorted({by for *_, by in leaves}):
            run = prove_many if not by else provers.get(by)
            if run is None:
                return f"no {by} solver to re-run leaves it closed"
            group = [(w, g) for w, g, b in leaves if b == by]
            verdicts = run([g.query() for _, g in group], timeout_s)
            for (w, g), v in zip(group, verdicts):
                if not isinstance(v, (Proved, Refuted)):  # one more try, longer: solver
                    v = run([g.query()], 2 * timeout_s)[0]  # state and machine load vary
                if not isinstance(v, Proved):
                    return f"{w}: leaf not re-proved by {by or 'the solver'}: {v.status}" + (
                        f" ({v.reason})" if hasattr(v, "reason") else "")
    finally:
        if own is not None:
            own.close()
    return None
