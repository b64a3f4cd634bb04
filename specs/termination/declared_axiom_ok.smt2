; an axiom over a declared constant only: a model of it extends by the terminating definitions
(declare-datatype list ((nil) (cons (head Int) (tail list))))
(declare-const k Int)
(assert (> k 3))
(define-fun-rec count ((xs list)) Int (match xs ((nil k) ((cons y ys) (+ 1 (count ys))))))
(prove (forall ((xs list)) (> (count xs) 3)))
