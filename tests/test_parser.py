"""SMT-LIB / TIP front end: paired should-parse / should-fail cases.

Every failure must be a SpecError naming file:line:col and the offending token."""

from __future__ import annotations

import pytest

from ida_ns.errors import SpecError, UnsupportedFeature
from ida_ns.logic.ast import (
    BOOL, INT, App, BoolLit, HoApp, IntLit, Lambda, Let, Match, PatCon, PatVar, Quant, Sort,
    Theory, Var,
)
from ida_ns.logic.parser import parse_sort, parse_term, parse_text
from ida_ns.logic.sexpr import read_sexprs
from ida_ns.logic.sortcheck import sortcheck_problem

NAT = """
(declare-datatype Nat ((Z) (S (p Nat))))
(define-fun-rec plus ((x Nat) (y Nat)) Nat
  (match x ((Z y) ((S n) (S (plus n y))))))
"""

LIST = """
(declare-datatype list (par (a) ((nil) (cons (head a) (tail (list a))))))
(define-fun-rec len (par (a) (((xs (list a))) Int))
  (match xs ((nil 0) ((cons _ t) (+ 1 (len t))))))
"""


def spec_error(text: str, cls=SpecError) -> SpecError:
    with pytest.raises(cls) as info:
        parse_text(text, "f.smt2")
    e = info.value
    assert e.file == "f.smt2"
    return e


def where(e: SpecError) -> tuple[int, int, str | None]:
    return e.line, e.col, e.token


# ---------------------------------------------------------------------------------------------
# S-expressions


def test_sexpr_locations_should_succeed():
    sx = read_sexprs('; c\n(a |b c|\n  :k "s""t" 12)', "f")
    (lst,) = sx
    assert (lst.line, lst.col) == (2, 1)
    a, b, k, s, n = lst.items
    assert (a.value, a.line, a.col) == ("a", 2, 2)
    assert (b.value, b.quoted, b.col) == ("b c", True, 4)
    assert (k.value, k.line, k.col) == (":k", 3, 3)
    assert s.value == 's"t'
    assert (n.value, n.col) == (12, 13)


def test_sexpr_unclosed_paren_should_fail_where_it_opened():
    e = spec_error("(assert (= 1 1)\n(check-sat)")
    assert where(e) == (1, 1, "(assert")
    assert "never closed" in e.message


def test_sexpr_stray_paren_should_fail_at_the_paren():
    e = spec_error("(check-sat))")
    assert where(e) == (1, 12, ")")


@pytest.mark.parametrize("text,token", [
    ("(assert #)", "#"),
    ('(assert "abc', '"abc'),
    ("(assert |abc", "|abc"),
    ("(assert 12abc)", "12abc"),
])
def test_sexpr_bad_tokens_should_fail(text, token):
    e = spec_error(text)
    assert e.line == 1 and e.col == 9
    assert e.token.startswith(token)


def test_deep_nesting_should_fail_located_not_crash():
    text = "(assert " + "(not " * 5000 + "true" + ")" * 5001
    e = spec_error(text)
    assert e.line == 1 and e.token == "("


def test_moderate_nesting_should_succeed():
    text = "(assert " + "(not " * 150 + "true" + ")" * 151
    p = parse_text(text)
    assert p.goal == App("not", (BoolLit(True),), BOOL) or isinstance(p.goal, App)


# ---------------------------------------------------------------------------------------------
# Commands and goals


def test_tip_prove_should_succeed():
    p = parse_text(NAT + "(prove (forall ((x Nat)) (= (plus x Z) x)))", "f.smt2")
    assert p.source == "f.smt2"
    assert [d.name for d in p.theory.all_datatypes()] == ["Nat"]
    plus = p.theory.fundef("plus")
    assert plus.recursive and isinstance(plus.body, Match)
    x = Var("x", Sort("Nat"))
    z = App("Z", (), Sort("Nat"))
    assert p.goal == Quant("forall", (x,), App("=", (App("plus", (x, z), Sort("Nat")), x), BOOL))
    sortcheck_problem(p)


def test_smtlib_query_last_negated_assertion_is_goal():
    p = parse_text("(set-logic ALL)(declare-const c Int)(assert (> c 0))"
                   "(assert (not (> c 1)))(assert (< c 5))(check-sat)(exit)")
    c = App("c", (), INT)
    assert p.goal == App(">", (c, IntLit(1)), BOOL)
    assert p.theory.axioms == (App(">", (c, IntLit(0)), BOOL), App("<", (c, IntLit(5)), BOOL))


def test_smtlib_query_without_negation_goal_is_negated_conjunction():
    p = parse_text("(declare-const c Int)(assert (> c 0))(assert (< c 5))(check-sat)")
    assert p.theory.axioms == ()
    assert p.goal.fn == "not" and p.goal.args[0].fn == "and"


def test_several_proves_are_conjoined_and_asserts_are_axioms():
    p = parse_text("(declare-const b Bool)(assert b)(prove b)(assert-not (not b))")
    b = App("b", (), BOOL)
    assert p.goal == App("and", (b, App("not", (b,), BOOL)), BOOL)
    assert p.theory.axioms == (b,)


def test_ignored_commands_should_succeed():
    p = parse_text('(set-info :status unsat)(set-option :produce-models true)(set-logic UFDT)'
                   '(prove true)(check-sat)(get-model)(exit)')
    assert p.goal == BoolLit(True)


def test_declarations_should_succeed():
    p = parse_text("""
      (declare-sort U 0)
      (declare-const u U)
      (declare-fun f (U Int) Bool)
      (declare-datatypes ((Tree 0) (Forest 0))
        (((Leaf) (Node (kids Forest))) ((FNil) (FCons (first Tree) (rest Forest)))))
      (define-funs-rec ((size ((t Tree)) Int) (fsize ((f Forest)) Int))
        ((match t ((Leaf 1) ((Node k) (+ 1 (fsize k)))))
         (match f ((FNil 0) ((FCons a b) (+ (size a) (fsize b)))))))
      (define-fun twice ((x Int)) Int (* 2 x))
      (prove (forall ((t Tree)) (>= (size t) (twice 0))))""")
    th = p.theory
    assert th.sorts == ("U",)
    assert [[d.name for d in g] for g in th.datatypes] == [["Tree", "Forest"]]
    assert [f.name for f in th.funs] == ["u", "f"]
    assert [[d.name for d in g] for g in th.defs] == [["size", "fsize"], ["twice"]]
    assert th.fundef("twice").recursive is False
    sortcheck_problem(p)


def test_parametric_declare_sort_is_unsupported():
    e = spec_error("(declare-sort Arr 1)", UnsupportedFeature)
    assert where(e) == (1, 19, "1")


@pytest.mark.parametrize("text,line,col,token", [
    ("(declare-fun and (Bool) Bool)", 1, 14, "and"),
    ("(declare-const true Bool)", 1, 16, "true"),
    ("(declare-datatype Int ((A)))", 1, 19, "Int"),
    ("(declare-const x Int)\n(declare-const x Int)", 2, 16, "x"),
    ("(declare-datatype D ((A) (is-A)))", 1, 27, "is-A"),
    ("(declare-const b Bool)\n(frobnicate b)", 2, 2, "frobnicate"),
    ("(declare-datatype D ((A (f D))))", 1, 19, "D"),
])
def test_bad_declarations_should_fail(text, line, col, token):
    e = spec_error(text)
    assert where(e) == (line, col, token)


# ---------------------------------------------------------------------------------------------
# Terms


def test_term_forms_should_succeed():
    p = parse_text(NAT + """
      (prove (forall ((n Nat) (k Int))
        (let ((m (S n)) (j (- 3)))
          (and ((_ is S) m) (is-S m) (not (is-Z m))
               (= (match m ((Z 0) (_ k))) (ite (< k j) k (abs (- k))))
               (= (@ (lambda ((i Int)) (+ i 1)) j) (div (mod k 2) 1))
               (! (exists ((b Bool)) (xor b (=> b b))) :named foo)
               (distinct 1 2 3)))))""")
    body = p.goal.body
    assert isinstance(body, Let)
    assert body.bindings[1][1] == IntLit(-3)
    tests = body.body.args
    assert tests[0] == tests[1]  # (_ is S) and is-S are the same tester
    m = tests[3].args[0]
    assert isinstance(m, Match) and m.cases[1].pattern == PatVar(None)
    assert isinstance(tests[4].args[0], HoApp)
    assert isinstance(tests[4].args[0].fn, Lambda)
    sortcheck_problem(p)


@pytest.mark.parametrize("term,rel,token,msg", [
    ("(plus Z)", 1, "(plus Z)", "expects 2 argument(s)"),
    ("(plus Z 1)", 9, "1", "argument 2 of plus has sort Int"),
    ("(= Z 1)", 6, "1", "expected a term of sort Nat"),
    ("(foo Z)", 2, "foo", "unknown symbol"),
    ("(match Z ((Z true)))", 1, "(match Z ((Z true)))", "non-exhaustive"),
    ("(match Z ((Z true) ((S a b) true)))", 21, "(S a b)", "has 1 field(s)"),
    ("(match Z ((Z true) ((cons a b) true)))", 22, "cons", "not a constructor of sort Nat"),
    ("(match Z ((Z true) (S true)))", 21, "S", "has 1 field(s)"),
    ("(and true)", 1, "(and true)", "at least 2"),
    ("(forall () true)", 9, "()", "binds no variables"),
    ("(forall ((x Nat)) x)", 19, "x", "expected a term of sort Bool"),
    ("(forall ((x Foo)) true)", 13, "Foo", "unknown sort"),
    ("(let ((x 1) (x 2)) true)", 14, "x", "bound twice"),
    ("(@ Z Z)", 1, "(@ Z Z)", "not a function sort"),
    ("(_ is Z)", 1, "(_ is Z)", "must be applied"),
    ("(= nil nil)", 4, "nil", "cannot infer the sort arguments of nil"),
    ("(not (par (a) true))", 6, "(par (a) true)", "only allowed at the top"),
    ("1.5", 1, "1.5", "not supported"),
])
def test_bad_terms_should_fail(term, rel, token, msg):
    text = NAT + LIST + f"(prove {term})"
    e = spec_error(text)
    line = text.count("\n") + 1  # the prove is on the last line, its term from column 8
    assert (e.line, e.col, e.token) == (line, 7 + rel, token), e
    assert msg in e.message, e


def test_poly_nil_inferred_from_context_should_succeed():
    p = parse_text(LIST + "(prove (par (a) (forall ((xs (list a))) (and (= xs nil) (= nil xs)"
                          " (= (as nil (list a)) (_ nil a))))))")
    a = Sort("a")
    nil = App("nil", (), Sort("list"))
    assert p.theory.sorts == ("a",)
    xs = Var("xs", Sort("list"))
    assert p.goal.body.args == (App("=", (xs, nil), BOOL), App("=", (nil, xs), BOOL),
                                App("=", (nil, nil), BOOL))
    assert p.theory.datatype("list").ctors[1].fields == (("head", a), ("tail", Sort("list")))


# ---------------------------------------------------------------------------------------------
# Monomorphisation


def test_single_instance_keeps_names_and_type_variable_becomes_sort():
    p = parse_text(LIST + "(prove (par (a) (forall ((x a)) (= (len (cons x nil)) 1))))")
    th = p.theory
    assert th.sorts == ("a",)
    assert [d.name for d in th.all_datatypes()] == ["list"]
    assert [d.name for d in th.all_defs()] == ["len"]
    sortcheck_problem(p)


def test_two_instances_get_mangled_names():
    p = parse_text(NAT + LIST + """
      (prove (= (len (cons Z (_ nil Nat))) (len (cons true (_ nil Bool)))))""")
    th = p.theory
    assert {d.name for d in th.all_datatypes()} == {"Nat", "list_Nat", "list_Bool"}
    lnat = th.datatype("list_Nat")
    assert [c.name for c in lnat.ctors] == ["nil_Nat", "cons_Nat"]
    assert lnat.ctors[1].fields == (("head_Nat", Sort("Nat")), ("tail_Nat", Sort("list_Nat")))
    assert {d.name for d in th.all_defs()} == {"plus", "len_Nat", "len_Bool"}
    sortcheck_problem(p)


def test_mangled_names_avoid_clashes():
    p = parse_text(LIST + """(declare-sort list_Int 0)
      (declare-const nil_Int Bool)
      (prove (and nil_Int (= (len (_ nil Int)) (len (_ nil Bool)))))""")
    names = {d.name for d in p.theory.all_datatypes()}
    assert names == {"list_Int_2", "list_Bool"}
    assert p.theory.datatype("list_Int_2").ctors[0].name == "nil_Int_2"
    sortcheck_problem(p)


def test_goal_type_variable_sort_avoids_existing_sort():
    p = parse_text("(declare-sort a 0)" + LIST +
                   "(prove (par (a) (forall ((x a) (y (list a))) (= (cons x y) y))))")
    assert p.theory.sorts == ("a", "a_2")
    assert p.theory.datatype("list").ctors[1].fields[0] == ("head", Sort("a_2"))


def test_nested_datatype_instances_form_one_group():
    p = parse_text(LIST + """
      (declare-datatype Rose ((Node (label Int) (kids (list Rose)))))
      (prove (forall ((r Rose)) (>= (len (kids r)) 0)))""")
    groups = [[d.name for d in g] for g in p.theory.datatypes]
    assert groups == [["list", "Rose"]] or groups == [["Rose", "list"]]
    sortcheck_problem(p)


def test_polymorphic_recursion_is_unsupported():
    e = spec_error("""(declare-datatype list (par (a) ((nil) (cons (head a) (tail (list a))))))
      (define-fun-rec f (par (a) (((x a)) Bool)) (f (cons x (_ nil a))))
      (prove (f 1))""", UnsupportedFeature)
    assert where(e)[:2] == (2, 7)


def test_poly_body_checked_per_instance():
    # TIP writes (<= x y) on a type variable that is only ever Int
    src = """(define-fun-rec mx (par (t) (((x t) (y t)) t)) (ite (<= x y) y x))"""
    p = parse_text(src + "(prove (= (mx 1 2) 2))")
    assert p.theory.fundef("mx").params == (Var("x", INT), Var("y", INT))
    e = spec_error(src + "\n(prove (= (mx true false) true))")
    assert where(e) == (1, 57, "x") and "sort Int" in e.message


def test_unused_and_quoted_pattern_variables():
    p = parse_text(NAT + "(prove (forall ((n Nat)) (= (match n ((Z 0) (m 1))) "
                         "(match n ((Z 0) ((S |k'|) (match |k'| ((Z 1) (m 1)))))))))")
    m1, m2 = p.goal.body.args
    assert m1.cases[1].pattern == PatVar(None)
    assert isinstance(m2.cases[1].pattern, PatCon)
    inner_var = m2.cases[1].pattern.vars[0]
    assert inner_var.name == "k_" and m2.cases[1].body.scrutinee == inner_var


# ---------------------------------------------------------------------------------------------
# parse_term / parse_sort: one term over a theory, nothing more


@pytest.fixture(scope="module")
def nat_theory() -> Theory:
    return parse_text(NAT + "(prove true)").theory


def test_parse_term_should_succeed(nat_theory):
    n = Var("n", Sort("Nat"))
    t = parse_term("(= (plus n Z) n)", nat_theory, {"n": n}, BOOL)
    assert t == App("=", (App("plus", (n, App("Z", (), Sort("Nat"))), Sort("Nat")), n), BOOL)
    assert parse_term("(S Z)", nat_theory).sort == Sort("Nat")
    assert parse_sort("(=> Nat Bool)", nat_theory) == Sort("=>", (Sort("Nat"), BOOL))


@pytest.mark.parametrize("text,col,token,msg", [
    ("n) (assert false", 2, ")", "unexpected ')'"),
    ("n (assert false)", 3, "(assert false)", "exactly one term"),
    ("(= n n)) (assert false) (= n n", 8, ")", "unexpected ')'"),
    ("(= n n", 1, "(=", "never closed"),
    ("", 1, "", "empty input"),
    ("(plus n m)", 9, "m", "unknown symbol"),
    ("(plus n 1)", 9, "1", "has sort Int"),
    ("(S n)", 1, "(S n)", "expected a term of sort Bool"),
    ("(assert false)", 2, "assert", "unknown symbol"),
])
def test_parse_term_injection_and_errors_should_fail(nat_theory, text, col, token, msg):
    with pytest.raises(SpecError) as info:
        parse_term(text, nat_theory, {"n": Var("n", Sort("Nat"))}, BOOL, file="lemma")
    e = info.value
    assert (e.file, e.line, e.col, e.token) == ("lemma", 1, col, token), e
    assert msg in e.message


def test_parse_sort_should_fail(nat_theory):
    with pytest.raises(SpecError) as info:
        parse_sort("(List Nat)", nat_theory)
    assert info.value.token == "List"


def test_tip_par_declarations_and_old_datatype_syntax_should_succeed():
    p = parse_text("""
      (declare-datatypes (a) ((list (nil) (cons (head a) (tail (list a))))))
      (declare-fun f (par (a) (((list a)) a)))
      (declare-const e (par (a) (list a)))
      (define-funs-rec
        ((par (a) (ev ((x (list a))) Bool)) (par (a) (od ((x (list a))) Bool)))
        ((match x ((nil true) ((cons _ t) (od t))))
         (match x ((nil false) ((cons _ t) (ev t))))))
      (prove (par (b) (and (ev (as e (list b))) (= (f (_ e Int)) 1) (ev (_ nil Bool)))))""")
    th = p.theory
    assert th.sorts == ("b",)
    assert [f.name for f in th.funs] == ["f", "e_b", "e_Int"]
    assert [[d.name for d in g] for g in th.defs] == [["ev_b", "od_b"], ["ev_Bool", "od_Bool"]]
    assert th.fundef("od_b").body.cases[1].pattern.vars[1] == Var("t", Sort("list_b"))
    sortcheck_problem(p)
