; twin of tolist_rotation_leafy: the "rotation" swaps the inner children instead, so
; tolist (Bin (Bin a b) c) -> tolist (Bin (Bin b a) c) -> tolist (Bin (Bin a b) c) -> ...
(declare-datatype list ((nil) (cons (head Int) (tail list))))
(declare-datatype T ((Tip (val Int)) (Bin (lt T) (rt T))))
(define-fun-rec tolist ((t T)) list
  (match t (((Tip x) (cons x nil))
            ((Bin a c) (match a (((Tip x) (cons x (tolist c)))
                                 ((Bin a1 b1) (tolist (Bin (Bin b1 a1) c)))))))))
(prove (forall ((t T)) (= (tolist t) (tolist t))))
