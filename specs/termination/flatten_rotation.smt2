; flattening a tree by rotation: flat (Node (Node a x b) y c) = flat (Node a x (Node b y c))
(declare-datatype list ((nil) (cons (head Int) (tail list))))
(declare-datatype tree ((Leaf) (Node (l tree) (v Int) (r tree))))
(define-fun-rec flat ((t tree)) list
  (match t ((Leaf nil) ((Node a x c) (match a ((Leaf (cons x (flat c)))
    ((Node a1 y b1) (flat (Node a1 y (Node b1 x c))))))))))
(prove (forall ((t tree)) (= (flat t) (flat t))))
