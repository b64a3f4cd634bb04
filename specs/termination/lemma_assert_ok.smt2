; an asserted lemma that follows from the definitions: proved first, then usable
(declare-datatype Nat ((Z) (S (p Nat))))
(define-fun-rec plus ((x Nat) (y Nat)) Nat (match x ((Z y) ((S x2) (S (plus x2 y))))))
(assert (forall ((x Nat)) (= (plus x Z) x)))
(prove (forall ((x Nat)) (= (plus (plus x Z) Z) x)))
