; twin of sort_delete_max: `remove` deletes nothing when it finds the element (it keeps y),
; so msort calls itself on the same list
(declare-datatype list ((nil) (cons (head Int) (tail list))))
(define-fun-rec maxl ((xs list)) Int
  (match xs ((nil 0) ((cons y ys) (match ys ((nil y)
    (_ (let ((m (maxl ys))) (ite (< y m) m y)))))))))
(define-fun-rec remove ((x Int) (xs list)) list
  (match xs ((nil nil) ((cons y ys) (ite (= y x) (cons y ys) (cons y (remove x ys)))))))
(define-fun-rec msort ((xs list)) list
  (match xs ((nil nil) ((cons y ys) (cons (maxl xs) (msort (remove (maxl xs) xs)))))))
(prove (forall ((xs list)) (= (msort xs) (msort xs))))
