; bottom-up merge of runs over Peano naturals: `couple` merges neighbouring runs; `mergeall`
; stops on a single run through an is-rnil guard (not a nested match)
(declare-datatype Nat ((Zero) (Succ (pred Nat))))
(declare-datatype seq ((snil) (scons (shd Nat) (stl seq))))
(declare-datatype runs ((rnil) (rcons (rhd seq) (rtl runs))))
(define-fun-rec leq ((a Nat) (b Nat)) Bool
  (match a ((Zero true) ((Succ a2) (match b ((Zero false) ((Succ b2) (leq a2 b2))))))))
(define-fun-rec lmerge ((xs seq) (ys seq)) seq
  (match xs ((snil ys) ((scons x xt) (match ys ((snil xs) ((scons y yt)
    (ite (leq x y) (scons x (lmerge xt ys)) (scons y (lmerge xs yt))))))))))
(define-fun-rec couple ((rs runs)) runs
  (match rs ((rnil rnil) ((rcons a r) (match r ((rnil rs)
    ((rcons b r2) (rcons (lmerge a b) (couple r2)))))))))
(define-fun-rec mergeall ((rs runs)) seq
  (match rs ((rnil snil) ((rcons a r) (ite (is-rnil r) a (mergeall (couple rs)))))))
(prove (forall ((rs runs)) (= (mergeall rs) (mergeall rs))))
