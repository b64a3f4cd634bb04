; the pattern variable n shadows the parameter n: f n (S k) calls f k (S k) forever
(declare-datatype Nat ((Z) (S (p Nat))))
(define-fun-rec f ((n Nat) (m Nat)) Nat (match m ((Z Z) ((S n) (S (f n (S n)))))))
(prove (= (f Z (S Z)) (S (f Z (S Z)))))
