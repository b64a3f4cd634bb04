; an asserted "lemma" that contradicts the definitions
(declare-datatype Nat ((Z) (S (p Nat))))
(define-fun-rec plus ((x Nat) (y Nat)) Nat (match x ((Z y) ((S x2) (S (plus x2 y))))))
(assert (forall ((x Nat)) (= (plus x (S Z)) x)))
(prove (= Z (S Z)))
