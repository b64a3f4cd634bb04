; quicksort through filter: terminates by len(xs), needs len (filter q xs) <= len xs
(declare-datatype list ((nil) (cons (head Int) (tail list))))
(define-fun-rec filter ((q (=> Int Bool)) (xs list)) list (match xs ((nil nil) ((cons y ys) (ite (@ q y) (cons y (filter q ys)) (filter q ys))))))
(define-fun-rec append ((xs list) (ys list)) list (match xs ((nil ys) ((cons z zs) (cons z (append zs ys))))))
(define-fun-rec qsort ((xs list)) list
  (match xs ((nil nil)
    ((cons y ys) (append (qsort (filter (lambda ((z Int)) (<= z y)) ys))
                         (cons y (qsort (filter (lambda ((z Int)) (> z y)) ys))))))))
(prove (forall ((xs list)) (= (qsort (qsort xs)) (qsort xs))))
