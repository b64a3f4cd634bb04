"""Integer facts to z3, for the termination analysis's decrease tests.

Only ``Int``/``Bool`` builtins are translated (n-ary ``+``/``*``/``-``, chained comparisons,
``distinct``, ``div``/``mod``/``abs``, ``ite``, connectives); every other subterm (a call, a
selector, a datatype equation, a quantifier) becomes a fresh constant, the same constant for the
same term.  That is a sound weakening: the facts still hold of the real values, so whatever is
valid after abstraction is valid before.  Terms are over unique names
(:mod:`ida_ns.gate_calls`), so equal terms denote equal values.
"""

from __future__ import annotations

import time

from .logic.ast import BOOL, INT, App, BoolLit, IntLit, Term, Var

DEFAULT_QUERY_S = 0.1


class Z3Facts:
    def __init__(self):
        import z3

        self.z3 = z3
        self.atoms: dict[Term, object] = {}

    def atom(self, t: Term, sort):
        z3 = self.z3
        a = self.atoms.get(t)
        if a is None:
            name = f"a{len(self.atoms)}"
            a = z3.Int(name) if sort == INT else z3.Bool(name)
            self.atoms[t] = a
        return a

    def tr(self, t: Term):
        """z3 expression for an Int or Bool term (opaque parts abstracted), else None."""
        z3 = self.z3
        sort = t.sort
        if sort not in (INT, BOOL):
            return None
        if isinstance(t, IntLit):
            return z3.IntVal(t.value)
        if isinstance(t, BoolLit):
            return z3.BoolVal(t.value)
        if isinstance(t, Var):
            return self.atom(t, sort)
        if isinstance(t, App):
            r = self._app(t)
            if r is not None:
                return r
        return self.atom(t, sort)

    def _app(self, t: App):
        z3 = self.z3
        fn, n = t.fn, len(t.args)
        if fn == "=" and n >= 2 and t.args[0].sort not in (INT, BOOL):
            return None
        if fn == "distinct" and n >= 2 and t.args[0].sort not in (INT, BOOL):
            return None
        if fn == "ite" and n == 3 and t.args[1].sort not in (INT, BOOL):
            return None
        args = [self.tr(a) for a in t.args]
        if any(a is None for a in args):
            return None
        if fn == "+" and n >= 1:
            return z3.Sum(*args) if n > 1 else args[0]
        if fn == "*" and n >= 1:
            return z3.Product(*args) if n > 1 else args[0]
        if fn == "-" and n >= 1:
            return -args[0] if n == 1 else args[0] - z3.Sum(*args[1:])
        if fn in ("<", "<=", ">", ">=") and n >= 2:
            op = {"<": lambda a, b: a < b, "<=": lambda a, b: a <= b,
                  ">": lambda a, b: a > b, ">=": lambda a, b: a >= b}[fn]
            return z3.And(*[op(a, b) for a, b in zip(args, args[1:])])
        if fn == "=" and n >= 2:
            return z3.And(*[a == b for a, b in zip(args, args[1:])])
        if fn == "distinct" and n >= 2:
            return z3.Distinct(*args)
        if fn == "div" and n >= 2:
            r = args[0]
            for b in args[1:]:
                r = r / b
            return r
        if fn == "mod" and n == 2:
            return args[0] % args[1]
        if fn == "abs" and n == 1:
            return z3.If(args[0] >= 0, args[0], -args[0])
        if fn == "ite" and n == 3:
            return z3.If(*args)
        if fn == "not" and n == 1:
            return z3.Not(args[0])
        if fn == "and":
            return z3.And(*args) if args else z3.BoolVal(True)
        if fn == "or":
            return z3.Or(*args) if args else z3.BoolVal(False)
        if fn == "=>" and n >= 2:
            r = args[-1]
            for a in reversed(args[:-1]):
                r = z3.Implies(a, r)
            return r
        if fn == "xor" and n >= 2:
            r = args[0]
            for b in args[1:]:
                r = z3.Xor(r, b)
            return r
        return None


class DecreaseProver:
    """Valid-under-facts checks with a per-query timeout and an absolute deadline."""

    def __init__(self, facts: tuple[Term, ...], deadline: float, query_s: float = DEFAULT_QUERY_S):
        self.f = Z3Facts()
        z3 = self.f.z3
        self.solver = z3.Solver()
        self.deadline = deadline
        self.query_s = query_s
        self.timeouts = 0
        for c in facts:
            e = self.f.tr(c)
            if e is not None:
                self.solver.add(e)

    def valid(self, claim) -> bool | None:
        """True if ``claim`` follows from the facts; False if not shown; None on budget."""
        z3 = self.f.z3
        left = self.deadline - time.perf_counter()
        if left <= 0.005:
            return None
        ms = max(1, int(1000 * min(self.query_s, left)))
        self.solver.push()
        try:
            self.solver.set("timeout", ms)
            self.solver.add(z3.Not(claim))
            r = self.solver.check()
        except z3.Z3Exception:
            return False
        finally:
            self.solver.pop()
        if r == z3.unknown:
            self.timeouts += 1
        return r == z3.unsat
