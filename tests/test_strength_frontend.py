"""define-funs-rec with TIP's ``(name (par (a) (((x s)) r)))`` signatures, and polymorphic
recursion refused with a message naming the function."""

import pytest

from ida_ns.errors import IdaNsError
from ida_ns.logic.parser import parse_text

LIST = "(declare-datatype list (par (a) ((nil) (cons (head a) (tail (list a))))))\n"

PAR_MUTUAL = LIST + """
(define-funs-rec
  ((evens (par (a) (((x (list a))) (list a))))
   (odds (par (a) (((x (list a))) (list a)))))
  ((match x ((nil (as nil (list a))) ((cons y z) (cons y (odds z)))))
   (match x ((nil (as nil (list a))) ((cons y z) (evens z))))))
(prove (forall ((xs (list Int))) (= (evens (cons 1 xs)) (cons 1 (odds xs)))))
"""


def test_define_funs_rec_par_signature_should_succeed():
    p = parse_text(PAR_MUTUAL, "<t>")
    names = {d.name for d in p.theory.all_defs()}
    assert {"evens", "odds"} <= names
    ev = next(d for d in p.theory.all_defs() if d.name == "evens")
    assert len(ev.params) == 1 and str(ev.params[0].sort).startswith("list")


def test_define_funs_rec_par_signature_evaluates():
    from ida_ns.counterexample import find_counterexample

    p = parse_text(PAR_MUTUAL, "<t>")
    assert find_counterexample(p.theory, p.goal, trials=50, seed=0) is None
    bad = PAR_MUTUAL.replace("(cons 1 (odds xs))", "(cons 1 (evens xs))")
    p = parse_text(bad, "<t>")
    assert find_counterexample(p.theory, p.goal, trials=200, seed=0) is not None


def test_define_funs_rec_malformed_par_signature_should_fail():
    bad = LIST + """(define-funs-rec ((evens (par (a) ((x (list a))))))
      ((match x ((nil (as nil (list a))) ((cons y z) z)))))
    (prove true)"""
    with pytest.raises(IdaNsError, match=r"<t>:\d+:\d+: malformed signature"):
        parse_text(bad, "<t>")


@pytest.mark.parametrize("call", [
    "(f (as nil (list (list a))))",
    "(f (cons z (as nil (list (list a)))))",
])
def test_polymorphic_recursion_refused_naming_function(call):
    text = LIST + f"""(define-fun-rec f (par (a) (((x (list a))) Int))
      (match x ((nil 0) ((cons y z) (+ 1 {call})))))
    (prove (forall ((xs (list Int))) (>= (f xs) 0)))"""
    with pytest.raises(IdaNsError, match=r"<t>:2:\d+: cannot monomorphise function f: polymorphic recursion"):
        parse_text(text, "<t>")


def test_bounded_polymorphic_instances_should_succeed():
    # f at (list a) calls g at a: finitely many instances, monomorphised.
    text = LIST + """(define-fun-rec g (par (b) (((x (list b))) Int))
      (match x ((nil 0) ((cons y z) (+ 1 (g z))))))
    (define-fun-rec f (par (a) (((x (list (list a)))) Int))
      (match x ((nil 0) ((cons y z) (+ (g y) (f z))))))
    (prove (forall ((xs (list (list Int)))) (>= (f xs) 0)))"""
    p = parse_text(text, "<t>")
    assert {"f", "g"} <= {d.name for d in p.theory.all_defs()}
