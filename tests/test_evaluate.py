"""Ground evaluator and runtime values: semantics, limits, printing, generation."""

from __future__ import annotations

import random
import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ida_ns.logic.ast import (BOOL, INT, App, Constructor, Datatype, IntLit, Match, MatchCase,
                              PatCon, Sort, Theory, Var, fun_sort)
from ida_ns.logic.evaluate import Evaluator, ediv, emod
from ida_ns.logic.parser import parse_term, parse_text
from ida_ns.logic.values import (Closure, CtorVal, EvalAbort, FunctionEquality, Interpretation,
                                 NotGround, OpaqueVal, OutOfFuel, TableFun, Undetermined,
                                 enumerate_values, is_value_of, random_value, show_value,
                                 smt_equal, value_space, value_to_term)
from ida_ns.testing.ast_strategies import ground_sorts, terms, theories
from ida_ns.testing.values import instances_of, values_of

THEORY = parse_text("""
(declare-datatype Nat ((Z) (S (p Nat))))
(declare-datatype list ((nil) (cons (head Nat) (tail list))))
(declare-datatypes ((Tree 0) (Forest 0))
  (((Node (label Int) (kids Forest)))
   ((Leaf) (Grow (first Tree) (rest Forest)))))
(define-fun-rec plus ((x Nat) (y Nat)) Nat (match x ((Z y) ((S n) (S (plus n y))))))
(define-fun-rec ++ ((x list) (y list)) list (match x ((nil y) ((cons z xs) (cons z (++ xs y))))))
(define-fun-rec rev ((x list)) list (match x ((nil nil) ((cons z xs) (++ (rev xs) (cons z nil))))))
(define-fun-rec len ((x list)) Int (match x ((nil 0) ((cons _ xs) (+ 1 (len xs))))))
(define-fun-rec loop ((x Nat)) Nat (loop (S x)))
(define-fun-rec twice ((x Nat)) Bool (match x ((Z true) ((S n) (and (twice n) (twice n))))))
(define-fun-rec filter ((q (=> Nat Bool)) (x list)) list
  (match x ((nil nil) ((cons z xs) (ite (@ q z) (cons z (filter q xs)) (filter q xs))))))
(declare-sort U 0)
(declare-fun f (U) Nat)
(prove true)
""").theory

NAT, LIST, U = Sort("Nat"), Sort("list"), Sort("U")
Z = CtorVal("Z")


def nat(k: int) -> CtorVal:
    v = Z
    for _ in range(k):
        v = CtorVal("S", (v,))
    return v


def lst(*items: int) -> CtorVal:
    v = CtorVal("nil")
    for i in reversed(items):
        v = CtorVal("cons", (nat(i), v))
    return v


def ev_text(text: str, env: dict[str, object] | None = None, ev: Evaluator | None = None,
            sorts: dict[str, Sort] | None = None):
    """Evaluate a term written in SMT-LIB; env maps variable names to values."""
    env = env or {}
    sorts = sorts or {}
    scope = {k: Var(k, sorts.get(k, _guess_sort(v))) for k, v in env.items()}
    t = parse_term(text, THEORY, scope)
    return (ev or Evaluator(THEORY)).eval(t, {scope[k]: v for k, v in env.items()})


def _guess_sort(v) -> Sort:
    if type(v) is bool:
        return BOOL
    if type(v) is int:
        return INT
    if type(v) is OpaqueVal:
        return Sort(v.sort)
    return NAT if v.ctor in ("Z", "S") else LIST


# -- recursive functions ----------------------------------------------------------------------

def test_recursive_functions_compute():
    assert ev_text("(plus x y)", {"x": nat(2), "y": nat(3)}) == nat(5)
    assert ev_text("(rev xs)", {"xs": lst(1, 2, 3)}) == lst(3, 2, 1)
    assert ev_text("(len (++ xs xs))", {"xs": lst(1, 2, 3)}) == 6


def test_eval_and_compile_agree_and_compile_is_reusable():
    x = Var("x", LIST)
    t = parse_term("(= (rev (rev x)) x)", THEORY, {"x": x})
    ev = Evaluator(THEORY)
    run = ev.compile(t, (x,))
    rng = random.Random(1)
    for _ in range(200):
        v = random_value(LIST, THEORY, rng, 8)
        assert run([v]) is True and ev.eval(t, {x: v}) is True


def test_missing_variable_is_not_ground():
    x = Var("x", NAT)
    with pytest.raises(NotGround, match="x"):
        Evaluator(THEORY).eval(App("plus", (x, x), NAT), {})


# -- fuel and depth ---------------------------------------------------------------------------

def test_nonterminating_function_runs_out_of_fuel():
    with pytest.raises(OutOfFuel, match="fuel"):
        ev_text("(loop Z)", ev=Evaluator(THEORY, fuel=1000, max_depth=10**6))


def test_fuel_bound_paired():
    xs = lst(*range(50))
    assert ev_text("(len x)", {"x": xs}, ev=Evaluator(THEORY, fuel=51)) == 50
    with pytest.raises(OutOfFuel):
        ev_text("(len x)", {"x": xs}, ev=Evaluator(THEORY, fuel=50))


def test_deadline_stops_long_evaluations():
    import time
    ev = Evaluator(THEORY, fuel=10**9, max_depth=10**9)
    ev.deadline = time.perf_counter() + 0.05
    t0 = time.perf_counter()
    with pytest.raises(OutOfFuel, match="deadline"):
        ev_text("(twice x)", {"x": nat(60)}, ev=ev)  # 2^60 shallow calls
    assert time.perf_counter() - t0 < 10.0  # 2^60 calls without the deadline


def test_deep_recursion_is_safe():
    limit = sys.getrecursionlimit()
    xs = lst(*([0] * 2000))
    assert ev_text("(len x)", {"x": xs}) == 2000
    assert ev_text("(len (rev x))", {"x": lst(*range(300))}) == 300
    huge = lst(*([0] * 20_000))
    with pytest.raises(OutOfFuel, match="depth"):
        ev_text("(len x)", {"x": huge}, ev=Evaluator(THEORY, fuel=10**6))
    assert sys.getrecursionlimit() == limit  # restored
    # deep values hash, compare and print without recursion
    assert hash(huge) == hash(lst(*([0] * 20_000))) and huge == lst(*([0] * 20_000))
    assert show_value(huge).count("cons") == 20_000


# -- SMT-LIB integer semantics ----------------------------------------------------------------

@given(st.integers(-10**6, 10**6), st.integers(-1000, 1000).filter(lambda n: n != 0))
def test_div_mod_are_euclidean(m, n):
    q, r = ediv(m, n), emod(m, n)
    assert m == n * q + r and 0 <= r < abs(n)  # the SMT-LIB definition
    x, y = Var("x", INT), Var("y", INT)
    ev = Evaluator(THEORY)
    assert ev.eval(parse_term("(div x y)", THEORY, {"x": x, "y": y}), {x: m, y: n}) == q
    assert ev.eval(parse_term("(mod x y)", THEORY, {"x": x, "y": y}), {x: m, y: n}) == r


def test_division_by_zero_is_undetermined():
    for op in ("div", "mod"):
        with pytest.raises(Undetermined):
            ev_text(f"({op} x 0)", {"x": 7})


def test_int_builtins():
    assert ev_text("(- 3 1 1)") == 1 and ev_text("(- 3)") == -3
    assert ev_text("(< 1 2 3)") is True and ev_text("(< 1 3 2)") is False
    assert ev_text("(distinct 1 2 1)") is False and ev_text("(distinct 1 2 3)") is True
    assert ev_text("(abs (- 4))") == 4 and ev_text("(* 2 3 4)") == 24
    assert ev_text("(=> false x)", {"x": True}) is True
    assert ev_text("(xor true true true)") is True


# -- unspecified values -----------------------------------------------------------------------

def test_selector_on_wrong_constructor_is_undetermined():
    assert ev_text("(head x)", {"x": lst(4)}) == nat(4)
    with pytest.raises(Undetermined, match="head"):
        ev_text("(head x)", {"x": lst()})


def test_connectives_decide_around_undetermined_arguments():
    env = {"x": lst()}
    assert ev_text("(and (= (head x) Z) false)", env) is False
    assert ev_text("(or (= (head x) Z) true)", env) is True
    assert ev_text("(=> (= (head x) Z) true)", env) is True
    assert ev_text("(ite (= (head x) Z) 1 1)", env) == 1
    for undecided in ("(and (= (head x) Z) true)", "(ite (= (head x) Z) 1 2)"):
        with pytest.raises(Undetermined):
            ev_text(undecided, env)


def test_match_without_matching_case_is_undetermined():
    x = Var("x", NAT)
    t = Match(x, (MatchCase(PatCon("Z"), IntLit(0)),), INT)
    ev = Evaluator(THEORY)
    assert ev.eval(t, {x: Z}) == 0
    with pytest.raises(Undetermined):
        ev.eval(t, {x: nat(1)})


# -- quantifiers ------------------------------------------------------------------------------

def test_quantifiers_over_finite_sorts_are_exhaustive():
    assert ev_text("(forall ((b Bool)) (or b (not b)))") is True
    assert ev_text("(exists ((b Bool) (c Bool)) (and b (not c)))") is True
    assert ev_text("(forall ((u U) (v U)) (= u v))", ev=Evaluator(
        THEORY, interp=Interpretation(THEORY, sizes={"U": 1}))) is True
    assert ev_text("(forall ((u U) (v U)) (= u v))") is False  # default: 3 elements


def test_quantifiers_over_infinite_sorts_decide_only_by_instances():
    assert ev_text("(forall ((n Nat)) (= (plus n Z) Z))") is False  # n = S Z refutes
    assert ev_text("(exists ((i Int)) (= (* i i) 4))") is True  # witness 2
    with pytest.raises(NotGround):
        ev_text("(forall ((n Nat)) (= (plus n Z) n))")  # true, but not decidable this way
    with pytest.raises(NotGround):
        ev_text("(exists ((i Int)) (= (* i i) 2))")


# -- higher order -----------------------------------------------------------------------------

def test_lambda_closures_capture_their_environment():
    env = {"x": lst(1, 2, 1, 3), "k": nat(1)}
    assert ev_text("(filter (lambda ((y Nat)) (= y k)) x)", env) == lst(1, 1)
    assert ev_text("(@ (lambda ((a Int) (b Int)) (- a b)) 5 7)") == -2


def test_function_equality_is_decided_only_when_sound():
    s = fun_sort((INT,), INT)
    t1 = TableFun(s, (((1,), 5),), 0)
    assert smt_equal(t1, TableFun(s, (((1,), 5),), 0)) is True
    assert smt_equal(t1, TableFun(s, (((1,), 6),), 0)) is False
    with pytest.raises(FunctionEquality):
        smt_equal(t1, TableFun(s, (((1,), 5),), 1))  # differ off the table... or not
    with pytest.raises(FunctionEquality):
        ev_text("(= (lambda ((a Int)) a) (lambda ((a Int)) (+ a 0)))")
    clo = Evaluator(THEORY).eval(parse_term("(lambda ((a Int)) (+ a 1))", THEORY))
    assert isinstance(clo, Closure) and smt_equal(clo, clo) is True
    assert smt_equal(clo, TableFun(s, (((1,), 5),), 0)) is False  # differs at 1
    with pytest.raises(FunctionEquality):
        smt_equal(clo, TableFun(s, (((1,), 2),), 0))


# -- declared symbols -------------------------------------------------------------------------

def test_interpretation_is_seeded_and_order_independent():
    a, b = OpaqueVal("U", 0), OpaqueVal("U", 1)
    i1, i2 = Interpretation(THEORY, seed=7), Interpretation(THEORY, seed=7)
    first = (i1.apply("f", (a,)), i1.apply("f", (b,)))
    second = (i2.apply("f", (b,)), i2.apply("f", (a,)))
    assert first == second[::-1]
    assert i1.apply("f", (a,)) is first[0]  # stable within an interpretation
    assert [x[:2] for x in i1.queried()] == [("f", (a,)), ("f", (b,))]
    assert "(f U!val!0)" in dict(i1.describe())


def test_declared_function_in_terms():
    u = Var("u", U)
    ev = Evaluator(THEORY, interp=Interpretation(THEORY, seed=3))
    t = parse_term("(= (f u) (f u))", THEORY, {"u": u})
    assert ev.eval(t, {u: OpaqueVal("U", 2)}) is True


# -- printing and conversion ------------------------------------------------------------------

def test_show_value():
    assert show_value(lst(1, 0)) == "(cons (S Z) (cons Z nil))"
    assert show_value(-3) == "(- 3)" and show_value(True) == "true"
    assert show_value(CtorVal(":+:", (Z, Z))) == "(|:+:| Z Z)"
    assert show_value(OpaqueVal("U", 1)) == "U!val!1"
    s = fun_sort((INT,), BOOL)
    assert show_value(TableFun(s, (((1,), True),), False)) == \
        "(lambda ((x0 Int)) (ite (= x0 1) true false))"


# -- generation, with every sort of random theories -------------------------------------------

def _sorts_of(theory: Theory) -> list[Sort]:
    out = ground_sorts(theory)
    return out + [fun_sort((out[-1],), BOOL)]


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.data())
def test_hypothesis_values_are_accepted_by_the_evaluator(data):
    theory = data.draw(theories())
    ev = Evaluator(theory)
    for sort in _sorts_of(theory):
        v = data.draw(values_of(sort, theory), label=str(sort))
        assert is_value_of(v, sort, theory)
        x = Var("x", sort)
        if sort.is_function:
            with pytest.raises(FunctionEquality):  # a table against a closure
                ev.eval(App("=", (x, value_to_term(v, sort, theory)), BOOL), {x: v})
            continue
        assert ev.eval(App("=", (x, x), BOOL), {x: v}) is True
        assert ev.eval(value_to_term(v, sort, theory)) == v  # round trip through a term


@settings(max_examples=50, deadline=None)
@given(instances_of((NAT, LIST, LIST), THEORY))
def test_property_based_lemma_with_instances_of(inst):
    n, xs, ys = inst
    assert ev_text("(= (plus n Z) n)", {"n": n}) is True
    assert ev_text("(= (rev (++ xs ys)) (++ (rev ys) (rev xs)))", {"xs": xs, "ys": ys},
                   sorts={"xs": LIST, "ys": LIST}) is True


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(theories(), st.integers(0, 2**32), st.integers(0, 12))
def test_random_values_are_well_formed(theory, seed, size):
    rng = random.Random(seed)
    for sort in _sorts_of(theory):
        v = random_value(sort, theory, rng, size)
        assert is_value_of(v, sort, theory), show_value(v)
        for small in enumerate_values(sort, theory, 2):
            assert is_value_of(small, sort, theory)


def test_random_values_of_mutually_recursive_datatypes_terminate_and_vary():
    rng = random.Random(0)
    trees = [random_value(Sort("Tree"), THEORY, rng, size) for size in range(12) for _ in
             range(30)]
    assert all(is_value_of(t, Sort("Tree"), THEORY) for t in trees)
    assert len(set(trees)) > 100
    assert random_value(Sort("Forest"), THEORY, rng, 0) == CtorVal("Leaf")


def test_size_tiers_count_values_by_size():
    space = value_space(THEORY)
    assert [len(space.tier(NAT, k)) for k in range(5)] == [0, 1, 1, 1, 1]
    # lists of size k: cons cells and Nats sharing k-1 ... nil is 1, (cons Z nil) is 3
    assert [len(space.tier(LIST, k)) for k in range(6)] == [0, 1, 0, 1, 1, 2]
    assert space.tier(LIST, 40, cap=10) is None


def test_empty_datatype_is_rejected_with_its_name():
    th = Theory(datatypes=((Datatype("Inf", (Constructor("C", (("c", Sort("Inf")),)),)),),))
    with pytest.raises(ValueError, match="Inf"):
        random_value(Sort("Inf"), th, random.Random(0), 3)


@settings(max_examples=80, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.data())
def test_random_terms_evaluate_to_values_or_abort_cleanly(data):
    theory = data.draw(theories())
    sort = data.draw(st.sampled_from(ground_sorts(theory)))
    t = data.draw(terms(theory, sort))
    ev = Evaluator(theory, fuel=2000, interp=Interpretation(theory, seed=1))
    try:
        v = ev.eval(t)
    except EvalAbort:
        return
    assert is_value_of(v, sort, theory) or (sort.is_function and isinstance(v, Closure))
