; nubBy through filter, with a higher-order equality argument the measure ignores
(declare-datatype list ((nil) (cons (head Int) (tail list))))
(define-fun-rec filter ((q (=> Int Bool)) (xs list)) list (match xs ((nil nil) ((cons y ys) (ite (@ q y) (cons y (filter q ys)) (filter q ys))))))
(define-fun-rec nubBy ((eq (=> Int (=> Int Bool))) (xs list)) list
  (match xs ((nil nil)
    ((cons y ys) (cons y (nubBy eq (filter (lambda ((z Int)) (not (@ (@ eq y) z))) ys)))))))
(prove (forall ((xs list)) (= (nubBy (lambda ((a Int)) (lambda ((b Int)) (= a b))) xs) (nubBy (lambda ((a Int)) (lambda ((b Int)) (= a b))) xs))))
