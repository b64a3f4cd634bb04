; twin of gcd_subtraction: without the positivity guard, gcd 0 1 calls gcd 0 1 forever
(define-fun-rec gcd ((a Int) (b Int)) Int
  (ite (= a b) a (ite (> a b) (gcd (- a b) b) (gcd a (- b a)))))
(prove (forall ((a Int) (b Int)) (= (gcd a b) (gcd a b))))
