; sorting by repeatedly removing the maximum (one-argument maxl on a non-empty list,
; remove testing equality the other way round); the recursive call is on
; (remove (maxl xs) xs), shorter because the maximum is a member
(declare-datatype list ((nil) (cons (head Int) (tail list))))
(define-fun-rec maxl ((xs list)) Int
  (match xs ((nil 0) ((cons y ys) (match ys ((nil y)
    (_ (let ((m (maxl ys))) (ite (< y m) m y)))))))))
(define-fun-rec remove ((x Int) (xs list)) list
  (match xs ((nil nil) ((cons y ys) (ite (= y x) ys (cons y (remove x ys)))))))
(define-fun-rec msort ((xs list)) list
  (match xs ((nil nil) ((cons y ys) (cons (maxl xs) (msort (remove (maxl xs) xs)))))))
(prove (forall ((xs list)) (= (msort xs) (msort xs))))
