"""An interactive proof session driven from Python (what the human overseer and an external
model drive): plus is commutative, by induction and two lemmas, one of them first guessed wrong.

    python examples/interactive_session.py [OUT.json]    # then: ida-ns check-proof OUT.json
"""

import sys
from pathlib import Path

from ida_ns.session import ProofSession, Rejected

PROBLEM = """
(declare-datatypes ((Nat 0)) (((Z) (S (p Nat)))))
(define-fun-rec plus ((x Nat) (y Nat)) Nat
  (match x ((Z y) ((S n) (S (plus n y))))))
(prove (forall ((x Nat) (y Nat)) (= (plus x y) (plus y x))))
"""

STEPS = [
    "induct x",
    "lemma (forall ((y Nat)) (= (plus y Z) (S y)))",  # wrong: the gate finds y = Z
    "lemma (forall ((y Nat)) (= (plus y Z) y))",
    "induct y",
    "lemma (forall ((a Nat) (b Nat)) (= (plus a (S b)) (S (plus a b))))",
    "induct a",
]


def main(out: str) -> int:
    with ProofSession.open(PROBLEM) as s:
        for step in STEPS:
            goal = s.goals[0]
            print(f"goal {goal.id}:\n{goal.text()}\n> {step}")
            r = s.apply(step)
            print(r.render() if isinstance(r, Rejected) else f"ok: {len(s.goals)} open")
        if not s.finished:
            print("unfinished")
            return 1
        s.save_certificate(out)
    print(f"proved; certificate {out} (ida-ns check-proof {out})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else str(Path("plus_comm.json"))))
