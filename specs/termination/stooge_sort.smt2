; stooge sort on thirds: take/drop of computed lengths with div
(declare-datatype list ((nil) (cons (head Int) (tail list))))
(define-fun-rec len ((xs list)) Int (match xs ((nil 0) ((cons y ys) (+ 1 (len ys))))))
(define-fun-rec append ((xs list) (ys list)) list (match xs ((nil ys) ((cons z zs) (cons z (append zs ys))))))
(define-fun-rec take ((n Int) (xs list)) list
  (ite (<= n 0) nil (match xs ((nil nil) ((cons y ys) (cons y (take (- n 1) ys)))))))
(define-fun-rec drop ((n Int) (xs list)) list
  (ite (<= n 0) xs (match xs ((nil nil) ((cons y ys) (drop (- n 1) ys))))))
(define-fun sort2 ((xs list)) list
  (match xs ((nil nil) ((cons a r) (match r ((nil xs) ((cons b r2) (match r2 ((nil (ite (<= a b) xs (cons b (cons a nil)))) (_ xs))))))))))
(define-fun-rec stooge ((k Int) (xs list)) list
  (ite (<= k 2) (sort2 xs)
    (let ((t (div (+ k 2) 3)))
      (stooge (- k t) (append (take (- k t) (stooge (- k t) (drop t xs))) (drop (- k t) xs))))))
(prove (forall ((xs list)) (= (stooge (len xs) xs) (stooge (len xs) xs))))
