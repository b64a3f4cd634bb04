; Properties collected by the ida-ns pytest plugin, one test item per goal:
;   pytest --ida-ns-specs 'examples/**/*.smt2'
; Expected: append_nil and append_assoc proved (pass), rev_append_wrong refuted (fails with a
; counterexample shown as Python lists), no_cube_sum unknown (skipped: true, but beyond
; the prover: Fermat's last theorem for cubes).
(declare-datatype list ((nil) (cons (head Int) (tail list))))
(define-fun-rec append ((xs list) (ys list)) list
  (match xs
    ((nil ys)
     ((cons z zs) (cons z (append zs ys))))))
(define-fun-rec rev ((xs list)) list
  (match xs
    ((nil nil)
     ((cons z zs) (append (rev zs) (cons z nil))))))
(prove (! (forall ((xs list)) (= (append xs nil) xs)) :named append_nil))
(prove (! (forall ((xs list) (ys list) (zs list))
            (= (append (append xs ys) zs) (append xs (append ys zs))))
          :named append_assoc))
(prove (! (forall ((xs list) (ys list)) (= (rev (append xs ys)) (append (rev xs) (rev ys))))
          :named rev_append_wrong))
(prove (! (forall ((x Int) (y Int) (z Int))
            (=> (and (> x 0) (> y 0) (> z 0))
                (distinct (+ (* x x x) (* y y y)) (* z z z))))
          :named no_cube_sum))
