"""Python <-> spec: converters and their registry, spec_function, conforms."""

from __future__ import annotations

from collections import namedtuple
from dataclasses import dataclass

import pytest
from hypothesis import given, settings, strategies as st

from ida_ns.convert import (ConversionError, Converter, Data, TypeAdapter, register_type,
                            unregister_type)
from ida_ns.hypothesis import (InvalidArgument, NonConformance, SpecEvaluationError, conforms,
                               python_values, spec_function, values)
from ida_ns.logic.parser import parse_text
from ida_ns.logic.values import CtorVal, OpaqueVal, show_value

TH = parse_text("""
(declare-sort U 0)
(declare-datatype Nat ((Z) (S (p Nat))))
(declare-datatype list ((nil) (cons (head Int) (tail list))))
(declare-datatype nlist ((ncons (nhd Nat) (ntl nlist)) (nnil)))
(declare-datatype pair ((mk (fst Int) (snd Bool))))
(declare-datatype Tree ((Leaf) (Node (left Tree) (val Int) (right Tree))))
(define-fun-rec app ((xs list) (ys list)) list
  (match xs ((nil ys) ((cons x r) (cons x (app r ys))))))
(define-fun-rec ins ((x Int) (xs list)) list
  (match xs ((nil (cons x nil))
             ((cons y ys) (ite (<= x y) (cons x xs) (cons y (ins x ys)))))))
(define-fun-rec isort ((xs list)) list (match xs ((nil nil) ((cons y ys) (ins y (isort ys))))))
(define-fun swap ((q pair)) pair (mk (- (fst q)) (not (snd q))))
(define-fun-rec loop ((x Int)) Int (loop x))
(declare-fun opaque (Int) Int)
(prove true)""").theory
C = Converter(TH)


# ---- converters --------------------------------------------------------------------------------

def test_lists_naturals_records_and_data_should_succeed():
    v = C.from_python([3, -1], "list")
    assert show_value(v) == "(cons 3 (cons (- 1) nil))"
    assert C.to_python(v, "list") == [3, -1]
    assert show_value(C.from_python([2], "nlist")) == "(ncons (S (S Z)) nnil)"  # tail first
    assert C.to_python(C.from_python((4, True), "pair"), "pair") == (4, True)
    t = Data("Node", (Data("Leaf"), 5, Data("Leaf")))
    assert repr(t) == "Node(Leaf, 5, Leaf)"
    assert C.to_python(C.from_python(t, "Tree"), "Tree") == t
    assert C.from_python(OpaqueVal("U", 7), "U") == OpaqueVal("U", 7)
    assert C.from_python(v, "list") is v  # theory values pass through


def test_dataclasses_namedtuples_and_registered_types_should_succeed():
    @dataclass(frozen=True)
    class Pair:
        fst: int
        snd: bool

    P = namedtuple("P", "fst snd")
    assert C.from_python(Pair(1, False), "pair") == C.from_python(P(1, False), "pair") \
        == CtorVal("mk", (1, False))
    c = Converter(TH, types={"pair": TypeAdapter.for_class(Pair)})
    assert c.to_python(CtorVal("mk", (1, False)), "pair") == Pair(1, False)
    # a registry entry for every theory, with functions for a multi-constructor datatype
    register_type("Tree", to_python=lambda d: None if d.ctor == "Leaf" else d.args,
                  from_python=lambda o: Data("Leaf") if o is None else Data("Node", o))
    try:
        tree = Converter(TH).from_python((None, 1, (None, 2, None)), "Tree")
        assert show_value(tree) == "(Node Leaf 1 (Node Leaf 2 Leaf))"
        assert Converter(TH).to_python(tree, "Tree") == (None, 1, (None, 2, None))
    finally:
        unregister_type("Tree")


@pytest.mark.parametrize("obj, sort, message", [
    ([1, "a"], "list", "value[1]: expected an int for sort Int, got 'a'"),
    ([True], "list", "value[0]: expected an int for sort Int, got True"),
    ("ab", "list", "expected a list for sort list"),
    (-1, "Nat", "expected an int >= 0 for sort Nat, got -1"),
    ((1,), "pair", "constructor mk of sort pair takes 2 arguments, got 1"),
    ((1, 2), "pair", "value.snd: expected a bool for sort Bool, got 2"),
    (Data("Nod", ()), "Tree", "'Nod' is not a constructor of sort Tree; its constructors are: "
                              "Leaf, Node"),
    (3, "Tree", "expected a Data(ctor, args) value with ctor one of Leaf, Node"),
    (OpaqueVal("V", 0), "U", "expected an element OpaqueVal('U', i) for sort U"),
    (CtorVal("S", (CtorVal("Z"),)), "list", "expected a theory value of this sort"),
])
def test_values_that_do_not_fit_the_sort_should_fail(obj, sort, message):
    with pytest.raises(ConversionError) as e:
        C.from_python(obj, sort)
    assert message in str(e.value)


def test_converter_arguments_are_checked():
    with pytest.raises(InvalidArgument, match="sort='Lst' is not a sort"):
        C.from_python([], "Lst")
    with pytest.raises(InvalidArgument, match="theory=1"):
        Converter(1)
    with pytest.raises(ConversionError, match="value=.* is not a value of sort list"):
        C.to_python(CtorVal("Z"), "list")


def test_deep_lists_and_numbers_convert_iteratively():
    xs = list(range(100_000))
    assert C.to_python(C.from_python(xs, "list"), "list") == xs
    assert C.to_python(C.from_python(20_000, "Nat"), "Nat") == 20_000


@settings(max_examples=25, deadline=None)
@given(st.data())
def test_round_trip_of_generated_values(data):
    for sort in ("Nat", "list", "nlist", "pair", "Tree", "U", "Int", "Bool"):
        v = data.draw(values(TH, sort), label=sort)
        assert C.from_python(C.to_python(v, sort), sort) == v


# ---- spec_function -----------------------------------------------------------------------------

def test_spec_function_evaluates_the_definition():
    assert spec_function(TH, "isort")([3, 1, 2, 1]) == [1, 1, 2, 3]
    assert spec_function(TH, "swap")((2, True)) == (-2, False)
    assert show_value(spec_function(TH, "app", python=False)([1], [2])) == "(cons 1 (cons 2 nil))"


@pytest.mark.parametrize("call, exc, message", [
    (lambda: spec_function(TH, "isrot"), InvalidArgument,
     "name='isrot' is not a function defined by the theory; its defined functions are: app, "
     "ins, isort, loop, swap"),
    (lambda: spec_function(TH, "opaque"), InvalidArgument, "it is declared, not defined"),
    (lambda: spec_function(TH, 3), InvalidArgument, "name=3 must be the name"),
    (lambda: spec_function(TH, "app", fuel=0), InvalidArgument, "fuel=0 must be at least 1"),
    (lambda: spec_function(TH, "app")([1]), InvalidArgument, "app takes 2 arguments (xs, ys)"),
    (lambda: spec_function(TH, "app")([1], "x"), ConversionError, "app argument ys"),
    (lambda: spec_function(TH, "loop", fuel=500)(1), SpecEvaluationError, "(loop 1) has no "
                                                                          "value"),
])
def test_spec_function_errors_should_fail(call, exc, message):
    with pytest.raises(exc) as e:
        call()
    assert message in str(e.value)


# ---- conforms ----------------------------------------------------------------------------------

def test_a_correct_implementation_conforms():
    assert conforms(sorted, TH, "isort", max_examples=30).examples > 0
    assert conforms(lambda xs, ys: xs + ys, TH, "app", max_examples=30).examples > 0


def test_a_buggy_implementation_fails_with_the_shrunk_input():
    def dedup_sort(xs):  # the bug: drops duplicates
        return sorted(set(xs))

    with pytest.raises(NonConformance) as e:
        conforms(dedup_sort, TH, "isort")
    assert e.value.inputs == ([0, 0],)
    assert e.value.expected == [0, 0] and e.value.got == [0]
    assert "xs = [0, 0]    (SMT-LIB: (cons 0 (cons 0 nil)))" in str(e.value)


def test_wrong_result_shapes_and_input_mutation():
    def sort_in_place(xs):
        xs.sort()  # returns None: not a list

    with pytest.raises(NonConformance, match="returned None, which is not a value of sort list"):
        conforms(sort_in_place, TH, "isort", [2, 1])

    def sorts_and_mutates(xs):
        xs.sort()
        out = list(xs)
        xs.clear()
        return out

    conforms(sorts_and_mutates, TH, "isort", max_examples=40)  # inputs are copied


@settings(max_examples=40, deadline=None)
@given(python_values(TH, "list"))
def test_conforms_inside_a_hypothesis_test(xs):
    conforms(lambda ys: sorted(ys), TH, "isort", xs)


def test_conforms_arguments_are_checked():
    with pytest.raises(InvalidArgument, match="py_fn=3 is not callable"):
        conforms(3, TH, "isort")
    with pytest.raises(InvalidArgument, match="max_examples=0"):
        conforms(sorted, TH, "isort", max_examples=0)
    with pytest.raises(InvalidArgument, match="name='nope'"):
        conforms(sorted, TH, "nope")
