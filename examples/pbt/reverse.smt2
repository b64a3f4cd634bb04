; List reverse, TIP style (after TIP's rev definitions).  examples/pbt/test_reverse.py checks
; Python implementations against the definition of rev; `pytest --ida-ns-specs` proves the
; goals below.
(declare-datatype list ((nil) (cons (head Int) (tail list))))
(define-fun-rec append ((xs list) (ys list)) list
  (match xs
    ((nil ys)
     ((cons z zs) (cons z (append zs ys))))))
(define-fun-rec rev ((xs list)) list
  (match xs
    ((nil nil)
     ((cons z zs) (append (rev zs) (cons z nil))))))
(define-fun-rec len ((xs list)) Int
  (match xs
    ((nil 0)
     ((cons z zs) (+ 1 (len zs))))))
(prove (! (forall ((xs list) (ys list)) (= (len (append xs ys)) (+ (len xs) (len ys))))
          :named append_length))
(prove (! (forall ((x Int) (xs list)) (= (rev (append xs (cons x nil))) (cons x (rev xs))))
          :named rev_snoc))
