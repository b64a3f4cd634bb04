; Peano naturals.  Plain monomorphic SMT-LIB 2.6: every definition is structurally recursive,
; so the theory is consistent.  Shared verbatim as the first block of list.smt2 and tree.smt2.
(declare-datatypes ((Nat 0)) (((Z) (S (pred Nat)))))
(define-fun-rec plus ((x Nat) (y Nat)) Nat
  (match x ((Z y) ((S n) (S (plus n y))))))
(define-fun-rec mult ((x Nat) (y Nat)) Nat
  (match x ((Z Z) ((S n) (plus y (mult n y))))))
; truncated subtraction: minus x y = 0 when y >= x
(define-fun-rec minus ((x Nat) (y Nat)) Nat
  (match x ((Z Z) ((S n) (match y ((Z x) ((S m) (minus n m))))))))
(define-fun-rec le ((x Nat) (y Nat)) Bool
  (match x ((Z true) ((S n) (match y ((Z false) ((S m) (le n m))))))))
(define-fun-rec lt ((x Nat) (y Nat)) Bool
  (match y ((Z false) ((S m) (match x ((Z true) ((S n) (lt n m))))))))
(define-fun-rec max ((x Nat) (y Nat)) Nat
  (match x ((Z y) ((S n) (match y ((Z x) ((S m) (S (max n m)))))))))
(define-fun-rec min ((x Nat) (y Nat)) Nat
  (match x ((Z Z) ((S n) (match y ((Z Z) ((S m) (S (min n m)))))))))
(define-fun-rec double ((x Nat)) Nat
  (match x ((Z Z) ((S n) (S (S (double n)))))))
(define-fun-rec half ((x Nat)) Nat
  (match x ((Z Z) ((S n) (match n ((Z Z) ((S m) (S (half m)))))))))
(define-fun-rec even ((x Nat)) Bool
  (match x ((Z true) ((S n) (match n ((Z false) ((S m) (even m))))))))
