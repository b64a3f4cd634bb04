; twin of the Ackermann part of gcd_subtraction: the inner call repeats the caller's own
; arguments (ack (S m1) (S n1) calls ack (S m1) (S n1))
(declare-datatype Nat ((Z) (S (p Nat))))
(define-fun-rec ack ((m Nat) (n Nat)) Nat
  (match m ((Z (S n)) ((S m1) (match n ((Z (ack m1 (S Z)))
    ((S n1) (ack m1 (ack (S m1) (S n1))))))))))
(prove true)
