; mod by repeated subtraction, on Int (guarded) and on Nat
(declare-datatype Nat ((Z) (S (p Nat))))
(define-fun-rec imod ((a Int) (b Int)) Int (ite (or (<= b 0) (< a b)) a (imod (- a b) b)))
(define-fun-rec lt ((x Nat) (y Nat)) Bool (match y ((Z false) ((S y2) (match x ((Z true) ((S x2) (lt x2 y2))))))))
(define-fun-rec minus ((x Nat) (y Nat)) Nat (match x ((Z Z) ((S x2) (match y ((Z x) ((S y2) (minus x2 y2))))))))
(define-fun-rec nmod ((x Nat) (y Nat)) Nat
  (match y ((Z x) ((S z) (ite (lt x y) x (nmod (minus x y) y))))))
(prove (forall ((a Int)) (= (imod a 3) (imod a 3))))
