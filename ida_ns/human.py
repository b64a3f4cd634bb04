"""The human overseer: a person at the terminal decides the steps, with the proxy and H advising.

At each goal the terminal shows the goal and its hypotheses, the proxy's top-k steps with their
probabilities (when a proxy is loaded) and H's suggestions; the person answers with

* a number: take that suggestion;
* a step (``direct``, ``induct x [y ...]``, ``induct x with C``, ``finduct f x ...``,
  ``cases x``, ``lemma F``, ``generalize T``): their own;
* ``c``: search for a counterexample to the goal;  ``h``: defer to H at this goal;
* ``a``: let H's search finish this goal (bounded);  ``u``: undo;  ``q``: give up.

Every step a person chooses passes the same gate as any other (it is parsed with the step parser
and applied with :meth:`Checker.gate`) and is recorded with source ``human``.  Two drivers:

* :func:`prove_interactively` (``ida-ns prove FILE --overseer human``) drives a
  :class:`ida_ns.session.ProofSession` to a certificate;
* :class:`HumanPolicy` (``ida-ns run --overseer human --human-budget N``) is a search policy: it
  asks at up to N goals of the run, then hands over to the policy it wraps.

Both refuse to start without an interactive terminal (:func:`require_tty`).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Callable, Sequence, TextIO

from .errors import IdaNsError
from .prover.goal import Goal
from .prover.search import Proposal
from .prover.steps import StepError, parse_step

HELP = ("answer: NUMBER take a suggestion | a step (direct, induct X [Y ...], "
        "induct X with COMPANION, finduct F X ..., cases X, lemma F, generalize T) | "
        "c counterexample search | h defer to H | a H finishes this goal | "
        "u undo | q give up")


class HumanOverseerError(IdaNsError):
    """The human overseer cannot run here (no terminal) or was misconfigured."""


def require_tty(stdin: TextIO | None = None, stdout: TextIO | None = None) -> None:
    """Refuse the human overseer in a non-interactive session (pipes, CI, batch jobs)."""
    stdin = stdin or sys.stdin
    stdout = stdout or sys.stdout
    ok = all(getattr(s, "isatty", lambda: False)() for s in (stdin, stdout))
    if not ok:
        raise HumanOverseerError(
            "--overseer human needs an interactive terminal (stdin and stdout must be a TTY); "
            "this session is not interactive. Run it in a terminal, or use --overseer H")


@dataclass(frozen=True)
class Suggestion:
    text: str
    source: str  # "proxy" | "H"
    conf: float | None = None  # the proxy's probability for its candidates
    error: str = ""  # the step did not parse (shown, not offered)


def printable(text: str) -> str:
    """``text`` with control characters (escape sequences from a proxy's output, say) shown as
    escapes, so nothing printed can drive the terminal; newlines are kept."""
    return "\n".join("".join(c if c.isprintable() else repr(c)[1:-1] for c in line)
                     for line in str(text).split("\n"))


class Terminal:
    """Line-based terminal I/O (a real TTY in use; any text streams in tests)."""

    def __init__(self, stdin: TextIO | None = None, stdout: TextIO | None = None):
        self.stdin = stdin or sys.stdin
        self.stdout = stdout or sys.stdout

    def say(self, text: str = "") -> None:
        self.stdout.write(printable(text) + "\n")
        self.stdout.flush()

    def ask(self, prompt: str) -> str | None:
        """One line (None at end of input)."""
        self.stdout.write(prompt)
        self.stdout.flush()
        line = self.stdin.readline()
        if not line:
            return None
        return line.rstrip("\r\n")


def suggestions(goal: Goal, depth: int, proxy=None, k: int = 5, conjectures=None,
                h_max: int = 4, seed: int = 0) -> list[Suggestion]:
    """The proxy's top-k (with probabilities) and H's first suggestions for ``goal``."""
    from .prover.overseer import Overseer

    out: list[Suggestion] = []
    seen: set[str] = set()
    if proxy is not None:
        from .policies import ProxyPolicy, top_probability

        try:
            cands = ProxyPolicy(proxy, k, seed).candidates(goal)
        except Exception as e:  # noqa: BLE001 - a broken proxy must not end the session
            cands = []
            out.append(Suggestion("", "proxy", None, f"proxy failed: {e}"[:200]))
        for c in cands[:k]:
            t = c.text.strip()
            if t in seen:
                continue
            seen.add(t)
            err = ""
            try:
                parse_step(t, goal)
            except StepError as e:
                err = str(e)[:160]
            except RecursionError:
                err = "nested too deeply"
            out.append(Suggestion(t, "proxy", top_probability(c.logprob), err))
    n = 0
    for p in Overseer(conjectures=conjectures).propose(goal, depth):
        if n >= h_max:
            break
        if p.text in seen:
            continue
        seen.add(p.text)
        out.append(Suggestion(p.text, "H"))
        n += 1
    return out


def show_goal(term: Terminal, header: str, goal: Goal, sugg: Sequence[Suggestion]) -> None:
    from .session import render_goal

    term.say("")
    term.say(header)
    term.say(render_goal(goal))
    if sugg:
        term.say("suggestions:")
        for i, s in enumerate(sugg, 1):
            conf = f" p={s.conf:.2f}" if s.conf is not None else ""
            if s.error:
                term.say(f"      ({s.source}{conf}) {s.text[:100]}  -- unusable: {s.error}")
            else:
                term.say(f"  [{i}] ({s.source}{conf}) {s.text}")
    term.say(HELP)


def _pick(sugg: Sequence[Suggestion], answer: str) -> Suggestion | None:
    if answer.isdigit():
        i = int(answer) - 1
        if 0 <= i < len(sugg) and not sugg[i].error:
            return sugg[i]
    return None


# ============================================================ ida-ns prove --overseer human
def prove_interactively(session, term: Terminal | None = None, proxy=None,
                        auto_budget_s: float = 5.0) -> bool:
    """Let a person drive ``session`` to a finished proof.  Returns whether it is finished
    (False when they gave up or input ended)."""
    term = term or Terminal()
    conj = _conjectures(session)
    while not session.finished:
        og = session.goals[0]
        sugg = suggestions(og.goal, og.depth, proxy, conjectures=conj)
        show_goal(term, f"goal {og.id} (depth {og.depth}; {len(session.goals)} open)", og.goal,
                  sugg)
        answer = term.ask("step> ")
        if answer is None:
            term.say("(end of input: stopping; the proof is unfinished)")
            return False
        answer = answer.strip()
        if not answer:
            continue
        if answer == "q":
            term.say("gave up; the proof is unfinished")
            return False
        if answer == "u":
            gid = session.undo()
            term.say("nothing to undo" if gid is None else f"undone: goal {gid} is open again")
            continue
        if answer == "c":
            cex = session.counterexample(og.id)
            term.say("no counterexample found by random testing" if cex is None else
                     "counterexample: " + ", ".join(f"{k} = {v}" for k, v in cex))
            continue
        if answer == "h":
            _defer_to_h(session, og, sugg, term)
            continue
        if answer == "a":
            _h_finishes(session, og, term, auto_budget_s)
            continue
        chosen = _pick(sugg, answer)
        if answer.isdigit() and chosen is None:
            term.say(f"no usable suggestion number {answer}")
            continue
        text = chosen.text if chosen is not None else answer
        _report(term, session.apply(text, og.id, source="human"))
    term.say("")
    term.say("all goals closed: proof finished")
    return True


def _conjectures(session):
    try:
        from .prover.explore import Explorer

        ex = Explorer(session.problem.theory, session.goal(0), seed=0)
        return ex.relevant
    except Exception:  # noqa: BLE001 - conjectures only enrich H's suggestions
        return None


def _report(term: Terminal, result) -> None:
    from .session import Closed, Progress

    if isinstance(result, Progress):
        term.say(f"accepted {result.step!r}: {len(result.new_goals)} new open goal(s)"
                 + (f", {result.closed} closed by the solver" if result.closed else ""))
    elif isinstance(result, Closed):
        term.say(f"closed by {result.solver} in {result.time_s:.3f}s")
    else:
        term.say(result.render())


def _defer_to_h(session, og, sugg, term: Terminal) -> None:
    from .session import Rejected

    for s in sugg:
        if s.source != "H":
            continue
        r = session.apply(s.text, og.id, source="H")
        if not isinstance(r, Rejected):
            term.say(f"H: {s.text}")
            _report(term, r)
            return
    term.say("H has no accepted step for this goal")


def _h_finishes(session, og, term: Terminal, budget_s: float) -> None:
    """H's search on this goal; its proof is replayed step by step through the session's gate
    (source ``H``)."""
    from .prover.proof import LemmaLibrary
    from .prover.search import Budget, Search
    from .prover.overseer import Overseer

    term.say(f"H searches goal {og.id} for up to {budget_s:.0f}s ...")
    lib = LemmaLibrary(max_relevant=0)  # leaves must not lean on lemmas outside the session
    res = Search(session.checker, Overseer(conjectures=_conjectures(session)),
                 Budget(wall_s=budget_s, max_nodes=200, leaf_timeout_s=session.leaf_timeout_s),
                 lib).run(og.goal)
    if not res.proved:
        term.say(f"H found no proof ({res.reason})")
        return
    replayed = replay(session, og.id, res.proof, source="H")
    term.say(f"H proved goal {og.id} ({replayed} steps replayed through the gate)")


def replay(session, goal_id: int, proof, source: str = "H") -> int:
    """Apply a proof tree's steps to an open goal of ``session`` (each through the gate);
    subgoals the session's solver closes on its own are skipped.  Returns steps applied."""
    from .session import Rejected

    count = 0
    stack = [(goal_id, proof)]
    while stack:
        gid, node = stack.pop()
        if gid not in {g.id for g in session.goals}:
            continue  # closed already
        r = session.apply(node.step, gid, source=source)
        if isinstance(r, Rejected):
            continue  # leave it open: the person sees it next
        count += 1
        # apply_step is deterministic: the session's subgoals are the proof's, in order
        for i, c in zip(session._nodes[gid].children, node.children):
            stack.append((i, c))
    return count


# ============================================================== ida-ns run --overseer human
class HumanBudget:
    """How many more goals a person is asked about in a run (shared by all its problems)."""

    def __init__(self, n: int):
        if n < 0:
            raise HumanOverseerError(f"--human-budget must be >= 0, got {n}")
        self.left = n
        self.asked = 0  # steps a person chose
        self.prompts = 0  # times a person was asked (choices and deferrals)
        self.answers: dict[str, str | None] = {}  # goal key -> chosen step text (None: defer)


class HumanPolicy:
    """A search policy that asks a person at each goal while the budget lasts, offering the
    wrapped policy's proposals (proxy with probabilities, H) as suggestions.  The person's
    choice is proposed first, with source ``human``; the wrapped policy's proposals follow
    (the search gates all of them).  ``fallback`` is the wrapped policy's."""

    name = "human"

    def __init__(self, inner, budget: HumanBudget, term: Terminal | None = None,
                 find_counterexample: Callable[[Goal], object] | None = None):
        self.inner = inner
        self.budget = budget
        self.term = term or Terminal()
        self.find_counterexample = find_counterexample
        if hasattr(inner, "fallback"):
            self.fallback = inner.fallback

    def propose(self, goal: Goal, depth: int) -> list[Proposal]:
        props = list(self.inner.propose(goal, depth))
        key = goal.key()
        if key in self.budget.answers:  # asked before (an earlier attempt at this problem)
            text = self.budget.answers[key]
            if text is None:
                return props
            return [Proposal(parse_step(text, goal), text, 0.0, "human")] + [
                p for p in props if p.text != text]
        if self.budget.left <= 0:
            return props
        self.budget.prompts += 1
        from .policies import top_probability

        sugg = [Suggestion(p.text, "proxy" if p.source == "proxy" else "H",
                           top_probability(p.score) if p.source == "proxy" else None,
                           p.error if p.step is None else "") for p in props]
        show_goal(self.term, f"goal at depth {depth} (you decide {self.budget.left} more "
                             f"goal(s) in this run)", goal, sugg)
        while True:
            answer = self.term.ask("step> ")
            if answer is None or answer.strip() == "q":
                self.budget.left = 0
                self.term.say("(the rest of the run is automatic)")
                return props
            answer = answer.strip()
            if answer in ("", "h", "a"):
                self.budget.answers[key] = None
                return props  # defer: the wrapped policy decides
            if answer == "u":
                self.term.say("undo is not available inside a running search; "
                              "choose h to defer")
                continue
            if answer == "c":
                self._counterexample(goal)
                continue
            chosen = _pick(sugg, answer)
            if answer.isdigit() and chosen is None:
                self.term.say(f"no usable suggestion number {answer}")
                continue
            text = chosen.text if chosen is not None else answer
            try:
                step = parse_step(text, goal)
            except StepError as e:
                self.term.say(f"rejected {text[:120]!r}: {e}")
                continue
            self.budget.left -= 1
            self.budget.asked += 1
            self.budget.answers[key] = text
            self.term.say(f"proposed {text!r} (the gate checks it as any other step)")
            return [Proposal(step, text, 0.0, "human")] + [p for p in props if p.text != text]

    def _counterexample(self, goal: Goal) -> None:
        if self.find_counterexample is None:
            from .counterexample import find_counterexample

            cex = find_counterexample(goal.theory, goal.concl, fixed=goal.fixed,
                                      hyps=goal.hyps, trials=300, time_budget_s=1.0)
            cex = None if cex is None else tuple(cex.assignment.items()) if isinstance(
                cex.assignment, dict) else tuple(cex.assignment)
        else:
            cex = self.find_counterexample(goal)
        self.term.say("no counterexample found by random testing" if not cex else
                      "counterexample: " + ", ".join(f"{k} = {v}" for k, v in cex))


def prove_with_human(problem, checker, config, policy=None, **kw):
    """``prove_problem`` for a run with a human overseer.  A person's thinking time must not
    eat the search's wall budget: when an attempt asked a person anything and ended unknown,
    the problem is attempted again, and the recorded answers are proposed at once (no
    waiting) — until an attempt asks nothing new (at most 6 attempts)."""
    from .prover.prover import prove_problem

    budget = getattr(policy, "human_budget", None)
    res = None
    for _ in range(6):
        before = budget.prompts if budget is not None else 0
        res = prove_problem(problem, checker, config, policy=policy, **kw)
        if res.status != "unknown" or budget is None or budget.prompts == before:
            return res
    return res


_BUDGETS: dict[str, HumanBudget] = {}


def human_policy_factory(inner_factory, cfg):
    """The ``run`` hook: a factory ``conjectures -> HumanPolicy`` wrapping what the loop would
    use (``inner_factory``, or H with conjectures when None).  One budget per run directory."""
    from .prover.overseer import Overseer

    budget = _BUDGETS.setdefault(str(cfg.out), HumanBudget(int(cfg.human_budget)))

    def make(conjectures):
        inner = inner_factory(conjectures) if inner_factory is not None else Overseer(
            conjectures=conjectures)
        return HumanPolicy(inner, budget)

    make.human_budget = budget  # for prove_with_human
    return make


__all__ = ["HumanPolicy", "HumanBudget", "prove_with_human", "printable", "HumanOverseerError",
           "Terminal", "Suggestion",
           "prove_interactively", "require_tty", "suggestions", "human_policy_factory",
           "replay"]
