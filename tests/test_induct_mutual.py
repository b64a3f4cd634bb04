"""Induction over mutual and nested datatype blocks (``induct x with C``).

Soundness is tested semantically as in test_strength_rules.py: in a bounded semantics where
every datatype sort ranges over its values of depth <= d (a domain closed under subterms) and
Int over a few numbers, take a counterexample to some property that is smallest in size: the
hypotheses of its case are about its fields, which are smaller, so they hold, and the case's
subgoal is false there.  So whenever the goal is false in the bounded semantics, one of the
step's subgoals is false there too: the property is checked on random mutual and nested
theories, random (often false) goals and random (often false) companion properties."""

from __future__ import annotations

import copy
import itertools
import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ida_ns.logic.ast import INT
from ida_ns.logic.evaluate import Evaluator
from ida_ns.logic.parser import parse_text
from ida_ns.logic.printer import print_term
from ida_ns.logic.symbols import symbol_table
from ida_ns.logic.values import CtorVal
from ida_ns.prover.companions import companion_properties
from ida_ns.prover.goal import Goal, split_forall
from ida_ns.prover.overseer import Overseer
from ida_ns.prover.steps import (
    Induct, InductMany, MutualInduct, StepError, apply_step, parse_step, step_text,
)

SPECS = Path(__file__).resolve().parents[1] / "specs" / "mutual_nested"

FOREST = (SPECS / "true" / "forest_size_mirror.smt2").read_text()
FOREST_THEORY = FOREST[:FOREST.index("(prove")]


def _goal(text: str, theory_text: str = FOREST_THEORY) -> Goal:
    p = parse_text(theory_text + f"(prove {text})", "<t>")
    return Goal(p.theory, p.goal)


SIZE_MIRROR = "(forall ((t Tree)) (= (size (mirror t)) (size t)))"
COMPANION = "(forall ((f Forest)) (= (sizef (mirrorf f)) (sizef f)))"


# ---- the rule: paired should-succeed / should-fail cases ---------------------------------
def test_mutual_induct_gives_hypotheses_for_fields_of_both_sorts_should_succeed():
    g = _goal(SIZE_MIRROR)
    step = parse_step(f"induct t with {COMPANION}", g)
    assert isinstance(step, MutualInduct) and step.var == "t" and len(step.companions) == 1
    subs = apply_step(step, g)
    # Node (Tree), Nil and Cons (Forest)
    assert len(subs) == 3
    node, nil, cons = subs
    assert [v.sort.name for v in node.fixed] == ["Int", "Forest"]
    assert len(node.hyps) == 1 and "sizef" in str(node.hyps[0])
    assert nil.hyps == () and nil.fixed == ()
    assert [v.sort.name for v in cons.fixed] == ["Tree", "Forest"]
    assert len(cons.hyps) == 2  # the Tree field's and the Forest field's hypotheses
    assert "mirror" in str(cons.hyps[0]) and "mirrorf" in str(cons.hyps[1])


def test_plain_induct_on_a_mutual_block_has_no_hypothesis_for_the_other_sort_should_fail():
    g = _goal(SIZE_MIRROR)
    (node,) = apply_step(Induct("t"), g)
    assert node.hyps == ()  # the Forest field gets nothing: the goal cannot be closed


def test_step_text_round_trips():
    g = _goal("(forall ((k Int) (t Tree)) (= (size (bump k t)) (size t)))")
    one = parse_step(f"induct t with {COMPANION}", g)
    assert parse_step(step_text(one), g) == one
    two_text = ("induct t with (and (forall ((f Forest)) (>= (sizef f) 0)) "
                "(forall ((u Ints)) (>= (len u) 0)))")
    two = parse_step(two_text, g)
    assert isinstance(two, MutualInduct) and len(two.companions) == 2
    assert parse_step(step_text(two), g) == two
    # "with" as a variable name keeps meaning simultaneous induction on two variables
    g2 = _goal("(forall ((t Tree) (with Tree)) (= (size t) (size with)))")
    assert parse_step("induct t with", g2) == InductMany(("t", "with"))


def test_fixed_variable_is_reverted_and_companions_may_use_fixed_variables():
    g = _goal("(forall ((k Int) (t Tree)) (= (size (bump k t)) (size t)))")
    k = next(v for v in g.forall_vars if v.name == "k")
    t = next(v for v in g.forall_vars if v.name == "t")
    body = split_forall(g.concl)[1]
    fixed = Goal(g.theory, body, (), (k, t))
    step = parse_step("induct t with (forall ((f Forest)) (= (sizef (bumpf k f)) (sizef f)))",
                      fixed)
    subs = apply_step(step, fixed)
    assert len(subs) == 3
    assert all(k in s.fixed and t not in s.fixed for s in subs)


@pytest.mark.parametrize("text,match", [
    ("induct t with (forall ((t2 Tree)) (= (size t2) (size t2)))", "two properties for sort"),
    ("induct t with (forall ((n Int)) (= n n))", "not a datatype"),
    ("induct t with (= 1 1)", "must be \\(forall"),
    ("induct t with (forall ((f Forest)) (= (sizef f) (size t)))", "not fixed in the goal"),
    ("induct q with (forall ((f Forest)) (= (sizef f) 0))", "unknown variable"),
    ("induct t with (forall ((f Forest)) (= (sizef f) nosuch))", "unknown"),
    ("induct t with (forall ((f Forest)) (= (sizef f) 0)) junk", "exactly one"),
    ("induct t with (and (forall ((f Forest)) (>= (sizef f) 0)) "
     "(forall ((g Forest)) (>= (sizef g) 0)))", "two properties for sort"),
])
def test_malformed_mutual_induction_is_rejected_with_a_reason_should_fail(text, match):
    g = _goal(SIZE_MIRROR)
    with pytest.raises(StepError, match=match):
        apply_step(parse_step(text, g), g)


def test_too_many_companions_are_rejected():
    g = _goal(SIZE_MIRROR)
    c = parse_step(f"induct t with {COMPANION}", g).companions[0]
    with pytest.raises(StepError, match="more than"):
        apply_step(MutualInduct("t", (c,) * 9), g)
    with pytest.raises(StepError, match="no companion"):
        apply_step(MutualInduct("t", ()), g)


def test_fresh_field_names_avoid_companion_binders():
    # the companion binds names that a naive supply would hand out to fields (t1, f, ...)
    g = _goal(SIZE_MIRROR)
    step = parse_step("induct t with (forall ((xs Forest) (t1 Tree)) "
                      "(= (sizef (mirrorf xs)) (+ (sizef xs) (- (size t1) (size t1)))))", g)
    for s in apply_step(step, g):
        names = [v.name for v in s.fixed]
        assert len(set(names)) == len(names)
        assert "xs" not in names and "t1" not in names


# ---- the overseer ---------------------------------------------------------------------------
def test_overseer_derives_companions_for_mutual_blocks_should_succeed():
    g = _goal(SIZE_MIRROR)
    (c,) = companion_properties(g, "t")
    assert "sizef" in str(c) and "mirrorf" in str(c)
    steps = [s for s, _ in Overseer().steps(g, 0)]
    mutual = [s for s in steps if isinstance(s, MutualInduct)]
    assert mutual and steps.index(mutual[0]) < steps.index(Induct("t"))


def test_overseer_proposes_no_companions_outside_blocks_should_fail():
    text = (SPECS.parent / "theories" / "list.smt2").read_text()
    g = _goal("(forall ((xs List)) (= (len (rev xs)) (len xs)))", text)
    assert companion_properties(g, "xs") == ()
    assert not any(isinstance(s, MutualInduct) for s, _ in Overseer().steps(g, 0))


def test_companion_derivation_on_nested_and_three_sort_blocks():
    rose = (SPECS / "true" / "rose_size_mirror.smt2").read_text()
    p = parse_text(rose, "<rose>")
    (c,) = companion_properties(Goal(p.theory, p.goal), "t")
    assert "sizes" in str(c) and "mirrors" in str(c)
    prog = (SPECS / "true" / "prog_rename_compose.smt2").read_text()
    p = parse_text(prog, "<prog>")
    cs = companion_properties(Goal(p.theory, p.goal), "s")
    assert len(cs) == 2  # Expr and Stmts
    words = {w for c in cs for w in print_term(c).replace("(", " ").replace(")", " ").split()}
    assert {"rename", "renamel"} <= words


# ---- soundness on random mutual / nested theories ------------------------------------------
def _theory_text(shape: str, draw) -> tuple[str, list[str]]:
    """A random block of datatypes with a measure ``m_S`` and a transform ``t_S`` per sort."""
    ints = ["0", "1"]
    if shape == "nested":
        head = ("(declare-datatypes ((list 1)) "
                "((par (a) ((nil) (cons (head a) (tail (list a)))))))\n")
        sorts = ["R", "(list R)"]
        rctors = [("RL", [("rv", "Int")]), ("RB", [("rk", "(list R)")])]
        if draw(st.booleans()):
            rctors.append(("RP", [("rl", "R"), ("rr", "(list R)")]))
        ctors = {"R": rctors, "(list R)": [("nil", []), ("cons", [("head", "R"),
                                                                  ("tail", "(list R)")])]}
        decl = "(declare-datatypes ((R 0)) ((" + " ".join(
            f"({c} " + " ".join(f"({s} {t})" for s, t in fs) + ")" if fs else f"({c})"
            for c, fs in rctors) + ")))\n"
        text = head + decl
    else:
        n = 2 if shape == "mutual2" else 3
        sorts = ["A", "B", "C"][:n]
        ctors = {}
        for i, s in enumerate(sorts):
            k = draw(st.integers(1, 3))
            cs = [(f"{s}0", [(f"{s.lower()}0v", "Int")])]  # a base case for every sort
            for j in range(1, k + 1):
                nf = draw(st.integers(1, 2))
                fs = [(f"{s.lower()}{j}f{m}", draw(st.sampled_from(sorts + ["Int"])))
                      for m in range(nf)]
                cs.append((f"{s}{j}", fs))
            ctors[s] = cs
        text = "(declare-datatypes (" + " ".join(f"({s} 0)" for s in sorts) + ") (" + " ".join(
            "(" + " ".join(f"({c} " + " ".join(f"({sel} {t})" for sel, t in fs) + ")"
                           if fs else f"({c})" for c, fs in ctors[s]) + ")"
            for s in sorts) + "))\n"
    mname = {s: "m_" + s.replace("(", "").replace(")", "").replace(" ", "") for s in sorts}
    tname = {s: "t_" + mname[s][2:] for s in sorts}
    mdefs, tdefs = [], []
    for s in sorts:
        mcases, tcases = [], []
        for c, fs in ctors[s]:
            vs = [f"v{i}" for i in range(len(fs))]
            pat = f"({c} {' '.join(vs)})" if fs else c
            parts = [draw(st.sampled_from(ints))]
            targs = []
            for v, (_, srt) in zip(vs, fs):
                w = draw(st.sampled_from(["0", "1", "2"]))
                if srt == "Int":
                    parts.append(f"(* {w} {v})")
                    targs.append(draw(st.sampled_from([v, f"(- {v})", f"(+ {v} 1)"])))
                else:
                    parts.append(f"(* {w} ({mname[srt]} {v}))")
                    targs.append(f"({tname[srt]} {v})")
            m_body = parts[0] if len(parts) == 1 else "(+ " + " ".join(parts) + ")"
            mcases.append(f"({pat} {m_body})")
            con = f"({c} {' '.join(targs)})" if fs else (
                f"(as {c} {s})" if s.startswith("(") else c)
            tcases.append(f"({pat} {con})")
        mdefs.append((f"({mname[s]} ((x {s})) Int)", f"(match x ({' '.join(mcases)}))"))
        tdefs.append((f"({tname[s]} ((x {s})) {s})", f"(match x ({' '.join(tcases)}))"))
    for defs in (mdefs, tdefs):
        text += ("(define-funs-rec (" + " ".join(h for h, _ in defs) + ") ("
                 + " ".join(b for _, b in defs) + "))\n")
    return text, sorts


def _int_term(draw, m: str, t: str, var: str, k: str) -> str:
    base = draw(st.sampled_from([f"({m} {var})", f"({m} ({t} {var}))",
                                 f"({m} ({t} ({t} {var})))"]))
    extra = draw(st.sampled_from(["", " 0", " 1", f" {k}", f" ({m} {var})"]))
    return f"(+ {base}{extra})" if extra else base


@st.composite
def mutual_cases(draw):
    shape = draw(st.sampled_from(["mutual2", "mutual3", "nested"]))
    text, sorts = _theory_text(shape, draw)
    mname = {s: "m_" + s.replace("(", "").replace(")", "").replace(" ", "") for s in sorts}
    tname = {s: "t_" + mname[s][2:] for s in sorts}
    s0 = sorts[0] if shape == "nested" else draw(st.sampled_from(sorts))
    rel = draw(st.sampled_from(["=", "<=", ">="]))

    def prop(s, var):
        return (f"({rel} {_int_term(draw, mname[s], tname[s], var, 'k')} "
                f"{_int_term(draw, mname[s], tname[s], var, 'k')})")
    goal = f"(forall ((k Int) (x {s0})) {prop(s0, 'x')})"
    problem = parse_text(text + f"(prove {goal})", "<random>")
    g = Goal(problem.theory, problem.goal)
    table = symbol_table(problem.theory)
    x = next(v for v in g.forall_vars if v.name == "x")
    others = [d.sort for d in problem.theory.all_datatypes() if d.sort != x.sort]
    comps = []
    if draw(st.booleans()):
        comps = list(companion_properties(g, "x"))
    if not comps:
        for s in others:
            if draw(st.booleans()) or not comps:
                name = table.datatype_of(s).name
                srt = next(t for t in sorts if mname[t] == "m_" + name) if any(
                    mname[t] == "m_" + name for t in sorts) else None
                if srt is None:
                    continue
                from ida_ns.logic.parser import parse_term
                rel2 = draw(st.sampled_from(["=", "<=", ">="]))
                body = (f"({rel2} {_int_term(draw, mname[srt], tname[srt], 'z', 'w')} "
                        f"{_int_term(draw, mname[srt], tname[srt], 'z', 'w')})")
                comps.append(parse_term(f"(forall ((z {srt}) (w Int)) {body})", problem.theory,
                                        {}))
    return g, tuple(comps)


def _domains(theory, depth: int = 2, cap: int = 14):
    """Values of every datatype sort of depth <= ``depth`` (closed under subterms), with
    Int fields over {0, 1}, the whole list of a sort cut at ``cap`` by depth level only."""
    ints = [0, 1]
    dts = list(theory.all_datatypes())
    dom = {d.sort: [] for d in dts}
    for _ in range(depth + 1):
        new = {d.sort: [] for d in dts}
        for d in dts:
            for c in d.ctors:
                pools = [ints if f.name == "Int" else dom[f] for _, f in c.fields]
                for args in itertools.product(*pools):
                    new[d.sort].append(CtorVal(c.name, tuple(args)))
        if any(len(v) > cap for v in new.values()) and all(dom.values()):
            break  # stop at the last level that fits (every level is closed under subterms)
        dom = {s: list(dict.fromkeys(v)) for s, v in new.items()}
    dom[INT] = ints
    return dom


def _bounded_valid(g: Goal, dom, ev) -> bool:
    def holds(t, env):
        vs, body = split_forall(t)
        for vals in itertools.product(*(dom[v.sort] for v in vs)):
            if not ev.eval(body, {**env, **dict(zip(vs, vals))}):
                return False
        return True

    for vals in itertools.product(*(dom[v.sort] for v in g.fixed)):
        env = dict(zip(g.fixed, vals))
        if all(holds(h, env) for h in g.hyps) and not holds(g.concl, env):
            return False
    return True


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=mutual_cases())
def test_mutual_induct_is_sound_on_random_blocks(case):
    g, comps = case
    if not comps:
        return
    dom = _domains(g.theory)
    ev = Evaluator(g.theory)
    subs = apply_step(MutualInduct("x", comps), g)
    assert subs
    if all(_bounded_valid(s, dom, ev) for s in subs):
        assert _bounded_valid(g, dom, ev), (step_text(MutualInduct("x", comps)), g.text())


# ---- the problem set, certificates --------------------------------------------------------
FAST = {"forest_size_mirror.smt2", "rose_leaves_le_size.smt2", "prog_lits_le_nodes.smt2"}
LEMMA_NEEDED = {  # the goal's Forest case needs a lemma about app (not a datatype block fact)
    "forest_len_flatten.smt2":
        "(forall ((xs Ints) (ys Ints)) (= (len (app xs ys)) (+ (len xs) (len ys))))",
    "forest_total_flatten.smt2":
        "(forall ((xs Ints) (ys Ints)) (= (total (app xs ys)) (+ (total xs) (total ys))))",
}


# z3 loops on this goal's If case (three quantified hypotheses); cvc5 closes every leaf
LEAF_SOLVER = {"prog_rename_compose.smt2": ("cvc5", 3.0)}


def _spec_params(folder: str, fast: set[str]):
    if not SPECS.is_dir():
        return []
    return [pytest.param(p, id=p.name, marks=() if p.name in fast else pytest.mark.slow)
            for p in sorted((SPECS / folder).glob("*.smt2"))]


class _LemmaFirst:
    """The overseer H, with one given lemma proposed first at the root."""

    name = "lemma-first"

    def __init__(self, lemma_text: str):
        self.lemma_text = lemma_text
        self.h = Overseer()

    def propose(self, goal, depth):
        out = self.h.propose(goal, depth)
        if depth == 0:
            from ida_ns.prover.search import Proposal
            out.insert(0, Proposal(parse_step("lemma " + self.lemma_text, goal),
                                   "lemma " + self.lemma_text, 0.0, "test"))
        return out


@pytest.mark.parametrize("path", _spec_params("true", FAST))
def test_true_goal_proves_with_the_mutual_step(path):
    from ida_ns import check_certificate, prove

    policy = _LemmaFirst(LEMMA_NEEDED[path.name]) if path.name in LEMMA_NEEDED else None
    # a generous leaf timeout: the test is about the step, not about speed on a loaded box
    solver, leaf_s = LEAF_SOLVER.get(path.name, ("z3", 1.0))
    r = prove(str(path), budget_s=30, strong_root=False, policy=policy, leaf_timeout_s=leaf_s,
              solver=solver)
    assert r.proved, (path.name, r.status, r.reason)
    assert " with " in r.render()  # the proof uses induct ... with
    assert check_certificate(r.certificate(), problem=r.problem).ok


def test_without_the_mutual_step_the_same_goal_is_not_proved(monkeypatch):
    """The ablation: H without companion derivation (so it never proposes the step) leaves
    a goal of the set unproved (plain induction has no hypothesis for the Forest field)."""
    import ida_ns.prover.overseer as overseer
    from ida_ns import prove

    monkeypatch.setattr(overseer, "companion_properties", lambda goal, name: ())
    r = prove(str(SPECS / "true" / "forest_size_mirror.smt2"), budget_s=3, strong_root=False)
    assert not r.proved and not r.refuted


@pytest.mark.parametrize("path", _spec_params("false", {"forest_mirror_id.smt2",
                                                        "rose_vsum_incr.smt2"}))
def test_false_goal_is_never_proved(path):
    from ida_ns import prove

    r = prove(str(path), budget_s=5, strong_root=False)
    assert not r.proved
    assert r.refuted, (path.name, r.status)


def _spec_goal(name: str) -> Goal:
    p = parse_text((SPECS / name).read_text(), name)
    return Goal(p.theory, p.goal)


def test_every_false_twin_has_a_mutual_step_that_the_gate_accepts_but_cannot_close():
    """The step applies to the false goals too; their subgoals are not all valid (bounded)."""
    for path in sorted((SPECS / "false").glob("*.smt2")):
        g = _spec_goal(f"false/{path.name}")
        x = g.forall_vars[-1]
        comps = companion_properties(g, x.name)
        assert comps, path.name
        subs = apply_step(MutualInduct(x.name, comps), g)
        dom = _domains(g.theory)
        dom[INT] = [0, 1, -1]
        ev = Evaluator(g.theory)
        assert not all(_bounded_valid(s, dom, ev) for s in subs), path.name


@pytest.fixture(scope="module")
def forest_cert():
    from ida_ns import prove

    r = prove(str(SPECS / "true" / "forest_size_mirror.smt2"), budget_s=20,
              strong_root=False)
    assert r.proved
    return r.problem, r.certificate()


def _check(cert, problem, timeout_s: float = 5.0):
    from ida_ns import check_certificate

    return check_certificate(cert, problem=problem, timeout_s=timeout_s)


def test_certificate_with_the_mutual_step_checks_should_succeed(forest_cert):
    problem, cert = forest_cert
    assert cert["proof"]["step"].startswith("induct t with ")
    assert _check(cert, problem).ok


@pytest.mark.parametrize("forge", [
    # a false companion: the subgoal count is unchanged, the Forest leaves no longer hold
    lambda s: s.replace("(= (sizef (mirrorf fs)) (sizef fs))",
                        "(= (sizef (mirrorf fs)) (+ 1 (sizef fs)))"),
    # the companion for the goal's own sort (a circular hypothesis)
    lambda s: "induct t with (forall ((u Tree)) (= (size (mirror u)) (size u)))",
    # a companion over a variable that is not fixed
    lambda s: s.replace("(forall ((fs Forest))", "(forall ((fs Forest) (fs2 Forest))")
              .replace("(sizef fs))", "(sizef fs2))"),
    # plain induction in place of the mutual step: one child, not three
    lambda s: "induct t",
])
def test_forged_mutual_certificates_are_invalid_should_fail(forest_cert, forge):
    problem, cert = forest_cert
    bad = copy.deepcopy(cert)
    bad["proof"]["step"] = forge(bad["proof"]["step"])
    assert bad["proof"]["step"] != cert["proof"]["step"]
    assert not _check(bad, problem, timeout_s=2.0).ok


def test_forged_certificate_for_a_false_goal_is_invalid(forest_cert):
    problem, cert = forest_cert
    false = parse_text((SPECS / "false" / "forest_mirror_id.smt2").read_text(), "f")
    bad = json.loads(json.dumps(cert))
    bad["proof"]["step"] = ("induct t with (forall ((fs Forest)) (= (mirrorf fs) fs))")
    from ida_ns.logic.printer import print_problem, print_term
    import hashlib

    text = print_problem(false, dialect="tip")
    bad.update(goal=print_term(false.goal), problem=text,
               problem_sha256=hashlib.sha256(text.encode()).hexdigest())
    from ida_ns.prover.certificate import problem_hash
    bad["problem_hash"] = problem_hash(false)
    assert not _check(bad, false, timeout_s=2.0).ok


def test_gate_rejects_a_false_companion_and_accepts_a_true_one():
    """Proxy output reaches the step as parsed text; the gate tests each companion for a
    counterexample (a false companion is rejected before any solver runs)."""
    from ida_ns.prover.verify import Accepted, Checker, Rejected

    g = _goal(SIZE_MIRROR)
    checker = Checker(lambda qs, t: [None] * len(qs))
    ok = checker.gate(g, parse_step(f"induct t with {COMPANION}", g))
    assert isinstance(ok, Accepted) and len(ok.subgoals) == 3
    bad = checker.gate(g, parse_step(
        "induct t with (forall ((f Forest)) (= (sizef (mirrorf f)) (+ 1 (sizef f))))", g))
    assert isinstance(bad, Rejected) and "companion" in bad.reason


@pytest.mark.parametrize("name", ["forest_mirror_id.smt2", "prog_swap_id.smt2"])
def test_hostile_mutual_family_proves_no_false_goal(name):
    """The hostile proxy's ``mutual`` family (``induct x with C`` misused: false, circular,
    non-fixed, malformed companions) drives the search on a false goal of a block; the goal
    is never proved, and every accepted mutual step kept its well-formedness."""
    from ida_ns.policies import EscalatingPolicy
    from ida_ns.prover.proof import LemmaLibrary
    from ida_ns.prover.search import Budget, Search
    from ida_ns.prover.verify import Checker
    from ida_ns.solvers.pool import SolverPool
    from ida_ns.testing.hostile import HostileProxy

    g = _spec_goal(f"false/{name}")
    proxy = HostileProxy(g.theory, families=["mutual"], seed=7)
    events: list = []
    with SolverPool("z3", workers=1, timeout_s=1.0) as pool:
        checker = Checker.from_pool(pool, leaf_timeout_s=0.4, test_trials=200,
                                    test_time_s=0.2)
        res = Search(checker, EscalatingPolicy(proxy, Overseer(), k=8, seed=7),
                     Budget(wall_s=3.0, max_nodes=20, max_depth=4, leaf_timeout_s=0.4),
                     LemmaLibrary(), on_event=lambda k, d: events.append((k, d))).run(g)
    assert not res.proved
    assert proxy.tried["mutual"] > 0
    texts = [json.dumps(d) for _, d in events]
    assert any("with (" in t for t in texts)  # the family's steps reached the gate
