; selection sort through delete-minimum
(declare-datatype list ((nil) (cons (head Int) (tail list))))
(define-fun-rec minimum ((x Int) (xs list)) Int
  (match xs ((nil x) ((cons y ys) (ite (<= y x) (minimum y ys) (minimum x ys))))))
(define-fun-rec delete ((x Int) (xs list)) list
  (match xs ((nil nil) ((cons y ys) (ite (= x y) ys (cons y (delete x ys)))))))
(define-fun-rec ssort ((xs list)) list
  (match xs ((nil nil) ((cons y ys) (let ((m (minimum y ys))) (cons m (ssort (delete m xs))))))))
(prove (forall ((xs list)) (= (ssort (ssort xs)) (ssort xs))))
