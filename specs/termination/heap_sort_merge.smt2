; heap sort through heap merging (skew heaps): merge by the sum of the sizes
(declare-datatype list ((nil) (cons (head Int) (tail list))))
(declare-datatype heap ((leaf) (node (left heap) (elem Int) (right heap))))
(define-fun-rec hmerge ((h1 heap) (h2 heap)) heap
  (match h1 ((leaf h2) ((node l1 x1 r1) (match h2 ((leaf h1) ((node l2 x2 r2)
    (ite (<= x1 x2) (node (hmerge r1 h2) x1 l1) (node (hmerge h1 r2) x2 l2)))))))))
(define-fun-rec toHeap ((xs list)) heap
  (match xs ((nil leaf) ((cons y ys) (hmerge (node leaf y leaf) (toHeap ys))))))
(define-fun-rec toList ((h heap)) list
  (match h ((leaf nil) ((node l x r) (cons x (toList (hmerge l r)))))))
(define-fun hsort ((xs list)) list (toList (toHeap xs)))
(prove (forall ((xs list)) (= (hsort (hsort xs)) (hsort xs))))
