"""Printer: parse(print(x)) == x, for generated problems and hand-written edge cases."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ida_ns.logic.ast import (
    BOOL, INT, App, IntLit, Match, MatchCase, PatCon, PatVar, Problem, Quant, Sort, Theory, Var,
)
from ida_ns.logic.parser import parse_term, parse_text
from ida_ns.logic.printer import print_problem, print_sort, print_term, quote
from ida_ns.logic.sortcheck import sortcheck_problem, sortcheck_term
from ida_ns.testing.ast_strategies import problems, terms, theories

FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def roundtrip(p: Problem, dialect: str) -> Problem:
    q = parse_text(print_problem(p, dialect), "<printed>")
    return dataclasses.replace(q, source=p.source)


@FAST
@given(problems(), st.sampled_from(["tip", "smtlib"]))
def test_generated_problems_roundtrip(p, dialect):
    sortcheck_problem(p)
    assert roundtrip(p, dialect) == p


@FAST
@given(st.data())
def test_generated_terms_roundtrip_through_parse_term(data):
    th = data.draw(theories(max_defs=1))
    x = Var("x", INT)
    s = data.draw(st.sampled_from([BOOL, INT, *(d.sort for d in th.all_datatypes())]))
    t = data.draw(terms(th, s, (x,)))
    assert sortcheck_term(t, th, s, (x,)) == s
    for dialect in ("tip", "smtlib"):
        assert parse_term(print_term(t, dialect), th, {"x": x}, s) == t


def test_negative_literals_and_quoting_should_succeed():
    th = parse_text("(declare-fun |:+:| (Int) Int)(declare-fun |-2| (Int) Int)(prove true)").theory
    t = App(":+:", (App("-2", (IntLit(-5),), INT),), INT)
    text = print_term(t)
    assert text == "(|:+:| (|-2| (- 5)))"
    assert parse_term(text, th, {}, INT) == t
    assert quote("ok-name") == "ok-name"


def test_unprintable_symbol_should_fail():
    with pytest.raises(ValueError, match="cannot be written"):
        quote("a|b")
    with pytest.raises(ValueError, match="dialect"):
        print_term(IntLit(1), dialect="z3")


def test_wildcard_printing_per_dialect():
    th = parse_text("(declare-datatype N ((Z) (S (p N))))(prove true)").theory
    n = Var("n", Sort("N"))
    m = Match(n, (MatchCase(PatCon("Z"), IntLit(0)), MatchCase(PatVar(None), IntLit(1))), INT)
    assert print_term(m, "tip") == "(match n ((Z 0) (_ 1)))"
    assert print_term(m, "smtlib") == "(match n ((Z 0) (_wild 1)))"
    for d in ("tip", "smtlib"):
        assert parse_term(print_term(m, d), th, {"n": n}, INT) == m


def test_function_sorts_per_dialect():
    f = Sort("=>", (INT, BOOL))
    assert print_sort(f, "tip") == "(=> Int Bool)"
    assert print_sort(f, "smtlib") == "(-> Int Bool)"


def test_deep_terms_print_iteratively():
    t = IntLit(0)
    for _ in range(50_000):
        t = App("abs", (t,), INT)
    text = print_term(t)
    assert text.count("(abs") == 50_000


def test_smtlib_problem_shape():
    p = parse_text("(declare-const c Int)(assert (> c 0))(assert (not (> c 1)))")
    text = print_problem(p, "smtlib")
    assert text.splitlines()[0] == "(set-logic UFDTLIA)"
    assert text.rstrip().endswith("(assert (not (> c 1)))\n(check-sat)")
    assert "(prove (> c 1))" in print_problem(p, "tip")
    assert roundtrip(p, "smtlib") == p and roundtrip(p, "tip") == p


def test_sortcheck_rejects_ill_sorted_ast():
    th = Theory()
    bad = App("+", (IntLit(1), App("not", (IntLit(2),), BOOL)), INT)
    with pytest.raises(Exception) as info:
        sortcheck_term(bad, th)
    assert "not" in str(info.value) and "Bool" in str(info.value)
    open_goal = Problem(th, App(">", (Var("y", INT), IntLit(0)), BOOL), "g")
    with pytest.raises(Exception, match="free variable y"):
        sortcheck_problem(open_goal)
    clash = Quant("forall", (Var("y", BOOL),), App("=", (Var("y", INT), IntLit(0)), BOOL))
    with pytest.raises(Exception, match="used at sort Int"):
        sortcheck_term(clash, th)
