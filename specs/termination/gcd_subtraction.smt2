; gcd by repeated subtraction on two Ints (guarded positive), and an Ackermann-style
; lexicographic recursion with a nested call on Peano naturals
(declare-datatype Nat ((Z) (S (p Nat))))
(define-fun-rec gcd ((a Int) (b Int)) Int
  (ite (or (<= a 0) (<= b 0)) (+ a b)
    (ite (= a b) a (ite (> a b) (gcd (- a b) b) (gcd a (- b a))))))
(define-fun-rec ack ((m Nat) (n Nat)) Nat
  (match m ((Z (S n)) ((S m1) (match n ((Z (ack m1 (S Z))) ((S n1) (ack m1 (ack m n1)))))))))
(prove (forall ((a Int) (b Int)) (= (gcd a b) (gcd a b))))
