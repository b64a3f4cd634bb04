; the guard checks the wrong constructor: in the else branch n is S, but on Z the call is p Z
(declare-datatype Nat ((Z) (S (p Nat))))
(define-fun-rec f ((n Nat)) Int (ite (is-S n) 0 (+ 1 (f (p n)))))
(prove (< (f Z) (f Z)))
