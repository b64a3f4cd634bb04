(declare-datatypes ((Nat 0)) (((Z) (S (p Nat)))))
(declare-datatypes ((list 0)) (((nil) (cons (head Nat) (tail list)))))
(define-fun-rec append ((xs list) (ys list)) list
  (match xs ((nil ys) ((cons h t) (cons h (append t ys))))))
(define-fun-rec rev ((xs list)) list
  (match xs ((nil nil) ((cons h t) (append (rev t) (cons h nil))))))
(prove (forall ((xs list)) (= (rev (rev xs)) xs)))
