"""ida_ns.hypothesis strategies: values of every sort, shrinking, readable reprs, terms and goals
for fuzzing, and a clear error naming the argument for every invalid argument."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, find, given, settings, strategies as st

from ida_ns.hypothesis import (Data, InvalidArgument, arguments, goals, python_values, terms,
                               values)
from ida_ns.logic.ast import INT, Sort, fun_sort, BOOL
from ida_ns.logic.parser import parse_text
from ida_ns.logic.sortcheck import sortcheck_problem, sortcheck_term
from ida_ns.logic.values import CtorVal, OpaqueVal, is_value_of
from ida_ns.testing.values import instances_of, values_of

TEXT = """
(declare-sort U 0)
(declare-datatype Nat ((Z) (S (p Nat))))
(declare-datatype list ((nil) (cons (head Int) (tail list))))
(declare-datatype pair ((mk (fst Nat) (snd Bool))))
(declare-datatype Tree ((Leaf) (Node (left Tree) (val Int) (right Tree))))
(define-fun-rec plus ((x Nat) (y Nat)) Nat (match x ((Z y) ((S n) (S (plus n y))))))
(define-fun-rec len ((xs list)) Int (match xs ((nil 0) ((cons y ys) (+ 1 (len ys))))))
(declare-fun g (U) Nat)
(prove (forall ((x Nat)) (= (plus x Z) x)))
"""
PROBLEM = parse_text(TEXT)
TH = PROBLEM.theory
SORTS = ["Bool", "Int", "U", "Nat", "list", "pair", "Tree", "(=> Nat Bool)"]
SORT_LIST = "Bool, Int, U, Nat, list, pair, Tree"


# ---- values of every sort ---------------------------------------------------------------------

@pytest.mark.parametrize("sort", SORTS)
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_values_of_every_sort_are_well_formed_should_succeed(sort, data):
    from ida_ns.theory_args import resolve_sort

    s = resolve_sort(sort, TH)
    v = data.draw(values(TH, sort))
    assert is_value_of(v, s, TH)


@settings(max_examples=40, deadline=None)
@given(python_values(TH, "list"), python_values(TH, "Nat"), python_values(TH, "pair"),
       python_values(TH, "Tree"))
def test_python_values_have_the_python_shapes(xs, n, pr, t):
    assert isinstance(xs, list) and all(type(x) is int for x in xs)
    assert type(n) is int and n >= 0
    assert isinstance(pr, tuple) and type(pr[0]) is int and type(pr[1]) is bool
    assert isinstance(t, Data) and t.ctor in ("Leaf", "Node")


def test_values_shrink_toward_the_least_constructors():
    assert find(python_values(TH, "list"), lambda xs: len(xs) >= 3) == [0, 0, 0]
    assert find(values(TH, "Nat"), lambda v: v.ctor == "S") == CtorVal("S", (CtorVal("Z"),))
    assert find(python_values(TH, "Tree"), lambda t: t.ctor == "Node") == \
        Data("Node", (Data("Leaf"), 0, Data("Leaf")))
    assert find(python_values(TH, "Int"), lambda i: i > 10) == 11


def _falsifying_text(strategy) -> str:
    @settings(max_examples=200, database=None, deadline=None)
    @given(strategy)
    def prop(v):
        assert False

    with pytest.raises(AssertionError) as e:
        prop()
    return "\n".join(getattr(e.value, "__notes__", []))


def test_falsifying_examples_print_smtlib_terms_and_python_values():
    text = _falsifying_text(values(TH, "Nat"))
    assert "CtorVal<Z>" in text and "lambda" not in text
    text = _falsifying_text(values(TH, "pair"))
    assert "CtorVal<(mk Z false)>" in text and "lambda" not in text
    text = _falsifying_text(python_values(TH, "list"))
    assert "[]" in text and "lambda" not in text
    text = _falsifying_text(values(TH, "(=> Nat Bool)"))
    assert "TableFun<(lambda ((x0 Nat)) false)>" in text


def test_values_of_fixed_issue_examples():
    """values_of: readable reprs, a mistyped sort is an error (no silent OpaqueVal), a sort
    name works (no AttributeError)."""
    assert "lambda" not in _falsifying_text(values_of(Sort("list"), TH))
    with pytest.raises(InvalidArgument, match=rf"sort='L' is not a sort of the theory; its "
                                              rf"sorts are: {SORT_LIST}"):
        values_of("L", TH)
    with pytest.raises(InvalidArgument, match="sort=Sort"):
        values_of(Sort("l"), TH)
    v = find(values_of("Nat", TH), lambda v: True)
    assert v == CtorVal("Z")
    assert find(values_of(Sort("U"), TH), lambda v: True) == OpaqueVal("U", 0)
    assert find(instances_of(["Nat", INT], TH), lambda t: True) == (CtorVal("Z"), 0)


def test_theory_may_be_a_problem_or_a_spec_file(tmp_path):
    f = tmp_path / "spec.smt2"
    f.write_text(TEXT)
    for th in (PROBLEM, str(f), f):
        assert find(python_values(th, "list"), lambda xs: len(xs) == 1) == [0]


def test_arguments_of_a_function():
    assert find(arguments(TH, "plus"), lambda a: True) == (0, 0)
    assert find(arguments(TH, "g", python=False), lambda a: True) == (OpaqueVal("U", 0),)


# ---- terms and goals for fuzzing --------------------------------------------------------------

@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_terms_are_well_sorted_over_the_theory(data):
    from ida_ns.logic.ast import Var, free_vars

    x, u = Var("x", Sort("Nat")), Var("u", Sort("U"))
    for sort in ("Nat", "Bool", "list"):
        t = data.draw(terms(TH, sort, variables={"x": "Nat", "u": "U"}, max_depth=3))
        sortcheck_term(t, TH)
        assert free_vars(t) <= {x, u}
    text = data.draw(terms(TH, "Int", variables=[x, u], text=True))
    from ida_ns.logic.parser import parse_term

    assert parse_term(text, TH, {"x": x, "u": u}, INT).sort == INT


@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
@given(goals(TH), goals(TH, text=True, max_depth=2))
def test_goals_are_closed_well_sorted_problems(p, text):
    from ida_ns.logic.ast import free_vars

    sortcheck_problem(p)
    assert not free_vars(p.goal) and p.theory is TH
    sortcheck_problem(parse_text(text))


# ---- every invalid argument names itself ----------------------------------------------------

INVALID = [
    (lambda: values(TH, "L"), f"sort='L' is not a sort of the theory; its sorts are: {SORT_LIST}"),
    (lambda: values(TH, Sort("Lst")), "sort=Sort(name='Lst'"),
    (lambda: values(TH, "(=> Nat Q)"), "sort='(=> Nat Q)' is not a sort"),
    (lambda: values(TH, fun_sort((Sort("Q"),), BOOL)), "mentions Q, which is not a sort"),
    (lambda: values(TH, 3), "sort=3 (of type int) is not a sort"),
    (lambda: values(TH, ""), "sort='' is empty"),
    (lambda: values(5, "Nat"), "theory=5 (of type int) is not a theory"),
    (lambda: values(None, "Nat"), "theory=None (of type NoneType) is not a theory"),
    (lambda: values("no/such/file.smt2", "Nat"), "theory='no/such/file.smt2': no such file"),
    (lambda: values("(declare-sort A 0)", "A"), "looks like SMT-LIB text, not a path"),
    (lambda: values(TH, "Nat", domain_size=0), "domain_size=0 must be at least 1"),
    (lambda: values(TH, "Nat", domain_size=1.5), "domain_size=1.5 must be an integer"),
    (lambda: values(TH, "Int", max_int=-1), "max_int=-1 must be at least 0"),
    (lambda: values(TH, "Int", max_int="9"), "max_int='9' must be an integer or None"),
    (lambda: values(TH, "Int", python="yes"), "python='yes' must be True or False"),
    (lambda: values(TH, "Nat", python=True, types={"Nope": None}),
     "types key 'Nope' is not a datatype of the theory"),
    (lambda: values(TH, "Nat", python=True, types={"Nat": 1}), "types['Nat']=1 must be a "
                                                               "TypeAdapter"),
    (lambda: python_values(TH, "L"), "sort='L'"),
    (lambda: arguments(TH, "plu"), "name='plu' is not a function of the theory; its functions "
                                   "are: g, len, plus"),
    (lambda: arguments(TH, 7), "name=7 must be a function name"),
    (lambda: terms(TH, "L", variables={"u": "U"}), "sort='L'"),
    (lambda: terms(TH, "Nat"), "uninterpreted sort(s) U have no constant"),
    (lambda: terms(TH, "Nat", max_depth=-1, variables={"u": "U"}), "max_depth=-1 must be at least 0"),
    (lambda: terms(TH, "Nat", variables={"x": "L"}), "variables['x']='L' is not a sort"),
    (lambda: terms(TH, "Nat", variables=["x"]), "variables[0]='x' is not a Var"),
    (lambda: terms(TH, "Nat", variables="x"), "variables='x' must be a mapping"),
    (lambda: terms(TH, "Nat", text=1, variables={"u": "U"}), "text=1 must be True or False"),
    (lambda: goals(TH, max_depth=-2), "max_depth=-2 must be at least 0"),
    (lambda: goals(object()), "theory=<object object"),
    (lambda: values_of("L", TH), "sort='L'"),
    (lambda: values_of(Sort("Nat"), TH, domain_size=0), "domain_size=0"),
    (lambda: values_of(Sort("Nat"), TH, max_int=-3), "max_int=-3"),
    (lambda: instances_of("Nat", TH), "sorts='Nat' must be a sequence of sorts"),
    (lambda: instances_of(["Nat", "Q"], TH), "sorts[1]='Q' is not a sort"),
]


@pytest.mark.parametrize("call, message", INVALID, ids=[m[:40] for _, m in INVALID])
def test_invalid_arguments_name_the_argument_should_fail(call, message):
    with pytest.raises(InvalidArgument) as e:
        call()
    assert message in str(e.value)
    assert isinstance(e.value, ValueError)  # also a ValueError, as Hypothesis users expect


def test_a_bad_spec_file_is_a_spec_error_naming_file_and_line(tmp_path):
    from ida_ns.errors import SpecError

    f = tmp_path / "bad.smt2"
    f.write_text("(declare-datatype Nat ((Z) (S (p Nat))))\n(prove (= Z 1))\n")
    with pytest.raises(SpecError, match=r"bad.smt2:2"):
        values(str(f), "Nat")


def test_hand_built_theory_with_an_empty_datatype():
    """The parser rejects empty datatypes; a hand-built theory may have one: asking for its
    values is an error naming the sort, and a list of them only ever draws nil."""
    from ida_ns.logic.ast import Constructor, Datatype, Theory

    inf = Datatype("Inf", (Constructor("mk", (("next", Sort("Inf")),)),))
    lst = Datatype("L", (Constructor("nil"), Constructor("cons", (("h", Sort("Inf")),
                                                                  ("t", Sort("L"))))))
    th = Theory(datatypes=((inf,), (lst,)))
    with pytest.raises(InvalidArgument, match="sort='Inf': datatype Inf has no finite values"):
        values(th, "Inf")
    with pytest.raises(InvalidArgument, match=r"sorts\[0\]='Inf'"):
        instances_of([Sort("Inf")], th)

    @settings(max_examples=20, database=None)
    @given(values(th, "L"))
    def only_nil(v):
        assert v == CtorVal("nil")

    only_nil()


def test_importing_the_public_modules_loads_no_heavy_dependency():
    import subprocess
    import sys

    code = ("import sys, ida_ns.hypothesis, ida_ns.safety, ida_ns.pytest_plugin, ida_ns.convert;"
            "heavy = [m for m in ('torch', 'transformers', 'ray') if m in sys.modules];"
            "assert not heavy, heavy")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)
