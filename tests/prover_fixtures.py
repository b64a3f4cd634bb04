"""A small Nat/list theory shared by the prover tests."""

from __future__ import annotations

NAT_LIST = """
(declare-datatypes ((Nat 0)) (((Z) (S (p Nat)))))
(declare-datatypes ((list 0)) (((nil) (cons (head Nat) (tail list)))))
(define-fun-rec plus ((x Nat) (y Nat)) Nat
  (match x ((Z y) ((S n) (S (plus n y))))))
(define-fun-rec append ((xs list) (ys list)) list
  (match xs ((nil ys) ((cons h t) (cons h (append t ys))))))
(define-fun-rec len ((xs list)) Nat
  (match xs ((nil Z) ((cons h t) (S (len t))))))
(define-fun-rec rev ((xs list)) list
  (match xs ((nil nil) ((cons h t) (append (rev t) (cons h nil))))))
"""


def problem(goal: str):
    from ida_ns.logic.parser import parse_text

    return parse_text(NAT_LIST + f"(prove {goal})", file="<test>")
