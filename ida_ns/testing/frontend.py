"""Random SMT-LIB/TIP programs for the front end: grammar-shaped, mostly nonsense.

:func:`random_program` writes a file's text from a small grammar of the dialect ida-ns reads
(datatypes with and without ``par``, declared and defined functions, ``define-funs-rec``,
``match`` with constructor, variable and ``_`` patterns, ``let``, quantifiers, ``lambda``/``@``,
``ite``, ``as``, ``_``, ``!``, chained comparisons, n-ary arithmetic, goals and assertions),
filling every hole from a pool that mixes names the program really declares with wrong sorts,
wrong arities, keywords, numerals, quoted symbols and junk.  Unlike byte-level mutation of
real files (``tests/test_fuzz.py``), most of what it writes gets past the reader, so the
elaborator, the monomorphiser and the sort checker see the damage.

The contract tests pair it with: ``parse_text`` returns a problem or raises an
:class:`ida_ns.errors.IdaNsError`; a returned problem sort-checks or raises one; nothing else.
"""

from __future__ import annotations

import random

_SORT_NAMES = ("Int", "Bool", "Nat", "list", "T", "a", "Seq", "Array", "=>", "Nat2", "")
_OPS = ("+", "-", "*", "div", "mod", "abs", "<", "<=", ">", ">=", "=", "distinct", "and", "or",
        "not", "=>", "xor", "ite", "is-S", "is-nil", "p", "head", "tail", "S", "Z", "cons",
        "nil", "plus", "len", "f", "g", "@", "_", "as", "!", "match", "let", "forall",
        "exists", "lambda", "par", "assert", "prove")
_JUNK = ("|x y|", "||", "|;|", ":named", ":pattern", "#x1F", "#b101", "1.5", "\"str\"", "-0",
         "00", "-1", "(", ")", "_", "@", "!", "|Z|", "Z!sk", "|\u00e9|", "x\u200b")


class _Prog:
    def __init__(self, r: random.Random):
        self.r = r
        self.names = ["Nat", "list", "Z", "S", "p", "nil", "cons", "head", "tail", "plus",
                      "len", "x", "y", "xs", "n"]

    def name(self) -> str:
        r = self.r
        k = r.random()
        if k < 0.75:
            return r.choice(self.names)
        if k < 0.9:
            return r.choice(_OPS)
        return r.choice(_JUNK)

    def sort(self, depth: int = 2) -> str:
        r = self.r
        if depth <= 0 or r.random() < 0.6:
            return r.choice(_SORT_NAMES + tuple(self.names[:2]))
        k = r.random()
        if k < 0.4:
            return f"(=> {self.sort(depth - 1)} {self.sort(depth - 1)})"
        if k < 0.7:
            return f"({r.choice(['list', 'Array', 'T', 'Nat'])} {self.sort(depth - 1)})"
        return "(" + " ".join(self.sort(depth - 1) for _ in range(r.randint(0, 3))) + ")"

    def binders(self, depth: int) -> str:
        r = self.r
        return "(" + " ".join(f"({self.name()} {self.sort(1)})"
                              if r.random() < 0.9 else self.term(depth)
                              for _ in range(r.randint(0, 3))) + ")"

    def pattern(self) -> str:
        r = self.r
        k = r.random()
        if k < 0.3:
            return r.choice(["_", "Z", "nil", self.name()])
        return "(" + " ".join([r.choice(["S", "cons", "Z", self.name()])]
                              + [r.choice(["_", "x", "xs", "n", self.name()])
                                 for _ in range(r.randint(0, 3))]) + ")"

    def term(self, depth: int = 3) -> str:
        r = self.r
        if depth <= 0 or r.random() < 0.3:
            k = r.random()
            if k < 0.6:
                return self.name()
            if k < 0.8:
                return str(r.choice([0, 1, 2, -1, 10**30]))
            return r.choice(["true", "false"] + list(_JUNK))
        d = depth - 1
        k = r.random()
        if k < 0.35:
            return "(" + " ".join([self.name()] + [self.term(d)
                                                   for _ in range(r.randint(0, 4))]) + ")"
        if k < 0.45:
            q = r.choice(["forall", "exists", "lambda"])
            return f"({q} {self.binders(d)} {self.term(d)})"
        if k < 0.55:
            binds = " ".join(f"({self.name()} {self.term(d)})" for _ in range(r.randint(0, 3)))
            return f"(let ({binds}) {self.term(d)})"
        if k < 0.67:
            cases = " ".join(f"({self.pattern()} {self.term(d)})"
                             for _ in range(r.randint(0, 3)))
            return f"(match {self.term(d)} ({cases}))"
        if k < 0.77:
            op = r.choice(["<", "<=", ">", ">=", "+", "*", "-", "=", "distinct"])
            return "(" + " ".join([op] + [self.term(d) for _ in range(r.randint(0, 4))]) + ")"
        if k < 0.85:
            return f"(ite {self.term(d)} {self.term(d)} {self.term(d)})"
        if k < 0.9:
            return f"(@ {self.term(d)} {self.term(d)})"
        if k < 0.95:
            return f"(as {self.name()} {self.sort(1)})"
        return f"(! {self.term(d)} :named {self.name()})"

    def ctor(self) -> str:
        r = self.r
        name = r.choice(["Z", "S", "nil", "cons", "Leaf", "Node", self.name()])
        fields = " ".join(f"({r.choice(['p', 'head', 'tail', 'l', 'r', self.name()])} "
                          f"{self.sort(1)})" for _ in range(r.randint(0, 2)))
        return f"({name} {fields})" if fields or r.random() < 0.7 else name

    def command(self) -> str:
        r = self.r
        k = r.random()
        nm = r.choice(["Nat", "list", "Tree", "plus", "len", "f", "g", self.name()])
        if k < 0.15:
            arity = r.choice(["0", "1", "2", "-1", "x"])
            par = r.random() < 0.3
            body = "(" + " ".join(self.ctor() for _ in range(r.randint(0, 3))) + ")"
            if par:
                body = f"(par ({r.choice(['a', 'T', 'Nat'])}) {body})"
            return f"(declare-datatypes (({nm} {arity})) ({body}))"
        if k < 0.2:
            return f"(declare-datatype {nm} ({' '.join(self.ctor() for _ in range(2))}))"
        if k < 0.3:
            args = " ".join(self.sort(1) for _ in range(r.randint(0, 2)))
            return r.choice([f"(declare-fun {nm} ({args}) {self.sort(1)})",
                             f"(declare-const {nm} {self.sort(1)})",
                             f"(declare-sort {nm} {r.choice(['0', '1', 'x'])})"])
        if k < 0.55:
            cmd = r.choice(["define-fun", "define-fun-rec", "define-fun-rec"])
            sig = f"{self.binders(2)} {self.sort(1)} {self.term(3)}"
            if r.random() < 0.25:
                return f"({cmd} {nm} (par ({r.choice(['a', 'T'])}) ({sig})))"
            return f"({cmd} {nm} {sig})"
        if k < 0.62:
            sigs = " ".join(f"({r.choice(['f', 'g', nm])} {self.binders(1)} {self.sort(1)})"
                            for _ in range(r.randint(1, 2)))
            bodies = " ".join(self.term(3) for _ in range(r.randint(1, 2)))
            return f"(define-funs-rec ({sigs}) ({bodies}))"
        if k < 0.9:
            cmd = r.choice(["assert", "prove", "prove", "assert-not"])
            if r.random() < 0.15:
                return f"({cmd} (par ({r.choice(['a', 'T'])}) {self.term(3)}))"
            return f"({cmd} {self.term(4)})"
        return r.choice(["(check-sat)", "(set-logic ALL)", "(set-info :status unsat)",
                         "(exit)", "(push 1)", "(get-model)", "(check-sat 1)", self.term(2),
                         "(define-sort S () Int)", "()", "(set-option :x 1)"])

    def program(self) -> str:
        r = self.r
        base = [
            "(declare-datatypes ((Nat 0)) (((Z) (S (p Nat)))))",
            "(declare-datatypes ((list 0)) (((nil) (cons (head Nat) (tail list)))))",
            "(define-fun-rec plus ((x Nat) (y Nat)) Nat (match x ((Z y) ((S n) (S (plus n y))))))",
        ]
        cmds = [c for c in base if r.random() < 0.7]
        cmds += [self.command() for _ in range(r.randint(0, 6))]
        if r.random() < 0.3:
            r.shuffle(cmds)
        return "\n".join(cmds)


def random_program(rng: random.Random) -> str:
    """One random program's text (see the module docstring)."""
    return _Prog(rng).program()
