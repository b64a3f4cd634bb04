; Insertion sort on lists of integers, TIP style (after TIP's sort_ISortSorts /
; sort_ISortCount).  examples/pbt/test_sorting.py checks Python implementations against
; the definition of isort; `pytest --ida-ns-specs` proves the goals below.
(declare-datatype list ((nil) (cons (head Int) (tail list))))
(define-fun-rec insert ((x Int) (xs list)) list
  (match xs
    ((nil (cons x nil))
     ((cons y ys) (ite (<= x y) (cons x xs) (cons y (insert x ys)))))))
(define-fun-rec isort ((xs list)) list
  (match xs
    ((nil nil)
     ((cons y ys) (insert y (isort ys))))))
(define-fun-rec sorted ((xs list)) Bool
  (match xs
    ((nil true)
     ((cons y ys)
       (match ys
         ((nil true)
          ((cons z zs) (and (<= y z) (sorted ys)))))))))
(define-fun-rec count ((x Int) (xs list)) Int
  (match xs
    ((nil 0)
     ((cons y ys) (ite (= x y) (+ 1 (count x ys)) (count x ys))))))
(prove (! (forall ((x Int) (xs list)) (= (count x (insert x xs)) (+ 1 (count x xs))))
          :named insert_counts))
(prove (! (forall ((x Int) (xs list)) (=> (sorted xs) (sorted (insert x xs))))
          :named insert_sorted))
