"""Proving a problem end to end: gate, counterexample test, search, theory exploration.

``prove_problem`` is what ``ida-ns prove`` and the TIP benchmark run:

1. consistency gate (:mod:`ida_ns.consistency`): an inconsistent theory, or one whose
   consistency is not established, yields ``Unknown`` — nothing proved from it counts;
2. random testing of the goal with the ground evaluator: a validated counterexample yields
   ``Refuted``;
3. best-first search with the policy (overseer H unless given), leaves closed by the solver;
4. if that fails: theory exploration — conjectures that survive testing are proved by short
   searches, smallest first, and join the lemma library; after each new lemma the goal is
   searched again with the library available to every leaf.  Lemmas calculated from stuck
   subgoals come first; one whose search failed is searched again once another lemma has
   been proved (lemmas that need lemmas: its own stuck subgoals calculate the helper);
5. a solver's counter-model of the root goal (random testing found none) is re-checked by
   the ground evaluator (:mod:`ida_ns.prover.refute`) and reported as ``Refuted``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from ..budget import phase
from ..consistency import ConsistencyReport, check_consistency
from ..logic.ast import Problem
from ..verdict import Proved, Refuted, Unknown, Verdict
from .goal import Goal
from .overseer import Overseer
from .proof import LemmaLibrary, ProofNode
from .search import Budget, Policy, Search, SearchStats
from .steps import Direct, Lemma
from .verify import Checker


@dataclass
class ProverConfig:
    budget_s: float = 5.0  # wall time for the whole problem
    solver: str = "z3"  # leaf solver
    leaf_timeout_s: float = 0.25  # per leaf check (z3 closes most leaves in < 50 ms)
    max_nodes: int = 400  # expansions of the main search (all phases together)
    max_depth: int = 6
    first_phase: float = 0.5  # share of the budget for the search before exploration
    explore: bool = True  # theory exploration when the first search fails
    lemma_budget_s: float = 1.5  # per conjecture search
    test_trials: int = 300  # random instances for counterexample testing
    seed: int = 0
    # Root attempt with the strong closer (cvc5 with induction), if any.  At 5 s, 0.5 s:
    # a longer attempt starves the decomposition (on TIP prod, 1.5 s: 34/74 with it, 42/74
    # without it; 0.8 s: ida-ns 37 vs decomposition alone 48), and cvc5-with-induction's
    # proofs on TIP take under 0.4 s (64 of 69 on isaplanner, parsing included) but for a
    # few that decomposition with calculated lemmas proves.
    strong_s: float = 0.5
    strong_root: bool = True  # False: the --no-strong-root ablation (decomposition alone)
    strong_leaf_s: float = 0.5  # per leaf z3 did not close, with the strong closer
    strong_share: float = 0.45  # of the budget, at most, for strong leaves (root attempt apart)
    store_share: float = 0.15  # of the budget, at most, replaying lemmas of earlier problems
    # The root attempt beside the search (True) or before it (False).  Beside it only pays
    # with a free core: a bench running 2 problems on 2 cores measured 67 vs 70 isaplanner.
    root_parallel: bool = False
    # Lemmas calculated from each stuck step case (ida_ns.prover.stuck), at most this many.
    stuck_lemmas: int = 2
    # A solver's counter-model of the root goal ends the search at once (False: the first
    # search runs its course, as fault-injection tests need; the refutation is reported after
    # it either way, once the ground evaluator has re-checked the model).
    stop_on_refuted: bool = True

    @classmethod
    def for_budget(cls, budget_s: float, **kw) -> "ProverConfig":
        """Settings that scale with the budget: at 5 s the defaults; with more time the root
        attempt, the lemma searches, the search sizes and the calculated lemmas per stuck
        goal grow with it (the root attempt at most a third of the budget, so that
        decomposition and exploration keep the larger part); the first search's share shrinks
        (0.5 / scale^0.4: 11 s of 60, not 18 s), so that the lemmas calculated from its stuck
        subgoals get their sub-searches sooner.  The per-leaf timeouts grow
        only a little (z3 to 0.45 s, the strong leaves to 1 s): most leaves fail and a failing
        leaf costs its whole timeout, so longer ones starved the search (at 25 s, 4 or 5
        expansions per problem)."""
        scale = max(1.0, budget_s / 5.0)
        base = dict(budget_s=budget_s, first_phase=0.5 / scale ** 0.4,
                    strong_s=min(0.5 * scale ** 0.9, budget_s / 3),
                    strong_leaf_s=min(0.5 * scale ** 0.3, 1.0),
                    leaf_timeout_s=min(0.25 * scale ** 0.25, 0.45),
                    lemma_budget_s=min(1.5 * scale ** 0.6, 8.0),
                    max_nodes=int(400 * scale ** 0.7),
                    stuck_lemmas=2 if scale < 4 else 3)
        base.update(kw)
        return cls(**base)


@dataclass
class ProveResult:
    verdict: Verdict
    proof: ProofNode | None = None
    lemmas: dict = field(default_factory=dict)  # lemma formula -> ProofNode (used ones)
    counterexample: tuple = ()
    consistency: ConsistencyReport | None = None
    stats: SearchStats | None = None
    conjectures_tried: int = 0
    lemmas_proved: int = 0
    time_s: float = 0.0
    partial: object = None  # PartialNode of an unfinished search (Unknown only)
    goal: Goal | None = None  # the root goal
    strong_calls: int = 0  # strong-closer leaf checks (root attempt apart)
    calculated: frozenset = frozenset()  # lemmas calculated from stuck subgoals

    @property
    def attribution(self) -> dict:
        """Which component closed the proof (see :func:`attribute`)."""
        return attribute(self.proof, self.lemmas, self.calculated) \
            if self.proof is not None else {}

    @property
    def status(self) -> str:
        return self.verdict.status

    @property
    def open_goals(self) -> tuple:
        """The goals left open by an Unknown result (the root goal if nothing was
        decomposed); empty when proved or refuted."""
        if self.verdict.status != "unknown":
            return ()
        if self.partial is not None:
            return self.partial.open_goals()
        return (self.goal,) if self.goal is not None else ()


def prove_problem(problem: Problem, checker: Checker, config: ProverConfig | None = None,
                  policy: Policy | None = None, on_event=None,
                  library: LemmaLibrary | None = None,
                  proved_cache: dict | None = None,
                  accept_unverified: bool = False, strong=None,
                  store=None) -> ProveResult:
    """Prove ``problem``.  ``policy`` is a Policy, or a factory taking the explorer's
    conjecture source (or None) and returning one; None means the overseer H.
    ``accept_unverified`` is the --no-verify ablation (proxy steps skip the gate).
    ``strong`` is an optional ``(name, prove_many)`` closer (cvc5 with induction) tried once on
    the root goal before decomposition; its leaf is recorded with its solver's name and
    re-checked with that solver by ``check-proof``.  ``store`` is an optional
    :class:`ida_ns.prover.lemma_store.LemmaStore` shared by the problems of a run: its lemmas
    whose definitions agree with this theory are replayed (every step re-applied, every leaf
    re-closed) into the library first, and this problem's lemmas are added to it at the end."""
    cfg = config or ProverConfig()
    t0 = time.perf_counter()
    deadline = t0 + cfg.budget_s

    root_goal = Goal(problem.theory, problem.goal)

    def done(verdict: Verdict, **kw) -> ProveResult:
        return ProveResult(verdict, time_s=time.perf_counter() - t0, goal=root_goal, **kw)

    # 1. consistency gate
    phase("gate")
    report = check_consistency(
        problem.theory,
        prove=lambda q, t: checker.prove_many([q], t)[0],
        timeout_s=min(1.0, cfg.budget_s / 4), deadline=t0 + max(1.0, cfg.budget_s / 2))
    if not report.ok:
        goal = Goal(problem.theory, problem.goal)
        cex = checker.counterexample(goal)
        if cex is not None and report.status != "inconsistent":
            return done(Refuted(cex, solver="testing"), counterexample=cex, consistency=report)
        return done(Unknown(f"theory {report.status}: {report.reason}", solver=cfg.solver),
                    consistency=report)

    goal = Goal(problem.theory, problem.goal)
    # 2. the strong closer on the root goal (a portfolio leaf): before the search, or (with
    #    root_parallel) in a thread beside testing and search; the first proof wins.
    phase("strong root")
    root = _RootAttempt(goal, strong, cfg, deadline)
    # 3. random testing (part of the symbolic layer: off in the --no-verify ablation)
    phase("random testing")
    cex = None if accept_unverified else checker.counterexample(goal)
    if cex is not None:
        return done(Refuted(cex, solver="testing"), counterexample=cex, consistency=report)
    if root.proof() is not None:
        return done(Proved(solver=root.name, time_s=time.perf_counter() - t0),
                    proof=root.proof(), consistency=report)
    library = library if library is not None else LemmaLibrary()
    proved_cache = proved_cache if proved_cache is not None else {}
    explorer = None
    if cfg.explore:
        from .explore import Explorer

        phase("exploration")
        explorer = Explorer(problem.theory, goal, seed=cfg.seed)
    conjectures = explorer.relevant if explorer else None
    if policy is None:
        policy = Overseer(conjectures=conjectures)
    elif not hasattr(policy, "propose"):
        policy = policy(conjectures)
    stuck = None
    if cfg.stuck_lemmas > 0 and not accept_unverified:
        from .stuck import StuckLemmas

        # Lemmas calculated from stuck step cases, proposed beside the policy's steps.
        stuck = StuckLemmas(problem.theory, limit=cfg.stuck_lemmas, seed=cfg.seed,
                            time_cap_s=0.25 * cfg.budget_s)
        policy = WithStuckLemmas(policy, stuck)
    budget = Budget(wall_s=cfg.budget_s * (cfg.first_phase if explorer else 1.0),
                    max_nodes=cfg.max_nodes, max_depth=cfg.max_depth,
                    leaf_timeout_s=cfg.leaf_timeout_s)
    leaves = None
    if strong is not None and cfg.strong_leaf_s > 0:
        from .search import StrongLeaves

        # Leaves z3 cannot close go to the strong closer with the same lemmas; the root goal
        # only once explored lemmas exist (and never in the --no-strong-root ablation).
        leaves = StrongLeaves(strong[0], strong[1], leaf_s=cfg.strong_leaf_s, min_depth=1,
                              root_with_lemmas=cfg.strong_root,
                              cap_s=cfg.strong_share * cfg.budget_s, busy=root.running)
    lemma_leaves = leaves.for_lemmas() if leaves is not None else None
    if store is not None and len(store):
        def close(solver, items, timeout):
            t = min(timeout, cfg.leaf_timeout_s if solver != (strong or ("",))[0]
                    else cfg.strong_leaf_s)
            if strong is not None and solver == strong[0]:
                from .verify import leaf_key

                out = []
                for g, ls in items:
                    v = strong[1]([g.query(ls)], t)[0]
                    if isinstance(v, Proved):  # a real call, this process: the kernel's
                        checker.solver_proved.add(leaf_key(g, ls, strong[0]))  # replay needs it
                    out.append(v)
                return out
            return checker.close_leaves(items, t)

        store.replay(goal, library, close,
                     min(deadline, time.perf_counter() + cfg.store_share * cfg.budget_s))
    search = Search(checker, policy, budget, library, proved_cache, on_event, deadline,
                    accept_unverified, leaves, stop=root.stop,
                    stop_on_refuted=cfg.stop_on_refuted and not accept_unverified)
    phase("search")
    result = search.run(goal)
    stats = result.stats
    refuted = root.refuted or result.refuted
    if refuted is not None and not accept_unverified:
        # A solver's validated counter-model of the goal itself (random testing found none,
        # e.g. values beyond its reach): re-checked by the ground evaluator, then reported.
        from .refute import recheck_refutation

        ok, why = recheck_refutation(goal, refuted)
        if ok:
            return done(Refuted(refuted.counterexample, solver=refuted.solver,
                                version=refuted.version, time_s=time.perf_counter() - t0),
                        counterexample=refuted.counterexample, consistency=report, stats=stats)
        result = type(result)(None, stats, f"{result.reason}; counter-model of "
                              f"{refuted.solver} not re-checked: {why}", result.partial)
    tried = proved = 0
    # 4. theory exploration
    if not result.proved and explorer is not None and not root.stop.is_set():
        lemma_policy = Overseer(conjectures=None, source="H")
        if stuck is not None:
            lemma_policy = WithStuckLemmas(lemma_policy, stuck)
        pending = False  # lemmas proved since the goal was last searched
        phase("lemma exploration")
        # Lemmas that need lemmas: a calculated lemma whose search failed is tried again
        # (at most RETRIES times) once another lemma has been proved since, with the larger
        # library (its stuck subgoals calculate the helper lemmas it needs, which are
        # proved in their turn).
        retry: list = []
        failed: dict = {}  # conjecture -> [library version at its last failure, tries]
        for conj in _lemma_stream(explorer, stuck, library, deadline, retry):
            is_calc = stuck is not None and conj in stuck.produced
            if time.perf_counter() >= deadline - 0.05 or root.stop.is_set():
                break
            if pending and deadline - time.perf_counter() < 0.8:
                break  # keep the rest for a last search of the goal with every lemma
            if conj in library:
                continue
            tried += 1
            lg = Goal(problem.theory, conj)
            lb = Budget(wall_s=cfg.lemma_budget_s, max_nodes=20, max_depth=3,
                        leaf_timeout_s=min(cfg.leaf_timeout_s, cfg.lemma_budget_s / 4))
            lr = Search(checker, lemma_policy, lb, library, proved_cache, on_event,
                        deadline, strong=lemma_leaves, stop=root.stop).run(lg)
            if not lr.proved:
                if is_calc:  # only calculated lemmas are retried
                    f = failed.setdefault(conj, [0, 0])
                    f[0], f[1] = library.version, f[1] + 1
                continue
            if library.add(lg, lr.proof):
                proved += 1
                explorer.proved(conj)
                # retry failed calculated lemmas that have not seen this library yet,
                # the most recently failed first (the lemma that needed this one)
                retry[:0] = [c for c, (v, n) in reversed(list(failed.items()))
                             if v < library.version and n <= RETRIES and c not in library
                             and c not in retry]
            pending = True
            if not is_calc and not explorer.goal_ready():
                continue  # a helper lemma: search the goal again once it looks provable
            remaining = deadline - time.perf_counter()
            if remaining <= 0.05:
                break
            pending = False
            mb = Budget(wall_s=min(remaining, max(0.5, cfg.budget_s * 0.15)),
                        max_nodes=60, max_depth=cfg.max_depth,
                        leaf_timeout_s=cfg.leaf_timeout_s)
            result = Search(checker, policy, mb, library, proved_cache, on_event,
                            deadline, accept_unverified, leaves, stop=root.stop).run(goal)
            _merge(stats, result.stats)
            if result.proved:
                break
        remaining = deadline - time.perf_counter()
        if pending and not result.proved and remaining > 0.1 and not root.stop.is_set():
            mb = Budget(wall_s=remaining, max_nodes=60, max_depth=cfg.max_depth,
                        leaf_timeout_s=cfg.leaf_timeout_s)
            result = Search(checker, policy, mb, library, proved_cache, on_event,
                            deadline, accept_unverified, leaves, stop=root.stop).run(goal)
            _merge(stats, result.stats)
    remaining = deadline - time.perf_counter()
    if not result.proved and strong is not None and cfg.strong_root and remaining > 1.0 \
            and not root.stop.is_set() and not root.running():
        # Time left (the search space or the conjectures ran out): the strong closer on the
        # root goal once more, for the rest of the budget, with the relevant proved lemmas.
        lemmas = library.relevant(goal)
        v = strong[1]([goal.query(lemmas)], remaining - 0.05)[0]
        if isinstance(v, Proved):
            from .verify import leaf_key

            checker.solver_proved.add(leaf_key(goal, lemmas, strong[0]))  # a real call
            result = type(result)(ProofNode(goal, Direct(lemmas), (), strong[0], v.time_s, "H"),
                                  stats)
    calls = leaves.calls if leaves is not None else 0
    if store is not None:
        store.record(problem.theory, library)
    if not result.proved:
        root.wait(deadline)
        if root.proof() is not None:
            return done(Proved(solver=root.name, time_s=time.perf_counter() - t0),
                        proof=root.proof(), consistency=report, stats=stats,
                        conjectures_tried=tried, lemmas_proved=proved, strong_calls=calls)
    if result.proved:
        used = used_lemmas(result.proof, library)
        # The kernel's last word: cached leaves re-run, the proof replayed through the rule.
        bad = [] if accept_unverified else checker.admit(goal, result.proof, used)
        if bad:
            return done(Unknown("proof not admitted: " + "; ".join(bad[:3]),
                                solver=cfg.solver),
                        consistency=report, stats=stats, conjectures_tried=tried,
                        lemmas_proved=proved)
        return done(Proved(solver=cfg.solver, time_s=time.perf_counter() - t0),
                    proof=result.proof, lemmas=used, consistency=report, stats=stats,
                    conjectures_tried=tried, lemmas_proved=proved, strong_calls=calls,
                    calculated=frozenset(stuck.produced) if stuck is not None
                    else frozenset())
    return done(Unknown(result.reason or "no proof found", solver=cfg.solver),
                consistency=report, stats=stats, conjectures_tried=tried,
                lemmas_proved=proved, strong_calls=calls, partial=result.partial)


ROOT_STRONG = "root strong leaf"
PROXY = "decomposition with proxy proposals"
LEMMAS = "decomposition with explored lemmas"
CALCULATED = "decomposition with calculated lemmas"
CVC5_LEAVES = "decomposition with cvc5 leaves"
Z3_LEAVES = "decomposition with z3 leaves"


def attribute(proof: ProofNode, lemmas: dict, calculated=frozenset()) -> dict:
    """Which component closed a proof.  ``closed_by`` is the most specific of: the root
    strong leaf (one leaf on the root goal, no lemmas, not z3), decomposition with proxy
    proposals (a step on the proof or a used lemma's proof came from a proxy), with lemmas
    calculated from stuck subgoals (one of ``calculated`` is used), with explored lemmas,
    with cvc5 leaves, with z3 leaves; the other fields count each part."""
    nodes = list(proof.nodes())
    for p in lemmas.values():
        nodes.extend(p.nodes())
    leaf_solvers = sorted({n.solver for n in nodes if not n.children
                           and isinstance(n.step, Direct) and n.solver})
    proxy_steps = sum(1 for n in nodes if not n.source.startswith("H"))
    root_strong = (not proof.children and isinstance(proof.step, Direct)
                   and not proof.step.lemmas and proof.solver not in ("z3", "cache", ""))
    calc_used = {l for l in lemmas if l in calculated} | {
        n.step.formula for n in nodes
        if isinstance(n.step, Lemma) and n.step.formula in calculated}
    if root_strong:
        closed_by = ROOT_STRONG
    elif proxy_steps:
        closed_by = PROXY
    elif calc_used:
        closed_by = CALCULATED
    elif lemmas:
        closed_by = LEMMAS
    elif any(s.startswith("cvc5") for s in leaf_solvers):
        closed_by = CVC5_LEAVES
    else:
        closed_by = Z3_LEAVES
    return {"closed_by": closed_by, "leaf_solvers": leaf_solvers, "lemmas": len(lemmas),
            "proxy_steps": proxy_steps,
            "calculated_lemmas": len(calc_used),
            "steps": sum(1 for n in nodes if not isinstance(n.step, Direct))}


class WithStuckLemmas:
    """A policy plus lemmas calculated from stuck subgoals (:mod:`ida_ns.prover.stuck`):
    for a goal with hypotheses (a step case), the calculated lemmas are proposed as ``Lemma``
    steps after the policy's own proposals, scored like its best induction step (the search
    adds a lemma's extra cost).  Every other attribute is the wrapped policy's."""

    def __init__(self, base, stuck, score: float = 1.0):
        self.base = base
        self.stuck = stuck
        self.score = score
        self.name = getattr(base, "name", "H")

    def __getattr__(self, name):
        return getattr(self.__dict__["base"], name)

    def propose(self, goal: Goal, depth: int) -> list:
        from .search import Proposal
        from .steps import Lemma, step_text

        props = list(self.base.propose(goal, depth))
        have = {p.step for p in props if p.step is not None}
        for i, c in enumerate(self.stuck(goal)):
            step = Lemma(c)
            if step not in have:
                props.append(Proposal(step, step_text(step), self.score - 0.3 * i, "H"))
        return props


class _RootAttempt:
    """The strong closer on the root goal, run in a thread (the solver works in its own
    process, so the thread only waits); ``stop`` is set when it proves the goal."""

    def __init__(self, goal: Goal, strong, cfg: ProverConfig, deadline: float):
        import threading

        self.stop = threading.Event()
        self.name = strong[0] if strong is not None else ""
        self._proof: ProofNode | None = None
        self.refuted: Refuted | None = None
        self._thread = None
        if strong is None or cfg.strong_s <= 0 or not cfg.strong_root:
            return
        t = min(cfg.strong_s, max(0.05, deadline - time.perf_counter()))

        def run():
            try:
                v = strong[1]([goal.query()], t)[0]
            except Exception:  # a failing closer is no proof; the search goes on
                return
            if isinstance(v, Proved):
                self._proof = ProofNode(goal, Direct(), (), self.name, v.time_s, "H")
                self.stop.set()
            elif isinstance(v, Refuted):
                self.refuted = v  # re-checked by the caller before it is reported

        self._thread = threading.Thread(target=run, name="ida-ns-root-attempt", daemon=True)
        self._thread.start()
        if not cfg.root_parallel:
            self._thread.join()

    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def proof(self) -> ProofNode | None:
        return self._proof

    def wait(self, deadline: float) -> None:
        if self._thread is not None:
            self._thread.join(max(0.0, deadline - time.perf_counter()))


RETRIES = 2  # a failed calculated lemma is searched again at most this many times


def _lemma_stream(explorer, stuck, library: LemmaLibrary, deadline: float, retry=None):
    """Conjectures for the exploration phase: the lemmas calculated from stuck subgoals
    first (best rank first: small ones, which are the most general and the cheapest to try,
    including those calculated meanwhile by the lemma searches and the goal's re-searches),
    then theory exploration's."""
    tried: set = set()
    explored = explorer.conjectures(deadline)
    while True:
        if retry:
            nxt = retry.pop(0)
            if nxt not in library:
                yield nxt
            continue
        nxt = None
        if stuck is not None:
            pending = [(stuck.rank.get(c, 0.0), i, c) for i, c in enumerate(stuck.order)
                       if c not in tried and c not in library]
            nxt = min(pending)[2] if pending else None
        if nxt is not None:
            tried.add(nxt)
            yield nxt
            continue
        try:
            yield next(explored)
        except StopIteration:
            return


def _merge(into: SearchStats, other: SearchStats) -> None:
    into.expanded += other.expanded
    into.proposed.update(other.proposed)
    into.accepted.update(other.accepted)
    into.rejected.update(other.rejected)
    into.unparsed.update(other.unparsed)
    into.used.update(other.used)
    into.overrides += other.overrides
    into.leaves += other.leaves
    into.time_s += other.time_s


def used_lemmas(proof: ProofNode, library: LemmaLibrary) -> dict:
    """The lemmas a proof depends on, transitively, each with its proof."""
    out: dict = {}
    todo = list(proof.lemmas_used())
    while todo:
        l = todo.pop()
        if l in out or l not in library.proofs:
            continue
        out[l] = library.proofs[l]
        todo.extend(out[l].lemmas_used())
    return out
