"""Search policies backed by neural proxies, and the escalation to the overseer H.

The proxy's text is *data*: every candidate is parsed into a typed step
(:func:`ida_ns.prover.steps.parse_step`); text that does not parse becomes a proposal with
``step=None`` (rejected and counted by the search), never solver input.
"""

from __future__ import annotations

import math
from typing import Sequence

from .errors import IdaNsError
from .prover.goal import Goal
from .prover.overseer import Overseer
from .prover.search import Proposal
from .prover.steps import parse_step

MAX_CONTEXT_CHARS = 600


def goal_prompt(goal: Goal) -> tuple[str, str]:
    """(goal text, context text) shown to a proxy: the conclusion, then the hypotheses and
    fixed variables (truncated)."""
    from .logic.printer import print_term

    ctx = []
    if goal.fixed:
        ctx.append("fix " + " ".join(f"({v.name} {v.sort})" for v in goal.fixed))
    for h in goal.hyps:
        ctx.append("hyp " + print_term(h))
    text = " ; ".join(ctx)
    if len(text) > MAX_CONTEXT_CHARS:
        text = text[:MAX_CONTEXT_CHARS]
    return print_term(goal.concl), text


def parse_candidates(goal: Goal, cands, source: str) -> list[Proposal]:
    out = []
    for c in cands:
        try:
            step = parse_step(c.text, goal)
            out.append(Proposal(step, c.text, c.logprob, source))
        except IdaNsError as e:
            out.append(Proposal(None, c.text, c.logprob, source, str(e)[:300]))
        except RecursionError:
            out.append(Proposal(None, c.text[:200], c.logprob, source, "too deeply nested"))
    return out


def top_probability(logprob: float) -> float:
    """A candidate's probability from its log-probability, robust to a broken proxy
    (NaN or positive scores read as "unsure"/capped, never as an overflow)."""
    if not isinstance(logprob, (int, float)) or not math.isfinite(logprob):
        return 0.0
    return math.exp(min(0.0, float(logprob)))


class ProxyPolicy:
    """The proxy alone (no overseer): its k sampled candidates, best log-probability first."""

    name = "proxy"

    def __init__(self, proxy, k: int = 6, seed: int = 0, drop_direct: bool = True):
        self.proxy = proxy
        self.k = k
        self.seed = seed
        self.calls = 0
        # With the gate on, the search already tried Direct when the goal was created; a
        # "direct" candidate is then redundant and is dropped rather than proposed.
        self.drop_direct = drop_direct

    def candidates(self, goal: Goal):
        g, c = goal_prompt(goal)
        self.calls += 1
        cands = self.proxy.propose(g, c, self.k, seed=self.seed + self.calls)
        if self.drop_direct:
            cands = [x for x in cands if x.text.strip() != "direct"]
        return cands

    def propose(self, goal: Goal, depth: int) -> list[Proposal]:
        return parse_candidates(goal, self.candidates(goal), "proxy")


class EscalatingPolicy:
    """Proxy first; escalate to the overseer H when the proxy is unsure (top candidate
    probability below ``threshold``, or ensemble members disagree) or when all its
    candidates fail (the search calls :meth:`fallback`).  Escalated proposals carry the
    source ``"H-override"`` so the search counts them."""

    name = "proxy+H"

    def __init__(self, proxy, overseer: Overseer | None = None, k: int = 6,
                 threshold: float = 0.35, members: Sequence = (), max_disagreement: float = 0.5,
                 seed: int = 0, drop_direct: bool = True):
        self.proxy_policy = ProxyPolicy(proxy, k, seed, drop_direct)
        self.overseer = overseer or Overseer()
        self.threshold = threshold
        self.members = list(members)
        self.max_disagreement = max_disagreement

    def _unsure(self, goal: Goal, cands) -> bool:
        if not cands:
            return True
        if top_probability(cands[0].logprob) < self.threshold:
            return True
        if len(self.members) > 1:
            from .proxy.model import ensemble_disagreement

            g, c = goal_prompt(goal)
            if ensemble_disagreement(self.members, g, c) > self.max_disagreement:
                return True
        return False

    def propose(self, goal: Goal, depth: int) -> list[Proposal]:
        cands = self.proxy_policy.candidates(goal)
        props = parse_candidates(goal, cands, "proxy")
        if self._unsure(goal, cands) or not any(p.step is not None for p in props):
            return props + self.fallback(goal, depth)
        return props

    def fallback(self, goal: Goal, depth: int) -> list[Proposal]:
        return [Proposal(p.step, p.text, p.score - 0.5, "H-override")
                for p in self.overseer.propose(goal, depth)]
