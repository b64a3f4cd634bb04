; reverse flattening by right-to-left rotation on a right spine:
; flat (Node a x (Node b y d)) -> flat (Node (Node a x b) y d)  (the right spine shrinks)
(declare-datatype list ((nil) (cons (head Int) (tail list))))
(declare-datatype tree ((Leaf) (Node (l tree) (v Int) (r tree))))
(define-fun-rec rflat ((t tree)) list
  (match t ((Leaf nil) ((Node a x c) (match c ((Leaf (cons x (rflat a)))
    ((Node b y d) (rflat (Node (Node a x b) y d)))))))))
(prove (forall ((t tree)) (= (rflat t) (rflat t))))
