"""Prove with your own policy.

A policy proposes decomposition steps for a goal; ida-ns checks every proposal with its
verify gate and closes every leaf with a solver, so a policy can be naive (or wrong) without
harm.  This one inducts on each variable in turn and, under an induction hypothesis, proposes
the lemmas it was told about.

    python examples/custom_policy.py
"""

from pathlib import Path

from ida_ns import check_certificate, load_problem, prove, step_proposal

HERE = Path(__file__).parent


class InductThenLemmas:
    name = "induct-then-lemmas"

    def __init__(self, lemmas):
        self.lemmas = lemmas

    def propose(self, goal, depth):
        steps = [f"induct {v.name}" for v in goal.forall_vars]
        if goal.hyps:  # under an induction hypothesis: try the known lemmas
            steps += [f"lemma {text}" for text in self.lemmas]
        return [step_proposal(goal, s, score=-0.1 * i, source="mine") for i, s in enumerate(steps)]


problem = load_problem(HERE / "problems" / "plus_comm.smt2")
policy = InductThenLemmas([
    "(forall ((x Nat)) (= (plus x Z) x))",
    "(forall ((x Nat) (y Nat)) (= (plus x (S y)) (S (plus x y))))",
])
result = prove(problem, budget_s=20, policy=policy, strong_root=False)
print(result.render())
assert result.proved, result.reason

cert = HERE / "plus_comm.cert.json"
result.save_certificate(cert)
report = check_certificate(cert, problem=problem)
print(report.render())
assert report.ok
cert.unlink()
