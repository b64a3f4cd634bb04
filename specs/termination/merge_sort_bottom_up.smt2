; merge sort bottom-up: mergingbu over a list of lists that shrinks by pairing
(declare-datatype list ((nil) (cons (head Int) (tail list))))
(declare-datatype lists ((lnil) (lcons (lhead list) (ltail lists))))
(define-fun-rec merge ((xs list) (ys list)) list
  (match xs ((nil ys) ((cons x xt) (match ys ((nil xs) ((cons y yt)
    (ite (<= x y) (cons x (merge xt ys)) (cons y (merge xs yt))))))))))
(define-fun-rec pairwise ((xss lists)) lists
  (match xss ((lnil lnil) ((lcons a r) (match r ((lnil (lcons a lnil))
    ((lcons b r2) (lcons (merge a b) (pairwise r2)))))))))
(define-fun-rec mergingbu ((xss lists)) list
  (match xss ((lnil nil) ((lcons a r) (match r ((lnil a) ((lcons b r2) (mergingbu (pairwise xss)))))))))
(prove (forall ((xss lists)) (= (mergingbu xss) (mergingbu xss))))
