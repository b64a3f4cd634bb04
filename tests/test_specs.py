"""The built-in problem set (specs/) and its loader (ida_ns.specs).

The labels are checked against two independent judges: a small ground evaluator written here
(smallest-first search over constructor terms, straight from the SMT-LIB text) and raw z3 on
the SMT-LIB text, whose counterexample is replayed through that evaluator.  cvc5's inductive
mode (slow tests) proves the true goals it can.
"""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
import textwrap
from collections import Counter, defaultdict

import pytest

from ida_ns.errors import SpecError
from ida_ns.logic.ast import BOOL, Quant, free_vars
from ida_ns.logic.sexpr import Atom, SList, read_sexprs
from ida_ns.specs import (DIFFICULTIES, SPLITS, ProblemSet, SpecProblem, builtin_sets,
                          load_problem_set, problem_set_summary)

PS = load_problem_set("default")
TRUE = [p for p in PS if p.label]
FALSE = [p for p in PS if not p.label]


# --------------------------------------------------------------------------------------------
# An independent ground evaluator for the spec theories (datatypes, define-fun-rec, match with
# constructor patterns, ite, Boolean connectives, =).  Values are tuples (ctor, *args).


class Ground:
    def __init__(self, text: str):
        self.ctors: dict[str, tuple[str, list[str]]] = {}
        self.sorts: dict[str, list[str]] = {}
        self.funs: dict[str, tuple[list[str], object]] = {}
        self._values: dict[tuple[str, int], list] = {}
        for cmd in read_sexprs(text):
            head = cmd.head_symbol()
            if head == "declare-datatypes":
                for (name, _arity), decl in zip(cmd[1], cmd[2]):
                    self.sorts[name.value] = []
                    for c in decl:
                        fields = [str(f[1]) for f in c.items[1:]]
                        self.ctors[c[0].value] = (name.value, fields)
                        self.sorts[name.value].append(c[0].value)
            elif head == "define-fun-rec":
                self.funs[cmd[1].value] = ([b[0].value for b in cmd[2]], cmd[4])
            else:
                raise AssertionError(f"unexpected command in a spec theory: {head}")

    def values(self, sort: str, size: int) -> list:
        """All values of ``sort`` built from exactly ``size`` constructors."""
        key = (sort, size)
        if key not in self._values:
            out = []
            for c in self.sorts[sort]:
                fields = self.ctors[c][1]
                if not fields:
                    out += [(c,)] if size == 1 else []
                    continue
                for split in _compositions(size - 1, len(fields)):
                    for args in itertools.product(*(self.values(s, k)
                                                    for s, k in zip(fields, split))):
                        out.append((c, *args))
            self._values[key] = out
        return self._values[key]

    def ev(self, e, env: dict):
        if isinstance(e, Atom):
            name = e.value
            if name in env:
                return env[name]
            if name in ("true", "false"):
                return name == "true"
            assert name in self.ctors, f"unbound symbol {name}"
            return (name,)
        head, args = e.head_symbol(), e.items[1:]
        if head == "match":
            v = self.ev(args[0], env)
            for case in args[1]:
                pat, body = case[0], case[1]
                if isinstance(pat, Atom):
                    assert pat.value in self.ctors, "spec theories use constructor patterns only"
                    if v[0] == pat.value:
                        return self.ev(body, env)
                elif pat[0].value == v[0]:
                    return self.ev(body, {**env, **{p.value: a
                                                    for p, a in zip(pat.items[1:], v[1:])}})
            raise AssertionError(f"non-exhaustive match on {v}")
        if head == "ite":
            return self.ev(args[1] if self.ev(args[0], env) else args[2], env)
        if head == "and":
            return all(self.ev(a, env) for a in args)
        if head == "or":
            return any(self.ev(a, env) for a in args)
        if head == "not":
            return not self.ev(args[0], env)
        if head == "=>":
            return not self.ev(args[0], env) or self.ev(args[1], env)
        if head == "=":
            vs = [self.ev(a, env) for a in args]
            return all(v == vs[0] for v in vs)
        vals = tuple(self.ev(a, env) for a in args)
        if head in self.ctors:
            return (head, *vals)
        params, body = self.funs[head]
        return self.ev(body, dict(zip(params, vals)))

    def term_value(self, e):
        """A closed constructor term (z3's model output) as a value."""
        if isinstance(e, Atom):
            return (e.value,)
        return (e[0].value, *(self.term_value(a) for a in e.items[1:]))


def _compositions(total: int, parts: int):
    if parts == 1:
        if total >= 1:
            yield (total,)
        return
    for k in range(1, total - parts + 2):
        for rest in _compositions(total - k, parts - 1):
            yield (k, *rest)


def goal_parts(goal_text: str) -> tuple[list[tuple[str, str]], object]:
    g = read_sexprs(goal_text)[0]
    assert g.head_symbol() == "forall", goal_text
    return [(b[0].value, str(b[1])) for b in g[1]], g[2]


def find_counterexample(ground: Ground, goal_text: str, max_total: int, max_evals: int):
    """Smallest-first search; returns (assignment or None, instances checked)."""
    vs, body = goal_parts(goal_text)
    checked = 0
    for total in range(len(vs), max_total + 1):
        for sizes in _compositions(total, len(vs)):
            for vals in itertools.product(*(ground.values(s, k) for (_, s), k in zip(vs, sizes))):
                env = {n: v for (n, _), v in zip(vs, vals)}
                checked += 1
                if not ground.ev(body, env):
                    return env, checked
                if checked >= max_evals:
                    return None, checked
    return None, checked


_GROUND: dict[str, Ground] = {}


def ground_of(p: SpecProblem) -> Ground:
    if p.theory not in _GROUND:
        _GROUND[p.theory] = Ground(p.theory_text())
    return _GROUND[p.theory]


# --------------------------------------------------------------------------------------------
# The manifest


def test_default_set_loads_with_enough_problems():
    assert "default" in builtin_sets()
    assert PS.name == "default" and PS.description
    assert len(PS) >= 100
    ids = [p.id for p in PS]
    assert len(ids) == len(set(ids))
    assert all(p.difficulty in DIFFICULTIES and p.split in SPLITS for p in PS)
    assert {p.theory for p in PS} >= {"theories/nat.smt2", "theories/list.smt2",
                                      "theories/tree.smt2"}


def test_label_and_split_proportions():
    s = problem_set_summary(PS)
    false_share = s["label"]["false"] / len(PS)
    assert 0.2 <= false_share <= 0.3, s
    heldout_share = s["split"]["heldout"] / len(PS)
    assert 0.25 <= heldout_share <= 0.35, s
    # Stratified: every (theory, difficulty) stratum of 4 or more has held-out and train goals.
    strata = defaultdict(Counter)
    for p in PS:
        strata[(p.theory, p.difficulty)][p.split] += 1
    for key, c in strata.items():
        if sum(c.values()) >= 4:
            assert c["train"] and c["heldout"], (key, c)
            assert 0.15 <= c["heldout"] / sum(c.values()) <= 0.45, (key, c)


def test_heldout_goals_share_a_lemma_shape_with_train_goals():
    def shape(p):
        (tag,) = [t for t in p.tags if t.startswith("shape:")]
        return tag

    train_shapes = {shape(p) for p in PS.train}
    for p in PS.heldout:
        assert shape(p) in train_shapes, p.id


def test_ids_name_their_theory_and_false_goals_say_so():
    for p in PS:
        assert p.id.startswith(p.theory.split("/")[-1][:-5] + "_"), p.id
        assert p.id.endswith("_false") == (not p.label), p.id


# --------------------------------------------------------------------------------------------
# The theories are plain SMT-LIB 2.6 that raw z3 and cvc5 accept


THEORIES = sorted({p.theory for p in PS})


@pytest.mark.parametrize("theory", THEORIES)
def test_theory_is_plain_monomorphic_smtlib(theory):
    text = PS.problems[[p.theory for p in PS].index(theory)].theory_text()
    for sx in read_sexprs(text):
        stack = [sx]
        while stack:
            x = stack.pop()
            if isinstance(x, Atom):
                assert x.value not in ("_", "par", "lambda", "@"), (theory, x)
                assert not x.quoted, (theory, x)
            else:
                stack.extend(x.items)
    assert Ground(text).funs  # only datatypes and define-fun-rec


def test_theories_share_their_nat_and_list_blocks_verbatim():
    texts = {p.theory: p.theory_text() for p in PS}
    nat = texts["theories/nat.smt2"]
    list_text = texts["theories/list.smt2"]
    assert nat in list_text
    list_block = list_text[list_text.index(nat) + len(nat):]
    assert nat + list_block in texts["theories/tree.smt2"]


@pytest.mark.parametrize("theory", THEORIES)
def test_raw_z3_and_cvc5_parse_the_theory(theory):
    z3 = pytest.importorskip("z3")
    cvc5 = pytest.importorskip("cvc5")
    text = PS.problems[[p.theory for p in PS].index(theory)].theory_text()
    s = z3.Solver(ctx=z3.Context())  # a fresh context: z3 keeps definitions per context
    s.from_string(text)
    assert s.check() == z3.sat  # structural recursion: the definitions have a model
    tm = cvc5.TermManager()
    slv = cvc5.Solver(tm)
    slv.setLogic("ALL")
    parser = cvc5.InputParser(slv)
    parser.setStringInput(cvc5.InputLanguage.SMT_LIB_2_6, text, theory)
    sm = parser.getSymbolManager()
    n = 0
    while not (cmd := parser.nextCommand()).isNull():
        cmd.invoke(slv, sm)
        n += 1
    assert n == len(read_sexprs(text))


# --------------------------------------------------------------------------------------------
# Every goal parses with ida-ns's front end


@pytest.mark.parametrize("p", PS.problems, ids=lambda p: p.id)
def test_goal_parses_against_its_theory(p):
    prob = p.problem()
    assert isinstance(prob.goal, Quant) and prob.goal.kind == "forall"
    assert prob.goal.sort == BOOL and not free_vars(prob.goal)
    assert p.source in prob.source or prob.source == p.source


# --------------------------------------------------------------------------------------------
# Labels


@pytest.mark.parametrize("p", FALSE, ids=lambda p: p.id)
def test_false_goal_has_a_small_counterexample(p):
    cex, _ = find_counterexample(ground_of(p), p.goal_text, max_total=12, max_evals=20000)
    assert cex is not None, f"{p.id}: no counterexample among small values"


@pytest.mark.parametrize("p", FALSE, ids=lambda p: p.id)
def test_false_goal_is_refuted_by_raw_z3(p):
    z3 = pytest.importorskip("z3")
    vs, body = goal_parts(p.goal_text)
    decls = "".join(f"(declare-const {n} {s})" for n, s in vs)
    s = z3.Solver(ctx=z3.Context())  # a fresh context: z3 keeps definitions per context
    s.set("timeout", 20000)
    s.from_string(f"{p.theory_text()}\n{decls}\n(assert (not {body}))")
    assert s.check() == z3.sat, p.id
    m = s.model()
    consts = {str(d): d for d in m.decls()}
    g = ground_of(p)
    env = {n: g.term_value(read_sexprs(m[consts[n]].sexpr())[0]) if n in consts else
           g.values(s_, 1)[0] if g.values(s_, 1) else None for n, s_ in vs}
    assert g.ev(body, env) is False, f"{p.id}: z3's counterexample {env} does not replay"


@pytest.mark.parametrize("p", TRUE, ids=lambda p: p.id)
def test_true_goal_survives_small_instances(p):
    cex, checked = find_counterexample(ground_of(p), p.goal_text, max_total=11,
                                       max_evals=3000)
    assert cex is None, f"{p.id} is labelled true but fails at {cex}"
    assert checked >= 10


_CVC5_IND = textwrap.dedent("""
    import sys, cvc5
    tm = cvc5.TermManager(); s = cvc5.Solver(tm)
    for o in ("quant-ind", "dt-stc-ind", "conjecture-gen", "full-saturate-quant"):
        s.setOption(o, "true")
    s.setOption("tlimit-per", sys.argv[1])
    s.setLogic("ALL")
    p = cvc5.InputParser(s)
    p.setStringInput(cvc5.InputLanguage.SMT_LIB_2_6, sys.stdin.read(), "goal")
    sm = p.getSymbolManager()
    while not (c := p.nextCommand()).isNull():
        out = c.invoke(s, sm)
        if out.strip():
            print(out.strip())
""")


def cvc5_induction(p: SpecProblem, seconds: float) -> str:
    """Raw cvc5 with its induction options on ``(assert (not goal))``, in a killable process."""
    text = f"{p.theory_text()}\n(assert (not {p.goal_text}))\n(check-sat)\n"
    try:
        r = subprocess.run([sys.executable, "-c", _CVC5_IND, str(int(seconds * 1000))],
                           input=text, capture_output=True, text=True, timeout=seconds + 20)
    except subprocess.TimeoutExpired:
        return "timeout"
    return (r.stdout.strip().splitlines() or [f"error: {r.stderr.strip()[-200:]}"])[0]


@pytest.mark.slow
@pytest.mark.parametrize("p", [p for p in TRUE if p.difficulty == "easy"], ids=lambda p: p.id)
def test_easy_true_goal_is_proved_by_cvc5_induction(p):
    pytest.importorskip("cvc5")
    assert cvc5_induction(p, 20) == "unsat", p.id


@pytest.mark.slow
@pytest.mark.parametrize("p", FALSE, ids=lambda p: p.id)
def test_cvc5_induction_never_proves_a_false_goal(p):
    pytest.importorskip("cvc5")
    assert cvc5_induction(p, 5) != "unsat", p.id


# --------------------------------------------------------------------------------------------
# Loader: should succeed / should fail


def write_set(tmp_path, problems, **top):
    (tmp_path / "th").mkdir(exist_ok=True)
    (tmp_path / "th" / "nat.smt2").write_text(
        "(declare-datatypes ((Nat 0)) (((Z) (S (pred Nat)))))\n"
        "(define-fun-rec plus ((x Nat) (y Nat)) Nat (match x ((Z y) ((S n) (S (plus n y))))))\n")
    manifest = {"name": "mine", "problems": problems, **top}
    path = tmp_path / "mine.json"
    path.write_text(json.dumps(manifest, indent=1))
    return path


GOOD = {"id": "p1", "theory": "th/nat.smt2", "goal": "(forall ((x Nat)) (= (plus Z x) x))",
        "label": True, "difficulty": "easy", "split": "train"}


def test_load_from_path_should_succeed(tmp_path):
    path = write_set(tmp_path, [GOOD, {**GOOD, "id": "p2", "split": "heldout", "tags": ["a"]}])
    for arg in (path, str(path)):
        ps = load_problem_set(arg)
        assert isinstance(ps, ProblemSet) and ps.name == "mine" and len(ps) == 2
        assert [p.id for p in ps.train] == ["p1"] and [p.id for p in ps.heldout] == ["p2"]
        assert ps.by_id("p2").tags == ("a",)
        assert ps.by_id("p1").problem().goal.kind == "forall"


def test_theory_dir_is_relative_to_the_manifest(tmp_path):
    (tmp_path / "sets").mkdir()
    path = write_set(tmp_path, [{**GOOD, "theory": "nat.smt2"}], theory_dir="../th")
    path.rename(tmp_path / "sets" / "mine.json")
    ps = load_problem_set(tmp_path / "sets" / "mine.json")
    assert ps.by_id("p1").theory_text().startswith("(declare-datatypes")


@pytest.mark.parametrize("problems, message", [
    ([{k: v for k, v in GOOD.items() if k != "goal"}], r"problems\[0\] \('p1'\): missing "
                                                        r"key\(s\) \['goal'\]"),
    ([{**GOOD, "theory": "th/none.smt2"}], "unknown theory file 'th/none.smt2'"),
    ([GOOD, GOOD], r"problems\[1\] \('p1'\): duplicate id"),
    ([{**GOOD, "label": "yes"}], "'label' must be true or false"),
    ([{**GOOD, "difficulty": "trivial"}], "'difficulty' must be one of"),
    ([{**GOOD, "split": "test"}], "'split' must be one of"),
    ([{**GOOD, "colour": "red"}], r"unknown key\(s\) \['colour'\]"),
    ([{**GOOD, "id": "has space"}], "'id' must be"),
    ([], "'problems' must be a non-empty list"),
])
def test_bad_manifest_should_fail(tmp_path, problems, message):
    path = write_set(tmp_path, problems)
    with pytest.raises(SpecError, match=message) as e:
        load_problem_set(path)
    assert str(path) in str(e.value)


def test_bad_json_and_unknown_names_should_fail(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"name": "x",\n "problems": [}')
    with pytest.raises(SpecError, match=r"bad.json:2:\d+: invalid JSON"):
        load_problem_set(bad)
    with pytest.raises(SpecError, match="no built-in problem set 'nosuch'.*default"):
        load_problem_set("nosuch")
    with pytest.raises(SpecError, match="manifest not found"):
        load_problem_set(tmp_path / "absent.json")


def test_goal_parse_error_names_theory_and_problem_id(tmp_path):
    path = write_set(tmp_path, [{**GOOD, "goal": "(forall ((x Nat)) (= (times x Z) x))"}])
    with pytest.raises(SpecError, match=r"th/nat.smt2 \[p1\].*times") as e:
        load_problem_set(path).by_id("p1").problem()
    assert e.value.line == 3  # the goal's line, after the two theory lines


def test_split_and_by_id_reject_unknown_names():
    with pytest.raises(ValueError, match="split must be one of"):
        PS.split("test")
    with pytest.raises(KeyError, match="no problem with id 'nope'"):
        PS.by_id("nope")


def test_importing_specs_is_cheap():
    code = ("import sys, ida_ns.specs; "
            "print(any(m in sys.modules for m in ('torch', 'transformers', 'z3', 'cvc5')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    assert out.stdout.strip() == "False", out.stderr
