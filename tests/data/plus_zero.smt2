(declare-datatypes ((Nat 0)) (((Z) (S (p Nat)))))
(define-fun-rec plus ((x Nat) (y Nat)) Nat
  (match x ((Z y) ((S n) (S (plus n y))))))
(prove (forall ((x Nat)) (= (plus x Z) x)))
