"""The --no-verify ablation: without the gate a proxy's word is accepted, and false goals get
"proved"; with the gate on, the same proxy proves nothing false."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from ida_ns.ida import _false_nodes
from ida_ns.policies import ProxyPolicy
from ida_ns.prover.prover import ProverConfig, prove_problem
from ida_ns.prover.verify import Checker
from ida_ns.traces import proof_pairs
from ida_ns.verdict import Proved

from prover_fixtures import problem


@dataclass(frozen=True)
class _Cand:
    text: str
    logprob: float


class ScriptedProxy:
    """A proxy that always says the same steps (an overconfident, wrong assistant)."""

    def __init__(self, steps):
        self.steps = steps

    def propose(self, goal_text, context_text, k=None, seed=0):
        return [_Cand(s, -0.01) for s in self.steps]


FALSE_GOAL = "(forall ((xs list) (ys list)) (= (append xs ys) (append ys xs)))"


@pytest.fixture(scope="module")
def checker():
    from ida_ns.solvers.pool import SolverPool

    with SolverPool("z3", workers=1, timeout_s=1.0) as pool:
        yield Checker.from_pool(pool, leaf_timeout_s=0.5)


@pytest.mark.parametrize("steps", [["direct"], ["lemma (forall ((a list) (b list)) "
                                               "(= (append a b) (append b a)))"]])
def test_without_the_gate_a_false_goal_gets_proved(checker, steps):
    p = problem(FALSE_GOAL)
    cfg = ProverConfig(budget_s=5, explore=False)
    unchecked = prove_problem(p, checker, cfg, accept_unverified=True,
                              policy=ProxyPolicy(ScriptedProxy(steps), drop_direct=False))
    assert isinstance(unchecked.verdict, Proved)  # the error the gate exists to stop
    assert _false_nodes(unchecked, checker) > 0  # ground-truth re-check finds it
    assert proof_pairs(unchecked.proof, unchecked.lemmas)  # and it would be distilled


@pytest.mark.parametrize("steps", [["direct"], ["lemma (forall ((a list) (b list)) "
                                               "(= (append a b) (append b a)))"]])
def test_with_the_gate_the_same_proxy_proves_nothing_false(checker, steps):
    p = problem(FALSE_GOAL)
    cfg = ProverConfig(budget_s=5, explore=False)
    checked = prove_problem(p, checker, cfg,
                            policy=ProxyPolicy(ScriptedProxy(steps), drop_direct=False))
    assert not isinstance(checked.verdict, Proved)
    assert checked.proof is None
