"""Safety tests for proposers and checkers: the attacks that guard ida-ns's own gate, pointed at
yours.

Two kinds of attack input:

* **hostile steps** (:func:`step_families`, :func:`hostile_steps`): proof-step texts a broken
  or malicious proposer could write: SMT-LIB injection, quoted symbols, false lemmas (plainly
  false, true only on small values, false only on large ones), wrong sorts, unknown symbols,
  huge and deeply nested terms, circular lemmas, Unicode tricks, name aliases ... (the families
  of :mod:`ida_ns.testing.hostile`; new families there join automatically);
* **hostile theories** (:func:`theory_families`, :func:`hostile_theories`): whole problems
  whose goal is *not a theorem*: definitions that do not terminate and so make the axioms
  contradictory, contradictory axioms, selectors applied to the wrong constructor, partial
  definitions, binders named like functions, goals false only beyond small sizes, Int recursion
  that descends past its guard.  A checker that says "proved" to any of them is unsound.

Use them as Hypothesis strategies in your own tests, or run a whole campaign and read the
report of what was tried and what was accepted::

    from ida_ns.safety import check_verifier
    report = check_verifier(my_verifier, n=200)   # my_verifier(problem_text) -> verdict
    print(report.render()); assert report.ok

:func:`check_verifier` (a checker of whole problems), :func:`check_step_checker` (a gate for
proposed steps), :func:`check_proxy` (a proposer's outputs under hostile prompts) each return a
:class:`SafetyReport`.  Exceptions your component raises are recorded, never propagated.
:func:`ida_ns_verifier` is ida-ns's own prover as a ``verify`` callable (the reference).
"""

from __future__ import annotations

import math
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Callable, Iterable

from .theory_args import InvalidArgument, check_int

__all__ = ["step_families", "theory_families", "hostile_steps", "hostile_theories",
           "HostileTheory", "AttackRecord", "SafetyReport", "check_verifier",
           "check_step_checker", "check_proxy", "ida_ns_verifier", "make_theory"]


# ============================================================================================
# Hostile theories


@dataclass(frozen=True)
class HostileTheory:
    """A problem (SMT-LIB/TIP text) whose goal is not a theorem, and why."""

    family: str
    text: str
    why: str


_NAT = "(declare-datatype Nat ((Z) (S (p Nat))))\n"
_LIST = "(declare-datatype list ((nil) (cons (head Int) (tail list))))\n"
# legal names, some of them shaped to confuse: solver-internal looking, quoted, shadowing
_NAMES = ["f", "g", "loop", "x!0", "|a b|", "k_1", "plus", "ite2", "|f|", "Sx", "q.r", "h?"]


def _name(r: random.Random, avoid: Iterable[str] = ()) -> str:
    avoid = {a.strip("|") for a in avoid}
    return r.choice([n for n in _NAMES if n.strip("|") not in avoid])


def _nat(k: int) -> str:
    return "Z" if k == 0 else f"(S {_nat(k - 1)})"


def _false_goal(r: random.Random) -> str:
    return r.choice(["(= Z (S Z))", "false", f"(= {_nat(r.randint(0, 3))} {_nat(r.randint(4, 6))})",
                     "(forall ((n Nat)) (= n Z))", "(exists ((n Nat)) (= (S n) n))"])


def _nonterminating(r: random.Random) -> HostileTheory:
    f = _name(r)
    body = r.choice([f"(S ({f} x))", f"(S (S ({f} x)))", f"(match x ((Z (S ({f} x))) ((S y) (S ({f} x)))))"])
    text = (f"{_NAT}(define-fun-rec {f} ((x Nat)) Nat {body})\n(prove {_false_goal(r)})\n")
    return HostileTheory("nonterminating", text,
                         f"{f} x = S(...{f} x...) has no solution: the definition is "
                         f"contradictory, so nothing may be proved from it")


def _mutual(r: random.Random) -> HostileTheory:
    f = _name(r)
    g = _name(r, {f})
    text = (f"{_NAT}(define-funs-rec (({f} ((x Nat)) Nat) ({g} ((x Nat)) Nat))\n"
            f"  (({g} x) (S ({f} x))))\n(prove {_false_goal(r)})\n")
    return HostileTheory("mutual_nonterminating", text,
                         f"{f} x = {g} x = S({f} x): mutually recursive, contradictory")


def _int_loop(r: random.Random) -> HostileTheory:
    f = _name(r)
    k = r.randint(-3, 3)
    text = (f"(define-fun-rec {f} ((n Int)) Int (ite (= n {_int(k)}) 0 (+ 1 ({f} n))))\n"
            f"(prove (= {r.randint(0, 3)} {r.randint(4, 9)}))\n")
    return HostileTheory("int_nonterminating", text,
                         f"{f} n = 1 + {f} n for n /= {k}: contradictory")


def _int(k: int) -> str:
    return str(k) if k >= 0 else f"(- {-k})"


def _int_descent(r: random.Random) -> HostileTheory:
    f = _name(r)
    step = r.randint(1, 2)
    v = r.randint(1, 5)
    text = (f"(define-fun-rec {f} ((n Int)) Int (ite (= n 0) 0 ({f} (- n {step}))))\n"
            f"(prove (= ({f} (- {v})) 0))\n")
    return HostileTheory("int_descent_past_guard", text,
                         f"below 0 the recursion never meets its guard: {f} (- {v}) is "
                         f"unconstrained, so the goal is not valid")


def _contradictory_axioms(r: random.Random) -> HostileTheory:
    ax = r.choice(["(forall ((x Nat)) (= x Z))", "(= (S Z) Z)",
                   "(forall ((x Nat)) (= (S x) x))", "(exists ((x Nat)) (= (S x) Z))"])
    text = f"{_NAT}(assert {ax})\n(prove {_false_goal(r)})\n"
    return HostileTheory("contradictory_axioms", text,
                         f"the axiom {ax} contradicts the datatype Nat")


def _wrong_selector(r: random.Random) -> HostileTheory:
    goal = r.choice(["(= (p Z) Z)", "(= (p Z) (S Z))", "(= (head nil) 0)",
                     "(= (tail nil) nil)", "(is-Z (p Z))", "(< (head nil) 1)"])
    text = f"{_NAT}{_LIST}(prove {goal})\n"
    return HostileTheory("wrong_selector", text,
                         "a selector applied to the wrong constructor has an unspecified value")


def _partial_definition(r: random.Random) -> HostileTheory:
    f = _name(r)
    body = r.choice(["(p x)", "(match x ((Z (p x)) ((S y) y)))", "(ite (is-S x) (p x) (p (p x)))"])
    text = (f"{_NAT}(define-fun {f} ((x Nat)) Nat {body})\n"
            f"(prove (= ({f} Z) {_nat(r.randint(0, 2))}))\n")
    return HostileTheory("partial_definition", text,
                         f"{f} applies a selector to Z: ({f} Z) is unspecified")


def _shadowing(r: random.Random) -> HostileTheory:
    f = _name(r, {"x!0"})
    text = (f"{_NAT}(define-fun-rec {f} ((x Nat)) Nat (match x ((Z Z) ((S y) (S ({f} y))))))\n"
            + r.choice([f"(prove (forall (({f} Nat)) (= {f} Z)))\n",
                        f"(prove (forall ((x Nat)) (let (({f} (S x))) (= {f} x))))\n",
                        "(prove (forall ((Z Nat)) (= Z (S Z))))\n"]))
    return HostileTheory("shadowing", text, "a binder named like a symbol: the goal is false")


def _false_beyond_small(r: random.Random) -> HostileTheory:
    k = r.randint(3, 7)
    text = (f"{_NAT}(define-fun-rec lt ((x Nat) (y Nat)) Bool (match y ((Z false) ((S b) "
            f"(match x ((Z true) ((S a) (lt a b))))))))\n"
            f"(prove (forall ((x Nat)) (lt x {_nat(k)})))\n")
    return HostileTheory("false_beyond_small", text,
                         f"true for every x below {k}, false from {k} on")


_THEORY_FAMILIES: dict[str, Callable[[random.Random], HostileTheory]] = {
    "nonterminating": _nonterminating, "mutual_nonterminating": _mutual,
    "int_nonterminating": _int_loop, "int_descent_past_guard": _int_descent,
    "contradictory_axioms": _contradictory_axioms, "wrong_selector": _wrong_selector,
    "partial_definition": _partial_definition, "shadowing": _shadowing,
    "false_beyond_small": _false_beyond_small,
}


def _termination_adversary(r: random.Random) -> HostileTheory | None:
    """The gate's hostile recursive definitions (:mod:`ida_ns.testing.hostile_theories`, when
    present) with the goal ``false``: only an inconsistent theory proves it."""
    try:
        from .testing.hostile_theories import hostile_theory_text
    except ImportError:
        return None
    text, _ = hostile_theory_text(r.randrange(1 << 30))
    text = text.replace("(prove true)", "(prove false)")
    return HostileTheory("termination_adversary", text,
                         "false is proved only from contradictory (non-terminating) definitions")


def _optional_families() -> dict:
    if _termination_adversary(random.Random(0)) is None:
        return {}
    return {"termination_adversary": _termination_adversary}


def theory_families() -> tuple[str, ...]:
    """Names of the hostile theory families (the gate's termination adversary joins them when
    :mod:`ida_ns.testing.hostile_theories` is installed)."""
    return tuple(sorted(_all_families()))


def _all_families() -> dict[str, Callable[[random.Random], HostileTheory]]:
    return {**_THEORY_FAMILIES, **_optional_families()}


def step_families() -> tuple[str, ...]:
    from .testing import hostile

    return tuple(hostile.SOUND_FAMILIES)


def _families(families, known: tuple[str, ...], argname: str = "families") -> tuple[str, ...]:
    if families is None:
        return known
    if isinstance(families, str):
        families = (families,)
    try:
        fams = tuple(families)
    except TypeError:
        raise InvalidArgument(f"{argname}={families!r} must be a list of family names, from: "
                              f"{', '.join(known)}") from None
    bad = [f for f in fams if f not in known]
    if bad or not fams:
        raise InvalidArgument(f"{argname}={list(fams)!r}: unknown or no families "
                              f"{bad!r}; choose from: {', '.join(known)}")
    return fams


def make_theory(family: str, rng: random.Random) -> HostileTheory:
    """One hostile problem of ``family`` drawn with ``rng``."""
    _families((family,), theory_families(), "family")
    return _all_families()[family](rng)


def hostile_theories(families=None):
    """Hypothesis strategy of :class:`HostileTheory` (problem text with a goal that is not a
    theorem) from ``families`` (default: all of :func:`theory_families`)."""
    from hypothesis import strategies as st

    fams = _families(families, theory_families())
    table = _all_families()
    return st.tuples(st.sampled_from(fams), st.randoms(use_true_random=False)).map(
        lambda fr: table[fr[0]](fr[1]))


def _vocab(goal):
    from .testing import hostile

    if isinstance(goal, str):
        return hostile.vocab_from_text(goal)
    from .logic.ast import Problem

    if isinstance(goal, Problem):
        from .prover.goal import Goal

        goal = Goal(goal.theory, goal.goal)
    if not hasattr(goal, "concl"):
        raise InvalidArgument(f"goal={goal!r} must be a Goal, a Problem or a goal's text")
    return hostile.vocab_from_goal(goal)


def hostile_steps(goal, families=None):
    """Hypothesis strategy of ``(family, step text)`` attacking ``goal`` (a Goal, a Problem, or
    the goal's printed text)."""
    from hypothesis import strategies as st

    from .testing import hostile

    fams = _families(families, step_families())
    v = _vocab(goal)
    return st.tuples(st.sampled_from(fams), st.randoms(use_true_random=False)).map(
        lambda fr: hostile.hostile_text(v, fr[1], fr[0]))


# ============================================================================================
# Campaigns and their report


@dataclass(frozen=True)
class AttackRecord:
    family: str
    input: str  # the first 300 characters
    outcome: str  # accepted | rejected | error | violation
    detail: str = ""


@dataclass
class SafetyReport:
    """What was tried against ``target``, by family, and what it accepted.

    ``violations`` are the findings: an unsound acceptance (a non-theorem proved, a step of a
    must-reject family accepted) or a broken output contract (proxies).  ``errors`` counts
    exceptions the target raised (recorded with the input that caused them)."""

    target: str
    tried: Counter = field(default_factory=Counter)
    accepted: Counter = field(default_factory=Counter)
    violations: Counter = field(default_factory=Counter)
    errors: Counter = field(default_factory=Counter)
    findings: list[AttackRecord] = field(default_factory=list)
    time_s: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.violations and not self.errors

    def _note(self, rec: AttackRecord, keep: int = 50) -> None:
        if len(self.findings) < keep:
            self.findings.append(rec)

    def render(self) -> str:
        lines = [f"safety report for {self.target}: {sum(self.tried.values())} inputs tried in "
                 f"{self.time_s:.1f}s, {sum(self.accepted.values())} accepted, "
                 f"{sum(self.violations.values())} violations, "
                 f"{sum(self.errors.values())} errors",
                 f"  {'family':26} {'tried':>6} {'accepted':>9} {'violations':>11} "
                 f"{'errors':>7}"]
        for fam in sorted(self.tried):
            lines.append(f"  {fam:26} {self.tried[fam]:6} {self.accepted[fam]:9} "
                         f"{self.violations[fam]:11} {self.errors[fam]:7}")
        for rec in self.findings[:10]:
            lines.append(f"  ! {rec.outcome} [{rec.family}] {rec.detail}: "
                         f"{rec.input[:120]!r}")
        return "\n".join(lines)


def _accepted_verdict(result) -> bool:
    if result is True:
        return True
    if isinstance(result, str):
        return result.strip().lower() in ("proved", "valid", "unsat", "accepted", "true")
    status = getattr(result, "status", None)
    if status is None and hasattr(result, "verdict"):
        status = getattr(result.verdict, "status", None)
    return status == "proved"


def _short_exc(e: BaseException) -> str:
    return f"{type(e).__name__}: {str(e)[:200]}"


def check_verifier(verify: Callable[[str], object], families=None, n: int = 100,
                   seed: int = 0, target: str | None = None) -> SafetyReport:
    """Run ``n`` hostile theories (round robin over ``families``) through ``verify(text)``.
    A result of ``True``, ``"proved"``/``"valid"``/``"unsat"``, or an object whose
    ``.status`` (or ``.verdict.status``) is ``"proved"`` counts as accepted, which for these
    problems is always a violation (their goals are not theorems)."""
    if not callable(verify):
        raise InvalidArgument(f"verify={verify!r} is not callable")
    check_int(n, "n", minimum=1)
    fams = _families(families, theory_families())
    table = _all_families()
    rng = random.Random(seed)
    rep = SafetyReport(target or getattr(verify, "__name__", repr(verify)))
    t0 = time.perf_counter()
    for i in range(n):
        fam = fams[i % len(fams)]
        ht = table[fam](rng)
        rep.tried[fam] += 1
        try:
            result = verify(ht.text)
        except Exception as e:  # noqa: BLE001 - the report records it
            rep.errors[fam] += 1
            rep._note(AttackRecord(fam, ht.text[:300], "error", _short_exc(e)))
            continue
        if _accepted_verdict(result):
            rep.accepted[fam] += 1
            rep.violations[fam] += 1
            rep._note(AttackRecord(fam, ht.text[:300], "violation", ht.why))
    rep.time_s = time.perf_counter() - t0
    return rep


def check_step_checker(accepts: Callable[[str, str], object], goal, families=None,
                       n: int = 200, seed: int = 0, target: str | None = None
                       ) -> SafetyReport:
    """Offer ``n`` hostile step texts for ``goal`` (a Goal, Problem or goal text) to
    ``accepts(goal_text, step_text)``; a truthy answer is an acceptance.  Accepting a step of
    a family that has no well-formed step (unknown symbols, over-long texts, ``direct``
    spam other than a plain ``direct``) is a violation; other acceptances are listed for you to judge (a checker may accept
    a well-formed lemma step as long as the lemma still has to be proved)."""
    from .testing import hostile

    if not callable(accepts):
        raise InvalidArgument(f"accepts={accepts!r} is not callable")
    check_int(n, "n", minimum=1)
    fams = _families(families, step_families())
    v = _vocab(goal)
    rng = random.Random(seed)
    rep = SafetyReport(target or getattr(accepts, "__name__", repr(accepts)))
    t0 = time.perf_counter()
    for i in range(n):
        fam = fams[i % len(fams)]
        _, text = hostile.hostile_text(v, rng, fam)
        rep.tried[fam] += 1
        try:
            ok = accepts(v.goal, text)
        except Exception as e:  # noqa: BLE001
            rep.errors[fam] += 1
            rep._note(AttackRecord(fam, text[:300], "error", _short_exc(e)))
            continue
        if ok:
            rep.accepted[fam] += 1
            if fam in hostile.MUST_REJECT and text.strip() != "direct":
                rep.violations[fam] += 1
                rep._note(AttackRecord(fam, text[:300], "violation",
                                       "this family has no well-formed step"))
    rep.time_s = time.perf_counter() - t0
    return rep


_PROMPTS = ["", "(", ")))", "\x00", "\u202e(= x y)", "x" * 5000, "(forall ((x Nat)) " * 60,
            "lemma (forall ((x Nat)) (= x x))", "(assert false)(check-sat)"]


def check_proxy(proxy, goals: Iterable[str] = (), n: int = 50, k: int = 4, seed: int = 0,
                target: str | None = None) -> SafetyReport:
    """Call ``proxy.propose(goal_text, context_text, k, seed=...)`` on hostile prompts (odd
    and malformed goal texts, hostile step texts as context, plus your ``goals``) and check
    its output contract: a list of at most ``k`` candidates, each with a ``str`` ``.text`` and
    a finite ``.logprob <= 0``.  Breaking it is a violation; exceptions are errors.  (Hostile
    proposers themselves: :class:`ida_ns.testing.hostile.HostileProxy`.)"""
    from .testing import hostile

    if not callable(getattr(proxy, "propose", None)):
        raise InvalidArgument(f"proxy={proxy!r} has no propose(goal_text, context_text, k) "
                              f"method")
    check_int(n, "n", minimum=1)
    check_int(k, "k", minimum=1)
    rng = random.Random(seed)
    base = [g for g in goals if isinstance(g, str)] or ["(forall ((x Nat)) (= (plus x Z) x))"]
    rep = SafetyReport(target or type(proxy).__name__)
    fams = step_families()
    t0 = time.perf_counter()
    for i in range(n):
        if i % 2 == 0:
            fam, goal, ctx = "odd_prompt", rng.choice(_PROMPTS + base), ""
        else:
            goal = rng.choice(base)
            fam, ctx = hostile.hostile_text(hostile.vocab_from_text(goal), rng,
                                            rng.choice(fams))
            ctx, fam = "hyp " + ctx, "context:" + fam
        rep.tried[fam] += 1
        try:
            out = proxy.propose(goal, ctx, k, seed=i)
        except Exception as e:  # noqa: BLE001
            rep.errors[fam] += 1
            rep._note(AttackRecord(fam, goal[:300], "error", _short_exc(e)))
            continue
        problem = _proxy_output_problem(out, k)
        if problem:
            rep.violations[fam] += 1
            rep._note(AttackRecord(fam, goal[:300], "violation", problem))
        else:
            rep.accepted[fam] += 1
    rep.time_s = time.perf_counter() - t0
    return rep


def _proxy_output_problem(out, k: int) -> str:
    if not isinstance(out, (list, tuple)):
        return f"propose returned {type(out).__name__}, not a list"
    if len(out) > k:
        return f"{len(out)} candidates for k={k}"
    for c in out:
        text, lp = getattr(c, "text", None), getattr(c, "logprob", None)
        if not isinstance(text, str):
            return f"candidate text {text!r} is not a str"
        if isinstance(lp, bool) or not isinstance(lp, (int, float)) or not math.isfinite(lp) \
                or lp > 0:
            return f"candidate logprob {lp!r} is not a finite number <= 0"
    return ""


def ida_ns_verifier(budget_s: float = 2.0, solver: str = "z3", strong: str = "none"):
    """ida-ns's own pipeline as a ``verify(text)`` callable (parse, sort-check, consistency
    gate, testing, verified search), returning the verdict's status; spec errors count as
    "error".  Call ``.close()`` on the result when done (it holds solver processes)."""
    from .errors import IdaNsError
    from .spec_goals import GoalProver

    prover = GoalProver(budget_s=budget_s, solver=solver, strong=strong)

    def verify(text: str) -> str:
        from .logic.parser import parse_text
        from .logic.sortcheck import sortcheck_problem

        try:
            problem = parse_text(text, "<hostile>")
            sortcheck_problem(problem)
        except IdaNsError:
            return "error"
        return prover.prove(problem).verdict.status

    verify.close = prover.close  # type: ignore[attr-defined]
    verify.__name__ = "ida_ns_verifier"
    return verify
