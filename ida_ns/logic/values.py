"""Runtime values of the ground evaluator, their printing, random generation and enumeration.

Values (``Value``):

- ``bool`` for ``Bool`` and Python ``int`` for ``Int`` (unbounded, like SMT-LIB's integers);
- :class:`CtorVal` for datatype values: a constructor name and its argument values;
- :class:`OpaqueVal` for elements of uninterpreted sorts: element ``index`` of a finite domain
  ``{sort!val!0, ..., sort!val!(k-1)}`` chosen by an :class:`Interpretation`;
- :class:`FunVal` for ``(=> A B)`` values: a :class:`TableFun` (finite table plus a default,
  what random generation produces) or a :class:`Closure` (a ``lambda`` evaluated in an
  environment).

Equality.  Python ``==`` on values is structural for constructors, integers, booleans, opaque
elements and tables, and *identity* for closures; it never raises, so values are usable as
dictionary keys.  SMT-LIB ``=`` is :func:`smt_equal`: extensional equality of functions is
undecidable, so where two function values can neither be shown equal (same object, or two
tables with the same entries and default) nor unequal (they differ at a tabulated point),
:func:`smt_equal` raises :class:`FunctionEquality` and the caller discards the instance.

Deep values (a list of 100,000 elements) are safe everywhere here: hashing, equality,
printing, conversion to terms and generation are iterative.

>>> two = CtorVal("S", (CtorVal("S", (CtorVal("Z"),)),))
>>> show_value(two)
'(S (S Z))'
>>> two == CtorVal("S", (CtorVal("S", (CtorVal("Z"),)),)) and hash(two) == hash(two)
True
>>> show_value(CtorVal("cons", (-3, CtorVal("nil"))))
'(cons (- 3) nil)'
"""

from __future__ import annotations

from .bignum import int_to_decimal

import itertools
import random
import weakref
from dataclasses import dataclass, field
from collections.abc import Mapping
from typing import Any, Callable, Iterator, Union

from ..errors import IdaNsError
from .ast import (BOOL, INT, App, BoolLit, Datatype, IntLit, Lambda, Sort, Term, Theory, Var,
                  substitute)

# --------------------------------------------------------------------------------------------
# Why an evaluation gave no value


class EvalAbort(IdaNsError):
    """Evaluation produced no value; an instance that raised this must be discarded."""


class Undetermined(EvalAbort):
    """SMT-LIB leaves the value unspecified here (division by zero, a selector applied to the
    wrong constructor, a match with no matching case), or it could not be decided."""


class NotGround(Undetermined):
    """A quantifier over an infinite domain was not decided by bounded search, or a free
    variable has no value."""


class FunctionEquality(Undetermined):
    """``=`` on two function values that are neither provably equal nor provably different."""


class OutOfFuel(EvalAbort):
    """The evaluation ran out of fuel (function calls) or of call depth."""


class ValueTooLarge(OutOfFuel):
    """A value would exceed the evaluator's size bound (e.g. an integer product of more than
    ``MAX_INT_BITS`` bits): like running out of fuel, the instance gives no information."""


# --------------------------------------------------------------------------------------------
# Value types


@dataclass(frozen=True, eq=False, slots=True)
class CtorVal:
    """A datatype value ``(ctor args...)``.  Hash is cached; ``==``, ``hash`` and ``repr`` are
    iterative, so arbitrarily deep values are safe."""

    ctor: str
    args: tuple = ()
    _hash: Union[int, None] = field(default=None, init=False, repr=False, compare=False)

    def __hash__(self) -> int:
        h = self._hash
        if h is None:
            h = _ctor_hash(self)
        return h

    def __eq__(self, other: object) -> bool:
        if self is other:
            return True
        if type(other) is not CtorVal:
            return NotImplemented
        stack = [(self, other)]
        while stack:
            a, b = stack.pop()
            if a is b:
                continue
            if a.ctor != b.ctor:
                return False
            ha, hb = a._hash, b._hash
            if ha is not None and hb is not None and ha != hb:
                return False
            xs, ys = a.args, b.args
            if len(xs) != len(ys):
                return False
            for x, y in zip(xs, ys):
                if type(x) is CtorVal and type(y) is CtorVal:
                    stack.append((x, y))
                elif x != y or type(x) is not type(y):
                    return False
        return True

    def __repr__(self) -> str:
        return f"CtorVal<{show_value(self)}>"


_new = object.__new__
_set_ctor = CtorVal.__dict__["ctor"].__set__
_set_args = CtorVal.__dict__["args"].__set__
_set_hash = CtorVal.__dict__["_hash"].__set__


def make_ctor(ctor: str, args: tuple = ()) -> CtorVal:
    """Fast path for ``CtorVal(ctor, args)`` (the evaluator's inner loop)."""
    v = _new(CtorVal)
    _set_ctor(v, ctor)
    _set_args(v, args)
    _set_hash(v, None)
    return v


def _ctor_hash(root: CtorVal) -> int:
    stack = [root]
    while stack:
        node = stack[-1]
        pending = [a for a in node.args if type(a) is CtorVal and a._hash is None]
        if pending:
            stack.extend(pending)
            continue
        stack.pop()
        if node._hash is None:
            _set_hash(node, hash((node.ctor, tuple(
                a._hash if type(a) is CtorVal else hash(a) for a in node.args))))
    return root._hash  # type: ignore[return-value]


@dataclass(frozen=True, slots=True)
class OpaqueVal:
    """Element ``index`` of the finite domain an interpretation gives uninterpreted ``sort``."""

    sort: str
    index: int

    def __repr__(self) -> str:
        return f"OpaqueVal<{show_value(self)}>"


class FunVal:
    """A value of a function sort ``(=> A1 ... An B)``."""

    __slots__ = ()
    sort: Sort

    def apply(self, args: tuple) -> Any:
        raise NotImplementedError


@dataclass(frozen=True, eq=False)
class TableFun(FunVal):
    """A function given by a finite table and a default for every other argument tuple.

    ``==``/``hash`` compare the tables (order-insensitive) and the defaults."""

    sort: Sort
    entries: tuple[tuple[tuple, Any], ...]
    default: Any
    _lookup: dict = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        lookup = {}
        for k, v in self.entries:
            lookup.setdefault(tuple(k), v)  # the first entry for a key wins
        object.__setattr__(self, "_lookup", lookup)

    def apply(self, args: tuple) -> Any:
        return self._lookup.get(args, self.default)

    def __eq__(self, other: object) -> bool:
        if self is other:
            return True
        if type(other) is not TableFun:
            return NotImplemented
        return (self.sort == other.sort and self.default == other.default
                and self._lookup == other._lookup)

    def __hash__(self) -> int:
        return hash((self.sort, frozenset(self._lookup.items()), self.default))


class Closure(FunVal):
    """A ``lambda`` term evaluated in an environment: ``captured`` are its free variables'
    values; ``call`` runs the compiled body (the evaluator supplies it, fuel included).
    Python ``==`` is identity."""

    __slots__ = ("lam", "captured", "call")

    def __init__(self, lam: Lambda, captured: tuple[tuple[Var, Any], ...],
                 call: Callable[[tuple], Any]):
        self.lam = lam
        self.captured = captured
        self.call = call

    @property
    def sort(self) -> Sort:  # type: ignore[override]
        return self.lam.sort

    def apply(self, args: tuple) -> Any:
        return self.call(args)

    def __repr__(self) -> str:
        return f"Closure<{show_value(self)}>"


Value = Union[bool, int, CtorVal, OpaqueVal, FunVal]


# --------------------------------------------------------------------------------------------
# SMT-LIB equality


def smt_equal(a: Value, b: Value) -> bool:
    """SMT-LIB ``=`` on two values of the same sort; raises :class:`FunctionEquality` when it
    meets function values it cannot compare and no other difference decides the answer."""
    undecided = False
    stack = [(a, b)]
    while stack:
        x, y = stack.pop()
        if x is y:
            continue
        if type(x) is CtorVal:
            if x.ctor != y.ctor:
                return False
            stack.extend(zip(x.args, y.args))
        elif isinstance(x, FunVal):
            r = _fun_equal(x, y)
            if r is False:
                return False
            if r is None:
                undecided = True
        elif x != y:
            return False
    if undecided:
        raise FunctionEquality("cannot decide = on function values "
                               f"{show_value(a)} and {show_value(b)}")
    return True


def _fun_equal(f: FunVal, g: FunVal) -> bool | None:
    """True/False when decided, None when not."""
    probes = []
    for h in (f, g):
        if isinstance(h, TableFun):
            probes.extend(h._lookup)
    undecided = False
    for key in probes:
        try:
            if not smt_equal(f.apply(key), g.apply(key)):
                return False
        except EvalAbort:
            undecided = True
    if undecided:
        return None
    if isinstance(f, TableFun) and isinstance(g, TableFun):
        try:
            if smt_equal(f.default, g.default):
                return True  # equal on every tabulated point and everywhere else
        except FunctionEquality:
            return None
    return None


# --------------------------------------------------------------------------------------------
# Printing and conversion to terms


def smt_symbol(name: str) -> str:
    """A symbol in SMT-LIB syntax, ``|quoted|`` when it is not a simple symbol."""
    if name and not name[0].isdigit() and name.isascii() \
            and all(c.isalnum() or c in _SIMPLE for c in name) \
            and not (name[0] in "-." and name[1:2].isdigit()):  # z3/cvc5 lex -2 as a number
        return name
    return "|" + name + "|"


_SIMPLE = frozenset("~!@$%^&*_-+=<>.?/")


def show_value(v: Value) -> str:
    """SMT-LIB text of a value (iterative; constructors are written without ``as``)."""
    out: list[str] = []
    stack: list = [v]
    while stack:
        x = stack.pop()
        if type(x) is str:
            out.append(x)
        elif type(x) is CtorVal:
            if not x.args:
                out.append(smt_symbol(x.ctor))
            else:
                out.append("(" + smt_symbol(x.ctor))
                stack.append(")")
                for a in reversed(x.args):
                    stack.append(a)
                    stack.append(" ")
        elif type(x) is bool:
            out.append("true" if x else "false")
        elif type(x) is int:
            out.append(int_to_decimal(x) if x >= 0 else f"(- {int_to_decimal(-x)})")
        elif type(x) is OpaqueVal:
            out.append(smt_symbol(f"{x.sort}!val!{x.index}"))
        elif type(x) is TableFun:
            out.append(_show_table(x))
        elif type(x) is Closure:
            out.append(_show_closure(x))
        else:
            raise TypeError(f"not a value: {x!r}")
    return "".join(out)


def _param_names(n: int) -> list[str]:
    return [f"x{i}" for i in range(n)]


def _show_table(f: TableFun) -> str:
    names = _param_names(len(f.sort.domain))
    params = " ".join(f"({n} {s})" for n, s in zip(names, f.sort.domain))
    body = show_value(f.default)
    for key, val in reversed(list(f._lookup.items())):
        conds = [f"(= {n} {show_value(k)})" for n, k in zip(names, key)]
        cond = conds[0] if len(conds) == 1 else "(and " + " ".join(conds) + ")"
        body = f"(ite {cond} {show_value(val)} {body})"
    return f"(lambda ({params}) {body})"


def _show_closure(c: Closure) -> str:
    try:
        from .printer import print_term  # written by the printer module's owner
        text = print_term(c.lam)
    except Exception:  # noqa: BLE001 - display only
        text = "(lambda ...)"
    if c.captured:
        env = " ".join(f"({v.name} {show_value(x)})" for v, x in c.captured)
        return f"(let ({env}) {text})"
    return text


def value_to_term(v: Value, sort: Sort, theory: Theory) -> Term:
    """A closed term denoting ``v``.  Opaque elements become constants
    ``App("<sort>!val!<i>", ())`` that the theory does not declare (the evaluator reads them
    back; declare them, pairwise distinct, to hand the term to a solver); tables become
    ``lambda`` terms with nested ``ite``; closures their ``lambda`` with the captured values
    substituted."""
    space = value_space(theory)
    results: list[Term] = []
    stack: list = [("val", v, sort)]
    while stack:
        item = stack.pop()
        if item[0] == "build":
            _, ctor, n, s = item
            args = tuple(results[len(results) - n:]) if n else ()
            if n:
                del results[len(results) - n:]
            results.append(App(ctor, args, s))
            continue
        _, x, s = item
        if type(x) is bool:
            results.append(BoolLit(x))
        elif type(x) is int:
            results.append(IntLit(x))
        elif type(x) is OpaqueVal:
            results.append(App(f"{x.sort}!val!{x.index}", (), s))
        elif type(x) is CtorVal:
            fields = space.ctor_fields(s, x.ctor)
            stack.append(("build", x.ctor, len(x.args), s))
            for a, fs in reversed(list(zip(x.args, fields))):
                stack.append(("val", a, fs))
        elif type(x) is TableFun:
            results.append(_table_term(x, theory))
        elif type(x) is Closure:
            sub = {var: value_to_term(val, var.sort, theory) for var, val in x.captured}
            results.append(substitute(x.lam, sub))
        else:
            raise TypeError(f"not a value: {x!r}")
    return results[0]


def _table_term(f: TableFun, theory: Theory) -> Term:
    params = tuple(Var(n, s) for n, s in zip(_param_names(len(f.sort.domain)), f.sort.domain))
    cod = f.sort.codomain
    body = value_to_term(f.default, cod, theory)
    for key, val in reversed(list(f._lookup.items())):
        conds = [App("=", (p, value_to_term(k, p.sort, theory)), BOOL)
                 for p, k in zip(params, key)]
        cond = conds[0] if len(conds) == 1 else App("and", tuple(conds), BOOL)
        body = App("ite", (cond, value_to_term(val, cod, theory), body), cod)
    return Lambda(params, body)


# --------------------------------------------------------------------------------------------
# Per-theory sort information: datatypes, recursion, minimal heights, finite domains

DEFAULT_DOMAIN_SIZE = 3  # elements of an uninterpreted sort when nobody says otherwise
ENUM_LIMIT = 64  # most values enumerate_values returns for one (sort, depth)
FINITE_LIMIT = 256  # larger finite domains count as infinite for quantifier evaluation


def is_uninterpreted(sort: Sort, theory: Theory) -> bool:
    return value_space(theory).is_uninterpreted(sort)


class ValueSpace:
    """Facts about a theory's sorts that value generation needs, computed once per theory
    (get it with :func:`value_space`)."""

    def __init__(self, theory: Theory):
        self.theory = theory
        self.datatypes: dict[str, Datatype] = {dt.name: dt for dt in theory.all_datatypes()}
        self.group: dict[str, frozenset[str]] = {}
        for grp in theory.datatypes:
            names = frozenset(dt.name for dt in grp)
            for dt in grp:
                self.group[dt.name] = names
        self.height = self._heights()
        self._finite: dict[tuple, list | None] = {}
        self._enum: dict[tuple, list] = {}
        self._has_fun: dict[Sort, bool] = {}
        self._tiers: dict[tuple, list | None] = {}
        self._gen: dict[str, tuple] = {}

    # -- sorts -------------------------------------------------------------------------------
    def datatype(self, sort: Sort) -> Datatype | None:
        return self.datatypes.get(sort.name) if not sort.args else None

    def is_uninterpreted(self, sort: Sort) -> bool:
        return sort not in (BOOL, INT) and not sort.is_function and self.datatype(sort) is None

    def ctor_fields(self, sort: Sort, ctor: str) -> tuple[Sort, ...]:
        dt = self.datatype(sort)
        if dt is not None:
            for c in dt.ctors:
                if c.name == ctor:
                    return tuple(s for _, s in c.fields)
        raise ValueError(f"{ctor!r} is not a constructor of sort {sort}")

    def is_recursive(self, dt: Datatype, c) -> bool:
        grp = self.group[dt.name]
        return any(not s.args and s.name in grp for _, s in c.fields)

    def has_functions(self, sort: Sort) -> bool:
        """Whether values of ``sort`` can contain function values (``=`` may be undecided)."""
        r = self._has_fun.get(sort)
        if r is None:
            seen, todo, r = set(), [sort], False
            while todo:
                s = todo.pop()
                if s in seen:
                    continue
                seen.add(s)
                if s.is_function:
                    r = True
                    break
                dt = self.datatype(s)
                if dt is not None:
                    todo.extend(fs for c in dt.ctors for _, fs in c.fields)
            self._has_fun[sort] = r
        return r

    def _heights(self) -> dict[str, float]:
        """Least height of a finite value of each datatype (inf for empty datatypes)."""
        inf = float("inf")
        h = {name: inf for name in self.datatypes}
        changed = True
        while changed:
            changed = False
            for name, dt in self.datatypes.items():
                best = min((self._ctor_height(c, h) for c in dt.ctors), default=inf)
                if best < h[name]:
                    h[name] = best
                    changed = True
        return h

    def _ctor_height(self, c, h) -> float:
        return 1 + max((h.get(s.name, 0) if not s.args else 0 for _, s in c.fields), default=0)

    def min_ctors(self, dt: Datatype) -> list:
        hd = self.height[dt.name]
        if hd == float("inf"):
            raise ValueError(f"datatype {dt.name} has no finite values")
        return [c for c in dt.ctors if self._ctor_height(c, self.height) == hd]

    # -- finite domains ----------------------------------------------------------------------
    def finite_domain(self, sort: Sort, domains: Mapping[str, int] | None = None,
                      limit: int = FINITE_LIMIT) -> list | None:
        """All values of ``sort`` when there are at most ``limit`` of them, else None.
        Uninterpreted sorts are finite here: their elements under ``domains``."""
        key = (sort, _domains_key(domains), limit)
        if key not in self._finite:
            self._finite[key] = self._finite_domain(sort, domains, limit, frozenset())
        return self._finite[key]

    def _finite_domain(self, sort, domains, limit, visiting) -> list | None:
        if sort == BOOL:
            return [False, True]
        if sort == INT or sort.is_function:
            return None
        dt = self.datatype(sort)
        if dt is None:
            return [OpaqueVal(sort.name, i) for i in range(_size_of(domains, sort.name))]
        if dt.name in visiting:
            return None
        out: list = []
        for c in dt.ctors:
            parts = []
            for _, fs in c.fields:
                d = self._finite_domain(fs, domains, limit, visiting | {dt.name})
                if d is None:
                    return None
                parts.append(d)
            for args in itertools.product(*parts):
                out.append(make_ctor(c.name, tuple(args)))
                if len(out) > limit:
                    return None
        return out

    # -- enumeration of small values ---------------------------------------------------------
    def enumerate(self, sort: Sort, depth: int, domains: Mapping[str, int] | None = None,
                  limit: int = ENUM_LIMIT) -> list:
        """Values of ``sort`` of nesting depth at most ``depth``, shallow ones first, at most
        ``limit`` of them.  Ints of depth d are -d..d; functions are constant tables."""
        key = (sort, depth, _domains_key(domains), limit)
        got = self._enum.get(key)
        if got is not None:
            return got
        if sort == BOOL:
            out = [False, True]
        elif sort == INT:
            out = [0]
            for i in range(1, depth + 1):
                out += [i, -i]
        elif sort.is_function:
            out = [TableFun(sort, (), d) for d in self.enumerate(sort.codomain, depth, domains,
                                                                   limit)]
        else:
            dt = self.datatype(sort)
            if dt is None:
                out = [OpaqueVal(sort.name, i) for i in range(_size_of(domains, sort.name))]
            else:
                out = self._enumerate_dt(dt, depth, domains, limit)
        out = out[:limit]
        self._enum[key] = out
        return out

    def _enumerate_dt(self, dt, depth, domains, limit) -> list:
        out = list(self.enumerate(dt.sort, depth - 1, domains, limit)) if depth > 0 else []
        seen = set(out)
        for c in dt.ctors:
            if not c.fields:
                cands: Iterator = iter([()])
            elif depth == 0:
                continue
            else:
                cands = itertools.product(*(self.enumerate(fs, depth - 1, domains, limit)
                                            for _, fs in c.fields))
            for args in cands:
                v = make_ctor(c.name, tuple(args))
                if v not in seen:
                    seen.add(v)
                    out.append(v)
                    if len(out) >= limit:
                        return out
        return out

    # -- enumeration by size (tiers) ---------------------------------------------------------
    def tier(self, sort: Sort, size: int, domains: Mapping[str, int] | None = None,
             cap: int = 100_000) -> list | None:
        """All values of ``sort`` of exactly ``size``, or None when there are more than
        ``cap``.  Size: a constructor counts 1 plus its fields' sizes; an integer ``n`` counts
        ``|n|``; booleans, opaque elements and constant functions count their codomain value's
        size (0 for Bool and opaque elements)."""
        key = (sort, size, _domains_key(domains), cap)
        if key in self._tiers:
            return self._tiers[key]
        out: list | None
        if size < 0:
            out = []
        elif sort == BOOL:
            out = [False, True] if size == 0 else []
        elif sort == INT:
            out = [0] if size == 0 else [size, -size]
        elif sort.is_function:
            cod = self.tier(sort.codomain, size, domains, cap)
            out = None if cod is None else [TableFun(sort, (), d) for d in cod]
        else:
            dt = self.datatype(sort)
            if dt is None:
                out = [OpaqueVal(sort.name, i) for i in range(_size_of(domains, sort.name))] \
                    if size == 0 else []
            else:
                out = self._tier_dt(dt, size, domains, cap)
        self._tiers[key] = out
        return out

    def _tier_dt(self, dt: Datatype, size: int, domains, cap: int) -> list | None:
        out: list = []
        if size == 0:
            return out
        for c in dt.ctors:
            sorts = [fs for _, fs in c.fields]
            if not sorts:
                if size == 1:
                    out.append(make_ctor(c.name, ()))
                continue
            for parts in compositions(size - 1, len(sorts)):
                lists = []
                for fs, k in zip(sorts, parts):
                    t = self.tier(fs, k, domains, cap)
                    if t is None:
                        return None
                    if not t:
                        break
                    lists.append(t)
                else:
                    n = 1
                    for xs in lists:
                        n *= len(xs)
                    if len(out) + n > cap:
                        return None
                    out.extend(make_ctor(c.name, args) for args in itertools.product(*lists))
        return out

    # -- random values -----------------------------------------------------------------------
    def _gen_info(self, dt: Datatype) -> tuple[list, list, list]:
        """(least-height, recursive, base) constructors of dt, each as
        (name, field sorts, indices of recursive fields)."""
        got = self._gen.get(dt.name)
        if got is None:
            grp = self.group[dt.name]

            def entry(c):
                sorts = tuple(fs for _, fs in c.fields)
                rec = tuple(i for i, fs in enumerate(sorts) if not fs.args and fs.name in grp)
                return c.name, sorts, rec
            least = [entry(c) for c in self.min_ctors(dt)]
            rec = [entry(c) for c in dt.ctors if self.is_recursive(dt, c)]
            base = [entry(c) for c in dt.ctors if not self.is_recursive(dt, c)]
            got = self._gen[dt.name] = (least, rec, base)
        return got

    def random(self, sort: Sort, rng: random.Random, size: int,
               domains: Mapping[str, int] | None = None) -> Value:
        """A random value of ``sort`` (see :func:`random_value`); iterative."""
        rand = rng.random
        out: list = []
        stack: list = [(sort, size)]
        while stack:
            item = stack.pop()
            if type(item[0]) is str:  # (ctor name, arity): build from the last results
                ctor, n = item
                args = tuple(out[len(out) - n:])
                del out[len(out) - n:]
                out.append(make_ctor(ctor, args))
                continue
            s, sz = item
            if s == BOOL:
                out.append(rand() < 0.5)
            elif s == INT:
                bound = max(sz, 1)
                if rand() < 0.1:
                    bound = 10 * bound + 10
                out.append(int(rand() * (2 * bound + 1)) - bound)
            elif s.is_function:
                out.append(self._random_table(s, rng, sz, domains))
            else:
                dt = self.datatype(s)
                if dt is None:
                    out.append(OpaqueVal(s.name, int(rand() * _size_of(domains, s.name))))
                    continue
                least, rec, base = self._gen_info(dt)
                if sz <= 0:
                    choice = least
                elif rec and base:
                    choice = base if rand() < 1.0 / (sz + 1) else rec
                else:
                    choice = rec or base
                name, sorts, rec_idx = choice[int(rand() * len(choice))]
                if not sorts:
                    out.append(make_ctor(name, ()))
                    continue
                stack.append((name, len(sorts)))
                sizes = self._field_sizes(len(sorts), rec_idx, rand, sz)
                for k in range(len(sorts) - 1, -1, -1):
                    stack.append((sorts[k], sizes[k]))
        return out[0]

    @staticmethod
    def _field_sizes(n: int, rec: tuple, rand, size: int) -> list[int]:
        """Sizes for n fields, each below ``size``: the recursive ones share ``size - 1``."""
        budget = size - 1 if size > 0 else 0
        sizes = [int(rand() * (budget + 1)) for _ in range(n)] if budget else [0] * n
        if len(rec) == 1:
            sizes[rec[0]] = budget
        elif rec:
            cuts = sorted(int(rand() * (budget + 1)) for _ in range(len(rec) - 1))
            bounds = [0, *cuts, budget]
            for j, i in enumerate(rec):
                sizes[i] = bounds[j + 1] - bounds[j]
        return sizes

    def _random_table(self, sort: Sort, rng: random.Random, size: int, domains) -> TableFun:
        """A table with up to 3 entries; a constant one when the domain holds functions (a
        lookup by function values would not respect extensional equality)."""
        sub = max(size // 2, 0)
        n = rng.randint(0, min(max(size, 0), 3))
        if any(self.has_functions(d) for d in sort.domain):
            n = 0
        entries = []
        for _ in range(n):
            key = tuple(self.random(d, rng, sub, domains) for d in sort.domain)
            entries.append((key, self.random(sort.codomain, rng, sub, domains)))
        return TableFun(sort, tuple(entries), self.random(sort.codomain, rng, sub, domains))


def compositions(n: int, k: int) -> Iterator[tuple[int, ...]]:
    """The ways to write ``n`` as an ordered sum of ``k`` parts >= 0.

    >>> list(compositions(2, 2))
    [(0, 2), (1, 1), (2, 0)]
    """
    if k == 1:
        yield (n,)
        return
    for first in range(n + 1):
        for rest in compositions(n - first, k - 1):
            yield (first, *rest)


def _size_of(domains: Mapping[str, int] | None, name: str) -> int:
    if domains is None:
        return DEFAULT_DOMAIN_SIZE
    return domains.get(name, DEFAULT_DOMAIN_SIZE)


def _domains_key(domains: Mapping[str, int] | None):
    if domains is None:
        return None
    default = domains._i.default_size if isinstance(domains, _Domains) else DEFAULT_DOMAIN_SIZE
    return tuple(sorted(domains.items())), default


_SPACES: dict[int, tuple[weakref.ref, ValueSpace]] = {}


def value_space(theory: Theory) -> ValueSpace:
    """The :class:`ValueSpace` of a theory, cached by identity (no structural hashing)."""
    got = _SPACES.get(id(theory))
    if got is not None and got[0]() is theory:
        return got[1]
    space = ValueSpace(theory)
    key = id(theory)
    _SPACES[key] = (weakref.ref(theory, lambda _r, k=key, pop=_SPACES.pop: pop(k, None)), space)
    return space


def random_value(sort: Sort, theory: Theory, rng: random.Random, size: int,
                 domains: Mapping[str, int] | None = None) -> Value:
    """A random value of any sort of ``theory``.

    ``size`` bounds the recursion: a datatype value's recursive fields share ``size - 1``,
    its other fields get less than ``size``; at size 0 only constructors of least height are
    chosen, so generation always terminates (mutually recursive datatypes included).  Ints lie
    in ``[-size, size]`` (occasionally ten times wider), uninterpreted sorts give elements of a
    ``domains[sort]``-element domain (default 3), function sorts give random tables.

    >>> from ida_ns.logic.ast import Constructor, Datatype, Theory, Sort
    >>> nat = Datatype("Nat", (Constructor("Z"), Constructor("S", (("p", Sort("Nat")),))))
    >>> v = random_value(Sort("Nat"), Theory(datatypes=((nat,),)), random.Random(0), 5)
    >>> v.ctor in ("Z", "S")
    True
    """
    return value_space(theory).random(sort, rng, size, domains)


def enumerate_values(sort: Sort, theory: Theory, depth: int,
                     domains: Mapping[str, int] | None = None, limit: int = ENUM_LIMIT) -> list:
    """The values of ``sort`` of depth at most ``depth`` (shallow first, at most ``limit``)."""
    return value_space(theory).enumerate(sort, depth, domains, limit)


def is_value_of(v: Value, sort: Sort, theory: Theory,
                domains: Mapping[str, int] | None = None) -> bool:
    """Whether ``v`` is a well-formed value of ``sort`` (iterative)."""
    space = value_space(theory)
    stack = [(v, sort)]
    while stack:
        x, s = stack.pop()
        if s == BOOL:
            ok = type(x) is bool
        elif s == INT:
            ok = type(x) is int
        elif s.is_function:
            ok = isinstance(x, FunVal) and x.sort == s
            if ok and type(x) is TableFun:
                for key, val in x._lookup.items():
                    ok = ok and len(key) == len(s.domain)
                    stack.extend(zip(key, s.domain))
                    stack.append((val, s.codomain))
                stack.append((x.default, s.codomain))
        elif space.datatype(s) is not None:
            ok = type(x) is CtorVal
            if ok:
                try:
                    fields = space.ctor_fields(s, x.ctor)
                except ValueError:
                    return False
                ok = len(fields) == len(x.args)
                stack.extend(zip(x.args, fields))
        else:
            ok = (type(x) is OpaqueVal and x.sort == s.name
                  and 0 <= x.index < _size_of(domains, s.name))
        if not ok:
            return False
    return True


# --------------------------------------------------------------------------------------------
# Interpretation of the uninterpreted parts of a theory


class Interpretation:
    """A seeded interpretation of a theory's uninterpreted sorts and declared functions.

    Each uninterpreted sort gets the finite domain ``{S!val!0, ..., S!val!(k-1)}`` with
    ``k = sizes.get(S, default_size)``.  A declared function's value at an argument tuple is
    drawn when first asked for, from a generator seeded by ``(seed, name, printed args)``:
    the same seed gives the same function whatever order the points are asked in.
    :meth:`queried` lists the points used so far (what a counterexample must report)."""

    def __init__(self, theory: Theory, seed: int = 0, sizes: Mapping[str, int] | None = None,
                 default_size: int = DEFAULT_DOMAIN_SIZE, value_size: int = 3):
        self.theory = theory
        self.seed = seed
        self.value_size = value_size
        self._space = value_space(theory)
        self.sizes: dict[str, int] = {}
        for s in theory.sorts:
            self.sizes[s] = default_size
        for f in theory.funs:
            for s in (*f.params, f.ret):
                self._note_sorts(s, default_size)
        if sizes:
            self.sizes.update(sizes)
        self.default_size = default_size
        self._decls = {f.name: f for f in theory.funs}
        self._table: dict[tuple[str, tuple], Value] = {}

    def _note_sorts(self, sort: Sort, k: int) -> None:
        if self._space.is_uninterpreted(sort):
            self.sizes.setdefault(sort.name, k)
        for a in sort.args:
            self._note_sorts(a, k)

    def domain_size(self, sort_name: str) -> int:
        return self.sizes.get(sort_name, self.default_size)

    def domains(self) -> "_Domains":
        return _Domains(self)

    def apply(self, name: str, args: tuple) -> Value:
        key = (name, args)
        got = self._table.get(key)
        if got is None and key not in self._table:
            decl = self._decls.get(name)
            if decl is None:
                raise ValueError(f"{name!r} is not a declared function of the theory")
            rng = random.Random(f"{self.seed}\x00{name}\x00{' '.join(map(show_value, args))}")
            got = self._space.random(decl.ret, rng, self.value_size, self.domains())
            self._table[key] = got
        return got

    def queried(self) -> tuple[tuple[str, tuple, Value], ...]:
        return tuple((name, args, v) for (name, args), v in self._table.items())

    def describe(self, used_sorts: set[str] | None = None) -> tuple[tuple[str, str], ...]:
        """Printed description: domains of uninterpreted sorts, then the queried points."""
        out = []
        for s in sorted(self.sizes):
            if used_sorts is None or s in used_sorts:
                elems = " ".join(smt_symbol(f"{s}!val!{i}") for i in range(self.sizes[s]))
                out.append((s, "{" + elems + "}"))
        for name, args, v in self.queried():
            head = smt_symbol(name) if not args else \
                "(" + " ".join([smt_symbol(name), *map(show_value, args)]) + ")"
            out.append((head, show_value(v)))
        return tuple(out)


class _Domains(Mapping):
    """The sizes of an interpretation as a read-only mapping (for random generation)."""

    def __init__(self, interp: Interpretation):
        self._i = interp

    def __getitem__(self, k: str) -> int:
        return self._i.domain_size(k)

    def get(self, k, default=None):  # type: ignore[override]
        return self._i.domain_size(k)

    def __iter__(self):
        return iter(self._i.sizes)

    def __len__(self) -> int:
        return len(self._i.sizes)
