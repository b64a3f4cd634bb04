; toList of a leaf-valued binary tree by left rotation: Bin (Bin a b) c -> Bin a (Bin b c)
; (lexicographic: number of Bin nodes, then the length of the left spine)
(declare-datatype list ((nil) (cons (head Int) (tail list))))
(declare-datatype T ((Tip (val Int)) (Bin (lt T) (rt T))))
(define-fun-rec tolist ((t T)) list
  (match t (((Tip x) (cons x nil))
            ((Bin a c) (match a (((Tip x) (cons x (tolist c)))
                                 ((Bin a1 b1) (tolist (Bin a1 (Bin b1 c))))))))))
(prove (forall ((t T)) (= (tolist t) (tolist t))))
