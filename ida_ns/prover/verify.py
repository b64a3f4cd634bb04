"""The verify gate: nothing a policy proposes is accepted before it passes here.

For a proposed step on a goal the gate checks, in order:

1. well-formed: the step parsed into a typed step against the goal's theory and scope (sorts,
   known symbols, size limits — see :func:`ida_ns.prover.steps.parse_step`) and applies
   (:func:`ida_ns.prover.steps.apply_step`);
2. tested: a lemma, and the conclusion of a generalization, are tested for counterexamples on
   random ground instances with the ground evaluator; one counterexample rejects the step;
3. closed leaves: ``Direct`` leaves are proved by a solver within the leaf budget
   (:meth:`Checker.close_leaves`), verdicts cached by canonical hash.

Verdicts for identical (goal, lemmas, solver) triples are cached within a run and, with a
path, on disk (JSON lines; Proved/Refuted are final, Unknown is cached per time limit).
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence, Union

from ..logic.ast import Term
from ..verdict import Proved, Refuted, Unknown, Verdict
from .goal import Goal
from .steps import Generalize, Lemma, MutualInduct, Step, StepError, apply_step


@dataclass(frozen=True)
class Accepted:
    subgoals: tuple[Goal, ...]


@dataclass(frozen=True)
class Rejected:
    reason: str
    counterexample: tuple[tuple[str, str], ...] = ()


GateResult = Union[Accepted, Rejected]

ProveMany = Callable[[Sequence[object], float], list[Verdict]]


def leaf_key(goal: Goal, lemmas: tuple[Term, ...], solver: str) -> str:
    """Structural key of a leaf check (see :func:`ida_ns.prover.goal.goal_key`)."""
    text = goal.key() + "\n" + solver + "\n" + "\n".join(sorted(repr(l) for l in lemmas))
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


_FAULT_WORDS = re.compile(r"crash|garbage|memory|died|exit|reply|signal|budget", re.I)


_CACHE_STATUSES = ("proved", "refuted", "unknown")


class VerdictCache:
    """Leaf verdicts by canonical key; optionally persisted as JSON lines at ``path``.

    A cache is an accelerator, never evidence.  Its key hashes the whole query (theory,
    conclusion, hypotheses, fixed variables, lemmas, solver), but anyone who can write the file
    can write a line for any key: so a cached ``proved`` only lets the search go on, and the
    :class:`Checker` re-runs every cached ``proved`` leaf that ends up on a reported proof
    (:meth:`Checker.confirm_cached`); a line that fails that re-check is retracted.  A cached
    ``refuted``/``unknown`` can only cost a proof, never make one."""

    def __init__(self, path: str | Path | None = None):
        self.path = Path(path) if path else None
        self.mem: dict[str, tuple[str, float]] = {}  # key -> (status, timeout it was run with)
        self.hits = 0
        self.misses = 0
        if self.path and self.path.exists():
            from ..storage import read_jsonl

            for i, row in enumerate(read_jsonl(self.path).records, start=1):
                self._load_row(row, i)

    def _load_row(self, row, lineno: int) -> None:
        from ..storage import StorageError

        where = f"{self.path}:{lineno}"
        if not isinstance(row, dict) or not isinstance(row.get("key"), str):
            raise StorageError(f"{where}: verdict cache line needs a string 'key'")
        status = row.get("status")
        if status == "retracted":
            self.mem.pop(row["key"], None)
            return
        t = row.get("timeout_s", 0)
        if status not in _CACHE_STATUSES or isinstance(t, bool) or not isinstance(
                t, (int, float)) or not math.isfinite(t) or t < 0:
            raise StorageError(f"{where}: verdict cache line has status {status!r} and "
                               f"timeout_s {t!r} (want one of {', '.join(_CACHE_STATUSES)} "
                               "and a finite number >= 0)")
        self.mem[row["key"]] = (status, float(t))

    def get(self, key: str, timeout_s: float, solver: str = "") -> Verdict | None:
        """The cached verdict, reported under ``solver`` (the solver the key was made for:
        a certificate names that solver, and check-proof re-runs the leaf with it), with
        ``stats`` marking it as cached."""
        hit = self.mem.get(key)
        if hit is None:
            self.misses += 1
            return None
        status, t = hit
        cached = (("cached", True),)
        if status == "proved":
            self.hits += 1
            return Proved(solver=solver, stats=cached)
        if status == "refuted":
            self.hits += 1
            return Refuted(solver=solver)
        if status == "unknown" and t >= timeout_s:
            self.hits += 1
            return Unknown("cached: unknown at this time limit", solver=solver)
        self.misses += 1
        return None

    def put(self, key: str, verdict: Verdict, timeout_s: float) -> None:
        if isinstance(verdict, Unknown) and _FAULT_WORDS.search(verdict.reason or ""):
            return  # a worker fault says nothing about the query: never cache it
        old = self.mem.get(key)
        if old and old[0] in ("proved", "refuted"):
            return
        self.mem[key] = (verdict.status, timeout_s)
        self._append({"key": key, "status": verdict.status, "timeout_s": timeout_s})

    def retract(self, key: str) -> None:
        """Forget a verdict that did not re-check (and record that in the file)."""
        if self.mem.pop(key, None) is not None:
            self._append({"key": key, "status": "retracted"})

    def _append(self, row: dict) -> None:
        if self.path:
            from ..storage import append_line_durable

            append_line_durable(self.path, json.dumps(row))


class Checker:
    """The gate plus the leaf closer.  ``prove_many(queries, timeout_s)`` runs solver checks
    (a :class:`solvers.pool.SolverPool`'s, normally)."""

    def __init__(self, prove_many: ProveMany, solver: str = "z3", leaf_timeout_s: float = 0.5,
                 cache: VerdictCache | None = None, test_trials: int = 300,
                 test_time_s: float = 0.3, seed: int = 0,
                 on_event: Callable[[str, dict], None] | None = None, parallelism: int = 2):
        self.prove_many = prove_many
        self.solver = solver
        self.leaf_timeout_s = leaf_timeout_s
        self.cache = cache if cache is not None else VerdictCache()
        self.test_trials = test_trials
        self.test_time_s = test_time_s
        self.seed = seed
        self.on_event = on_event
        self.parallelism = max(1, parallelism)  # solver workers behind prove_many
        self.deadline: float | None = None  # set by a search: no check runs past it
        self.solver_calls = 0
        self.solver_time_s = 0.0
        # Leaf keys the cache answered "proved" that no solver has re-run in this process.
        self.unconfirmed: set[str] = set()
        self.solver_proved: set[str] = set()  # leaf keys a solver proved in this process

    @classmethod
    def from_pool(cls, pool, **kw) -> "Checker":
        """A checker whose leaves run on a :class:`solvers.pool.SolverPool`."""
        kw.setdefault("solver", pool.solver)
        kw.setdefault("parallelism", pool.workers)
        return cls(pool.prove_many, **kw)

    # ---- steps -------------------------------------------------------------------------
    def gate(self, goal: Goal, step: Step) -> GateResult:
        try:
            subgoals = apply_step(step, goal)
        except StepError as e:
            return Rejected(str(e))
        if isinstance(step, Lemma):
            cex = self.counterexample(subgoals[0])
            if cex is not None:
                return Rejected("lemma has a counterexample", cex)
        if isinstance(step, Generalize):
            cex = self.counterexample(subgoals[0])
            if cex is not None:
                return Rejected("generalized goal has a counterexample", cex)
        if isinstance(step, MutualInduct):
            for c in step.companions:  # apply_step checked: closed over the goal's fixed
                cex = self.counterexample(Goal(goal.theory, c, goal.hyps, goal.fixed))
                if cex is not None:
                    return Rejected("companion property has a counterexample", cex)
        return Accepted(subgoals)

    def gate_unverified(self, goal: Goal, step: Step) -> GateResult:
        """The ``--no-verify`` ablation: only the rule is applied (the step must still be
        well-formed to have subgoals at all); no testing, no solver."""
        try:
            return Accepted(apply_step(step, goal))
        except StepError as e:
            return Rejected(str(e))

    def counterexample(self, goal: Goal) -> tuple[tuple[str, str], ...] | None:
        """A validated counterexample to ``goal`` found by random testing, or None."""
        from ..counterexample import find_counterexample

        budget = self.test_time_s
        if self.deadline is not None:
            budget = max(0.02, min(budget, self.deadline - time.perf_counter()))
        cex = find_counterexample(goal.theory, goal.concl, fixed=goal.fixed, hyps=goal.hyps,
                                  trials=self.test_trials, seed=self.seed,
                                  time_budget_s=budget)
        if cex is None:
            return None
        return tuple(cex.assignment.items()) if isinstance(cex.assignment, dict) else tuple(
            cex.assignment)

    # ---- leaves ------------------------------------------------------------------------
    def close_leaves(self, items: Sequence[tuple[Goal, tuple[Term, ...]]],
                     timeout_s: float | None = None) -> list[Verdict]:
        """Solver verdicts for Direct leaves (goal, lemmas used as hypotheses), in parallel."""
        timeout_s = self.leaf_timeout_s if timeout_s is None else timeout_s
        out: list[Verdict | None] = [None] * len(items)
        todo, keys = [], []
        for i, (g, lemmas) in enumerate(items):
            k = leaf_key(g, lemmas, self.solver)
            hit = self.cache.get(k, timeout_s, self.solver)
            if hit is not None:
                out[i] = hit
                if isinstance(hit, Proved) and k not in self.solver_proved:
                    self.unconfirmed.add(k)
            else:
                todo.append(i)
                keys.append(k)
        # In chunks of the pool's parallelism, so that a deadline stops between chunks.
        for c in range(0, len(todo), self.parallelism):
            chunk = todo[c:c + self.parallelism]
            ckeys = keys[c:c + self.parallelism]
            t = timeout_s
            if self.deadline is not None:
                t = min(t, self.deadline - time.perf_counter())
                if t <= 0.01:
                    for i in chunk:
                        out[i] = Unknown("budget: search deadline", solver=self.solver)
                    continue
            t0 = time.perf_counter()
            verdicts = self.prove_many([items[i][0].query(items[i][1]) for i in chunk], t)
            self.solver_time_s += time.perf_counter() - t0
            self.solver_calls += len(chunk)
            for i, k, v in zip(chunk, ckeys, verdicts):
                out[i] = v
                if isinstance(v, Proved):
                    self.solver_proved.add(k)
                self.cache.put(k, v, t)
                if self.on_event:
                    text = items[i][0].text()
                    self.on_event("verdict", {"query": k, "status": v.status,
                                              "goal_text": text if len(text) <= 300
                                              else text[:297] + "...",
                                              "solver": v.solver, "version": v.version,
                                              "time_s": round(v.time_s, 4)})
        return out  # type: ignore[return-value]

    def confirm_cached(self, proofs: Sequence, timeout_s: float | None = None) -> list[str]:
        """Re-run, with the solver and no cache, every leaf of ``proofs`` (ProofNode trees)
        that only the cache said was proved.  Returns one line per leaf that did not re-check
        (its cache entry is retracted); empty when the proofs rest on real solver runs only.
        Call it before reporting a proof found with a cache."""
        from .steps import Direct

        todo: list[tuple[str, Goal, tuple[Term, ...]]] = []
        seen = set()
        for tree in proofs:
            for n in tree.nodes():
                if not isinstance(n.step, Direct):
                    continue
                k = leaf_key(n.goal, n.step.lemmas, self.solver)
                if k in self.unconfirmed and k not in seen:
                    seen.add(k)
                    todo.append((k, n.goal, n.step.lemmas))
        if not todo:
            return []
        t = max(self.leaf_timeout_s, 0.5) if timeout_s is None else timeout_s
        verdicts = self.prove_many([g.query(ls) for _, g, ls in todo], t)
        self.solver_calls += len(todo)
        bad = []
        for (k, g, _), v in zip(todo, verdicts):
            self.unconfirmed.discard(k)
            if isinstance(v, Proved):
                self.solver_proved.add(k)
                continue
            self.cache.retract(k)
            bad.append(f"cached 'proved' not re-proved by {self.solver} ({v.status}): "
                       f"{g.text()[:200]}")
            if self.on_event:
                self.on_event("cache_retracted", {"query": k, "status": v.status})
        return bad

    def admit(self, goal: Goal, proof, lemmas: dict) -> list[str]:
        """The last word before a found proof is reported: re-run the leaves only a cache
        vouched for (:meth:`confirm_cached`), then replay the whole proof through the kernel
        (:meth:`replay`).  Returns the reasons to refuse it (empty: admit it)."""
        return self.confirm_cached([proof, *lemmas.values()]) or self.replay(goal, proof, lemmas)

    def replay(self, goal: Goal, proof, lemmas: dict) -> list[str]:
        """Re-derive ``proof`` of ``goal`` (and each lemma's proof) with the one step rule,
        :func:`ida_ns.prover.steps.apply_step`, independently of how the search assembled it:
        every node's goal must be the subgoal the rule derives for it, every ``Direct`` leaf
        must have been proved by a solver call in this process (not a cache), every lemma a
        leaf uses must have a proof here, and lemma use must be acyclic.  So the search, the
        policies and the cache can be wrong without a wrong proof being reported."""
        from .steps import Direct, StepError, apply_step

        bad: list[str] = []
        uses: dict[object, set] = {}

        def walk(root, g0: Goal, owner) -> None:
            stack = [(root, g0)]
            while stack:
                n, g = stack.pop()
                if n.goal != g:
                    bad.append("a node's goal is not the subgoal the rule derives: "
                               + g.text()[:200])
                    continue
                try:
                    subs = apply_step(n.step, g)
                except StepError as e:
                    bad.append(f"step does not apply: {e}")
                    continue
                if len(subs) != len(n.children):
                    bad.append(f"step yields {len(subs)} subgoals, the proof has "
                               f"{len(n.children)}")
                    continue
                if isinstance(n.step, Direct):
                    for lemma in n.step.lemmas:
                        if lemma not in lemmas:
                            bad.append("a leaf uses a lemma that has no proof here")
                        uses.setdefault(owner, set()).add(lemma)
                    # closed by a real solver call in this process: the leaf solver, or the
                    # strong closer it names (which records its own proofs the same way)
                    keys = {leaf_key(g, n.step.lemmas, self.solver),
                            leaf_key(g, n.step.lemmas, n.solver or self.solver)}
                    if not keys & self.solver_proved:
                        bad.append(f"leaf not closed by a {self.solver} call in this run "
                                   f"(recorded solver {n.solver!r}): {g.text()[:200]}")
                stack.extend(zip(n.children, subs))

        walk(proof, goal, None)
        for lemma, p in lemmas.items():
            walk(p, Goal(goal.theory, lemma), lemma)
        # lemma use must be acyclic (a lemma proved from itself proves nothing)
        state: dict = {}
        for start in list(uses):
            todo = [(start, iter(uses.get(start, ())))]
            state[start] = 1
            while todo:
                node, it = todo[-1]
                nxt = next(it, None)
                if nxt is None:
                    state[node] = 2
                    todo.pop()
                elif state.get(nxt) == 1:
                    bad.append("circular lemma use")
                    todo = []
                elif state.get(nxt) is None:
                    state[nxt] = 1
                    todo.append((nxt, iter(uses.get(nxt, ()))))
        return bad
