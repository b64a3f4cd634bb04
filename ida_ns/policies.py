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

MAX_CONTEXT_CHARS = 900
MAX_DEF_CHARS = 160  # per function definition shown in the prompt
# A recalled step (applied to this very goal, in canonical names, by a verified training
# proof) is scored this far above the model's best candidate: about 7x more probable.
RECALL_BOOST = 2.0


def goal_prompt(goal: Goal, canonical: bool = True) -> tuple[str, str]:
    """(goal text, context text) shown to a proxy: the conclusion; then the fixed variables
    and hypotheses, the signatures of the functions the goal mentions, and as much of their
    definitions as fits (each cut at ``MAX_DEF_CHARS``), so the proxy of a theory it never
    trained on sees what the symbols mean.  ``canonical``: the goal's variables read
    ``v0, v1, ...`` and its functions their fingerprint names (:mod:`ida_ns.proxy.canon`;
    definitions keep their own parameter names, their functions are renamed too)."""
    g, c, _ = prompt_parts(goal, canonical)
    return g, c


def prompt_parts(goal: Goal, canonical: bool = True) -> tuple[str, str, dict]:
    """:func:`goal_prompt` and the renaming it applied (goal name -> canonical name)."""
    from .logic.printer import print_term
    from .proxy.canon import canonical_names, rename_tokens

    names = canonical_names(goal) if canonical else {}
    ctx = []
    if goal.fixed:
        ctx.append("fix " + " ".join(f"({names.get(v.name, v.name)} {v.sort})"
                                     for v in goal.fixed))
    for h in goal.hyps:
        ctx.append("hyp " + rename_tokens(print_term(h), names))
    if canonical:
        from .proxy.canon import function_names

        fn = function_names(goal.theory)
        ctx.extend(rename_tokens(d, fn) for d in _definitions(goal))
    else:
        ctx.extend(_definitions(goal))
    text = " ; ".join(ctx)
    if len(text) > MAX_CONTEXT_CHARS:
        text = text[:MAX_CONTEXT_CHARS]
    return rename_tokens(print_term(goal.concl), names), text, names


def canonical_step(goal: Goal, text: str) -> str:
    """A step's text in the goal's canonical names (what the proxy is trained to write)."""
    from .proxy.canon import canonical_names, rename_tokens

    return rename_tokens(text, canonical_names(goal))


def _definitions(goal: Goal) -> list[str]:
    """``sig f (A B) C`` for every defined function the goal uses (in order of first use),
    then ``def f = body`` (truncated) for the same functions."""
    from .logic.ast import symbols
    from .logic.printer import print_term

    th = goal.theory
    seen: list = []
    for t in (goal.concl, *goal.hyps):
        for name in sorted(symbols(t)):
            d = th.fundef(name)
            if d is not None and d not in seen:
                seen.append(d)
    from .logic.printer import quote

    sigs = [f"sig {quote(d.name)} (" + " ".join(str(v.sort) for v in d.params) + f") {d.ret}"
            for d in seen]
    defs = []
    for d in seen:
        try:
            body = print_term(d.body)
        except Exception:  # noqa: BLE001 - a printing corner case must not stop a prompt
            continue
        params = " ".join(v.name for v in d.params)
        defs.append(f"def ({quote(d.name)} {params}) = {body}"[:MAX_DEF_CHARS])
    return sigs + defs


def normalized_score(c) -> float:
    """Length-normalised log-probability (per generated token, ``<eos>`` included): long
    lemmas are not punished for their length against ``induct x``.  Proxies that do not
    report token counts are scored by their total log-probability."""
    n = getattr(c, "tokens", 0) or 0
    lp = c.logprob if isinstance(c.logprob, (int, float)) and math.isfinite(c.logprob) \
        else -1e9
    return lp / n if n > 0 else lp


def parse_candidates(goal: Goal, cands, source: str) -> list[Proposal]:
    out = []
    for c in cands:
        score = normalized_score(c)
        try:
            step = parse_step(c.text, goal)
            out.append(Proposal(step, c.text, score, source))
        except IdaNsError as e:
            out.append(Proposal(None, c.text, score, source, str(e)[:300]))
        except RecursionError:
            out.append(Proposal(None, c.text[:200], score, source, "too deeply nested"))
    return out


def top_probability(logprob: float) -> float:
    """A candidate's probability from its log-probability, robust to a broken proxy
    (NaN or positive scores read as "unsure"/capped, never as an overflow)."""
    if not isinstance(logprob, (int, float)) or not math.isfinite(logprob):
        return 0.0
    return math.exp(min(0.0, float(logprob)))


def proposal_hit(step, proposed) -> bool:
    """Whether a verified proof's step text is among the proxy's proposed texts (a tuple;
    a single text in logs of proxies that proposed one step)."""
    if step is None:
        return False
    return step in proposed if isinstance(proposed, (tuple, list)) else step == proposed


class Calibrator:
    """Histogram-binning calibration of the proxy's raw confidence (its best step's
    probability) into P(the best step is the step a verified proof of the goal applied),
    fitted on a
    round's amplification log; identity until fitted.  Stored in the generation card."""

    def __init__(self, edges=(), rates=()):
        self.edges = tuple(edges)
        self.rates = tuple(rates)

    @classmethod
    def fit(cls, data, bins: int = 10) -> "Calibrator":
        """``data``: (raw confidence, outcome 0/1) pairs.  Laplace-smoothed bin rates."""
        if len(data) < 2 * bins:
            return cls()
        edges = tuple(i / bins for i in range(1, bins))
        hits, tots = [0] * bins, [0] * bins
        for conf, y in data:
            b = _bin(conf, edges)
            hits[b] += int(bool(y))
            tots[b] += 1
        prior = sum(hits) / len(data)
        rates = tuple((h + 2 * prior) / (t + 2) for h, t in zip(hits, tots))
        return cls(edges, rates)

    def __call__(self, raw: float) -> float:
        if not self.rates:
            return raw
        return self.rates[_bin(raw, self.edges)]

    def to_dict(self) -> dict:
        return {"edges": list(self.edges), "rates": list(self.rates)}

    @classmethod
    def from_dict(cls, d) -> "Calibrator":
        d = d or {}
        return cls(d.get("edges", ()), d.get("rates", ()))


def _bin(conf: float, edges) -> int:
    i = 0
    while i < len(edges) and conf >= edges[i]:
        i += 1
    return i


def expected_calibration_error(data, bins: int = 10) -> float | None:
    """ECE of (confidence, outcome) pairs over equal-width bins; None without data."""
    if not data:
        return None
    edges = tuple(i / bins for i in range(1, bins))
    groups: dict[int, list] = {}
    for conf, y in data:
        groups.setdefault(_bin(conf, edges), []).append((conf, int(bool(y))))
    err = 0.0
    for g in groups.values():
        err += len(g) * abs(sum(c for c, _ in g) / len(g) - sum(y for _, y in g) / len(g))
    return round(err / len(data), 4)


def _logsumexp(xs) -> float | None:
    """``log(sum(exp(x)))`` over the finite ``xs`` (None when there is none)."""
    xs = [x for x in xs if math.isfinite(x)]
    if not xs:
        return None
    m = max(xs)
    return m + math.log(sum(math.exp(x - m) for x in xs))


def _alpha_key(theory, formula) -> str | None:
    """A closed formula's text up to the names of its bound variables (twins offered under
    other variable names are one lemma)."""
    if formula is None:
        return None
    from .logic.printer import print_term
    from .proxy.canon import canonical_names, rename_tokens

    try:
        return rename_tokens(print_term(formula), canonical_names(Goal(theory, formula)))
    except Exception:  # noqa: BLE001 - a formula that does not print is no twin of another
        return None


class ProxyPolicy:
    """The proxy alone (no overseer): its k sampled candidates, best score first.

    ``prefetch``: after proposing for a goal, the candidates for *all* subgoals of its
    proposed steps (the next frontier) are sampled in one batch and cached, so the proxy works
    on many frontier nodes per call (``None`` = on when the proxy runs on CUDA, where a batch
    costs about what one prompt does; on a CPU it is extra work)."""

    name = "proxy"
    value_weight = 0.5

    def __init__(self, proxy, k: int = 6, seed: int = 0, drop_direct: bool = True,
                 prefetch: bool | None = None, rank: bool = True, max_proposals: int = 6,
                 lemma_slots: int = 2):
        self.proxy = proxy
        self.rank = rank  # rank samples + grammar steps + memory lemmas by likelihood
        self.max_proposals = max_proposals  # proposals handed to the search per goal
        self.lemma_slots = lemma_slots  # of them, reserved for memory lemmas (see _select)
        self.k = k
        self.seed = seed
        self.calls = 0
        self.batches = 0  # proxy calls that sampled more than one goal
        # (goal key, best step proposed, raw confidence) per goal proposed for
        self.log: list = []
        self.last_confidence = 0.0
        # With the gate on, the search already tried Direct when the goal was created; a
        # "direct" candidate is then redundant and is dropped rather than proposed.
        self.drop_direct = drop_direct
        if prefetch is None:
            dev = getattr(proxy, "device", None)
            prefetch = getattr(dev, "type", "cpu") == "cuda"
        self.prefetch = prefetch and hasattr(proxy, "propose_batch")
        self._cache: dict[str, list] = {}

    def candidates(self, goal: Goal):
        """The proxy's candidate steps for ``goal``, best first, in the goal's own names.

        A proxy that scores text (``score_batch``, the HF model) ranks the union of its own
        text (greedy + ``k`` samples; none with ``k = 0``), the legal steps of the grammar
        over the goal and its lemma memory
        (:mod:`ida_ns.proxy.candidates`): each candidate's ``logprob`` is then the model's
        log-likelihood renormalised over that set, so the top candidate's probability is the
        model's confidence in its choice.  Other proxies (scripted ones) give their samples."""
        key = goal.key()
        canon = bool(getattr(self.proxy, "canonical_names", False))
        g, c, names = prompt_parts(goal, canon)
        ranking = self.rank and getattr(self.proxy, "score_batch", None) is not None
        cands = self._cache.pop(key, None)
        if cands is None and not self._generates():
            cands = []  # k = 0: the proxy only ranks (no text generation)
        if cands is None:
            self.calls += 1
            cands = self.proxy.propose(g, c, self.k, seed=self.seed + self.calls)
        if canon:
            from .proxy import Candidate
            from .proxy.canon import inverse, rename_tokens

            inv = inverse(names)
            cands = [Candidate(rename_tokens(x.text, inv), x.logprob,
                               getattr(x, "tokens", 0)) for x in cands]
        if ranking:
            cands = self._ranked(goal, g, c, names, cands)
        if self.drop_direct:
            cands = [x for x in cands if x.text.strip() != "direct"]
        return sorted(cands, key=lambda x: -normalized_score(x))

    def _ranked(self, goal: Goal, g: str, c: str, names: dict, sampled) -> list:
        from .proxy import Candidate
        from .proxy.candidates import grammar_steps
        from .proxy.canon import rename_tokens

        # "direct" is a candidate only where it is not already tried on every goal: in the
        # --no-verify ablation (drop_direct False) the proxy's "direct" is its own word
        pool = [x.text for x in sampled] + ([] if self.drop_direct else ["direct"]) \
            + grammar_steps(goal)
        memory = getattr(self.proxy, "memory", None)
        recalled = []
        # the goal and its hypotheses up to bound names: a lemma restating one of them (a
        # twin a training proof once took from its library) is no step here
        known = {_alpha_key(goal.theory, t) for t in (goal.concl, *goal.hyps)} \
            if memory is not None else set()
        if memory is not None and getattr(memory, "recall", None):
            from .proxy.canon import inverse

            inv = inverse(names)
            for t in memory.recalled(g, c):  # steps verified proofs applied to this goal
                text = rename_tokens(t, inv)
                try:
                    step = parse_step(text, goal)
                except (IdaNsError, RecursionError):
                    continue
                key = _alpha_key(goal.theory, getattr(step, "formula", None))
                if key is not None and key in known:
                    continue
                recalled.append(text)
            pool = recalled + pool
        mem: list[str] = []  # memory lemmas, one per formula up to bound-variable names
        if memory is not None:
            for t in memory.candidates(goal):  # only lemmas that are steps of this goal
                try:
                    step = parse_step(t, goal)
                except (IdaNsError, RecursionError):
                    continue
                key = _alpha_key(goal.theory, getattr(step, "formula", None))
                if key is not None and key not in known:  # not the goal, a hyp, or a twin
                    known.add(key)
                    mem.append(t)
        pool = [t for t in dict.fromkeys(pool) if t and not (self.drop_direct and t == "direct")]
        mem = [t for t in mem if t not in pool]  # lemma texts only: never "direct"
        pool += mem
        if not pool:
            return []
        steps = [rename_tokens(t, names) for t in pool]
        if hasattr(self.proxy, "score_steps"):  # one prompt, its KV cache shared
            lps = self.proxy.score_steps(g, c, steps)
        else:
            lps = self.proxy.score_batch([(g, c, t) for t in steps])
        if mem:
            lps = self._lemma_kind(g, c, pool, lps, set(mem))
        ok = [(t, lp) for t, lp in zip(pool, lps)
              if isinstance(lp, (int, float)) and math.isfinite(lp) or t in recalled]
        if not ok:
            return []
        finite = [lp for _, lp in ok if math.isfinite(lp)]
        if recalled:  # a step verified on this very goal in training leads (by RECALL_BOOST)
            best = max(finite, default=0.0)
            ok = [(t, best + RECALL_BOOST - i if t in recalled else lp)
                  for i, (t, lp) in enumerate(ok)]
        z = _logsumexp([lp for _, lp in ok])
        return [Candidate(t, lp - z, 1) for t, lp in ok]

    def _lemma_kind(self, g: str, c: str, pool: list, lps: list, mem: set) -> list:
        """Memory lemmas scored in two levels: the model's probability that its step here is
        a lemma at all (its first token, :meth:`Proxy.first_token_logprob`), times its
        preference among the memory's lemmas (their likelihoods renormalised over the
        group).  Spelled in dozens of tokens, a lemma's whole-text likelihood is otherwise
        far below ``induct v0``'s whatever the model learned about when lemmas are used."""
        first = getattr(self.proxy, "first_token_logprob", None)
        if first is None:
            return lps
        kind = first(g, c, "lemma")
        if not math.isfinite(kind):
            return lps
        p_lemma = min(max(math.exp(kind), 1e-6), 1.0 - 1e-6)
        rest = _logsumexp([lp for t, lp in zip(pool, lps) if t not in mem])
        group = _logsumexp([lp for t, lp in zip(pool, lps) if t in mem])
        if rest is None or group is None:
            return lps
        shift = math.log(p_lemma / (1.0 - p_lemma)) + rest - group
        return [lp + shift if t in mem and math.isfinite(lp) else lp
                for t, lp in zip(pool, lps)]

    def _select(self, ranked: list[Proposal]) -> list[Proposal]:
        """The ``max_proposals`` best parsed candidates; up to ``lemma_slots`` of them are the
        best memory lemmas (by the model's likelihood among the lemma candidates), given at
        least the score of the weakest structural step kept.  A lemma is spelled in dozens of
        tokens and ``induct v0`` in two, so by total likelihood a lemma never makes the cut
        unless reserved; once in, its subgoals are searched like any other step's (and the
        lemma itself is a subgoal: memory is never evidence)."""
        from .prover.steps import Lemma

        n = self.max_proposals
        lemmas = [p for p in ranked if isinstance(p.step, Lemma)]
        if not self.lemma_slots or not lemmas:
            return ranked[:n]
        top = ranked[:n]
        have = [p for p in top if isinstance(p.step, Lemma)]
        extra = [p for p in lemmas if p not in top][: max(0, self.lemma_slots - len(have))]
        rest = [p for p in top if not isinstance(p.step, Lemma)]
        rest = rest[: n - len(have) - len(extra)]
        floor = min((p.score for p in rest), default=None)
        if floor is None:
            return have + extra
        keep = rest + [Proposal(p.step, p.text, max(p.score, floor), p.source, p.error)
                       for p in have + extra]
        return sorted(keep, key=lambda p: -p.score)

    def _generates(self) -> bool:
        """Whether the proxy generates text: not when it only ranks (``k = 0`` with a
        scoring model)."""
        ranking = self.rank and getattr(self.proxy, "score_batch", None) is not None
        return not (ranking and self.k <= 0)

    def prefetch_children(self, goal: Goal, props: list[Proposal]) -> None:
        """Sample the candidates of every subgoal of ``props`` in one batch (cached)."""
        if not self.prefetch or not self._generates():
            return  # a ranking-only proxy (k = 0) generates no text, here either
        from .prover.steps import StepError, apply_step

        todo: dict[str, Goal] = {}
        for p in props:
            if p.step is None:
                continue
            try:
                for g in apply_step(p.step, goal):
                    k = g.key()
                    if k not in self._cache:
                        todo.setdefault(k, g)
            except (StepError, RecursionError):
                continue
        if not todo:
            return
        self.calls += 1
        self.batches += 1
        canon = bool(getattr(self.proxy, "canonical_names", False))
        out = self.proxy.propose_batch([goal_prompt(g, canon) for g in todo.values()], self.k,
                                       seed=self.seed + self.calls)
        if len(self._cache) > 4096:
            self._cache.clear()
        self._cache.update(zip(todo, out))

    def propose(self, goal: Goal, depth: int) -> list[Proposal]:
        return self.proposals(goal, self.candidates(goal))

    def proposals(self, goal: Goal, cands) -> list[Proposal]:
        """Parsed candidates, best first: the ``max_proposals`` best that parse, re-ordered by
        the value estimate, then the unparsable text (the search counts it as rejected)."""
        props = parse_candidates(goal, cands, "proxy")
        props.sort(key=lambda p: -p.score)
        good = self._select([p for p in props if p.step is not None])
        # raw confidence: the probability of its best step (for a ranking proxy, renormalised
        # over its candidate set); calibrated against verified proofs (Calibrator)
        self.last_confidence = top_probability(good[0].score) if good else 0.0
        self.log.append((goal.key(), good[0].text if good else "", self.last_confidence))
        good = value_ordered(self.proxy, goal, good, self.value_weight)
        good.sort(key=lambda p: -p.score)
        props = good + [p for p in props if p.step is None][: self.max_proposals]
        self.prefetch_children(goal, props)
        return props


def value_ordered(proxy, goal: Goal, props: list[Proposal], weight: float) -> list[Proposal]:
    """Add the proxy's provability (value) estimate of each step's subgoals to its score, so
    the search expands first the steps whose subgoals look closable: value of a subgoal =
    the proxy's probability that ``direct`` closes it (what a solver leaf did in training),
    a step's value = the mean over its subgoals (log scale).  Proxies without
    ``score_batch`` (scripted ones) are left as they are."""
    score = getattr(proxy, "score_batch", None)
    if score is None or weight <= 0:
        return props
    from .prover.steps import StepError, apply_step

    subs: list[list[Goal]] = []
    for p in props:
        try:
            subs.append(list(apply_step(p.step, goal)) if p.step is not None else [])
        except (StepError, RecursionError):
            subs.append([])
    canon = bool(getattr(proxy, "canonical_names", False))
    flat = [(*goal_prompt(g, canon), "direct") for gs in subs for g in gs]
    if not flat:
        return props
    vals = score(flat)
    means, i = [], 0
    for gs in subs:
        v = [max(-20.0, x) for x in vals[i:i + len(gs)]]
        i += len(gs)
        means.append(sum(v) / len(v) if v else None)
    # Relative to the best step of this goal: the value re-orders a goal's steps; it must not
    # shift every step of every goal down by the model's (uncertain) absolute scale, which
    # would make the best-first search breadth-first (each level costing ~10 more).
    best = max((m for m in means if m is not None), default=0.0)
    return [Proposal(p.step, p.text, p.score + weight * (m - best), p.source, p.error)
            if m is not None else p for p, m in zip(props, means)]


class EscalatingPolicy:
    """Proxy first; escalate to the overseer H when the proxy is unsure (its best step's
    calibrated probability below ``threshold``; never calibrated, unless
    ``trust_uncalibrated``; or ensemble members disagree): H's steps then lead and the
    proxy's follow; or when all its candidates fail (the search calls :meth:`fallback`).
    Escalated proposals carry the source ``"H-override"`` so the search counts them."""

    name = "proxy+H"

    def __init__(self, proxy, overseer: Overseer | None = None, k: int = 6,
                 threshold: float = 0.35, members: Sequence = (), max_disagreement: float = 0.5,
                 seed: int = 0, drop_direct: bool = True, calibrator: Calibrator | None = None,
                 prefetch: bool | None = None, trust_uncalibrated: bool = True,
                 consult_h: bool = False):
        self.proxy_policy = ProxyPolicy(proxy, k, seed, drop_direct, prefetch)
        self.calibrator = calibrator or Calibrator()
        # False (the IDA loop): a proxy whose confidence was never calibrated against
        # verified proofs is not trusted to act alone: it escalates at every goal
        self.trust_uncalibrated = trust_uncalibrated
        # True (amplification): H's proposals (with its conjectured lemmas) always join the
        # proxy's, after them; when the proxy is unsure they lead
        self.consult_h = consult_h
        self.disagreements = 0
        self.overseer = overseer or Overseer()
        self.threshold = threshold
        self.members = list(members)
        self.max_disagreement = max_disagreement

    def _unsure(self, goal: Goal, cands) -> bool:
        if not cands:
            return True
        if not self.calibrator.rates and not self.trust_uncalibrated:
            return True
        if self.calibrator(self.proxy_policy.last_confidence) < self.threshold:
            return True
        if len(self.members) > 1:
            from .proxy.model import ensemble_disagreement

            g, c = goal_prompt(goal, bool(getattr(self.proxy_policy.proxy,
                                                  "canonical_names", False)))
            if ensemble_disagreement(self.members, g, c) > self.max_disagreement:
                self.disagreements += 1
                return True
        return False

    @property
    def log(self) -> list:
        return self.proxy_policy.log

    def propose(self, goal: Goal, depth: int) -> list[Proposal]:
        cands = self.proxy_policy.candidates(goal)
        props = self.proxy_policy.proposals(goal, cands)
        if self._unsure(goal, cands) or not any(p.step is not None for p in props):
            # H overrides: its steps lead (its own order); the proxy's follow, one lower
            h = self.overseer.propose(goal, depth)
            seen = {p.text for p in h}
            return [Proposal(p.step, p.text, p.score, "H-override") for p in h] + \
                [Proposal(p.step, p.text, p.score - 1.0, p.source, p.error)
                 for p in props if p.text not in seen]
        if self.consult_h:
            seen = {p.text for p in props}
            return props + [Proposal(p.step, p.text, p.score - 0.5, "H")
                            for p in self.overseer.propose(goal, depth) if p.text not in seen]
        return props

    def fallback(self, goal: Goal, depth: int) -> list[Proposal]:
        return [Proposal(p.step, p.text, p.score - 0.5, "H-override")
                for p in self.overseer.propose(goal, depth)]
