; bin (-1) calls bin (div (-1) 2) = bin (-1)
(define-fun-rec bin ((x Int)) Int (ite (= x 0) 0 (+ 1 (bin (div x 2)))))
(prove (= (bin (- 1)) (bin (- 1))))
