; nested recursion whose inner call is not known smaller
(declare-datatype Nat ((Z) (S (p Nat))))
(define-fun-rec f ((n Nat)) Nat (match n ((Z Z) ((S k) (f (f (S (S k))))))))
(prove (= (f (S Z)) Z))
