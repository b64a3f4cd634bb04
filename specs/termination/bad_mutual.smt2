; mutual recursion with no decrease around the cycle
(declare-datatype Nat ((Z) (S (p Nat))))
(define-funs-rec ((a ((n Nat)) Nat) (b ((n Nat)) Nat)) ((S (b n)) (match n ((Z (a Z)) ((S k) (a (S (S k))))))))
(prove (= (a Z) (S (a Z))))
