"""AND-OR best-first proof search over decomposition steps.

OR nodes are goals; AND nodes are accepted steps, whose subgoals must all be proved.  Any
*policy* (the overseer H, a neural proxy, a proxy escalating to H) supplies candidate steps with
scores; every candidate passes the verify gate (:class:`ida_ns.prover.verify.Checker`) before
it becomes an AND node, and every leaf is closed by a solver.  The cheapest open goal (path cost
from the root: step cost, goal size, depth) is expanded next, until the root is proved, nothing
is left, or the budget (wall time, expansions) runs out.
"""

from __future__ import annotations

import heapq
import itertools
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Callable, Protocol, Sequence

from ..logic.ast import Term, size
from ..verdict import Proved, Refuted
from .goal import Goal
from .proof import LemmaLibrary, ProofNode
from .steps import Direct, Lemma, Step
from .verify import Accepted, Checker

OPEN, PROVED, FAILED = "open", "proved", "failed"


@dataclass(frozen=True)
class Proposal:
    """A candidate step from a policy: ``step`` is None when its text did not parse."""

    step: Step | None
    text: str
    score: float = 0.0  # log-probability-like: 0 is best, more negative is worse
    source: str = "H"
    error: str = ""


class Policy(Protocol):
    name: str

    def propose(self, goal: Goal, depth: int) -> Sequence[Proposal]: ...


@dataclass
class Budget:
    wall_s: float = 5.0  # whole search
    max_nodes: int = 400  # goal expansions
    max_depth: int = 6  # steps on a path from the root
    leaf_timeout_s: float = 0.5  # per Direct leaf check
    max_steps_per_goal: int = 12  # proposals kept per expansion


@dataclass
class SearchStats:
    expanded: int = 0
    proposed: Counter = field(default_factory=Counter)  # by source
    accepted: Counter = field(default_factory=Counter)  # by source
    rejected: Counter = field(default_factory=Counter)  # by source
    unparsed: Counter = field(default_factory=Counter)  # by source
    used: Counter = field(default_factory=Counter)  # steps on the final proof, by source
    overrides: int = 0  # escalations to the overseer
    leaves: int = 0
    time_s: float = 0.0
    rejections: list = field(default_factory=list)  # (text, reason) samples

    def as_dict(self) -> dict:
        return {"expanded": self.expanded, "proposed": dict(self.proposed),
                "accepted": dict(self.accepted), "rejected": dict(self.rejected),
                "unparsed": dict(self.unparsed), "used": dict(self.used),
                "overrides": self.overrides, "leaves": self.leaves,
                "time_s": round(self.time_s, 3)}


class StrongLeaves:
    """An induction-capable closer (cvc5 with induction) for leaves z3 did not close, with
    the proved lemmas that z3 gets as hypotheses too.  ``min_depth`` 1 keeps it off the root
    goal (the root attempt is separate; with ``root_with_lemmas`` the root is tried again only
    when lemmas are available).  Its time is capped by ``cap_s`` over all searches sharing it.
    """

    def __init__(self, name: str, prove_many, leaf_s: float = 0.5, min_depth: int = 1,
                 root_with_lemmas: bool = False, cap_s: float = float("inf"), busy=None):
        self.busy = busy  # () -> bool: the closer's worker is in use (the root attempt)
        self.name = name
        self.prove_many = prove_many
        self.leaf_s = leaf_s
        self.min_depth = min_depth
        self.root_with_lemmas = root_with_lemmas
        self.cap_s = cap_s
        self.spent_s = 0.0
        self.calls = 0
        self.proved = 0

    def for_lemmas(self) -> "StrongLeaves":
        """The same closer (sharing its cap) allowed on the root of a lemma search."""
        return _DepthView(self, 0)  # type: ignore[return-value]

    def eligible(self, depth: int, lemmas: tuple) -> bool:
        if self.spent_s >= self.cap_s or (self.busy is not None and self.busy()):
            return False
        return depth >= self.min_depth or (self.root_with_lemmas and bool(lemmas))

    def close(self, checker: Checker, goal: Goal, lemmas: tuple, end: float):
        from .verify import leaf_key

        t = min(self.leaf_s, end - time.perf_counter(), self.cap_s - self.spent_s)
        if t < 0.05:
            return None
        key = leaf_key(goal, lemmas, self.name)
        hit = checker.cache.get(key, t)
        # A cache is never evidence: a cached "proved" counts only if this process's own
        # solver call proved it (the kernel's replay checks the same set).
        if hit is not None and (not isinstance(hit, Proved) or key in checker.solver_proved):
            return hit
        t0 = time.perf_counter()
        v = self.prove_many([goal.query(lemmas)], t)[0]
        self.spent_s += time.perf_counter() - t0
        self.calls += 1
        self.proved += isinstance(v, Proved)
        if isinstance(v, Proved):
            checker.solver_proved.add(key)  # a real call of the strong closer, this process
        checker.cache.put(key, v, t)
        return v


class _DepthView:
    """A StrongLeaves with another minimum depth, sharing the original's counters."""

    def __init__(self, base: StrongLeaves, min_depth: int):
        self._base = base
        self.min_depth = min_depth
        self.name = base.name

    def eligible(self, depth: int, lemmas: tuple) -> bool:
        b = self._base
        if b.spent_s >= b.cap_s or (b.busy is not None and b.busy()):
            return False
        return depth >= self.min_depth

    def close(self, checker, goal, lemmas, end):
        return self._base.close(checker, goal, lemmas, end)


class _ONode:
    __slots__ = ("goal", "key", "parent", "depth", "cost", "status", "children", "proof",
                 "expanded", "lib_version", "source")

    def __init__(self, goal: Goal, parent, depth: int, cost: float):
        self.goal = goal
        self.key = goal.key()
        self.parent = parent  # _ANode or None
        self.depth = depth
        self.cost = cost
        self.status = OPEN
        self.children: list[_ANode] = []
        self.proof: ProofNode | None = None
        self.expanded = False
        self.lib_version = -1


class _ANode:
    __slots__ = ("step", "parent", "children", "status", "source", "text")

    def __init__(self, step: Step, parent: _ONode, source: str, text: str):
        self.step = step
        self.parent = parent
        self.children: list[_ONode] = []
        self.status = OPEN
        self.source = source
        self.text = text


@dataclass
class SearchResult:
    proof: ProofNode | None
    stats: SearchStats
    reason: str = ""
    partial: object = None  # PartialNode: how far an unfinished search got (None if proved)
    # a solver's (validated) Refuted verdict on the root goal's own leaf, without lemmas
    refuted: object = None

    @property
    def proved(self) -> bool:
        return self.proof is not None


class Search:
    """One best-first search.  ``proved_cache`` (goal key -> proof) and the lemma library are
    shared across searches of a run."""

    def __init__(self, checker: Checker, policy: Policy, budget: Budget | None = None,
                 library: LemmaLibrary | None = None,
                 proved_cache: dict[str, ProofNode] | None = None,
                 on_event: Callable[[str, dict], None] | None = None,
                 deadline: float | None = None, accept_unverified: bool = False,
                 strong: "StrongLeaves | None" = None, stop=None,
                 stop_on_refuted: bool = False):
        # True: a solver's Refuted verdict on the root goal's own leaf ends the search (the
        # result carries it; the caller re-checks the model before reporting it)
        self.stop_on_refuted = stop_on_refuted
        self.accept_unverified = accept_unverified  # ablation only (--no-verify)
        self.strong = strong  # an induction-capable closer for leaves z3 could not close
        self.stop = stop  # a threading.Event: set when another attempt proved the goal
        self.checker = checker
        self.policy = policy
        self.budget = budget or Budget()
        self.library = library if library is not None else LemmaLibrary()
        self.proved_cache = proved_cache if proved_cache is not None else {}
        self.on_event = on_event
        self.deadline = deadline
        self.stats = SearchStats()
        self._tie = itertools.count()

    # ---- public --------------------------------------------------------------------------
    def run(self, goal: Goal) -> SearchResult:
        t0 = time.perf_counter()
        end = t0 + self.budget.wall_s
        if self.deadline is not None:
            end = min(end, self.deadline)
        root = _ONode(goal, None, 0, 0.0)
        self._end = end
        saved_deadline = self.checker.deadline
        self.checker.deadline = end
        try:
            return self._run(root, goal, t0, end)
        finally:
            self.checker.deadline = saved_deadline

    def _run(self, root, goal, t0, end) -> SearchResult:
        self.root_refuted = None
        self._try_direct([root])
        if self.root_refuted is not None and root.status == OPEN and self.stop_on_refuted:
            # the solver found a (validated) counter-model of the goal itself: no
            # decomposition can prove it; the caller re-checks the model
            from .partial import partial_tree

            self.stats.time_s = time.perf_counter() - t0
            return SearchResult(None, self.stats, "refuted by " + self.root_refuted.solver,
                                partial_tree(root), refuted=self.root_refuted)
        frontier: list = []
        if root.status == OPEN:
            heapq.heappush(frontier, (0.0, next(self._tie), root))
        reason = ""
        while root.status == OPEN:
            if time.perf_counter() >= end:
                reason = "budget: wall time"
                break
            if self.stop is not None and self.stop.is_set():
                reason = "stopped: proved by another attempt"
                break
            if self.stats.expanded >= self.budget.max_nodes:
                reason = "budget: nodes"
                break
            node = self._pop(frontier)
            if node is None:
                reason = "search space exhausted"
                break
            if node.lib_version != self.library.version:
                # Leaves are closed lazily, in best-first order: the first time a goal comes
                # up (or when new lemmas arrived), try Direct on it together with the sibling
                # subgoals of its step, which must all be proved anyway.
                group = [node]
                if node.parent is not None:
                    group += [c for c in node.parent.children if c is not node
                              and c.status == OPEN and c.lib_version != self.library.version]
                self._try_direct(group)
                if node.status != OPEN or not self._live(node):
                    continue
            if node.depth >= self.budget.max_depth:
                self._mark_failed(node)
                continue
            self._expand(node, frontier, end)
        self.stats.time_s = time.perf_counter() - t0
        if root.status == PROVED:
            self._count_used(root.proof)
            return SearchResult(root.proof, self.stats)
        from .partial import partial_tree

        return SearchResult(None, self.stats, reason or "no proof found", partial_tree(root),
                            refuted=self.root_refuted)

    # ---- internals -----------------------------------------------------------------------
    def _pop(self, frontier) -> _ONode | None:
        while frontier:
            _, _, node = heapq.heappop(frontier)
            if node.status == OPEN and not node.expanded and self._live(node):
                return node
        return None

    @staticmethod
    def _live(node: _ONode) -> bool:
        a = node.parent
        while a is not None:
            if a.status != OPEN or a.parent.status != OPEN:
                return False
            a = a.parent.parent
        return True

    def _lemmas_for(self, goal: Goal) -> tuple[Term, ...]:
        return self.library.relevant(goal)

    def _try_direct(self, nodes: list[_ONode]) -> None:
        todo = []
        for n in nodes:
            hit = self.proved_cache.get(n.key)
            if hit is not None:
                self._mark_proved(n, hit)
            else:
                todo.append(n)
        if not todo:
            return
        lemma_sets = [self._lemmas_for(n.goal) for n in todo]
        remaining = getattr(self, "_end", time.perf_counter() + 1e9) - time.perf_counter()
        timeout = max(0.05, min(self.budget.leaf_timeout_s, remaining))
        verdicts = self.checker.close_leaves([(n.goal, ls) for n, ls in zip(todo, lemma_sets)],
                                             timeout)
        self.stats.leaves += len(todo)
        for n, ls, v in zip(todo, lemma_sets, verdicts):
            n.lib_version = self.library.version
            if isinstance(v, Refuted) and n.parent is None and not ls:
                self.root_refuted = v
            if isinstance(v, Proved) and n.status == OPEN:
                # a cached verdict names the solver that closed the leaf, for check-proof
                by = self.checker.solver if v.solver == "cache" else v.solver
                self._mark_proved(n, ProofNode(n.goal, Direct(ls), (), by, v.time_s, "H"))
        if self.strong is not None:
            for n, ls in zip(todo, lemma_sets):
                if n.status != OPEN or not self._live(n) or not self.strong.eligible(n.depth, ls):
                    continue
                v = self.strong.close(self.checker, n.goal, ls, self._end)
                self.stats.leaves += 1
                if isinstance(v, Proved) and n.status == OPEN:
                    self._mark_proved(n, ProofNode(n.goal, Direct(ls), (), self.strong.name,
                                                   v.time_s, "H"))

    def _expand(self, node: _ONode, frontier, end: float) -> None:
        node.expanded = True
        self.stats.expanded += 1
        new_children: list[_ONode] = []
        proposals = list(self.policy.propose(node.goal, node.depth))
        escalated = self._consider(node, proposals, new_children, end)
        fallback = getattr(self.policy, "fallback", None)
        if not node.children and fallback is not None and not escalated \
                and time.perf_counter() < end:
            # every candidate failed: escalate to the overseer
            escalated = self._consider(node, list(fallback(node.goal, node.depth)),
                                       new_children, end)
        if escalated:
            self.stats.overrides += 1
        if not node.children:
            self._mark_failed(node)
            return
        for c in new_children:
            hit = self.proved_cache.get(c.key)
            if hit is not None:
                self._mark_proved(c, hit)
        for c in new_children:
            if c.status == OPEN:
                heapq.heappush(frontier, (c.cost, next(self._tie), c))

    def _consider(self, node: _ONode, proposals: list[Proposal], new_children: list,
                  end: float) -> bool:
        """Gate each proposal; accepted ones become AND nodes.  Returns whether any proposal
        was an escalation to the overseer."""
        escalated = any(p.source.endswith("override") for p in proposals)
        ancestors = self._ancestor_keys(node)
        kept = 0
        for p in proposals:
            if time.perf_counter() >= end:
                break
            src = p.source
            self.stats.proposed[src] += 1
            if p.step is None:
                self.stats.unparsed[src] += 1
                self._reject(p, p.error or "unparsed")
                continue
            if isinstance(p.step, Direct):
                if self.accept_unverified and not src.startswith("H"):
                    # ablation (--no-verify): the proxy's word closes the goal
                    self.stats.accepted[src] += 1
                    self._mark_proved(node, ProofNode(node.goal, Direct(()), (), "unverified",
                                                      0.0, src))
                    return escalated
                # Direct is tried when a node is created; a proposal of it is correct
                # exactly when that try succeeded (the node would not be open then).
                self.stats.rejected[src] += 1
                self._reject(p, "direct: solver could not close the goal")
                continue
            if kept >= self.budget.max_steps_per_goal:
                break
            if self.accept_unverified and not src.startswith("H"):
                result = self.checker.gate_unverified(node.goal, p.step)
            else:
                result = self.checker.gate(node.goal, p.step)
            if not isinstance(result, Accepted):
                self.stats.rejected[src] += 1
                self._reject(p, result.reason)
                continue
            if any(g.key() in ancestors for g in result.subgoals):
                self.stats.rejected[src] += 1
                self._reject(p, "circular: a subgoal repeats an ancestor goal")
                continue
            self.stats.accepted[src] += 1
            kept += 1
            a = _ANode(p.step, node, src, p.text)
            node.children.append(a)
            step_cost = 1.0 - p.score + (1.5 if isinstance(p.step, Lemma) else 0.0)
            for g in result.subgoals:
                c = _ONode(g, a, node.depth + 1,
                           node.cost + step_cost + 0.02 * size(g.concl))
                a.children.append(c)
                new_children.append(c)
            if self.accept_unverified and not src.startswith("H") \
                    and isinstance(p.step, Lemma):
                # ablation: the lemma is assumed, not proved
                self._mark_proved(a.children[0], ProofNode(
                    a.children[0].goal, Direct(()), (), "assumed", 0.0, src))
            if self.on_event:
                self.on_event("amplify", {"goal": node.key, "goal_text": _brief(node.goal),
                                          "step": p.text, "source": src,
                                          "subgoals": [c.key for c in a.children]})
        return escalated

    @staticmethod
    def _ancestor_keys(node: _ONode) -> set[str]:
        keys = set()
        n = node
        while n is not None:
            keys.add(n.key)
            n = n.parent.parent if n.parent is not None else None
        return keys

    def _reject(self, p: Proposal, reason: str) -> None:
        if len(self.stats.rejections) < 50:
            self.stats.rejections.append((p.text[:200], reason[:200]))
        if self.on_event:
            self.on_event("reject", {"step": p.text[:500], "source": p.source,
                                     "reason": reason[:500]})

    def _mark_proved(self, node: _ONode, proof: ProofNode) -> None:
        if node.status != OPEN:
            return
        node.status = PROVED
        node.proof = proof
        self.proved_cache[node.key] = proof
        # A proved closed lemma subgoal joins the library.
        a = node.parent
        if a is not None and isinstance(a.step, Lemma) and a.children and a.children[0] is node:
            self.library.add(node.goal, proof)
        if a is None or a.status != OPEN:
            return
        if all(c.status == PROVED for c in a.children):
            a.status = PROVED
            parent = a.parent
            self._mark_proved(parent, ProofNode(parent.goal, a.step,
                                                tuple(c.proof for c in a.children),
                                                source=a.source))

    def _mark_failed(self, node: _ONode) -> None:
        if node.status != OPEN:
            return
        node.status = FAILED
        a = node.parent
        if a is None or a.status != OPEN:
            return
        a.status = FAILED
        parent = a.parent
        if parent.expanded and all(x.status == FAILED for x in parent.children):
            self._mark_failed(parent)

    def _count_used(self, proof: ProofNode | None) -> None:
        stack = [proof] if proof else []
        while stack:
            p = stack.pop()
            self.stats.used[p.source] += 1
            stack.extend(p.children)


def _brief(goal: Goal, limit: int = 300) -> str:
    """The goal's printed text beside its hash in audit records (abbreviated)."""
    text = goal.text()
    return text if len(text) <= limit else text[: limit - 3] + "..."
