"""Hostile-but-valid inputs for the budget suite: well-formed SMT-LIB/TIP problems that cost a
naive pipeline unbounded time or memory.

Each family is a function ``size -> text`` (``size`` scales the hostility; the defaults are
the issue's cases), registered in :data:`FAMILIES` with what a correct pipeline must answer
(``expect``: the verdict kinds allowed).  Used by ``tests/test_budget*.py``,
``benchmarks/bench_budget.py`` and ``benchmarks/bench_scale.py``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

NAT = "(declare-datatype Nat ((Z) (S (p Nat))))\n"


def tower(n: int = 40) -> str:
    """Fast-growing arithmetic: ``tower n x`` squares ``x`` n times (2**n digits)."""
    return ("(define-fun-rec tower ((n Int) (x Int)) Int\n"
            "  (ite (<= n 0) x (tower (- n 1) (* x x))))\n"
            f"(prove (forall ((x Int)) (>= (tower {n} x) 0)))\n")


def nested_lets(n: int = 40) -> str:
    """A ground goal of ``n`` nested ``let`` squarings (no function call at all)."""
    body = "y"
    for _ in range(n):
        body = f"(let ((y (* y y))) {body})"
    return f"(prove (>= (let ((y 3)) {body}) 0))\n"


def many_ctors(n: int = 2000) -> str:
    """A datatype with ``n`` constructors and a function matching on every one."""
    ctors = " ".join(f"(C{i})" for i in range(n))
    cases = " ".join(f"((C{i}) {i % 7})" for i in range(n))
    return (f"(declare-datatype Big ({ctors}))\n"
            f"(define-fun code ((b Big)) Int (match b ({cases})))\n"
            "(prove (forall ((b Big)) (and (>= (code b) 0) (< (code b) 7))))\n")


def many_defs(n: int = 1500, recursive: bool = True) -> str:
    """``n`` small recursive definitions over Nat (each calls the previous), one goal."""
    out = [NAT]
    for i in range(n):
        if recursive:
            prev = f"(f{i - 1} m)" if i else "m"
            out.append(f"(define-fun-rec f{i} ((n Nat)) Nat "
                       f"(match n ((Z Z) ((S m) (S {prev})))))\n")
        else:
            prev = f"(f{i - 1} n)" if i else "n"
            out.append(f"(define-fun f{i} ((n Nat)) Nat (S {prev}))\n")
    out.append(f"(prove (forall ((n Nat)) (= (f{n - 1} Z) (f{n - 1} Z))))\n")
    return "".join(out)


def many_poly_defs(n: int = 1000) -> str:
    """``n`` small recursive definitions over a polymorphic list (``par``), each calling the
    previous, used at two sorts: exercises monomorphisation at scale."""
    out = ["(declare-datatype list (par (a) ((nil) (cons (head a) (tail (list a))))))\n"]
    for i in range(n):
        prev = f"(g{i - 1} ys)" if i else "ys"
        out.append(f"(define-fun-rec g{i} (par (a) (((xs (list a))) (list a))) "
                   f"(match xs ((nil (as nil (list a))) ((cons y ys) (cons y {prev})))))\n")
    out.append(f"(prove (forall ((xs (list Int)) (bs (list Bool))) "
               f"(and (= (g{n - 1} xs) (g{n - 1} xs)) (= (g{n - 1} bs) (g{n - 1} bs)))))\n")
    return "".join(out)


def huge_numeral(digits: int = 10_000) -> str:
    """Numerals far beyond Python's int/str digit limit (4,300 digits)."""
    big = "9" * digits
    return f"(prove (forall ((x Int)) (= (+ x {big}) (+ {big} x))))\n"


def huge_counterexample(digits: int = 6_000) -> str:
    """A false goal whose only counterexamples are numbers of more than ``digits`` digits."""
    big = "1" + "0" * digits
    return f"(prove (forall ((x Int)) (=> (> x {big}) (< x 0))))\n"


def hard_guard(n: int = 6) -> str:
    """Recursive definitions whose guard holds a hard nonlinear equation (termination
    analysis and solvers may spend unbounded time on it)."""
    out = []
    for i in range(n):
        out.append(
            f"(define-fun-rec h{i} ((x Int) (y Int) (z Int)) Int\n"
            f"  (ite (and (> x {i}) (= (+ (* x (* x x)) (* y (* y y))) (* {i + 1} (* z (* z z)))))\n"
            f"       (h{i} (- x 1) (+ y 1) z) 0))\n")
    out.append("(prove (forall ((x Int) (y Int) (z Int)) (= (h0 x y z) 0)))\n")
    return "".join(out)


def deep_sort(depth: int = 20) -> str:
    """A polymorphic list used at a sort nested ``depth`` deep."""
    s = "Int"
    for _ in range(depth):
        s = f"(list {s})"
    return ("(declare-datatype list (par (a) ((nil) (cons (head a) (tail (list a))))))\n"
            "(define-fun-rec len (par (a) (((xs (list a))) Int))\n"
            "  (match xs ((nil 0) ((cons y ys) (+ 1 (len ys))))))\n"
            f"(prove (forall ((xs {s})) (>= (len xs) 0)))\n")


def poly_recursion() -> str:
    """Real polymorphic recursion: ``nest a`` needs ``nest (list a)``: refused, named."""
    return ("(declare-datatype list (par (a) ((nil) (cons (head a) (tail (list a))))))\n"
            "(define-fun-rec nest (par (a) (((x a) (n Int)) Int))\n"
            "  (ite (<= n 0) 0 (nest (cons x (as nil (list a))) (- n 1))))\n"
            "(prove (forall ((n Int)) (= (nest 0 n) 0)))\n")


@dataclass(frozen=True)
class Family:
    name: str
    make: Callable[[], str]
    expect: tuple[str, ...]  # verdict kinds a correct pipeline may give
    note: str = ""


FAMILIES: tuple[Family, ...] = (
    Family("tower", tower, ("proved", "unknown"), "x squared 40 times"),
    Family("nested_lets", nested_lets, ("proved", "unknown"), "40 nested let squarings"),
    Family("many_ctors", many_ctors, ("proved", "unknown"), "2,000 constructors"),
    Family("many_defs", many_defs, ("proved", "unknown"), "1,500 recursive definitions"),
    Family("huge_numeral", huge_numeral, ("proved", "unknown"), "10,000-digit numerals"),
    Family("huge_counterexample", huge_counterexample, ("refuted", "unknown"),
           "counterexample > 10**6000"),
    Family("hard_guard", hard_guard, ("proved", "unknown"), "nonlinear recursion guards"),
    Family("deep_sort", deep_sort, ("proved", "unknown"), "a sort nested 20 deep"),
)


def write_family_files(folder, families=FAMILIES) -> list:
    """Write each family's default instance as ``folder/NAME.smt2``; returns the paths."""
    from pathlib import Path

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for fam in families:
        p = folder / f"{fam.name}.smt2"
        p.write_text(fam.make(), encoding="utf-8")
        paths.append(p)
    return paths
