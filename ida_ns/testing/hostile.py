"""Hostile inputs for trust tests: an adversarial proxy, fuzzing mutators, and a saboteur that
signals real solver workers.

Everything here attacks the trusted path from the outside, the way a broken or malicious
component could:

* :class:`HostileProxy` has the neural proxy's interface (``propose(goal_text, context_text,
  k, seed=0)`` -> candidates with ``.text`` and ``.logprob``) and writes step texts meant to
  get something false accepted or to exhaust resources: SMT-LIB injection, quoted symbols,
  unsound lemmas (plainly false, true only on small values, false only on large ones), wrong
  sorts, unknown symbols, huge and deeply nested terms, the goal as its own lemma, ``direct``
  spam, Unicode tricks and very long texts.  :func:`hostile_steps` is the same generator as
  a Hypothesis strategy.
* :func:`mutate_bytes` and :func:`mutate_json` damage benchmark files and certificates.
* :class:`Saboteur` is a thread that SIGKILLs or SIGSTOPs (hangs) the live workers of a
  :class:`solvers.pool.SolverPool` at random moments.

More hostile families live beside this module: :mod:`ida_ns.testing.binders` (binder names
clashing with fixed variables, against the step rule, judged in a bounded semantics),
:mod:`ida_ns.testing.forgery` (forged certificates, poisoned verdict caches) and
:mod:`ida_ns.testing.frontend` (grammar-shaped random programs for the parser).

Nothing here decides what is correct: tests pair these inputs with the real gate, search,
certificate checker and pool, and check their verdicts.  Hypothesis is imported only by the
functions that return strategies.
"""

from __future__ import annotations

import json
import math
import os
import random
import re
import signal
import threading
import zlib
from collections import Counter
from dataclasses import dataclass, field
from typing import Callable, Iterable, Sequence

from ida_ns.proxy import Candidate  # a frozen (text, logprob) dataclass; no torch import

# ============================================================================================
# What the hostile proxy knows about a goal


@dataclass(frozen=True)
class Vocab:
    """Names a hostile proposer can use for one goal: printed goal and hypotheses, variables
    in scope with their sort names, datatypes (constructor name -> field sort names), and
    function signatures (name -> (parameter sort names, result sort name))."""

    goal: str
    hyps: tuple[str, ...] = ()
    vars: tuple[tuple[str, str], ...] = ()
    datatypes: tuple[tuple[str, tuple[tuple[str, tuple[str, ...]], ...]], ...] = ()
    funcs: tuple[tuple[str, tuple[str, ...], str], ...] = ()

    def var(self, rng: random.Random, sort: str | None = None) -> str:
        names = [n for n, s in self.vars if sort is None or s == sort]
        return rng.choice(names) if names else "x"

    def sort_of(self, name: str) -> str | None:
        return dict(self.vars).get(name)

    def dt(self, name: str):
        return dict(self.datatypes).get(name)

    def dt_sorts(self) -> list[str]:
        return [n for n, _ in self.datatypes] or ["Nat"]

    def body(self) -> str:
        """The goal's body under its leading ``forall`` (text), or the goal."""
        from ida_ns.logic.sexpr import SList, read_sexprs

        try:
            sx = read_sexprs(self.goal)[0]
        except Exception:
            return self.goal
        while isinstance(sx, SList) and sx.head_symbol() == "forall" and len(sx) == 3:
            sx = sx[2]
        return str(sx)


# The fixtures' and TIP's usual names, for a proxy that was given no theory.
_DEFAULT_DATATYPES = (("Nat", (("Z", ()), ("S", ("Nat",)))),
                      ("list", (("nil", ()), ("cons", ("Nat", "list")))))


def vocab_from_goal(goal) -> Vocab:
    """The vocabulary of a :class:`ida_ns.prover.goal.Goal` (exact: uses its theory)."""
    from ida_ns.logic.printer import print_sort, print_term

    th = goal.theory
    dts = tuple((d.name, tuple((c.name, tuple(print_sort(s) for _, s in c.fields))
                               for c in d.ctors)) for d in th.all_datatypes())
    funcs = tuple((d.name, tuple(print_sort(v.sort) for v in d.params), print_sort(d.ret))
                  for d in th.all_defs())
    funcs += tuple((f.name, tuple(print_sort(s) for s in f.params), print_sort(f.ret))
                   for f in th.funs)
    scope = tuple((n, print_sort(v.sort)) for n, v in goal.scope().items())
    return Vocab(print_term(goal.concl), tuple(print_term(h) for h in goal.hyps), scope,
                 dts or _DEFAULT_DATATYPES, funcs)


def vocab_from_text(goal_text: str, context_text: str = "", theory=None) -> Vocab:
    """What a proxy can read off its prompt: binders of the goal's leading ``forall`` and the
    ``fix`` part of the context; datatypes and functions from ``theory`` when given, else the
    usual Nat/list names and the function symbols seen in the goal."""
    from ida_ns.logic.printer import print_sort
    from ida_ns.logic.sexpr import Atom, SList, read_sexprs

    vars_: list[tuple[str, str]] = []
    heads: set[str] = set()
    try:
        sx = read_sexprs(goal_text)[0]
        while isinstance(sx, SList) and sx.head_symbol() == "forall" and len(sx) == 3:
            for b in sx[1]:
                if isinstance(b, SList) and len(b) == 2 and isinstance(b[0], Atom):
                    vars_.append((str(b[0].value), str(b[1])))
            sx = sx[2]
        stack = [sx]
        while stack:
            n = stack.pop()
            if isinstance(n, SList):
                if n.head_symbol():
                    heads.add(n.head_symbol())
                stack.extend(n)
    except Exception:
        pass
    hyps: list[str] = []
    for part in context_text.split(" ; "):
        if part.startswith("fix "):
            try:
                for b in read_sexprs(part[4:]):
                    if isinstance(b, SList) and len(b) == 2 and isinstance(b[0], Atom):
                        vars_.append((str(b[0].value), str(b[1])))
            except Exception:
                pass
        elif part.startswith("hyp "):
            hyps.append(part[4:])
    if theory is not None:
        dts = tuple((d.name, tuple((c.name, tuple(print_sort(s) for _, s in c.fields))
                                   for c in d.ctors)) for d in theory.all_datatypes())
        funcs = tuple((d.name, tuple(print_sort(v.sort) for v in d.params), print_sort(d.ret))
                      for d in theory.all_defs())
    else:
        dts = _DEFAULT_DATATYPES
        funcs = tuple((h, ("Nat", "Nat"), "Nat") for h in sorted(heads)
                      if h not in ("=", "and", "or", "not", "=>", "ite", "distinct"))
    return Vocab(goal_text, tuple(hyps), tuple(vars_), dts or _DEFAULT_DATATYPES, funcs)


# ============================================================================================
# Values and terms


def value(v: Vocab, sort: str, k: int) -> str:
    """A constructor term of ``sort`` with ``k`` nested recursive constructors (``S^k Z``,
    a list of length k); ``0``/``true`` for Int/Bool; ``k`` is capped by the nesting."""
    if sort == "Int":
        return str(k)
    if sort == "Bool":
        return "true" if k % 2 == 0 else "false"
    ctors = v.dt(sort)
    if not ctors:
        return sort  # an unknown sort name: a hostile term anyway
    base = next((c for c in ctors if sort not in c[1]), ctors[0])
    rec = next((c for c in ctors if sort in c[1]), None)

    def fill(c, inner: str) -> str:
        if not c[1]:
            return c[0]
        args = [inner if s == sort else _leaf(v, s) for s in c[1]]
        return f"({c[0]} {' '.join(args)})"

    out = fill(base, "")
    if rec is not None:
        for _ in range(k):
            out = fill(rec, out)
    return out


def _leaf(v: Vocab, sort: str) -> str:
    return value(v, sort, 0) if sort != "" else "Z"


def _rec_sort(v: Vocab, rng: random.Random) -> str:
    """A datatype with a recursive constructor (Nat, list), else any datatype."""
    rec = [n for n, cs in v.datatypes if any(n in f for _, f in cs)]
    return rng.choice(rec or v.dt_sorts())


def _func(v: Vocab, rng: random.Random, params: int | None = None, ret_dt: bool = False):
    fs = [f for f in v.funcs if (params is None or len(f[1]) == params)
          and (not ret_dt or v.dt(f[2]))]
    return rng.choice(fs) if fs else None


# ============================================================================================
# Families of hostile step texts.  Each maps (vocabulary, rng) to one text.

def _injection(v: Vocab, r: random.Random) -> str:
    x = v.var(r)
    return r.choice([
        f"lemma (= {x} {x})) (assert false",
        f"lemma (= {x} {x})) (assert false) (check-sat",
        f"induct {x}) (check-sat",
        f"induct {x}) (assert false) (check-sat",
        "lemma (push 1)", "lemma (pop 1)", "(reset)", "lemma (reset)", "(assert false)",
        "lemma true) (reset) (assert (not false)", "direct) (assert false",
        f"cases {x} (assert false)", "lemma (set-option :produce-proofs false)",
        "lemma (declare-fun f () Bool)", "lemma (define-fun f () Bool false)",
        "lemma (check-sat)", "lemma (assert false)", "lemma (exit)",
        "lemma ((((", "lemma ))))", f"lemma (= {x} {x}", f"lemma = {x} {x})",
        "lemma (", "lemma )", "lemma ()", "lemma", "lemma ", "generalize", "induct", "cases",
        "lemma \"(assert false)\"", "lemma ; (assert false)\ntrue", "lemma #x00",
        "lemma (! false :named goal)", "lemma (as false Bool)", "lemma (_ bv 3 8)",
        f"lemma (forall (({x} Bool)) {x})", "lemma :keyword", "lemma 1.5",
        "lemma (let () true)",
        f"generalize (= {x} {x})) (assert false",
    ])


def _quoted(v: Vocab, r: random.Random) -> str:
    x = v.var(r)
    s = v.sort_of(x) or _rec_sort(v, r)
    q = r.choice(["|x) (assert false|", "|(reset)|", "|true|", "|false|", "| |",
                  f"|{x}|", "|forall|", "|assert|", "|Z|", "|;|", "|\n(assert false)\n|"])
    return r.choice([
        f"lemma {q}", f"induct {q}", f"cases {q}", f"generalize {q}",
        f"lemma (= {q} {q})",
        f"lemma (forall (({q} {s})) (= {q} {q}))",  # well-formed and true
        f"lemma (forall (({q} {s})) (not (= {q} {q})))",  # well-formed and false
        f"lemma (forall (({q} Bool)) {q})",  # false
        f"lemma (= |{x}| |{x}|)",
    ])


def _false_lemma(v: Vocab, r: random.Random) -> str:
    d = _rec_sort(v, r)
    a, b = value(v, d, 0), value(v, d, 1)
    f = _func(v, r, 1, ret_dt=True)
    out = [
        "lemma false", "lemma (not true)", f"lemma (= {a} {b})",
        f"lemma (forall ((u {d})) (= u {a}))",
        f"lemma (forall ((u {d}) (w {d})) (= u w))",
        f"lemma (forall ((u {d})) (not (= u u)))",
        f"lemma (exists ((u {d})) (not (= u u)))",
        f"lemma (not {v.goal})", "lemma (forall ((b Bool)) b)",
        f"lemma (forall ((u {d})) (= u {value(v, d, 1).replace(a, 'u', 1)}))",
    ]
    if f is not None:  # f(u) = a constant of its result sort: false for most f
        out.append(f"lemma (forall ((u {f[1][0]})) (= ({f[0]} u) "
                   f"({f[0]} {value(v, f[1][0], 1)})))")
    return r.choice(out)


def _small_only(v: Vocab, r: random.Random) -> str:
    """True on values smaller than k, false at k: ``x != S^k Z``."""
    d = _rec_sort(v, r)
    k = r.randint(5, 12)
    return r.choice([
        f"lemma (forall ((u {d})) (not (= u {value(v, d, k)})))",
        f"lemma (forall ((u {d})) (=> (= u {value(v, d, k)}) false))",
        f"lemma (forall ((u {d}) (w {d})) (or (not (= u {value(v, d, k)})) (= u w)))",
    ])


def _large_only(v: Vocab, r: random.Random) -> str:
    """False only on large values, e.g. ``len xs != k`` for k beyond what random testing
    draws (lists of length >= 10)."""
    k = r.randint(10, 16)
    f = _func(v, r, 1, ret_dt=True)
    if f is not None and r.random() < 0.8:
        return f"lemma (forall ((u {f[1][0]})) (not (= ({f[0]} u) {value(v, f[2], k)})))"
    f2 = _func(v, r, 2, ret_dt=True)
    if f2 is not None and f2[1][0] == f2[1][1]:
        return (f"lemma (forall ((u {f2[1][0]}) (w {f2[1][0]})) "
                f"(not (= ({f2[0]} u w) {value(v, f2[2], k)})))")
    d = _rec_sort(v, r)
    return f"lemma (forall ((u {d})) (not (= u {value(v, d, k)})))"


def _wrong_sort(v: Vocab, r: random.Random) -> str:
    x = v.var(r)
    sx = v.sort_of(x) or "Nat"
    others = [s for s in v.dt_sorts() if s != sx] + ["Int", "Bool"]
    o = r.choice(others)
    f = _func(v, r)
    out = [f"lemma (= {x} {value(v, o, 1)})", f"lemma {x}", f"lemma {value(v, sx, 2)}",
           "lemma 42", "lemma (+ 1 true)", "generalize true", "generalize 7",
           f"lemma (forall ((u Int)) (= u {value(v, sx, 0)}))",
           f"lemma (forall ((u {o})) (= u {x}))", f"lemma (not {x})",
           f"lemma (and {x} true)", f"generalize (= {x} {x})",
           f"lemma (ite {x} true false)"]
    if f is not None:
        out += [f"lemma ({f[0]})", f"lemma ({f[0]} {' '.join([x] * (len(f[1]) + 2))})",
                f"lemma ({f[0]} {' '.join(['true'] * len(f[1]))})",
                f"lemma (= ({f[0]} {' '.join([x] * len(f[1]))}) true)"]
    bools = [n for n, s in v.vars if v.dt(s) is None]
    if bools:
        out.append(f"induct {r.choice(bools)}")
    return r.choice(out)


def _unknown_symbol(v: Vocab, r: random.Random) -> str:
    x = v.var(r)
    return r.choice([
        f"lemma (= (nosuch {x}) {x})", "induct nosuchvar", "cases zz9",
        "induct u9q", "lemma (forall ((u NoSuchSort)) true)", f"generalize (mystery {x})",
        f"lemma (= {x} undefined_constant)", "lemma (select a 0)", "lemma (str.len \"a\")",
        f"lemma (= {x} (Succ {x}))", "lemma (forall ((u (Array Int Int))) true)",
        "lemma (forall ((u (list Nat))) true)", f"lemma (is-Nope {x})",
        f"lemma ((_ to_fp 11 53) {x})", "lemma (lambda ((u Int)) u)",
    ])


def _huge(v: Vocab, r: random.Random) -> str:
    x = v.var(r)
    d = v.sort_of(x) or _rec_sort(v, r)
    kind = r.randrange(6)
    if kind == 0:  # wide: thousands of nodes
        return "lemma (and " + " ".join(["true"] * r.randint(201, 4000)) + ")"
    if kind == 1:  # a long constructor chain
        return f"lemma (= {x} {value(v, d, r.randint(201, 3000))})"
    if kind == 2:  # just over the node limit, well under the text limit
        n = r.randint(70, 90)
        return "lemma (and " + " ".join([f"(= {x} {x})"] * n) + ")"
    if kind == 3:  # a let bomb: small AST, exponentially large meaning
        f = _func(v, r, 2)
        name = f[0] if f else "plus"
        n = r.randint(10, 40)
        s = f"lemma (let ((a0 {x})) "
        for i in range(1, n):
            s += f"(let ((a{i} ({name} a{i - 1} a{i - 1}))) "
        return s + f"(= a{n - 1} a{n - 1})" + ")" * n
    if kind == 4:  # many variables in a small lemma
        n = r.randint(10, 60)
        ites = "".join(f"(ite (= {x} {x}) " for _ in range(n))
        return f"lemma (= {x} {ites}{x}{')' * n})"
    return "generalize (and " + " ".join(["true"] * r.randint(300, 3000)) + ")"


def _deep(v: Vocab, r: random.Random) -> str:
    n = r.choice([r.randint(150, 199), r.randint(200, 400), r.randint(1000, 10_000)])
    kind = r.randrange(4)
    if kind == 0:
        return "lemma " + "(not " * n + "true" + ")" * n
    if kind == 1:
        d = _rec_sort(v, r)
        return f"lemma (= {v.var(r)} {value(v, d, n)})"
    if kind == 2:
        return "lemma " + "(" * n + ")" * n
    return "lemma " + "(and true " * n + "true" + ")" * n


def _circular(v: Vocab, r: random.Random) -> str:
    g = v.goal
    out = [f"lemma {g}", f"lemma (and {g} {g})", f"lemma (=> true {g})",
           f"lemma (not (not {g}))", f"lemma (or {g} false)", f"generalize {v.body()}",
           f"lemma (or false {g})"]
    out += [f"lemma {h}" for h in v.hyps]
    return r.choice(out)


def _direct_spam(v: Vocab, r: random.Random) -> str:
    return r.choice(["direct", " direct ", "direct\n", "\tdirect", "DIRECT", "Direct",
                     "direct direct", "direct;", "direct (assert false)", "direct\x00",
                     "direct " * r.randint(2, 50), "directly", "direct\u200b"])


_HOMOGLYPHS = {"x": "\u0445", "a": "\u0430", "e": "\u0435", "o": "\u043e", "p": "\u0440",
               "c": "\u0441", "y": "\u0443", "s": "\u0455", "i": "\u0456"}
_INVISIBLE = ["\u200d", "\u200b", "\u200c", "\u2060", "\ufeff", "\u202e", "\u202d", "\u2066",
              "\x00", "\x7f", "\u0301", "\ud800", "\udfff", "\U000e0041"]
_SPACES = ["\u00a0", "\u2003", "\u3000", "\u2028", "\x0b", "\x1c"]


def _unicode(v: Vocab, r: random.Random) -> str:
    x = v.var(r)
    base = r.choice([f"induct {x}", f"cases {x}", f"lemma (= {x} {x})",
                     f"lemma (forall (({x} {v.sort_of(x) or 'Nat'})) (= {x} {x}))", "direct"])
    kind = r.randrange(5)
    if kind == 0:  # homoglyphs: Cyrillic letters that look like Latin ones
        return "".join(_HOMOGLYPHS.get(c, c) if r.random() < 0.7 else c for c in base)
    if kind == 1:  # invisible characters, RTL override, NUL, lone surrogates
        i = r.randint(0, len(base))
        return base[:i] + r.choice(_INVISIBLE) + base[i:]
    if kind == 2:  # fullwidth brackets
        return base.replace("(", "\uff08").replace(")", "\uff09")
    if kind == 3:  # exotic whitespace in place of spaces
        return base.replace(" ", r.choice(_SPACES))
    return f"lemma (= {x}{r.choice(_INVISIBLE)} {x})"


def _long(v: Vocab, r: random.Random) -> str:
    n = r.choice([2001, r.randint(2001, 20_000), 1_000_000])
    kind = r.randrange(4)
    if kind == 0:
        return " " * n + "direct"
    if kind == 1:
        return f"induct {v.var(r)}" + " " * n
    if kind == 2:
        return "lemma true" + " ; x" * (n // 4)
    return "lemma " + "x" * n


def _disguised(v: Vocab, r: random.Random) -> str:
    """Well-formed steps in odd clothing (they may be accepted, and then must be sound)."""
    x = v.var(r)
    s = v.sort_of(x) or "Nat"
    return r.choice([f"induct\u00a0{x}", f"  cases {x}  ", f"induct\t{x}", f"induct {x}\n",
                     f"lemma   (forall ((|u v| {s})) (= |u v| |u v|))", "lemma true",
                     f"lemma (forall ((u {s})) (= u u))", f"induct {x}", f"cases {x}",
                     f"lemma (forall ((u {s})) (=> false (= u u)))"])


# ---- attacks that exploit known bugs (see tests/test_adversarial.py, the xfail tests) ----


def _tokens_renamed(text: str, old: str, new: str) -> str:
    """``text`` with every symbol token ``old`` replaced by ``new`` (binders included)."""
    return "".join(new if t == old else t for t in re.split(r"(\s+|[()])", text))


def _goal_parts(v: Vocab):
    """(leading forall binders as (name, sort) pairs, body text) of the goal."""
    from ida_ns.logic.sexpr import Atom, SList, read_sexprs

    binders: list[tuple[str, str]] = []
    try:
        sx = read_sexprs(v.goal)[0]
    except Exception:
        return binders, v.goal
    while isinstance(sx, SList) and sx.head_symbol() == "forall" and len(sx) == 3:
        binders += [(str(b[0]), str(b[1])) for b in sx[1]
                    if isinstance(b, SList) and len(b) == 2 and isinstance(b[0], Atom)]
        sx = sx[2]
    return binders, str(sx)


def _name_alias(v: Vocab, r: random.Random) -> str:
    """``L = forall A B rest. (= A B) or Body[v:=A]`` with binder names A, B that z3 merges
    into one constant (a NUL byte truncates its symbol names; ``f`` and ``|f!sk|`` meet at the
    backend's ``!sk`` renaming).  L implies the goal; its merged form is trivially valid."""
    binders, body = _goal_parts(v)
    if not binders:
        return "lemma (forall ((|u\x00a| Nat) (|u\x00b| Nat)) (= |u\x00a| |u\x00b|))"
    name, sort = binders[0]
    used = set(re.split(r"[\s()]+", body))
    syms = [c for _, cs in v.datatypes for c, _ in cs] + [f[0] for f in v.funcs]
    free = [s for s in syms if s not in used]
    pairs = [("|u\x00a|", "|u\x00b|"), ("|\x00|", "|\x00\x00|")]
    pairs += [(s, f"|{s}!sk|") for s in free[:3]]
    a, b = r.choice(pairs)
    rest = " ".join(f"({n} {s})" for n, s in binders[1:])
    return (f"lemma (forall (({a} {sort}) ({b} {sort}) {rest}) "
            f"(or (= {a} {b}) {_tokens_renamed(body, name, a)}))")


def _crashers(v: Vocab, r: random.Random) -> str:
    """Lemmas the parser accepts but later code cannot handle: quoted binder names that are
    empty (the printer refuses ``||``) or hold lone surrogates (no UTF-8 encoding), and
    ``match`` on a Bool or Int scrutinee (the evaluator expects a datatype value)."""
    x = v.var(r)
    s = v.sort_of(x) or "Nat"
    q = r.choice(["||", "|\ud800|", "|u\udfff|", "|\udbff\udc00|"])
    return r.choice([f"lemma (forall (({q} {s})) (= {q} {q}))",
                     f"lemma (forall (({q} {s})) (= {q} {x}))",
                     "lemma (match true ((_ false)))", "lemma (match 3 ((_ true)))",
                     "lemma (forall ((b Bool)) (match b ((_ b))))",
                     "lemma (forall ((i Int)) (match i ((j (= j j)))))"])


def _many_vars(v: Vocab, r: random.Random) -> str:
    """A short lemma quantifying over many variables (the counterexample search's
    small-scope enumeration grows with their number)."""
    d = _rec_sort(v, r)
    n = r.randint(10, 150)
    binders = " ".join(f"(u{i} {d})" for i in range(n))
    return f"lemma (forall ({binders}) (= u0 u{n - 1}))"


def _shadow(v: Vocab, r: random.Random) -> str:
    """Goal-key collisions: a binder named like a nullary constructor ``c`` prints exactly like
    ``c``, so after ``induct x`` the base case of ``L = forall x c rest. (is-K x) or (= x c) or
    Body`` (false when the goal is) prints like the true ``T = forall c rest. (is-K c) or
    (= c c) or Body``; proving T first puts that text in the search's caches.  Proposes one of
    T, L, ``induct x``."""
    binders, body = _goal_parts(v)
    dts = [(n, cs) for n, cs in v.datatypes if any(not f for _, f in cs)
           and any(n in f for _, f in cs)]
    if not dts:
        return "induct x"
    d, cs = dts[0]
    c0 = next(c for c, f in cs if not f)
    k = next(c for c, f in cs if d in f)
    rest = " ".join(f"({n} {s})" for n, s in binders)
    t = f"lemma (forall (({c0} {d}) {rest}) (or (is-{k} {c0}) (= {c0} {c0}) {body}))"
    l_ = f"lemma (forall ((x {d}) ({c0} {d}) {rest}) (or (is-{k} x) (= x {c0}) {body}))"
    return r.choice([t, l_, "induct x"])


def _binder_clash(v: Vocab, r: random.Random) -> str:
    """The capturing-revert attack in text: lemmas that restate a hypothesis or the goal's
    body under a binder named like a fixed variable (so the name now means the binder), and
    ``induct``/``cases`` on fixed variables, which revert hypotheses under the conclusion's
    binders.  With a capturing revert, these steps proved ``∀ n y. n = Z ∨ y = Z``."""
    if not v.vars:
        return "induct x"
    name, sort = r.choice(v.vars)
    others = [n for n, _ in v.vars if n != name]
    k = r.random()
    if k < 0.4:
        return f"{r.choice(['induct', 'induct', 'cases'])} {r.choice(v.vars)[0]}"
    if k < 0.7 and v.hyps:
        h = r.choice(v.hyps)
        return f"lemma (forall (({name} {sort})) {h})"
    body = v.body()
    if others and r.random() < 0.5:
        o = r.choice(others)
        return f"lemma (forall (({name} {sort})) (or (= {name} {name}) {_tokens_renamed(body, o, name)}))"
    return f"lemma (forall (({name} {sort})) {body})"


def _mutual(v: Vocab, r: random.Random) -> str:
    """``induct x with C`` (simultaneous induction with companion properties) wrongly used:
    false companions (some false only on large values), a companion for the variable's own
    sort (circular), one mentioning a variable that is not fixed, duplicated sorts, non-
    datatype and malformed companions, injections after the companion."""
    x = v.var(r)
    sx = v.sort_of(x) or "Nat"
    d = _rec_sort(v, r)
    a, k = value(v, d, 0), r.randint(10, 14)
    false = [f"(forall ((u {d})) (= u {a}))", f"(forall ((u {d}) (w {d})) (= u w))",
             f"(forall ((u {d})) false)", f"(forall ((u {d})) (not (= u u)))",
             f"(forall ((u {d})) (not (= u {value(v, d, k)})))"]
    c = r.choice(false)
    return r.choice([
        f"induct {x} with {c}", f"induct {x} with (and {c} {r.choice(false)})",
        f"induct {x} with (forall ((u {sx})) {v.body()})",
        f"induct {x} with (forall ((u {sx})) (= u u))",
        f"induct {x} with (forall ((u {d})) (= {x} {x}))",
        f"induct {x} with (forall ((u Int)) (= u u))", f"induct {x} with {v.goal}",
        f"induct {x} with (", f"induct {x} with ()", f"induct {x} with (and)",
        f"induct {x} with (forall ((u {d})) true)) (assert false) (check-sat",
        f"induct {x} with (and " + f"(forall ((u {d})) (= u u)) " * 9 + ")",
        f"induct {x} with (forall ((u {d})) (= u u))",
    ])


FAMILIES: dict[str, Callable[[Vocab, random.Random], str]] = {
    "binder_clash": _binder_clash,
    "injection": _injection, "quoted": _quoted, "false_lemma": _false_lemma,
    "small_only": _small_only, "large_only": _large_only, "wrong_sort": _wrong_sort,
    "unknown_symbol": _unknown_symbol, "huge": _huge, "deep": _deep, "circular": _circular,
    "direct_spam": _direct_spam, "unicode": _unicode, "long": _long, "disguised": _disguised,
    "name_alias": _name_alias, "shadow": _shadow, "many_vars": _many_vars,
    "crashers": _crashers, "mutual": _mutual,
}
# Families that exploit bugs found by these tests and not fixed yet (each has a strict xfail
# regression test in tests/test_adversarial.py): many_vars stalls the gate far past its time
# budget.  The properties leave them out until the fixes land; then they join the default set.
# (name_alias and shadow once got false goals proved, crashers crashed the search: fixed.)
KNOWN_BUGS: tuple[str, ...] = ()  # attack families that still succeed (none open)
SOUND_FAMILIES = tuple(sorted(set(FAMILIES) - set(KNOWN_BUGS)))
# Families with no well-formed, applicable step among them: each text is rejected by the parser
# (or, for ``direct``, by the search, which tried Direct when the goal was created).
MUST_REJECT = ("unknown_symbol", "long", "direct_spam")
# Families of well-formed lemmas that are false: they may pass testing (large_only), but no
# proof may ever rest on them.
UNSOUND = ("false_lemma", "small_only", "large_only")


def hostile_text(v: Vocab, rng: random.Random, family: str | None = None) -> tuple[str, str]:
    """One (family, text) drawn with ``rng`` (any family when ``family`` is None)."""
    fam = family or rng.choice(sorted(FAMILIES))
    return fam, FAMILIES[fam](v, rng)


# ============================================================================================
# The hostile proxy


@dataclass
class HostileRecord:
    family: str
    text: str  # first 300 characters
    length: int


class HostileProxy:
    """A proxy that proposes only hostile step texts.

    ``theory``: when given, its datatypes and functions shape the attacks (else the usual
    Nat/list names).  ``families``: which families to draw from (default: all).  ``scores``:
    ``"confident"`` (log-probability near 0, so an escalating policy trusts it),
    ``"unsure"`` (low), or ``"wild"`` (NaN, infinities, positive values: a broken model).
    The default families are :data:`SOUND_FAMILIES` (all but the :data:`KNOWN_BUGS` exploits).
    ``flood``: return this many candidates whatever ``k`` asks for.  Every proposal is logged
    in :attr:`history` and counted in :attr:`tried` by family.
    """

    def __init__(self, theory=None, families: Sequence[str] | None = None, seed: int = 0,
                 scores: str = "confident", flood: int | None = None):
        unknown = set(families or ()) - set(FAMILIES)
        if unknown:
            raise ValueError(f"unknown hostile families {sorted(unknown)}; "
                             f"choose from {sorted(FAMILIES)}")
        if scores not in ("confident", "unsure", "wild"):
            raise ValueError(f"scores={scores!r} must be 'confident', 'unsure' or 'wild'")
        self.theory = theory
        self.families = tuple(families or SOUND_FAMILIES)
        self.seed = seed
        self.scores = scores
        self.flood = flood
        self.history: list[HostileRecord] = []
        self.tried: Counter = Counter()
        self.calls = 0

    def _score(self, r: random.Random) -> float:
        if self.scores == "confident":
            return -r.uniform(0.0, 0.05)
        if self.scores == "unsure":
            return -r.uniform(3.0, 20.0)
        return r.choice([math.nan, math.inf, -math.inf, 1e308, 5.0, -1e308, 0.0, -0.0])

    def propose(self, goal_text: str, context_text: str, k: int, seed: int = 0
                ) -> list[Candidate]:
        self.calls += 1
        v = vocab_from_text(goal_text, context_text, self.theory)
        rng = random.Random(zlib.crc32(f"{self.seed}/{seed}/{goal_text}/{context_text}"
                                       .encode("utf-8", "surrogatepass")))
        out = []
        for _ in range(self.flood if self.flood is not None else k):
            fam, text = hostile_text(v, rng, rng.choice(self.families))
            self.history.append(HostileRecord(fam, text[:300], len(text)))
            self.tried[fam] += 1
            out.append(Candidate(text, self._score(rng)))
        return out


class ScriptedProxy:
    """Proposes the same fixed texts for every goal (a hand-written attack, replayed)."""

    def __init__(self, texts: Sequence[str], logprob: float = -0.01):
        self.texts = list(texts)
        self.logprob = logprob

    def propose(self, goal_text: str, context_text: str, k: int, seed: int = 0
                ) -> list[Candidate]:
        return [Candidate(t, self.logprob) for t in self.texts]


# ============================================================================================
# Hypothesis strategies


def hostile_cases(goal, families: Iterable[str] | None = None):
    """Strategy of (family, hostile step text) for ``goal`` (a Goal, or its printed text)."""
    from hypothesis import strategies as st

    v = vocab_from_text(goal) if isinstance(goal, str) else vocab_from_goal(goal)
    fams = sorted(families or SOUND_FAMILIES)
    return st.tuples(st.sampled_from(fams), st.randoms(use_true_random=False)).map(
        lambda fr: hostile_text(v, fr[1], fr[0]))


def hostile_steps(goal, families: Iterable[str] | None = None):
    """Strategy of hostile step texts for ``goal`` (a Goal, or its printed text)."""
    return hostile_cases(goal, families).map(lambda c: c[1])


# ============================================================================================
# Mutators for fuzzing

_KEYWORDS = [b"_", b"@", b"!", b"-1", b"0", b"00", b"1.5", b"#x1", b":named", b"par", b"match",
             b"lambda", b"let", b"forall", b"exists", b"as", b"assert", b"prove", b"assert-not",
             b"check-sat", b"declare-datatype", b"declare-datatypes", b"declare-sort",
             b"declare-fun", b"declare-const", b"define-fun", b"define-fun-rec",
             b"define-funs-rec", b"define-sort", b"Int", b"Bool", b"true", b"false", b"ite",
             b"=>", b"=", b"distinct", b"|x y|", b"||"]
_TOKENS = [b"(", b")", b"((", b"))", b"|", b"\"", b";", b" ", b"\n", *_KEYWORDS, b"(_ x)",
           b"(par (a) ", b"(match x ((_ y)))", b"\xff", b"\xc3", b"\x00", "\u0445".encode(),
           b"(assert false)", b"(push 1)", b"(reset)"]


def mutate_bytes(rng: random.Random, data: bytes, other: bytes | None = None,
                 steps: int | None = None) -> tuple[bytes, list[str]]:
    """Damage ``data``: byte flips, deletions, insertions of parentheses, quotes and keywords,
    duplication, truncation, and splicing with ``other``.  Returns the result and the names of
    the mutations applied."""
    out = bytearray(data)
    names = []
    for _ in range(steps if steps is not None else rng.choice([1, 1, 1, 2, 3, 5])):
        op = rng.choice(["flip", "delete", "insert", "insert", "duplicate", "truncate",
                         "splice", "swap", "atom", "atom", "list", "list"])
        n = len(out)
        i = rng.randrange(n + 1) if n else 0
        if op in ("atom", "list"):  # keep the parentheses balanced: reach the elaborator
            done = (_replace_atom if op == "atom" else _move_list)(rng, out, other or data)
            if done is None:
                continue
            out = done
        elif op == "flip" and n:
            j = min(i, n - 1)
            out[j] ^= 1 << rng.randrange(8)
        elif op == "delete" and n:
            del out[i:i + rng.choice([1, 1, 2, 5, 20, 200])]
        elif op == "insert":
            out[i:i] = rng.choice(_TOKENS)
        elif op == "duplicate" and n:
            j = min(n, i + rng.choice([1, 10, 100, 1000]))
            out[i:i] = out[i:j]
        elif op == "truncate":
            del out[i:]
        elif op == "splice" and other:
            j = rng.randrange(len(other) + 1)
            out = out[:i] + bytearray(other[j:])
        elif op == "swap" and n > 2:
            a, b = sorted(rng.sample(range(n), 2))
            out[a], out[b] = out[b], out[a]
        else:
            continue
        names.append(op)
    return bytes(out), names


_ATOM = re.compile(rb"[^\s()]+")


def _balanced_spans(data: bytes) -> list[tuple[int, int]]:
    """Start and end (exclusive) of every parenthesised span, ignoring strings and quoted
    symbols (good enough for mutation)."""
    spans, stack = [], []
    for i, b in enumerate(data):
        if b == 40:
            stack.append(i)
        elif b == 41 and stack:
            spans.append((stack.pop(), i + 1))
    return spans


def _replace_atom(rng: random.Random, out: bytearray, donor: bytes) -> bytearray | None:
    """One symbol or literal replaced by one from ``donor`` (or a keyword)."""
    mine = list(_ATOM.finditer(out))
    theirs = [m.group() for m in _ATOM.finditer(donor)] or [b"x"]
    if not mine:
        return None
    m = rng.choice(mine)
    new = rng.choice(theirs) if rng.random() < 0.8 else rng.choice(_KEYWORDS)
    return out[:m.start()] + new + out[m.end():]


def _move_list(rng: random.Random, out: bytearray, donor: bytes) -> bytearray | None:
    """A parenthesised span deleted, duplicated, or replaced by one from ``donor``."""
    spans = _balanced_spans(bytes(out))
    if not spans:
        return None
    a, b = rng.choice(spans)
    kind = rng.randrange(3)
    if kind == 0:
        return out[:a] + out[b:]
    if kind == 1:
        return out[:b] + b" " + out[a:b] + out[b:]
    other = _balanced_spans(donor)
    if not other:
        return None
    c, d = rng.choice(other)
    return out[:a] + donor[c:d] + out[b:]


_JSON_JUNK = [None, 0, -1, 1e308, True, "", "direct", "induct x", "lemma false", [], {}, [[]],
              {"step": "direct"}, "L0", ["L0"], [["L0"]], [{}], "x" * 3000]


def mutate_json(rng: random.Random, obj, steps: int = 1):
    """A structurally mutated deep copy of a JSON value: a field deleted, replaced by junk of
    another type, a string edited (text mutation), a list element duplicated, removed or
    reordered, or two subtrees swapped.  Returns (new object, list of mutation names)."""
    obj = json.loads(json.dumps(obj))
    names = []
    for _ in range(steps):
        paths = list(_json_paths(obj))
        if not paths:
            break
        path = rng.choice(paths)
        parent, key = _json_at(obj, path[:-1]), path[-1]
        cur = parent[key]
        op = rng.choice(["delete", "junk", "edit", "edit", "dup", "reorder", "swap"])
        if op == "delete":
            del parent[key]
        elif op == "junk":
            parent[key] = json.loads(json.dumps(rng.choice(_JSON_JUNK)))
        elif op == "edit" and isinstance(cur, str):
            b, _ = mutate_bytes(rng, cur.encode(), steps=1)
            parent[key] = b.decode("utf-8", "replace")
        elif op == "dup" and isinstance(cur, list) and cur:
            cur.insert(rng.randrange(len(cur) + 1), json.loads(json.dumps(rng.choice(cur))))
        elif op == "reorder" and isinstance(cur, list) and len(cur) > 1:
            rng.shuffle(cur)
        elif op == "swap" and len(paths) > 1:
            other = rng.choice(paths)
            if other[:len(path)] == path or path[:len(other)] == other:
                continue
            op2 = _json_at(obj, other[:-1])
            parent[key], op2[other[-1]] = op2[other[-1]], parent[key]
        else:
            continue
        names.append(f"{op}:{'/'.join(map(str, path))}")
    return obj, names


def _json_paths(obj, prefix=()):
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield prefix + (k,)
            yield from _json_paths(v, prefix + (k,))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield prefix + (i,)
            yield from _json_paths(v, prefix + (i,))


def _json_at(obj, path):
    for k in path:
        obj = obj[k]
    return obj


# ============================================================================================
# Faults in real worker processes


class FaultAtQuery:
    """A ``prove_many(queries, timeout_s)`` over ``pool`` that replaces query number ``at``
    (counting from 0 over all calls) by a real worker misbehaving with ``action`` (see
    ``solvers.pool.DEBUG_ACTIONS``); the verdict the pool makes of the fault stands in for
    that query's and is kept in :attr:`fault`."""

    def __init__(self, pool, action: str, at: int = 0):
        self.pool, self.action, self.at = pool, action, at
        self.seen = 0
        self.fault = None

    def __call__(self, queries, timeout_s):
        queries = list(queries)
        i = self.at - self.seen
        self.seen += len(queries)
        if not 0 <= i < len(queries):
            return self.pool.prove_many(queries, timeout_s)
        rest = self.pool.prove_many(queries[:i] + queries[i + 1:], timeout_s)
        self.fault = self.pool._debug_action(self.action, timeout_s)
        return rest[:i] + [self.fault] + rest[i:]


def _our_child(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            stat = f.read()
        return int(stat.rsplit(")", 1)[1].split()[1]) == os.getpid()
    except (OSError, ValueError, IndexError):
        return False


@dataclass
class Saboteur:
    """A background thread that signals live, started workers of a ``SolverPool`` at random
    moments: SIGKILL (crash) or SIGSTOP (hang; the pool's wall limit must kill it).

    Only workers that finished starting are hit (one stopped while starting would block its
    first call for the pool's whole startup timeout), and only processes whose parent is this
    process.  Use as a context manager; :attr:`injected` counts signals by name."""

    pool: object
    signals: tuple = (signal.SIGKILL, signal.SIGSTOP)
    interval_s: tuple[float, float] = (0.05, 0.4)
    seed: int = 0
    max_faults: int | None = None
    injected: Counter = field(default_factory=Counter)

    def __post_init__(self):
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="saboteur", daemon=True)
        self._rng = random.Random(self.seed)
        self.victims: list[int] = []

    def __enter__(self) -> "Saboteur":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    @property
    def total(self) -> int:
        return sum(self.injected.values())

    def strike(self) -> bool:
        """Signal one live worker now; False when none was eligible."""
        pool = self.pool
        with pool._lock:  # the pool's own lock: no worker is reaped while we pick one
            live = [w for w in pool._all if w.ready and w.proc.poll() is None
                    and _our_child(w.proc.pid)]
            if not live:
                return False
            w = self._rng.choice(live)
            sig = self._rng.choice(self.signals)
            w.proc.send_signal(sig)
        self.injected[signal.Signals(sig).name] += 1
        self.victims.append(w.proc.pid)
        return True

    def _run(self) -> None:
        while not self._stop.wait(self._rng.uniform(*self.interval_s)):
            if self.max_faults is not None and self.total >= self.max_faults:
                return
            self.strike()


__all__ = ["FAMILIES", "KNOWN_BUGS", "MUST_REJECT", "SOUND_FAMILIES", "UNSOUND", "FaultAtQuery",
           "HostileProxy", "HostileRecord", "Saboteur", "ScriptedProxy", "Vocab", "hostile_cases",
           "hostile_steps", "hostile_text", "mutate_bytes", "mutate_json", "value",
           "vocab_from_goal", "vocab_from_text"]
