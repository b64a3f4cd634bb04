"""Regression tests for soundness and robustness bugs found by the adversarial suite.

Each section names the bug it pins down.  Paired cases: what must still work next to what must
now be rejected (or must no longer be proved).
"""

from __future__ import annotations

import re

import pytest

from ida_ns.logic.ast import (INT, App, Constructor, Datatype, IntLit, Quant, Sort, Theory, Var,
                              and_, eq, not_, or_)
from solvers import BACKENDS, Query, get_backend
from solvers.translate import solver_name

NAT, LIST = Sort("Nat"), Sort("list")
NAT_DT = Datatype("Nat", (Constructor("Z"), Constructor("S", (("p", NAT),))))
LIST_DT = Datatype("list", (Constructor("nil"), Constructor("cons", (("head", NAT),
                                                                     ("tail", LIST)))))
LISTS = Theory(datatypes=((NAT_DT,), (LIST_DT,)))


@pytest.fixture(scope="module", params=BACKENDS)
def backend(request):
    return get_backend(request.param)


# ---- 1. backends never merge distinct variables ----------------------------------------------
# z3 identifies constants by name and sort: a NUL truncated z3 symbol names, skolems of
# variables named like theory symbols were renamed to "<name>!sk" (which a binder could be
# named too), and z3.FreshConst(s, "x") is the very constant Const("x!0", s).


@pytest.mark.parametrize("a, b", [("u\x00a", "u\x00b"), ("nil", "nil!sk"),
                                  ("tail", "tail!sk"), ("x", "x!0"), ("u\ud800", "u\udc00")],
                         ids=["nul", "sk-ctor", "sk-selector", "fresh-name", "surrogates"])
def test_distinct_variables_stay_distinct_should_refute(backend, a, b):
    va, vb = Var(a, LIST), Var(b, LIST)
    for q in (Query(LISTS, Quant("forall", (va, vb), eq(va, vb))),
              Query(LISTS, eq(va, vb), fixed=(va, vb))):
        v = backend.prove(q, 5.0)
        assert v.status == "refuted", v


def test_same_variable_twice_should_prove(backend):
    va = Var("u\x00a", LIST)
    assert backend.prove(Query(LISTS, Quant("forall", (va,), eq(va, va))), 5.0).status \
        == "proved"


def test_bound_variable_does_not_capture_a_skolem_named_like_a_fresh_constant(backend):
    """(x!0 = 5) => exists x. x = 6 and x = x!0 is false; if the bound x were the constant
    x!0 (z3.FreshConst naming), the solver would prove it."""
    c, x = Var("x!0", INT), Var("x", INT)
    goal = or_(not_(eq(c, IntLit(5))),
               Quant("exists", (x,), and_(eq(x, IntLit(6)), eq(x, c))))
    for fixed in ((c,), ()):
        q = Query(Theory(), Quant("forall", (c,), goal) if not fixed else goal, fixed=fixed)
        assert backend.prove(q, 5.0).status == "refuted"


def test_theory_symbols_with_odd_characters_stay_apart(backend):
    """Two declared constants whose names differ after a NUL are two constants."""
    from ida_ns.logic.ast import FunDecl

    th = Theory(funs=(FunDecl("c\x00a", (), INT), FunDecl("c\x00b", (), INT)))
    goal = eq(App("c\x00a", (), INT), App("c\x00b", (), INT))
    assert backend.prove(Query(th, goal), 5.0).status == "refuted"
    assert backend.prove(Query(th, eq(App("c\x00a", (), INT), App("c\x00a", (), INT))),
                         5.0).status == "proved"


def test_solver_name_is_injective_and_c_safe():
    names = ["plus", "u\x00a", "u\\x00a", "u\\\\x00a", "a\\b", "u\ud800", "α", "x y", ""]
    out = [solver_name(n) for n in names]
    assert len(set(out)) == len(names)
    for o in out:
        o.encode("utf-8")
        assert "\x00" not in o
    assert solver_name("plus") == "plus" and solver_name("α") == "α"


# ---- 2. quoted symbols: printable characters and whitespace only -----------------------------

from ida_ns.errors import SpecError  # noqa: E402
from ida_ns.logic.parser import parse_term, parse_text  # noqa: E402
from ida_ns.logic.sexpr import read_sexprs  # noqa: E402


@pytest.mark.parametrize("text, code, col", [
    ("(a |u\x00a|)", "U+0000", 6), ("|u\ud800|", "U+D800", 3), ("(x\n  |ab\x7f|)", "U+007F", 6),
    ("|\x1b[31m|", "U+001B", 2), ("|a\x85|", "U+0085", 3)])
def test_control_characters_and_surrogates_in_quoted_symbols_should_fail(text, code, col):
    with pytest.raises(SpecError, match=re.escape(code)) as e:
        read_sexprs(text)
    assert e.value.col == col and e.value.line == text.count("\n", 0, text.index("|")) + 1
    e.value.token.encode("ascii")  # the token is shown escaped


@pytest.mark.parametrize("text, name", [("|a\tb|", "a\tb"), ("|a\nb|", "a\nb"),
                                        ("|α β|", "α β"), ("|x y|", "x y")])
def test_whitespace_and_non_ascii_in_quoted_symbols_should_succeed(text, name):
    assert read_sexprs(text)[0].value == name


def test_lemma_with_a_nul_binder_is_a_spec_error_not_a_solver_question():
    th = parse_text("(declare-datatypes ((Nat 0)) (((Z) (S (p Nat)))))(prove true)").theory
    with pytest.raises(SpecError, match="U\\+0000"):
        parse_term("(forall ((|u\x00a| Nat) (|u\x00b| Nat)) (= |u\x00a| |u\x00b|))", th)


# ---- 3. the empty symbol || is valid SMT-LIB: it parses, prints and round-trips ------------

from ida_ns.logic.printer import print_problem, print_term, quote  # noqa: E402

NAT_TEXT = "(declare-datatypes ((Nat 0)) (((Z) (S (p Nat)))))"


def test_empty_symbol_prints_and_roundtrips_should_succeed():
    assert quote("") == "||"
    th = parse_text(NAT_TEXT + "(prove true)").theory
    for text in ("(forall ((|| Nat)) (= || ||))", "(forall ((|| Nat)) (let ((|| Z)) (= || Z)))",
                 "(forall ((x Nat)) (match x ((Z true) ((S ||) (= || ||)))))",
                 "(forall ((x Nat)) (match x ((Z true) (|| (= || x)))))"):
        t = parse_term(text, th)
        for d in ("tip", "smtlib"):
            assert parse_term(print_term(t, d), th) == t


def test_empty_symbol_as_declaration_and_goal_binder_should_prove(backend):
    p = parse_text(NAT_TEXT + "(declare-fun || () Nat)(prove (= || ||))")
    for d in ("tip", "smtlib"):
        assert parse_text(print_problem(p, d)).theory == p.theory
    assert backend.prove(Query.from_problem(p), 5.0).status == "proved"
    th = parse_text(NAT_TEXT + "(prove true)").theory
    t = parse_term("(forall ((|| Nat)) (= || ||))", th)
    assert backend.prove(Query(th, t), 5.0).status == "proved"


# ---- 4. match needs a datatype scrutinee --------------------------------------------------------

from ida_ns.logic.ast import BOOL, TRUE, BoolLit, Match, MatchCase, PatCon, PatVar  # noqa: E402
from ida_ns.logic.sortcheck import sortcheck_term  # noqa: E402

U_TEXT = NAT_TEXT + "(declare-sort U 0)(declare-fun u () U)"


@pytest.mark.parametrize("text, sort", [("(match true ((_ true)))", "Bool"),
                                        ("(match 3 ((x (= x 3))))", "Int"),
                                        ("(match u ((_ true)))", "U")])
def test_match_on_a_non_datatype_should_fail_in_the_parser(text, sort):
    th = parse_text(U_TEXT + "(prove true)").theory
    with pytest.raises(SpecError, match=f"datatype scrutinee, got one of sort {sort}") as e:
        parse_term(text, th)
    assert (e.value.line, e.value.col) == (1, 8)  # at the scrutinee
    with pytest.raises(SpecError, match="datatype scrutinee"):
        parse_text(U_TEXT + f"(prove {text})")


def test_match_on_a_non_datatype_should_fail_in_sortcheck():
    th = parse_text(U_TEXT + "(prove true)").theory
    for scrut in (BoolLit(True), IntLit(3), App("u", (), Sort("U"))):
        m = Match(scrut, (MatchCase(PatVar(None), TRUE),), BOOL)
        with pytest.raises(SpecError, match="datatype scrutinee"):
            sortcheck_term(m, th)


def test_match_on_a_datatype_should_succeed():
    th = parse_text(U_TEXT + "(prove true)").theory
    t = parse_term("(match (S Z) ((Z false) (_ true)))", th)
    assert sortcheck_term(t, th) == BOOL
    m = Match(App("Z", (), NAT), (MatchCase(PatCon("Z"), TRUE),
                                  MatchCase(PatVar(None), BoolLit(False))), BOOL)
    assert sortcheck_term(m, th) == BOOL
