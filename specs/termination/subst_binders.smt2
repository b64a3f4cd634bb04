; substitution under binders (de Bruijn lambda terms with shifting)
(declare-datatype Tm ((Var (idx Int)) (App (fn Tm) (arg Tm)) (Lam (body Tm))))
(define-fun-rec shift ((d Int) (c Int) (t Tm)) Tm
  (match t (((Var k) (ite (>= k c) (Var (+ k d)) (Var k)))
            ((App a b) (App (shift d c a) (shift d c b)))
            ((Lam b) (Lam (shift d (+ c 1) b))))))
(define-fun-rec subst ((j Int) (s Tm) (t Tm)) Tm
  (match t (((Var k) (ite (= k j) s (Var k)))
            ((App a b) (App (subst j s a) (subst j s b)))
            ((Lam b) (Lam (subst (+ j 1) (shift 1 0 s) b))))))
(prove (forall ((t Tm)) (= (subst 0 t t) (subst 0 t t))))
