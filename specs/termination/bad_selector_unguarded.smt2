; issue 8 hole 2: p Z is not smaller than Z; f Z = 1 + f (p Z) has no model
(declare-datatype Nat ((Z) (S (p Nat))))
(define-fun-rec f ((n Nat)) Int (+ 1 (f (p n))))
(prove (< (f Z) (f Z)))
