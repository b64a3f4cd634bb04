"""Hostile recursive definitions for the termination analysis (the gate's standing adversary).

Each generated theory is SMT-LIB text with one or two recursive definitions over ``Int`` or a
``Nat`` datatype, built to trip a naive analysis: binders (``let``, ``match`` patterns,
quantifiers) that reuse a parameter's name, selectors on an unknown or the wrong constructor,
n-ary arithmetic and chained comparisons in guards, mutual and nested recursion, Int recursion
with guards that do or do not bound it.

:func:`judge` runs the termination analysis and, when it says "terminates", evaluates every
function on small inputs with the ground evaluator under fuel: running out of fuel there is a
wrong "terminates".  Hook into ``benchmarks/bench_trust.py`` as::

    from ida_ns.testing.hostile_theories import hostile_theory_texts, judge
    for text in hostile_theory_texts(n, seed): wrong += judge(text).wrong
"""

from __future__ import annotations

import random
from dataclasses import dataclass

NAT = "(declare-datatype Nat ((Z) (S (p Nat))))"
NAMES = ("x", "y", "n")


@dataclass(frozen=True)
class Judgement:
    text: str
    terminates: bool  # the gate's claim
    diverged: bool  # bounded evaluation ran out of fuel on some small input
    error: str = ""  # a traceback-worthy failure (must never happen)

    @property
    def wrong(self) -> bool:
        return bool(self.error) or (self.terminates and self.diverged)


def _int_expr(r: random.Random, vs: list[str], depth: int) -> str:
    if depth <= 0 or r.random() < 0.3:
        return r.choice(vs + ["0", "1", "2", "(- 1)", "3"])
    op = r.choice(["+", "-", "*", "div", "+3", "*3", "neg"])
    a = _int_expr(r, vs, depth - 1)
    b = _int_expr(r, vs, depth - 1)
    if op == "+3":
        return f"(+ {a} {b} {_int_expr(r, vs, depth - 1)})"
    if op == "*3":
        return f"(* {a} {b} {_int_expr(r, vs, depth - 1)})"
    if op == "neg":
        return f"(- {a})"
    if op == "div":
        return f"(div {a} {r.choice(['2', '3', '(- 2)'])})"
    return f"({op} {a} {b})"


def _int_guard(r: random.Random, vs: list[str]) -> str:
    k = r.random()
    a = _int_expr(r, vs, 1)
    if k < 0.3:
        return f"(< 0 {a} {r.choice(['5', '10', a])})"  # chained
    if k < 0.5:
        return f"(= {a} 0)"
    if k < 0.7:
        return f"(and (> {a} 0) (< {_int_expr(r, vs, 1)} 7))"
    return f"({r.choice(['<', '<=', '>', '>=', 'distinct'])} {a} {_int_expr(r, vs, 1)})"


def _int_def(r: random.Random, name: str, others: list[str], arity: int):
    params = r.sample(NAMES, arity)
    vs = list(params)
    calls = [name] + others

    def call(vs_here):
        f = r.choice(calls)
        args = " ".join(_int_expr(r, vs_here, 2) for _ in params)
        return f"({f} {args})"

    def body(vs_here, depth):
        k = r.random()
        if depth <= 0 or k < 0.15:
            return _int_expr(r, vs_here, 1)
        if k < 0.3:  # countdown/countup shapes: terminating or not by a hair
            v = r.choice(vs_here)
            op = r.choice(["<", "<=", ">", ">=", "="])
            bound = r.choice(["0", "1", "(- 1)", r.choice(vs_here)])
            step = r.choice(["(- {v} 1)", "(+ {v} 1)", "(- {v} 2)", "(+ {v} (- 1))",
                             "(div {v} 2)", "(- {v} {w})", "(* {v} 1 1)"]).format(
                v=v, w=r.choice(vs_here))
            args = " ".join(step if q == v else r.choice([q, _int_expr(r, vs_here, 1)])
                            for q in params)
            f = r.choice(calls)
            return f"(ite ({op} {v} {bound}) {body(vs_here, depth - 1)} (+ 1 ({f} {args})))"
        if k < 0.45:
            return f"(ite {_int_guard(r, vs_here)} {body(vs_here, depth - 1)} " \
                   f"(+ 1 {call(vs_here)}))"
        if k < 0.6:  # let shadowing a parameter
            v = r.choice(vs_here)
            return f"(let (({v} {_int_expr(r, vs_here, 1)})) {body(vs_here, depth - 1)})"
        if k < 0.7:  # nested call
            inner = call(vs_here)
            f = r.choice(calls)
            return f"(ite {_int_guard(r, vs_here)} 0 ({f} {' '.join([inner] * len(params))}))"
        if k < 0.8:  # quantifier shadowing, as an ite guard
            v = r.choice(vs_here)
            return f"(ite (forall (({v} Int)) (> {v} {_int_expr(r, vs_here, 1)})) 0 " \
                   f"{body(vs_here, depth - 1)})"
        return f"(ite {_int_guard(r, vs_here)} {call(vs_here)} {body(vs_here, depth - 1)})"

    sig = " ".join(f"({v} Int)" for v in params)
    return f"({name} ({sig}) Int)", body(vs, 3), len(params)


def _nat_expr(r: random.Random, vs: list[str], depth: int) -> str:
    if depth <= 0 or r.random() < 0.35:
        return r.choice(vs + ["Z"])
    k = r.random()
    if k < 0.4:
        return f"(p {_nat_expr(r, vs, depth - 1)})"  # selector, guarded or not
    return f"(S {_nat_expr(r, vs, depth - 1)})"


def _nat_def(r: random.Random, name: str, others: list[str], arity: int):
    params = r.sample(NAMES, arity)
    calls = [name] + others

    def call(vs_here):
        return f"({r.choice(calls)} {' '.join(_nat_expr(r, vs_here, 2) for _ in params)})"

    def body(vs_here, depth):
        k = r.random()
        if depth <= 0 or k < 0.15:
            return "Z"
        v = r.choice(vs_here)
        if k < 0.45:  # match, possibly shadowing a parameter with the pattern variable
            pv = r.choice(NAMES)
            inner = sorted(set(vs_here) | {pv})
            return f"(match {v} ((Z {body(vs_here, depth - 1)}) ((S {pv}) " \
                   f"(S {call(inner)}))))"
        if k < 0.6:  # tester guard, right or wrong way round
            t = r.choice(["is-S", "is-Z"])
            return f"(ite ({t} {v}) {call(vs_here)} {body(vs_here, depth - 1)})"
        if k < 0.7:
            return f"(ite (= {v} Z) {body(vs_here, depth - 1)} {call(vs_here)})"
        if k < 0.8:
            w = r.choice(vs_here)
            return f"(let (({w} {_nat_expr(r, vs_here, 1)})) {body(vs_here, depth - 1)})"
        return f"(match {v} ((Z Z) (_ {call(vs_here)})))"

    sig = " ".join(f"({v} Nat)" for v in params)
    return f"({name} ({sig}) Nat)", body(list(params), 3), len(params)


def hostile_theory_text(seed: int) -> tuple[str, list[tuple[str, int, str]]]:
    """One hostile theory: (SMT-LIB text, [(function, arity, sort)])."""
    r = random.Random(seed)
    nat = r.random() < 0.5
    mutual = r.random() < 0.3
    names = ["f", "g"] if mutual else ["f"]
    mk = _nat_def if nat else _int_def
    sigs, bodies, funs = [], [], []
    arity = r.choice([1, 2])
    for nm in names:
        sig, body, arity = mk(r, nm, [o for o in names if o != nm], arity)
        sigs.append(sig)
        bodies.append(body)
        funs.append((nm, arity, "Nat" if nat else "Int"))
    head = NAT + "\n" if nat else ""
    if mutual:
        text = head + f"(define-funs-rec ({' '.join(sigs)}) ({' '.join(bodies)}))\n"
    else:
        name, rest = sigs[0][1:].split(" ", 1)
        text = head + f"(define-fun-rec {name} {rest[:-1]} {bodies[0]})\n"
    return text + "(prove true)\n", funs


def hostile_theory_texts(n: int, seed: int = 0):
    for k in range(n):
        yield hostile_theory_text(seed * 1_000_003 + k)[0]


def _inputs(sort: str, arity: int):
    import itertools

    from ..logic.ast import App, IntLit, Sort

    if sort == "Int":
        base = [IntLit(v) for v in (-3, -1, 0, 1, 2, 5)]
    else:
        nat = Sort("Nat")
        base, t = [], App("Z", (), nat)
        for _ in range(4):
            base.append(t)
            t = App("S", (t,), nat)
    return itertools.product(base, repeat=arity)


def judge(text: str, fuel: int = 3000) -> Judgement:
    """The gate's termination claim on ``text`` and whether bounded evaluation diverges."""
    import time

    from ..errors import IdaNsError
    from ..logic.ast import App
    from ..logic.evaluate import Evaluator, OutOfFuel
    from ..logic.parser import parse_text
    from ..logic.sortcheck import sortcheck_problem
    from ..termination import check_theory

    try:
        problem = parse_text(text, file="<hostile>")
        sortcheck_problem(problem)
    except IdaNsError:
        return Judgement(text, False, False)
    try:
        results = check_theory(problem.theory, time.perf_counter() + 5.0)
    except Exception as e:  # the property under test: this never happens
        return Judgement(text, False, False, f"{type(e).__name__}: {e}")
    terminates = all(r.terminating for r in results)
    if not terminates:
        return Judgement(text, False, False)
    ev = Evaluator(problem.theory, fuel=fuel)
    for fd in problem.theory.all_defs():
        for args in _inputs(fd.params[0].sort.name, len(fd.params)):
            try:
                ev.eval(App(fd.name, tuple(args), fd.ret))
            except OutOfFuel:
                return Judgement(text, True, True)
            except Exception:
                continue  # undetermined (e.g. a selector on the wrong constructor)
    return Judgement(text, True, False)


def termination_family(n: int, seed: int):
    """``n`` hostile theories from ``seed`` judged (for ``benchmarks/bench_trust.py``): a
    Counter with ``cases``, how many the gate called terminating, ``UNSOUND ...`` (a
    terminating claim whose bounded evaluation diverges) and ``CRASH ...`` (an exception)."""
    from collections import Counter

    c: Counter = Counter()
    for i in range(n):
        text, _ = hostile_theory_text(seed * 1_000_003 + i)
        j = judge(text)
        c["cases"] += 1
        c["judged terminating"] += j.terminates
        if j.error:
            c[f"CRASH {j.error[:60]}"] += 1
        elif j.wrong:
            c["UNSOUND terminates, but bounded evaluation diverges"] += 1
    return c


# The hook read by benchmarks/bench_trust.py (FAMILY_MODULES).
TRUST_FAMILIES = {"hostile theories (termination)": termination_family}


# --------------------------------------------------------------------------------------------
# Rotations: tree recursion whose termination needs semantic measures (size-change over node
# counts and spines), judged by the whole gate (obligations proved by ida-ns's prover).

ROTATION_HEADER = ("(declare-datatype tree ((Leaf) (Node (l tree) (v Int) (r tree))))\n")

# Two fixed theories the gate accepts only through semantic measures.  A left rotation keeps
# the node count and shrinks the left spine (a lexicographic pair of measures):
LEFT_ROTATION = ROTATION_HEADER + """
(define-fun-rec flat ((t tree)) Int
  (match t ((Leaf 0) ((Node a x c) (match a ((Leaf (+ x (flat c)))
    ((Node a1 y b1) (flat (Node a1 y (Node b1 x c))))))))))"""
# Sorting by deleting the least element through a guard function (not a built-in equality):
# the obligation needs length lemmas about ``del`` proved by induction and an elem-style
# membership lemma for ``least``.
DELETE_SORT = "(declare-datatype list ((nil) (cons (head Int) (tail list))))\n" + """
(define-fun-rec least ((x Int) (xs list)) Int
  (match xs ((nil x) ((cons y ys) (least (ite (< y x) y x) ys)))))
(define-fun-rec del ((x Int) (xs list)) list
  (match xs ((nil nil) ((cons y ys) (ite (= y x) ys (cons y (del x ys)))))))
(define-fun-rec srt ((xs list)) list
  (match xs ((nil nil) ((cons y ys) (srt (del (least y ys) xs))))))"""


def _tree_term(r: random.Random, vs: list[str], ints: list[str], depth: int) -> str:
    k = r.random()
    if depth <= 0 or k < 0.45:
        return r.choice(vs + ["Leaf"])
    return (f"(Node {_tree_term(r, vs, ints, depth - 1)} {r.choice(ints)} "
            f"{_tree_term(r, vs, ints, depth - 1)})")


def rotation_theory_text(seed: int) -> str:
    """A definition ``f`` over binary trees that matches two levels deep and calls itself on
    random trees built from the pattern variables (rotations, swaps, subtrees, bigger trees,
    the argument itself): some terminate only by a lexicographic semantic measure, many do
    not terminate at all."""
    r = random.Random(seed)
    inner = ["a1", "b1", "c"] + (["t"] if r.random() < 0.15 else [])
    t2 = _tree_term(r, inner, ["x", "y"], 2)
    e2 = f"(f {t2})" if r.random() < 0.7 else \
        f"(+ (f {t2}) (f {_tree_term(r, inner, ['x', 'y'], 1)}))"
    t1 = _tree_term(r, ["c"] + (["t"] if r.random() < 0.1 else []), ["x"], 1)
    e1 = f"(+ x (f {t1}))" if r.random() < 0.85 else "x"
    return (ROTATION_HEADER +
            "(define-fun-rec f ((t tree)) Int\n"
            "  (match t ((Leaf 0) ((Node a x c) (match a ((Leaf " + e1 + ")\n"
            "    ((Node a1 y b1) " + e2 + ")))))))\n(prove true)\n")


def small_trees(max_nodes: int = 3):
    """Every tree with at most ``max_nodes`` nodes (values 0)."""
    from ..logic.ast import App, IntLit, Sort

    tree = Sort("tree")
    by_n: list[list] = [[App("Leaf", (), tree)]]
    for n in range(1, max_nodes + 1):
        level = []
        for k in range(n):
            for a in by_n[k]:
                for c in by_n[n - 1 - k]:
                    level.append(App("Node", (a, IntLit(0), c), tree))
        by_n.append(level)
    return [t for level in by_n for t in level]


def rotation_diverges(text: str, fuel: int = 3000) -> bool:
    """Whether bounded evaluation of ``f`` runs out of fuel on some small tree."""
    from ..logic.ast import INT, App
    from ..logic.evaluate import Evaluator, OutOfFuel
    from ..logic.parser import parse_text

    th = parse_text(text, file="<rotation>").theory
    for t in small_trees(4):
        try:
            Evaluator(th, fuel=fuel).eval(App("f", (t,), INT))
        except OutOfFuel:
            return True
        except Exception:
            continue
    return False
