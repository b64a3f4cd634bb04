; Binary trees of naturals; the first blocks are nat.smt2 and list.smt2 verbatim.
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
; Lists of naturals.
(declare-datatypes ((List 0)) (((nil) (cons (head Nat) (tail List)))))
(define-fun-rec append ((xs List) (ys List)) List
  (match xs ((nil ys) ((cons x r) (cons x (append r ys))))))
(define-fun-rec rev ((xs List)) List
  (match xs ((nil nil) ((cons x r) (append (rev r) (cons x nil))))))
; reverse with an accumulator: qrev xs acc = append (rev xs) acc
(define-fun-rec qrev ((xs List) (acc List)) List
  (match xs ((nil acc) ((cons x r) (qrev r (cons x acc))))))
(define-fun-rec snoc ((xs List) (y Nat)) List
  (match xs ((nil (cons y nil)) ((cons x r) (cons x (snoc r y))))))
(define-fun-rec len ((xs List)) Nat
  (match xs ((nil Z) ((cons x r) (S (len r))))))
(define-fun-rec sum ((xs List)) Nat
  (match xs ((nil Z) ((cons x r) (plus x (sum r))))))
(define-fun-rec count ((y Nat) (xs List)) Nat
  (match xs ((nil Z) ((cons x r) (ite (= y x) (S (count y r)) (count y r))))))
(define-fun-rec elem ((y Nat) (xs List)) Bool
  (match xs ((nil false) ((cons x r) (or (= y x) (elem y r))))))
(define-fun-rec take ((n Nat) (xs List)) List
  (match n ((Z nil) ((S m) (match xs ((nil nil) ((cons x r) (cons x (take m r)))))))))
(define-fun-rec drop ((n Nat) (xs List)) List
  (match n ((Z xs) ((S m) (match xs ((nil nil) ((cons x r) (drop m r))))))))
; last and butlast are total: last nil = Z, butlast nil = nil
(define-fun-rec last ((xs List)) Nat
  (match xs ((nil Z) ((cons x r) (match r ((nil x) ((cons y s) (last r))))))))
(define-fun-rec butlast ((xs List)) List
  (match xs ((nil nil) ((cons x r) (match r ((nil nil) ((cons y s) (cons x (butlast r)))))))))
(define-fun-rec sorted ((xs List)) Bool
  (match xs ((nil true) ((cons x r) (match r ((nil true) ((cons y s) (and (le x y) (sorted r)))))))))
(define-fun-rec ins ((y Nat) (xs List)) List
  (match xs ((nil (cons y nil)) ((cons x r) (ite (le y x) (cons y xs) (cons x (ins y r)))))))
(define-fun-rec isort ((xs List)) List
  (match xs ((nil nil) ((cons x r) (ins x (isort r))))))
(define-fun-rec replicate ((n Nat) (y Nat)) List
  (match n ((Z nil) ((S m) (cons y (replicate m y))))))
; delete every occurrence of y
(define-fun-rec delete ((y Nat) (xs List)) List
  (match xs ((nil nil) ((cons x r) (ite (= y x) (delete y r) (cons x (delete y r)))))))
; rotate n xs moves the first n elements, one at a time, to the end (structural on n)
(define-fun-rec rotate ((n Nat) (xs List)) List
  (match n ((Z xs) ((S m) (match xs ((nil nil) ((cons x r) (rotate m (snoc r x)))))))))
; Binary trees with a natural at each node.
(declare-datatypes ((Tree 0)) (((leaf) (node (left Tree) (value Nat) (right Tree)))))
(define-fun-rec mirror ((t Tree)) Tree
  (match t ((leaf leaf) ((node l v r) (node (mirror r) v (mirror l))))))
(define-fun-rec size ((t Tree)) Nat
  (match t ((leaf Z) ((node l v r) (S (plus (size l) (size r)))))))
(define-fun-rec height ((t Tree)) Nat
  (match t ((leaf Z) ((node l v r) (S (max (height l) (height r)))))))
(define-fun-rec leaves ((t Tree)) Nat
  (match t ((leaf (S Z)) ((node l v r) (plus (leaves l) (leaves r))))))
; in-order traversal, and the same with an accumulator: flat t acc = append (flatten t) acc
(define-fun-rec flatten ((t Tree)) List
  (match t ((leaf nil) ((node l v r) (append (flatten l) (cons v (flatten r)))))))
(define-fun-rec flat ((t Tree) (acc List)) List
  (match t ((leaf acc) ((node l v r) (flat l (cons v (flat r acc)))))))
(define-fun-rec tsum ((t Tree)) Nat
  (match t ((leaf Z) ((node l v r) (plus (tsum l) (plus v (tsum r)))))))
(define-fun-rec telem ((y Nat) (t Tree)) Bool
  (match t ((leaf false) ((node l v r) (or (= y v) (telem y l) (telem y r))))))
(define-fun-rec tcount ((y Nat) (t Tree)) Nat
  (match t ((leaf Z) ((node l v r) (plus (tcount y l) (plus (ite (= y v) (S Z) Z) (tcount y r)))))))
; binary-search-tree insertion, and the tree built by inserting a list's elements
(define-fun-rec tinsert ((y Nat) (t Tree)) Tree
  (match t ((leaf (node leaf y leaf))
            ((node l v r) (ite (le y v) (node (tinsert y l) v r) (node l v (tinsert y r)))))))
(define-fun-rec build ((xs List)) Tree
  (match xs ((nil leaf) ((cons x r) (tinsert x (build r))))))
