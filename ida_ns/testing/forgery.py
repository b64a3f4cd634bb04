"""Forged evidence: certificates and verdict caches written by an adversary.

The checker and the prover must not believe any of these:

* :func:`capture_certificate` -- a certificate whose steps exploit a capturing revert
  (hypotheses moved under a binder named like another fixed variable) to "prove" the false
  ``∀ n y. n = Z ∨ y = Z``;
* :func:`poison_cache` -- verdict-cache lines claiming ``proved`` for the leaves a search of a
  false goal will try (the root and the subgoals of induction or case splits on its variables,
  a few levels deep);
* :func:`forge_certificate` -- a genuine certificate edited the way a forger would: presented
  for another goal or theory (with its hashes recomputed, so only ``--problem`` and the re-run
  leaves can catch it), leaves claimed by a solver named ``cache`` or one that does not exist,
  hashes that no longer match, steps swapped for ``direct``.

Nothing here decides what is correct; tests pair these with the real checker and prover.
"""

from __future__ import annotations

import copy
import hashlib
import json
import random
from pathlib import Path

CAPTURE_GOAL = "(forall ((n Nat) (y Nat)) (or (= n Z) (= y Z)))"


def _direct(solver: str = "z3") -> dict:
    return {"step": "direct", "source": "forger", "solver": solver, "time_s": 0.0, "uses": [],
            "children": []}


def capture_certificate(problem) -> dict:
    """The hole-3 certificate for ``problem`` (whose goal is :data:`CAPTURE_GOAL` over a
    theory with ``Nat = Z | S Nat``): induct n, induct y, then a lemma whose binder is named
    like a fixed variable, then induct on the other fixed variable (the capturing revert)."""
    from ida_ns.logic.printer import print_problem
    from ida_ns.prover.goal import Goal
    from ida_ns.prover.steps import apply_step, parse_step

    g = Goal(problem.theory, problem.goal)
    _, s = apply_step(parse_step("induct n", g), g)
    _, s2 = apply_step(parse_step("induct y", s), s)
    a, b = (v.name for v in s2.fixed)
    lemma = f"lemma (forall (({b} Nat)) (or (= (S {a}) Z) (= {b} Z)))"
    l1, _ = apply_step(parse_step(lemma, s2), s2)
    reverted = apply_step(parse_step(f"induct {a}", l1), l1)
    text = print_problem(problem, dialect="tip")
    # Before the fix, the revert had two subgoals (base and step), both trivially valid.
    return {
        "format": "ida-ns-certificate/1", "source": problem.source, "problem": text,
        "problem_sha256": hashlib.sha256(text.encode()).hexdigest(), "solver": "z3",
        "lemmas": [],
        "proof": {"step": "induct n", "children": [_direct(), {"step": "induct y", "children": [
            _direct(), {"step": lemma, "children": [
                {"step": f"induct {a}", "children": [_direct() for _ in reverted]},
                _direct()]}]}]},
    }


def poison_cache(path, problem, solver: str = "z3", depth: int = 2) -> int:
    """Append ``proved`` lines for the root leaf of ``problem`` and for the leaves of every
    induction and case split on its variables down to ``depth``.  Returns the line count."""
    from ida_ns.prover.goal import Goal
    from ida_ns.prover.steps import Cases, Induct, StepError, apply_step
    from ida_ns.prover.verify import leaf_key

    keys: list[str] = []
    frontier = [Goal(problem.theory, problem.goal)]
    for level in range(depth + 1):
        nxt = []
        for g in frontier:
            keys.append(leaf_key(g, (), solver))
            if level == depth:
                continue
            for name in sorted(g.scope()):
                for step in (Induct(name), Cases(name)):
                    try:
                        nxt.extend(apply_step(step, g))
                    except StepError:
                        pass
        frontier = nxt[:200]
    with Path(path).open("a") as f:
        for k in keys:
            f.write(json.dumps({"key": k, "status": "proved", "timeout_s": 60.0}) + "\n")
    return len(keys)


FORGERIES = ("other_goal", "other_theory", "cache_solver", "unknown_solver", "stale_hash",
             "all_direct", "drop_problem_hash")


def forge_certificate(cert: dict, kind: str, rng: random.Random, other_problem=None) -> dict:
    """A forged copy of ``cert`` (see :data:`FORGERIES`).  ``other_problem`` (a Problem) is
    what "other_goal"/"other_theory" present the proof for, with hashes recomputed."""
    from ida_ns.logic.printer import print_problem, print_term

    out = copy.deepcopy(cert)
    leaves = [n for n in _nodes(out["proof"]) if n.get("step") == "direct"]
    if kind in ("other_goal", "other_theory"):
        if other_problem is None:
            raise ValueError(f"forgery {kind!r} needs other_problem")
        from ida_ns.prover.certificate import problem_hash

        text = print_problem(other_problem, dialect="tip")
        out.update(problem=text, goal=print_term(other_problem.goal),
                   problem_sha256=hashlib.sha256(text.encode()).hexdigest(),
                   problem_hash=problem_hash(other_problem))
    elif kind == "cache_solver":
        for n in leaves:
            n["solver"] = "cache"
    elif kind == "unknown_solver":
        rng.choice(leaves)["solver"] = rng.choice(["trusted", "oracle", "z3 ", "", "Z3"])
    elif kind == "stale_hash":
        key = rng.choice(["problem_sha256", "problem_hash"])
        out[key] = hashlib.sha256(rng.randbytes(8)).hexdigest()
    elif kind == "all_direct":
        out["proof"] = _direct()
    elif kind == "drop_problem_hash":
        out.pop("problem_hash", None)
        out.pop("problem_sha256", None)
    else:
        raise ValueError(f"unknown forgery {kind!r}; choose one of {FORGERIES}")
    return out


def _nodes(node: dict):
    stack = [node]
    while stack:
        n = stack.pop()
        if isinstance(n, dict):
            yield n
            stack.extend(n.get("children", []))
