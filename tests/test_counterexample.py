"""Counterexample search by testing: paired true/false conjectures, soundness checks."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ida_ns.counterexample import (Counterexample, eliminate_equations, find_counterexample,
                                   search_counterexample, split_goal)
from ida_ns.logic.ast import Sort, Var, not_, substitute
from ida_ns.logic.evaluate import Evaluator
from ida_ns.logic.parser import parse_file, parse_term, parse_text
from ida_ns.logic.values import EvalAbort, Interpretation, value_to_term
from ida_ns.testing.ast_strategies import problems

THEORY_TEXT = """
(declare-datatype Nat ((Z) (S (p Nat))))
(declare-datatype list ((nil) (cons (head Nat) (tail list))))
(define-fun-rec plus ((x Nat) (y Nat)) Nat (match x ((Z y) ((S n) (S (plus n y))))))
(define-fun-rec ++ ((x list) (y list)) list (match x ((nil y) ((cons z xs) (cons z (++ xs y))))))
(define-fun-rec rev ((x list)) list (match x ((nil nil) ((cons z xs) (++ (rev xs) (cons z nil))))))
(define-fun-rec len ((x list)) Int (match x ((nil 0) ((cons _ xs) (+ 1 (len xs))))))
"""


def problem(goal: str, extra: str = ""):
    return parse_text(THEORY_TEXT + extra + f"(prove {goal})")


def cex_of(goal: str, extra: str = "", **kw) -> Counterexample | None:
    p = problem(goal, extra)
    return find_counterexample(p.theory, p.goal, **kw)


# -- paired cases -----------------------------------------------------------------------------

def test_true_identity_has_no_counterexample():
    assert cex_of("(forall ((x Nat)) (= (plus x Z) x))", time_budget_s=0.3) is None


def test_false_identity_has_a_small_counterexample():
    cex = cex_of("(forall ((x Nat) (y Nat)) (= (plus x y) x))")
    assert cex is not None
    assert cex.as_dict() == {"x": "Z", "y": "(S Z)"}  # shrunk to the smallest
    assert str(cex) == "x = Z, y = (S Z)"
    assert cex.to_verdict().counterexample == (("x", "Z"), ("y", "(S Z)"))


def test_rev_rev_true_rev_false():
    assert cex_of("(forall ((xs list)) (= (rev (rev xs)) xs))", time_budget_s=0.3) is None
    cex = cex_of("(forall ((xs list)) (= (rev xs) xs))")
    assert cex is not None and cex.as_dict()["xs"] == "(cons Z (cons (S Z) nil))"


def test_int_properties_paired():
    assert cex_of("(forall ((x Int)) (and (<= 0 (mod x 3)) (< (mod x 3) 3)))",
                  time_budget_s=0.3) is None
    assert cex_of("(forall ((x Int)) (>= (div x 2) 0))").as_dict() == {"x": "(- 1)"}


def test_hypotheses_restrict_instances():
    # true only under the hypothesis
    goal = "(forall ((xs list)) (=> (= (len xs) 0) (= xs nil)))"
    assert cex_of(goal, time_budget_s=0.3) is None
    cex = cex_of("(forall ((xs list)) (=> (<= (len xs) 1) (= xs nil)))")
    assert cex.as_dict() == {"xs": "(cons Z nil)"}


def test_fixed_variables_and_explicit_hypotheses():
    p = problem("true")
    n, m = Var("n", Sort("Nat")), Var("m", Sort("Nat"))
    scope = {"n": n, "m": m}
    concl = parse_term("(= (plus n m) (plus m n))", p.theory, scope)
    assert find_counterexample(p.theory, concl, fixed=(n, m), time_budget_s=0.3) is None
    concl = parse_term("(= (plus n m) n)", p.theory, scope)
    hyp = parse_term("(= m (S n))", p.theory, scope)
    cex = find_counterexample(p.theory, concl, fixed=(n, m), hyps=(hyp,))
    assert cex.as_dict() == {"n": "Z", "m": "(S Z)"}  # m is defined by the equation


def test_equations_between_variables_are_eliminated():
    # random independent lists are almost never equal; the equation makes ys follow xs
    cex = cex_of("(forall ((xs list) (ys list)) (=> (= xs ys) (= (len xs) 0)))")
    assert cex.as_dict() == {"xs": "(cons Z nil)", "ys": "(cons Z nil)"}
    p = problem("(forall ((xs list) (ys list)) (=> (= xs (cons Z ys)) (= (len xs) 1)))")
    vs, hyps, body = split_goal(p.goal)
    rest, hyps2, body2, defs = eliminate_equations(vs, hyps, body)
    assert [v.name for v in rest] == ["ys"] and hyps2 == () and defs[0][0].name == "xs"


def test_clashing_bound_names_are_renamed():
    p = problem("true")
    x = Var("x", Sort("Nat"))
    concl = parse_term("(=> (= x Z) (forall ((x Nat)) (= (plus x x) x)))", p.theory, {"x": x})
    vs, hyps, body = split_goal(concl, fixed=(x,))
    assert [v.name for v in vs] == ["x", "x1"]
    cex = find_counterexample(p.theory, concl, fixed=(x,))
    assert cex.as_dict() == {"x": "Z", "x1": "(S Z)"}


# -- uninterpreted sorts, declared functions, axioms ------------------------------------------

def test_uninterpreted_sort_counterexample_reports_the_domain():
    cex = cex_of("(forall ((a U) (b U)) (= a b))", "(declare-sort U 0)")
    assert sorted(cex.as_dict().values()) == ["U!val!0", "U!val!1"]
    assert ("U", "{U!val!0 U!val!1}") in cex.interpretation


def test_declared_function_counterexample_reports_the_points_used():
    cex = cex_of("(forall ((x Nat)) (= (f x) x))", "(declare-fun f (Nat) Nat)")
    assert cex is not None
    x = cex.values[0][1]
    table = dict(cex.interpretation)
    key = "(f Z)" if x.ctor == "Z" else f"(f {cex.as_dict()['x']})"
    assert key in table and table[key] != cex.as_dict()["x"]


def test_axioms_strict_and_sampled():
    goal = "(forall ((x Nat) (y Nat)) (= (plus x y) x))"
    axiom = "(assert (forall ((x Nat)) (= (plus x Z) x)))"  # true, but only testable
    cex, stats = search_counterexample(problem(goal, axiom).theory, problem(goal, axiom).goal)
    assert cex is None and "axioms" in stats.note
    p = problem(goal, axiom)
    cex = find_counterexample(p.theory, p.goal, axioms="sampled")
    assert cex is not None and not cex.axioms_checked
    # a false closed axiom: the theory has no model, so nothing is a counterexample
    p = problem(goal, "(assert (= Z (S Z)))")
    assert find_counterexample(p.theory, p.goal, axioms="sampled") is None
    # an axiom on a declared function: only interpretations satisfying it are used
    p = problem("(forall ((x Nat)) (= (f x) Z))",
                "(declare-fun f (Nat) Nat)(assert (= (f Z) (S Z)))")
    cex = find_counterexample(p.theory, p.goal)
    assert cex is None or dict(cex.interpretation)["(f Z)"] == "(S Z)"


def test_undetermined_evaluations_are_never_reported():
    # (div x 0) is unspecified: the evaluator cannot decide the formula, so no counterexample
    assert cex_of("(forall ((x Int)) (not (= (div x 0) 5)))", time_budget_s=0.2) is None
    assert cex_of("(forall ((xs list)) (= (head xs) (head xs)))", time_budget_s=0.2) is None


def test_nonterminating_functions_only_cost_fuel():
    extra = "(define-fun-rec loop ((x Nat)) Nat (loop (S x)))"
    cex, stats = search_counterexample(problem("(forall ((x Nat)) (= (loop x) x))", extra).theory,
                                       problem("(forall ((x Nat)) (= (loop x) x))", extra).goal,
                                       time_budget_s=0.3, fuel=500)
    assert cex is None and stats.out_of_fuel > 0


def test_search_is_deterministic_for_a_seed():
    goal = "(forall ((xs list) (ys list)) (= (++ xs ys) (++ ys xs)))"
    a = cex_of(goal, seed=5)
    b = cex_of(goal, seed=5)
    assert a == b and a is not None


# -- soundness: every reported counterexample is a real one -----------------------------------

class _ReportedTable(Interpretation):
    """Exactly the reported interpretation: asking for any other point is an error."""

    def __init__(self, theory, cex: Counterexample):
        super().__init__(theory, seed=-1, sizes=dict(cex.domain_sizes))
        self.reported = {(name, args): v for name, args, v in cex.table}

    def apply(self, name, args):
        return self.reported[(name, args)]


def _refutes(p, cex: Counterexample) -> bool:
    """Re-check a counterexample on the original goal and axioms, with the values substituted
    as terms and the declared functions restricted to the reported table."""
    vs, hyps, body = split_goal(p.goal)
    sub = {v: value_to_term(x, v.sort, p.theory) for v, x in cex.values}
    ev = Evaluator(p.theory, interp=_ReportedTable(p.theory, cex))
    return all(ev.eval(a) is True for a in p.theory.axioms) \
        and all(ev.eval(substitute(h, sub)) is True for h in hyps) \
        and ev.eval(substitute(body, sub)) is False


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(problems(), st.integers(0, 10))
def test_reported_counterexamples_refute_random_goals(p, seed):
    cex = find_counterexample(p.theory, p.goal, trials=200, seed=seed, time_budget_s=0.5)
    if cex is not None:
        assert _refutes(p, cex), str(cex)


def test_counterexamples_agree_with_z3():
    """An independent check: z3 proves the negation of the goal's instance."""
    z3_backend = pytest.importorskip("ida_ns.solvers.z3_backend")
    from ida_ns.solvers.query import Query

    backend = z3_backend.Z3Backend()
    for goal in ("(forall ((x Nat) (y Nat)) (= (plus x y) x))",
                 "(forall ((xs list)) (= (rev xs) xs))",
                 "(forall ((x Int)) (>= (div x 2) (mod x 2)))",
                 "(forall ((xs list) (ys list)) (= (len (++ xs ys)) (+ (len xs) 1)))"):
        p = problem(goal)
        cex = find_counterexample(p.theory, p.goal)
        vs, hyps, body = split_goal(p.goal)
        sub = {v: value_to_term(x, v.sort, p.theory) for v, x in cex.values}
        verdict = backend.prove(Query(p.theory, not_(substitute(body, sub))), 5.0)
        assert verdict.status == "proved", (goal, str(cex), verdict)


# -- TIP benchmarks ---------------------------------------------------------------------------

@pytest.mark.shared
def test_tip_false_problems_are_refuted(tip_dir):
    names = ["productive_use_of_failure_drop_idem", "regexp_switcheroo", "queue1_QueueL",
             "mergesort_merge_comm", "regexp_find2"]
    for name in names:
        p = parse_file(tip_dir / "native" / "false" / f"{name}.smt2")
        cex = find_counterexample(p.theory, p.goal, trials=10**5, time_budget_s=2.0)
        assert cex is not None and _refutes(p, cex), name


@pytest.mark.shared
@pytest.mark.parametrize("folder", ["isaplanner", "prod"])
def test_tip_true_problems_are_never_refuted(tip_dir, folder):
    for path in sorted((tip_dir / "native" / folder).glob("*.smt2"))[:12]:
        p = parse_file(path)
        assert find_counterexample(p.theory, p.goal, time_budget_s=0.1) is None, path.name


@pytest.mark.slow
@pytest.mark.shared
@pytest.mark.parametrize("folder", ["native/isaplanner", "native/prod", "smtlib/isaplanner",
                                    "smtlib/prod"])
def test_tip_true_problems_are_never_refuted_all(tip_dir, folder):
    for path in sorted((tip_dir / folder).glob("*.smt2")):
        p = parse_file(path)
        assert find_counterexample(p.theory, p.goal, time_budget_s=0.5) is None, path.name


def test_counterexample_is_a_value_object():
    cex = cex_of("(forall ((x Nat) (y Nat)) (= (plus x y) x))")
    assert cex == cex_of("(forall ((x Nat) (y Nat)) (= (plus x y) x))")
    with pytest.raises(AttributeError):
        cex.assignment = ()  # type: ignore[misc]
    assert isinstance(EvalAbort("x"), Exception) and Interpretation  # re-exported names
