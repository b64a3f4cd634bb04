"""Ground evaluator: the value of a term under a theory, for given values of its free variables.

Terms are compiled once into Python closures over a *frame* (a list with one slot per bound
variable), then run many times; :meth:`Evaluator.compile` hands out the compiled form for hot
loops, :meth:`Evaluator.eval` memoises it per term.

Semantics, and when no value comes out:

- recursive functions are unfolded call by call; every call (and every quantifier instance)
  spends one unit of ``fuel``, and calls nest at most ``max_depth`` deep; running out raises
  :class:`OutOfFuel`, as does passing the optional ``deadline`` (checked every
  ``FUEL_CHUNK`` calls).  Deep recursion never crashes the process: while a compiled term runs,
  Python's recursion limit is raised to fit ``max_depth`` and restored afterwards (the
  closures call each other directly, so no C stack is used per level); a ``RecursionError``
  that still happens becomes :class:`OutOfFuel`;
- ``Int`` is unbounded; ``div``/``mod`` are Euclidean as in SMT-LIB (the remainder is never
  negative); division by zero is unspecified in SMT-LIB, so it raises :class:`Undetermined`;
- a selector applied to a value built by another constructor is unspecified in SMT-LIB: it
  raises :class:`Undetermined` (no arbitrary value is invented), as does a ``match`` with no
  matching case;
- ``and``/``or``/``=>`` are decided by any decisive argument even when another argument is
  undetermined; an undetermined ``ite`` condition still gives a value when both branches agree;
- quantifiers over finite sorts (``Bool``, finite datatypes, uninterpreted sorts, whose
  domains the :class:`~ida_ns.logic.values.Interpretation` fixes) are evaluated exhaustively;
  over infinite sorts only small instances are tried: a refuting instance decides ``forall``
  (a witness decides ``exists``), otherwise :class:`NotGround` is raised;
- declared functions and constants take the values the evaluator's ``interp`` assigns them
  (seeded, lazily, deterministically per argument tuple);
- ``=`` on function values follows :func:`~ida_ns.logic.values.smt_equal`: undecidable cases
  raise :class:`FunctionEquality`.

:class:`OutOfFuel` and :class:`Undetermined` (with :class:`NotGround` and
:class:`FunctionEquality`) share the base :class:`EvalAbort`: an instance that raised one has no
trustworthy value and must be discarded.

>>> from ida_ns.logic.ast import *
>>> nat = Sort("Nat")
>>> Nat = Datatype("Nat", (Constructor("Z"), Constructor("S", (("p", nat),))))
>>> x, y, n = Var("x", nat), Var("y", nat), Var("n", nat)
>>> body = Match(x, (MatchCase(PatCon("Z"), y),
...                  MatchCase(PatCon("S", (n,)), App("S", (App("plus", (n, y), nat),), nat))), nat)
>>> th = Theory(datatypes=((Nat,),), defs=((FunDef("plus", (x, y), nat, body),),))
>>> ev = Evaluator(th)
>>> one = CtorVal("S", (CtorVal("Z"),))
>>> show_value(ev.eval(App("plus", (x, x), nat), {x: one}))
'(S (S Z))'
"""

from __future__ import annotations

import itertools
import operator
import sys
import time
from math import prod
from typing import Callable, Mapping, Sequence

from ..errors import UnsupportedFeature
from .ast import (App, BoolLit, HoApp, IntLit, Lambda, Let, Match, PatCon, Quant, Term, Theory,
                  Var, depth, free_vars)
from .symbols import CTOR, DECLARED, DEFINED, SELECTOR, TESTER, symbol_table
from .values import _new, _set_args, _set_ctor, _set_hash  # fast CtorVal construction
from .values import (Closure, CtorVal, EvalAbort, OpaqueVal, TableFun, FunctionEquality, Interpretation, NotGround,
                     OutOfFuel, Undetermined, Value, ValueTooLarge, make_ctor, show_value, smt_equal,
                     value_space)

__all__ = ["Evaluator", "EvalAbort", "OutOfFuel", "Undetermined", "NotGround",
           "FunctionEquality", "Interpretation", "CtorVal", "show_value"]

Compiled = Callable[[list], Value]

DEFAULT_FUEL = 100_000  # function calls per evaluation
DEFAULT_MAX_DEPTH = 5_000  # nested function calls per evaluation
MAX_FRAMES = 400_000  # highest recursion limit a run sets (deeper runs end in OutOfFuel)
FUEL_CHUNK = 2_048  # calls between two looks at the clock (when a deadline is set)
MAX_INT_BITS = 1 << 18  # largest integer a product may yield (about 79,000 digits)
QUANT_LIMIT = 4_096  # instances one quantifier evaluation may try
WITNESS_DEPTH = 3  # depth of the small values tried for a quantifier over an infinite sort
WITNESS_LIMIT = 24  # and how many of them per variable


class _Frame:
    """Slot allocation for one frame (a function body, a lambda body or a top-level term)."""

    __slots__ = ("n",)

    def __init__(self, n: int = 0):
        self.n = n

    def alloc(self, k: int) -> int:
        start = self.n
        self.n += k
        return start


class _Fun:
    """A defined function; ``body`` is compiled on first call (so recursion resolves).  A call
    passes a frame of the arguments extended by ``pad`` (slots for the body's binders)."""

    __slots__ = ("fdef", "body", "pad")

    def __init__(self, fdef):
        self.fdef = fdef
        self.body: Compiled | None = None
        self.pad: list = []


def _var_key(v: Var):
    return v.name, str(v.sort)


class Evaluator:
    """Evaluates terms of ``theory``.  Not thread-safe: use one per thread.

    ``fuel`` and ``max_depth`` bound each run (one :meth:`eval` call, or one call of a
    :meth:`compile` result); ``interp`` interprets declared sorts and functions."""

    def __init__(self, theory: Theory, fuel: int = DEFAULT_FUEL, *,
                 max_depth: int = DEFAULT_MAX_DEPTH, interp: Interpretation | None = None,
                 quant_limit: int = QUANT_LIMIT, witness_limit: int = WITNESS_LIMIT):
        self.theory = theory
        self.fuel = fuel
        self.max_depth = max_depth
        self.quant_limit = quant_limit
        self.witness_limit = witness_limit
        self._table = symbol_table(theory)
        self._space = value_space(theory)
        self._defs = {d.name: d for d in theory.all_defs()}
        self._funs: dict[str, _Fun] = {}
        self._memo: dict[int, tuple] = {}
        self._qdom: dict[tuple, tuple] = {}
        # [fuel left in this chunk, call depth, runs in progress, fuel left beyond the chunk]
        self._st = [0, 0, 0, 0]
        self.deadline: float | None = None  # time.perf_counter() value; None: no deadline
        self._frames_per_call = 6 + max((depth(d.body) for d in self._defs.values()), default=0)
        self._interp = interp if interp is not None else Interpretation(theory)

    # -- public API ----------------------------------------------------------------------------
    @property
    def interp(self) -> Interpretation:
        return self._interp

    @interp.setter
    def interp(self, value: Interpretation) -> None:
        self._interp = value
        self._qdom.clear()

    def eval(self, term: Term, env: Mapping[Var, Value] | None = None) -> Value:
        """The value of ``term`` with its free variables bound by ``env``.

        Raises :class:`OutOfFuel` or :class:`Undetermined` (see the module docstring)."""
        ent = self._memo.get(id(term))
        if ent is None or ent[0] is not term:
            with _stack_for(depth(term) + 1000):
                params = tuple(sorted(free_vars(term), key=_var_key))
            run = self.compile(term, params)
            if len(self._memo) > 20_000:
                self._memo.clear()
            ent = self._memo[id(term)] = (term, params, run)
        _, params, run = ent
        env = env or {}
        try:
            values = [env[v] for v in params]
        except KeyError as e:
            raise NotGround(f"no value for free variable {e.args[0].name}") from None
        return run(values)

    def compile(self, term: Term, params: Sequence[Var]) -> Callable[[Sequence[Value]], Value]:
        """Compile ``term`` into ``run(values)``, ``values`` given in the order of ``params``.
        Each run starts with full fuel.  Raises :class:`NotGround` if ``term`` has a free
        variable not in ``params``."""
        params = tuple(params)
        fr = _Frame(len(params))
        scope = {v: i for i, v in enumerate(params)}
        tdepth = depth(term)
        with _stack_for(tdepth + 1000):
            body = self._c(term, scope, fr)
        return self._runner(body, fr.n - len(params), tdepth)

    def call(self, name: str, args: Sequence[Value]) -> Value:
        """Apply a defined or declared function to values (with full fuel)."""
        if name in self._defs:
            h = self._fun(name)
            frame = list(args) + h.pad
            return self._runner(lambda _env: h.body(frame), 0, 0)(())  # type: ignore[misc]
        return self._interp.apply(name, tuple(args))

    def apply_value(self, f, args: Sequence[Value]) -> Value:
        """Apply a function value (e.g. a closure an earlier run returned), with full fuel."""
        return self._runner(lambda _env: f.apply(tuple(args)), 0, 0)(())

    # -- running -------------------------------------------------------------------------------
    def _runner(self, body: Compiled, extra: int, tdepth: int):
        st = self._st
        pad = [None] * extra
        ev = self

        def run(values: Sequence[Value]) -> Value:
            frame = list(values)
            if extra:
                frame.extend(pad)
            saved = st[0], st[1], st[3]
            st[0] = min(ev.fuel, FUEL_CHUNK)
            st[1] = 0
            st[2] += 1
            st[3] = ev.fuel - st[0]
            need = min(ev.max_depth * ev._frames_per_call + tdepth + 10_000, MAX_FRAMES)
            old = sys.getrecursionlimit()
            if old < need:
                sys.setrecursionlimit(need)
            try:
                return body(frame)
            except RecursionError:
                raise OutOfFuel("Python's recursion limit was reached") from None
            finally:
                if old < need and sys.getrecursionlimit() == need:
                    sys.setrecursionlimit(old)
                st[0], st[1], st[3] = saved  # a nested run leaves the outer one's budget
                st[2] -= 1

        return run

    def _fun(self, name: str) -> _Fun:
        h = self._funs.get(name)
        if h is None:
            h = self._funs[name] = _Fun(self._defs[name])
            ev = self

            def first_call(frame: list) -> Value:
                ev._compile_def(h)
                frame.extend(h.pad)
                return h.body(frame)  # type: ignore[misc]

            h.body = first_call
        return h

    def _compile_def(self, h: _Fun) -> None:
        d = h.fdef
        fr = _Frame(len(d.params))
        b = self._c(d.body, {v: i for i, v in enumerate(d.params)}, fr)
        h.pad = [None] * (fr.n - len(d.params))
        h.body = b

    def _refuel(self, depth: int) -> None:
        """Slow path of a call: raise OutOfFuel for too deep a call, for spent fuel or a past
        deadline; otherwise hand out the next chunk of fuel."""
        st = self._st
        if depth > self.max_depth:
            raise OutOfFuel(f"call depth exceeded max_depth={self.max_depth}")
        if st[0] >= 0:
            return
        if st[3] <= 0:
            raise OutOfFuel(f"fuel exhausted ({self.fuel} calls)")
        if self.deadline is not None and time.perf_counter() > self.deadline:
            raise OutOfFuel("deadline passed")
        take = min(FUEL_CHUNK, st[3])
        st[3] -= take
        st[0] += take

    # -- compilation ---------------------------------------------------------------------------
    def _c(self, t: Term, scope: dict, fr: _Frame) -> Compiled:
        tp = type(t)
        if tp is Var:
            slot = scope.get(t)
            if slot is None:
                raise NotGround(f"no value for free variable {t.name}")
            return operator.itemgetter(slot)
        if tp is IntLit or tp is BoolLit:
            v = t.value
            return lambda env: v
        if tp is App:
            return self._c_app(t, scope, fr)
        if tp is Match:
            return self._c_match(t, scope, fr)
        if tp is Let:
            return self._c_let(t, scope, fr)
        if tp is Quant:
            return self._c_quant(t, scope, fr)
        if tp is Lambda:
            return self._c_lambda(t, scope, fr)
        if tp is HoApp:
            return self._c_hoapp(t, scope, fr)
        raise TypeError(f"not a term: {t!r}")

    def _c_app(self, t: App, scope: dict, fr: _Frame) -> Compiled:
        name = t.fn
        info = self._table.info(name)
        fs = [self._c(a, scope, fr) for a in t.args]
        if info is not None:
            kind = info.kind
            if kind == CTOR:
                return _c_ctor(name, fs)
            if kind == SELECTOR:
                ctor = self._table.ctors[info.ctor]
                k = [f for f, _ in ctor.fields].index(name)
                return _c_selector(name, info.ctor, k, fs[0])
            if kind == TESTER:
                a, c = fs[0], info.ctor
                return lambda env: a(env).ctor == c
            if kind == DEFINED:
                return self._c_call(self._fun(name), fs)
            if kind == DECLARED:
                return self._c_declared(name, fs, [a.sort for a in t.args])
        builtin = _BUILTINS.get(name)
        if builtin is None:
            opaque = _opaque_constant(t, self._space)
            if opaque is not None:  # S!val!i, as value_to_term writes opaque elements
                return lambda env: opaque
            raise UnsupportedFeature(f"cannot evaluate unknown symbol {name!r}", token=name)
        if name in ("=", "distinct") and self._space.has_functions(t.args[0].sort):
            return builtin(fs, smt_equal)
        return builtin(fs, None)

    def _c_call(self, h: _Fun, fs: list[Compiled]) -> Compiled:
        st = self._st
        maxd = self.max_depth
        oof = self._refuel
        n = len(fs)
        if n == 1:
            a, = fs

            def call(env):
                frame = [a(env)]
                if h.pad:
                    frame += h.pad
                st[0] -= 1
                d = st[1] + 1
                if st[0] < 0 or d > maxd:
                    oof(d)
                st[1] = d
                r = h.body(frame)
                st[1] = d - 1
                return r
        elif n == 2:
            a, b = fs

            def call(env):
                frame = [a(env), b(env)]
                if h.pad:
                    frame += h.pad
                st[0] -= 1
                d = st[1] + 1
                if st[0] < 0 or d > maxd:
                    oof(d)
                st[1] = d
                r = h.body(frame)
                st[1] = d - 1
                return r
        else:
            def call(env):
                frame = []
                for f in fs:
                    frame.append(f(env))
                if h.pad:
                    frame += h.pad
                st[0] -= 1
                d = st[1] + 1
                if st[0] < 0 or d > maxd:
                    oof(d)
                st[1] = d
                r = h.body(frame)
                st[1] = d - 1
                return r
        return call

    def _c_declared(self, name: str, fs: list[Compiled], sorts: list) -> Compiled:
        ev = self
        if not fs:
            return lambda env: ev._interp.apply(name, ())
        if any(self._space.has_functions(s) for s in sorts):
            # the interpretation must give extensionally equal arguments equal values
            def declared_ho(env):
                args = []
                for f, s in zip(fs, sorts):
                    args.append(ev._canonical(f(env), s, name))
                return ev._interp.apply(name, tuple(args))
            return declared_ho

        def declared(env):
            args = []
            for f in fs:
                args.append(f(env))
            return ev._interp.apply(name, tuple(args))
        return declared

    def _canonical(self, v: Value, sort, name: str) -> Value:
        """A function argument of a declared function as its complete table (the same for
        every extensionally equal function), when its domain is finite and its values hold no
        functions; otherwise the application is undetermined."""
        if not self._space.has_functions(sort):
            return v
        if sort.is_function and not self._space.has_functions(sort.codomain):
            domains = self._interp.domains()
            doms = [self._space.finite_domain(d, domains) for d in sort.domain]
            if all(d is not None for d in doms) and prod(len(d) for d in doms) <= 64:
                points = list(itertools.product(*doms))
                entries = tuple((p, v.apply(p)) for p in points)
                return TableFun(sort, entries, entries[0][1])
        raise Undetermined(f"{name} applied to a function value that cannot be tabulated")

    def _c_match(self, t: Match, scope: dict, fr: _Frame) -> Compiled:
        scrut = self._c(t.scrutinee, scope, fr)
        table: dict[str, tuple[int, int, Compiled]] = {}
        default = None  # (slot or None, body)
        for case in t.cases:
            p = case.pattern
            if isinstance(p, PatCon):
                if p.ctor in table:
                    continue  # unreachable: an earlier case catches it
                lo = fr.alloc(len(p.vars))
                inner = dict(scope)
                inner.update({v: lo + i for i, v in enumerate(p.vars)})
                table[p.ctor] = (lo, lo + len(p.vars), self._c(case.body, inner, fr))
            else:
                if p.var is None:
                    default = (None, self._c(case.body, scope, fr))
                else:
                    slot = fr.alloc(1)
                    default = (slot, self._c(case.body, {**scope, p.var: slot}, fr))
                break  # later cases are unreachable
        get = table.get

        def match(env):
            v = scrut(env)
            e = get(v.ctor)
            if e is not None:
                lo, hi, body = e
                if lo != hi:
                    env[lo:hi] = v.args
                return body(env)
            if default is None:
                raise Undetermined(f"no case of the match covers {v.ctor}")
            slot, body = default
            if slot is not None:
                env[slot] = v
            return body(env)
        return match

    def _c_let(self, t: Let, scope: dict, fr: _Frame) -> Compiled:
        rhs = [self._c(e, scope, fr) for _, e in t.bindings]
        lo = fr.alloc(len(rhs))
        inner = dict(scope)
        inner.update({v: lo + i for i, (v, _) in enumerate(t.bindings)})
        body = self._c(t.body, inner, fr)
        if len(rhs) == 1:
            r0 = rhs[0]

            def let1(env):
                env[lo] = r0(env)
                return body(env)
            return let1
        hi = lo + len(rhs)

        def let(env):
            vals = []
            for r in rhs:
                vals.append(r(env))
            env[lo:hi] = vals
            return body(env)
        return let

    def _c_quant(self, t: Quant, scope: dict, fr: _Frame) -> Compiled:
        n = len(t.vars)
        lo = fr.alloc(n)
        hi = lo + n
        inner = dict(scope)
        inner.update({v: lo + i for i, v in enumerate(t.vars)})
        body = self._c(t.body, inner, fr)
        sorts = tuple(v.sort for v in t.vars)
        forall = t.kind == "forall"
        if t.kind not in ("forall", "exists"):
            raise UnsupportedFeature(f"unknown quantifier {t.kind!r}", token=t.kind)
        ev, st = self, self._st

        def quant(env):
            doms, exhaustive = ev._quant_domains(sorts)
            undecided = None
            tried = 0
            for tup in itertools.product(*doms):
                tried += 1
                st[0] -= 1
                if st[0] < 0:
                    ev._refuel(0)
                if tried > ev.quant_limit:
                    exhaustive = False
                    break
                env[lo:hi] = tup
                try:
                    r = body(env)
                except Undetermined as e:
                    undecided = e
                    continue
                if r is not forall:
                    return r
            if undecided is not None:
                raise undecided
            if not exhaustive:
                raise NotGround(f"{t.kind} over {' '.join(map(str, sorts))}: no decisive "
                                f"instance among {tried} small values")
            return forall
        return quant

    def _quant_domains(self, sorts: tuple) -> tuple[list, bool]:
        got = self._qdom.get(sorts)
        if got is None:
            doms, exhaustive = [], True
            domains = self._interp.domains()
            for s in sorts:
                d = self._space.finite_domain(s, domains)
                if d is None:
                    exhaustive = False
                    d = self._space.enumerate(s, WITNESS_DEPTH, domains, self.witness_limit)
                doms.append(d)
            got = self._qdom[sorts] = (doms, exhaustive)
        return got

    def _c_lambda(self, t: Lambda, scope: dict, fr: _Frame) -> Compiled:
        fvs = tuple(sorted(free_vars(t), key=_var_key))
        outer = []
        for v in fvs:
            if v not in scope:
                raise NotGround(f"no value for free variable {v.name}")
            outer.append(scope[v])
        k = len(fvs) + len(t.vars)
        inner_fr = _Frame(k)
        inner = {v: i for i, v in enumerate(fvs)}
        inner.update({v: len(fvs) + i for i, v in enumerate(t.vars)})
        body = self._c(t.body, inner, inner_fr)
        pad = [None] * (inner_fr.n - k)
        arity = len(t.vars)
        ev, st, maxd, oof = self, self._st, self.max_depth, self._refuel

        def make(env):
            cap = [env[i] for i in outer]

            def call(args: tuple):
                if len(args) != arity:
                    raise TypeError(f"lambda of {arity} arguments applied to {len(args)}")
                if not st[2]:  # applied after the run that made it: start a run of its own
                    return ev._runner(lambda _env: call(args), 0, 0)(())
                frame = cap + list(args)
                if pad:
                    frame.extend(pad)
                st[0] -= 1
                d = st[1] + 1
                if st[0] < 0 or d > maxd:
                    oof(d)
                st[1] = d
                r = body(frame)
                st[1] = d - 1
                return r
            return Closure(t, tuple(zip(fvs, cap)), call)
        return make

    def _c_hoapp(self, t: HoApp, scope: dict, fr: _Frame) -> Compiled:
        f = self._c(t.fn, scope, fr)
        fs = [self._c(a, scope, fr) for a in t.args]
        if len(fs) == 1:
            a, = fs
            return lambda env: f(env).apply((a(env),))

        def hoapp(env):
            fv = f(env)
            args = []
            for g in fs:
                args.append(g(env))
            return fv.apply(tuple(args))
        return hoapp


# --------------------------------------------------------------------------------------------
# Constructors, selectors and builtins


def _c_ctor(name: str, fs: list[Compiled]) -> Compiled:
    # make_ctor inlined: this is the evaluator's most frequent operation
    new, cv, set_ctor, set_args, set_hash = _new, CtorVal, _set_ctor, _set_args, _set_hash
    if not fs:
        v = make_ctor(name, ())
        return lambda env: v
    if len(fs) == 1:
        a, = fs

        def ctor1(env):
            v = new(cv)
            set_ctor(v, name)
            set_args(v, (a(env),))
            set_hash(v, None)
            return v
        return ctor1
    if len(fs) == 2:
        a, b = fs

        def ctor2(env):
            v = new(cv)
            set_ctor(v, name)
            set_args(v, (a(env), b(env)))
            set_hash(v, None)
            return v
        return ctor2

    def ctor(env):
        args = []
        for f in fs:
            args.append(f(env))
        return make_ctor(name, tuple(args))
    return ctor


def _opaque_constant(t: App, space) -> OpaqueVal | None:
    prefix = t.sort.name + "!val!"
    if not t.args and space.is_uninterpreted(t.sort) and t.fn.startswith(prefix) \
            and t.fn[len(prefix):].isdigit():
        return OpaqueVal(t.sort.name, int(t.fn[len(prefix):]))
    return None


def _c_selector(name: str, ctor: str, k: int, a: Compiled) -> Compiled:
    def sel(env):
        v = a(env)
        if v.ctor == ctor:
            return v.args[k]
        raise Undetermined(f"selector {name} applied to {show_value(v)}")
    return sel


def _b_not(fs, _eq):
    a, = fs
    return lambda env: not a(env)


def _b_and(fs, _eq):
    def and_(env):
        err = None
        for f in fs:
            try:
                if not f(env):
                    return False
            except Undetermined as e:
                err = e
        if err is not None:
            raise err
        return True
    return and_


def _b_or(fs, _eq):
    def or_(env):
        err = None
        for f in fs:
            try:
                if f(env):
                    return True
            except Undetermined as e:
                err = e
        if err is not None:
            raise err
        return False
    return or_


def _b_implies(fs, _eq):
    # (=> a b c) is (=> a (=> b c)), i.e. (or (not a) (not b) c)
    return _b_or([_b_not([f], None) for f in fs[:-1]] + [fs[-1]], None)


def _b_xor(fs, _eq):
    def xor(env):
        r = fs[0](env)
        for f in fs[1:]:
            r = r != f(env)
        return r
    return xor


def _b_ite(fs, _eq):
    c, a, b = fs

    def ite(env):
        try:
            cv = c(env)
        except Undetermined as e:
            x, y = a(env), b(env)  # both branches agree: the condition does not matter
            if smt_equal(x, y):
                return x
            raise e
        return a(env) if cv else b(env)
    return ite


def _b_eq(fs, eq):
    if eq is None:
        if len(fs) == 2:
            a, b = fs
            return lambda env: a(env) == b(env)
        eq = operator.eq

    def equal(env):
        vals = [f(env) for f in fs]
        return all(eq(x, y) for x, y in zip(vals, vals[1:]))
    return equal


def _b_distinct(fs, eq):
    if eq is None:
        if len(fs) == 2:
            a, b = fs
            return lambda env: a(env) != b(env)
        eq = operator.eq

    def distinct(env):
        vals = [f(env) for f in fs]
        return not any(eq(vals[i], vals[j])
                       for i in range(len(vals)) for j in range(i + 1, len(vals)))
    return distinct


def _fold(op):
    def build(fs, _eq):
        if len(fs) == 2:
            a, b = fs
            return lambda env: op(a(env), b(env))

        def fold(env):
            r = fs[0](env)
            for f in fs[1:]:
                r = op(r, f(env))
            return r
        return fold
    return build


def checked_mul(a: int, b: int) -> int:
    """``a * b``, refusing a product beyond ``MAX_INT_BITS`` bits before computing it.

    Only multiplication can grow a value fast (squaring doubles its size: 40 nested squarings
    of a small number have 2**40 digits); additions grow by a bit per step and every step of a
    loop spends fuel.  The refusal is :class:`ValueTooLarge`, an :class:`OutOfFuel`: the
    instance carries no information and is discarded.

    >>> checked_mul(2 ** 40000, 2 ** 40000) == 2 ** 80000
    True
    >>> checked_mul(2 ** 200000, 2 ** 200000)
    Traceback (most recent call last):
    ...
    ida_ns.logic.values.ValueTooLarge: integer product of about 400002 bits exceeds the evaluator's size bound (262144 bits)
    """
    if a.bit_length() + b.bit_length() > MAX_INT_BITS + 1:
        raise ValueTooLarge(f"integer product of about {a.bit_length() + b.bit_length()} bits "
                            f"exceeds the evaluator's size bound ({MAX_INT_BITS} bits)")
    return a * b


def _b_mul(fs, _eq):
    mul = checked_mul
    if len(fs) == 2:
        a, b = fs
        return lambda env: mul(a(env), b(env))

    def fold(env):
        r = fs[0](env)
        for f in fs[1:]:
            r = mul(r, f(env))
        return r
    return fold


def _b_minus(fs, eq):
    if len(fs) == 1:
        a, = fs
        return lambda env: -a(env)
    return _fold(operator.sub)(fs, eq)


def ediv(m: int, n: int) -> int:
    """SMT-LIB (Euclidean) integer division; raises Undetermined for n = 0.

    >>> [ediv(7, 2), ediv(-7, 2), ediv(7, -2), ediv(-7, -2)]
    [3, -4, -3, 4]
    """
    if n == 0:
        raise Undetermined(f"(div {m} 0) is unspecified")
    return m // n if n > 0 else -(m // -n)


def emod(m: int, n: int) -> int:
    """SMT-LIB (Euclidean) remainder, always in [0, |n|); raises Undetermined for n = 0.

    >>> [emod(7, 2), emod(-7, 2), emod(7, -2), emod(-7, -2)]
    [1, 1, 1, 1]
    """
    if n == 0:
        raise Undetermined(f"(mod {m} 0) is unspecified")
    return m % abs(n)


def _chain(op):
    def build(fs, _eq):
        if len(fs) == 2:
            a, b = fs
            return lambda env: op(a(env), b(env))

        def chain(env):
            vals = [f(env) for f in fs]
            return all(op(x, y) for x, y in zip(vals, vals[1:]))
        return chain
    return build


def _b_abs(fs, _eq):
    a, = fs
    return lambda env: abs(a(env))


_BUILTINS = {
    "not": _b_not, "and": _b_and, "or": _b_or, "=>": _b_implies, "xor": _b_xor,
    "ite": _b_ite, "=": _b_eq, "distinct": _b_distinct,
    "+": _fold(operator.add), "-": _b_minus, "*": _b_mul,
    "div": _fold(ediv), "mod": _fold(emod), "abs": _b_abs,
    "<": _chain(operator.lt), "<=": _chain(operator.le),
    ">": _chain(operator.gt), ">=": _chain(operator.ge),
}


class _stack_for:
    """Context manager: make room for ``frames`` more Python frames (compilation of deep
    terms)."""

    def __init__(self, frames: int):
        self.need = min(frames + 10_000, MAX_FRAMES)
        self.old = 0

    def __enter__(self):
        self.old = sys.getrecursionlimit()
        if self.old < self.need:
            sys.setrecursionlimit(self.need)

    def __exit__(self, *exc):
        if self.old < self.need and sys.getrecursionlimit() == self.need:
            sys.setrecursionlimit(self.old)
        return False


__all__ += ["ediv", "emod", "checked_mul", "ValueTooLarge", "DEFAULT_FUEL", "DEFAULT_MAX_DEPTH",
            "MAX_INT_BITS"]
