; a quantifier-bound x is not the parameter x
(define-fun-rec q ((x Int)) Bool (ite (<= x 0) true (and (> x 5) (forall ((x Int)) (not (q x))))))
(prove (q 6))
