; issue 8 hole 1: the let-bound x shadows the parameter; g 0 = 1 + g 0
(define-fun-rec g ((x Int)) Int (let ((x (+ x 1))) (ite (> x 0) (+ 1 (g (- x 1))) 0)))
(prove (< (g 0) (g 0)))
