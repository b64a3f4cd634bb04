(declare-datatype Nat ((Z) (S (p Nat))))
(declare-datatype Lst ((nil) (cons (head Nat) (tail Lst))))
(define-fun-rec append ((xs Lst) (ys Lst)) Lst
  (match xs ((nil ys) ((cons x r) (cons x (append r ys))))))
(define-fun-rec rev ((xs Lst)) Lst
  (match xs ((nil nil) ((cons x r) (append (rev r) (cons x nil))))))
(prove (forall ((xs Lst)) (= (rev (rev xs)) xs)))
