; hypotheses in the goal need no model: an unsatisfiable premise makes the goal true
(declare-datatype Nat ((Z) (S (p Nat))))
(define-fun-rec plus ((x Nat) (y Nat)) Nat (match x ((Z y) ((S x2) (S (plus x2 y))))))
(prove (forall ((x Nat)) (=> (= (plus x (S Z)) Z) (= x (S x)))))
