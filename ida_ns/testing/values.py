"""Hypothesis strategies for evaluator values (:mod:`ida_ns.logic.values`) of any sort.

:func:`values_of` gives well-formed values of a sort of a theory: booleans, integers, opaque
elements of uninterpreted sorts (domain size ``domain_size``, as an
:class:`~ida_ns.logic.values.Interpretation` with that default size would use), tables for
function sorts, and datatype values built with :func:`hypothesis.strategies.deferred`, so
recursive and mutually recursive datatypes work; a datatype's least-height constructors are
listed first, which makes Hypothesis shrink towards small values.

>>> from hypothesis import given
>>> from ida_ns.logic.ast import Constructor, Datatype, Sort, Theory
>>> nat = Datatype("Nat", (Constructor("Z"), Constructor("S", (("p", Sort("Nat")),))))
>>> th = Theory(datatypes=((nat,),))
>>> @given(values_of(Sort("Nat"), th))
... def test(v): assert v.ctor in ("Z", "S")
>>> test()
"""

from __future__ import annotations

from hypothesis import strategies as st

from ..logic.ast import BOOL, INT, Sort, Theory
from ..logic.values import (DEFAULT_DOMAIN_SIZE, CtorVal, OpaqueVal, TableFun, make_ctor, value_space)
from ..theory_args import check_int, resolve_sort, resolve_theory

__all__ = ["values_of", "instances_of", "shown"]


def _register_printers() -> None:
    """Falsifying examples show values as their ``repr`` (SMT-LIB text for theory values, a
    constructor call for :class:`~ida_ns.convert.Data`): Hypothesis's printer would otherwise
    list the dataclass fields (``CtorVal(ctor='S', args=(CtorVal(ctor='Z', ...``)."""
    from hypothesis.vendor.pretty import for_type_by_name

    def printer(obj, p, cycle):
        p.text(repr(obj))

    def table(obj, p, cycle):
        from ..logic.values import show_value

        p.text(f"TableFun<{show_value(obj)}>")

    for module, name in (("ida_ns.logic.values", "CtorVal"), ("ida_ns.logic.values", "OpaqueVal"),
                         ("ida_ns.convert", "Data")):
        for_type_by_name(module, name, printer)
    for_type_by_name("ida_ns.logic.values", "TableFun", table)


_register_printers()


def values_of(sort, theory, domain_size: int = DEFAULT_DOMAIN_SIZE,
              max_int: int | None = None) -> st.SearchStrategy:
    """Values of ``sort`` (a :class:`Sort` or its name; any sort of ``theory``, function sorts
    included).  ``theory``: a Theory, a Problem or the path of a spec file.  Integers are
    unbounded unless ``max_int`` is given (then in ``[-max_int, max_int]``).  Raises
    :class:`~ida_ns.theory_args.InvalidArgument` naming the argument for a sort the theory
    does not have (listing its sorts), a non-theory, or a size below its minimum."""
    th = resolve_theory(theory)
    s = resolve_sort(sort, th)
    check_int(domain_size, "domain_size", minimum=1)
    check_int(max_int, "max_int", minimum=0, allow_none=True)
    check_inhabited(th, s)
    return shown(_Builder(th, domain_size, max_int).strategy(s))


def check_inhabited(theory: Theory, sort: Sort, argname: str = "sort") -> None:
    """Raise InvalidArgument when ``sort`` is a datatype with no finite value (a hand-built
    theory can have one; the parser rejects them)."""
    from ..theory_args import InvalidArgument

    space = value_space(theory)
    todo = [sort]
    while todo:
        x = todo.pop()
        if x.is_function:
            todo.extend(x.args)
            continue
        dt = space.datatype(x)
        if dt is not None and space.height[dt.name] == float("inf"):
            raise InvalidArgument(f"{argname}={str(sort)!r}: datatype {dt.name} has no finite "
                                  f"values (every constructor needs one of its own values)")


def instances_of(sorts, theory, domain_size: int = DEFAULT_DOMAIN_SIZE,
                 max_int: int | None = None) -> st.SearchStrategy:
    """Tuples of values, one of each sort in ``sorts`` (e.g. the sorts of a goal's
    variables)."""
    th = resolve_theory(theory)
    if isinstance(sorts, (str, Sort)):
        raise_for = sorts
        from ..theory_args import InvalidArgument

        raise InvalidArgument(f"sorts={raise_for!r} must be a sequence of sorts, e.g. "
                              f"[{str(raise_for)!r}]")
    ss = [resolve_sort(s, th, f"sorts[{i}]") for i, s in enumerate(sorts)]
    for i, s in enumerate(ss):
        check_inhabited(th, s, f"sorts[{i}]")
    check_int(domain_size, "domain_size", minimum=1)
    check_int(max_int, "max_int", minimum=0, allow_none=True)
    b = _Builder(th, domain_size, max_int)
    return shown(st.tuples(*(b.strategy(s) for s in ss)))


def shown(strategy: st.SearchStrategy) -> st.SearchStrategy:
    """``strategy``, drawn through :func:`hypothesis.strategies.composite` so that a falsifying
    example shows each value's own ``repr`` (SMT-LIB text for datatype values) rather than the
    ``.map(lambda ...)`` calls that built it."""

    @st.composite
    def draw_value(draw):
        return _fresh_object(draw(strategy))

    return draw_value()


def _fresh_object(v):
    """A copy of the drawn object's outer layer: Hypothesis remembers how the drawn object
    itself was built (``.map(...)``) and would print that instead of its ``repr``."""
    if type(v) is CtorVal:
        return make_ctor(v.ctor, v.args)
    if type(v) is TableFun:
        return TableFun(v.sort, v.entries, v.default)
    if type(v) is list:
        return list(v)
    if type(v) is tuple:
        return tuple(v)
    if isinstance(v, tuple) and hasattr(v, "_fields"):
        return type(v)(*v)
    from ..convert import Data

    if type(v) is Data:
        return Data(v.ctor, v.args)
    return v


class _Builder:
    def __init__(self, theory: Theory, domain_size: int, max_int: int | None):
        self.theory = theory
        self.space = value_space(theory)
        self.domain_size = domain_size
        self.max_int = max_int
        self.cache: dict[Sort, st.SearchStrategy] = {}

    def strategy(self, sort: Sort) -> st.SearchStrategy:
        got = self.cache.get(sort)
        if got is not None:
            return got
        if sort == BOOL:
            s = st.booleans()
        elif sort == INT:
            m = self.max_int
            s = st.integers() if m is None else st.integers(-m, m)
        elif sort.is_function:
            s = self._table(sort)
        else:
            dt = self.space.datatype(sort)
            if dt is None:
                s = st.integers(0, self.domain_size - 1).map(
                    lambda i, n=sort.name: OpaqueVal(n, i))
            else:
                # deferred: the constructor strategies may refer back to this very sort
                s = st.deferred(lambda dt=dt: self._datatype(dt))
        self.cache[sort] = s
        return s

    def _datatype(self, dt) -> st.SearchStrategy:
        least = {c.name for c in self.space.min_ctors(dt)}
        inf = float("inf")
        finite = [c for c in dt.ctors  # constructors needing a value of an empty datatype: none
                  if all(self.space.height.get(fs.name, 0) < inf or fs.args for _, fs in c.fields)]
        ctors = sorted(finite, key=lambda c: (c.name not in least,
                                              self.space.is_recursive(dt, c)))
        options = []
        for c in ctors:
            if not c.fields:
                options.append(st.just(make_ctor(c.name, ())))
            else:
                fields = [self.strategy(fs) for _, fs in c.fields]
                options.append(st.tuples(*fields).map(
                    lambda args, n=c.name: make_ctor(n, tuple(args))))
        return st.one_of(options)

    def _table(self, sort: Sort) -> st.SearchStrategy:
        cod = self.strategy(sort.codomain)
        if any(self.space.has_functions(d) for d in sort.domain):
            # constant: looking up function values would not respect extensional equality
            return cod.map(lambda default: TableFun(sort, (), default))
        key = st.tuples(*(self.strategy(d) for d in sort.domain))
        return st.builds(lambda entries, default: TableFun(sort, tuple(entries), default),
                         st.lists(st.tuples(key, cod), max_size=3), cod)
