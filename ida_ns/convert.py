"""Converting between theory values (what the ground evaluator computes with, see
:mod:`ida_ns.logic.values`) and plain Python values.

Each sort of a theory gets a Python form, by the shape of its datatype:

==========================  ===================================  ==============================
sort                        example                              Python value
==========================  ===================================  ==============================
``Int`` / ``Bool``          ``(- 3)``, ``true``                  ``int`` / ``bool``
Peano naturals              ``Nat = Z | S Nat``                  ``int >= 0``
lists                       ``list = nil | cons elem list``      ``list`` (of converted elements)
records (one constructor,   ``pair = mk (fst Int) (snd Bool)``   ``tuple`` (dataclass or
not recursive)                                                   namedtuple accepted as input)
any other datatype          ``Tree = Leaf | Node Tree Int Tree`` :class:`Data` ``Node(Leaf, 1,
                                                                 Leaf)``
uninterpreted sorts,        ``S!val!0``, tables and closures     unchanged
function sorts
==========================  ===================================  ==============================

A datatype whose shape fits no rule, or that you want as your own class, is registered with
:func:`register_type` (for every theory) or passed in ``types=`` to a :class:`Converter`::

    >>> from dataclasses import dataclass
    >>> from ida_ns.logic.parser import parse_text
    >>> th = parse_text('''(declare-datatype Nat ((Z) (S (p Nat))))
    ... (declare-datatype list ((nil) (cons (head Nat) (tail list))))
    ... (declare-datatype pt ((mk (x Int) (y Int)))) (prove true)''').theory
    >>> c = Converter(th)
    >>> v = c.from_python([2, 0], "list"); show_value(v)
    '(cons (S (S Z)) (cons Z nil))'
    >>> c.to_python(v, "list")
    [2, 0]
    >>> @dataclass(frozen=True)
    ... class Pt:
    ...     x: int
    ...     y: int
    >>> Converter(th, types={"pt": TypeAdapter.for_class(Pt)}).to_python(c.from_python((1, 2), "pt"), "pt")
    Pt(x=1, y=2)

Every conversion checks what it is given: a Python value that does not fit the sort raises
:class:`ConversionError` naming the position (``value[2]``), the sort and the offending value.
Lists and naturals convert iteratively (a list of 100,000 elements is fine).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from .errors import IdaNsError
from .logic.ast import BOOL, INT, Datatype, Sort, Theory
from .logic.values import CtorVal, FunVal, OpaqueVal, is_value_of, make_ctor, show_value, \
    value_space
from .theory_args import resolve_sort, resolve_theory

__all__ = ["ConversionError", "Converter", "Data", "TypeAdapter", "register_type",
           "unregister_type", "to_python", "from_python", "shape_of", "show_value"]


class ConversionError(IdaNsError, TypeError):
    """A Python value that is not a value of the sort asked for (the message says where)."""


@dataclass(frozen=True)
class Data:
    """A datatype value with no more specific Python form: constructor name and the Python
    forms of its arguments.  ``repr`` reads like a constructor call: ``Node(Leaf, 1, Leaf)``."""

    ctor: str
    args: tuple = ()

    def __repr__(self) -> str:
        if not self.args:
            return self.ctor
        return f"{self.ctor}({', '.join(map(repr, self.args))})"


@dataclass(frozen=True)
class TypeAdapter:
    """How one datatype maps to a Python type of yours.

    ``to_python(data)`` gets a :class:`Data` whose arguments are already in Python form and
    returns your object; ``from_python(obj)`` returns a :class:`Data` (arguments in Python form,
    converted further by their sorts) or None when ``obj`` is not one of yours (then the
    built-in rules are tried)."""

    to_python: Callable[[Data], object]
    from_python: Callable[[object], Data | None]
    python_type: type | None = None

    @classmethod
    def for_class(cls, python_type: type, ctor: str | None = None) -> "TypeAdapter":
        """Adapter for a record datatype (one constructor) and a dataclass or namedtuple whose
        fields are the constructor's fields, in order."""
        if not (dataclasses.is_dataclass(python_type) or _is_namedtuple_type(python_type)):
            raise ConversionError(f"python_type={python_type!r} is not a dataclass or namedtuple "
                                  f"class: give to_python and from_python functions instead")

        def to_py(d: Data):
            return python_type(*d.args)

        def from_py(obj):
            if not isinstance(obj, python_type):
                return None
            return Data(ctor or "", _fields_of(obj))

        return cls(to_py, from_py, python_type)


_REGISTRY: dict[str, TypeAdapter] = {}


def register_type(sort_name: str, python_type: type | None = None, *,
                  to_python: Callable[[Data], object] | None = None,
                  from_python: Callable[[object], Data | None] | None = None) -> TypeAdapter:
    """Use your own Python type for datatype ``sort_name`` in every theory: a dataclass or
    namedtuple class for a record datatype, or ``to_python``/``from_python`` functions (see
    :class:`TypeAdapter`).  Returns the adapter; :func:`unregister_type` undoes it."""
    if not isinstance(sort_name, str) or not sort_name:
        raise ConversionError(f"sort_name={sort_name!r} must be a non-empty sort name")
    if to_python is None and from_python is None:
        if python_type is None:
            raise ConversionError("register_type needs python_type, or to_python and "
                                  "from_python")
        adapter = TypeAdapter.for_class(python_type)
    elif to_python is None or from_python is None:
        raise ConversionError("register_type needs both to_python and from_python")
    else:
        adapter = TypeAdapter(to_python, from_python, python_type)
    _REGISTRY[sort_name] = adapter
    return adapter


def unregister_type(sort_name: str) -> None:
    _REGISTRY.pop(sort_name, None)


def _is_namedtuple_type(t) -> bool:
    return isinstance(t, type) and issubclass(t, tuple) and hasattr(t, "_fields")


def _fields_of(obj) -> tuple:
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return tuple(getattr(obj, f.name) for f in dataclasses.fields(obj))
    return tuple(obj)


# --------------------------------------------------------------------------------------------
# Shapes

NAT, LIST, RECORD, DATA = "nat", "list", "record", "data"


def shape_of(dt: Datatype) -> tuple:
    """``("nat", zero, succ)``, ``("list", nil, cons, elem_index, tail_index)``,
    ``("record", ctor)`` or ``("data",)`` for datatype ``dt``."""
    me = dt.sort
    if len(dt.ctors) == 2:
        for base, step in (dt.ctors, dt.ctors[::-1]):
            if base.fields:
                continue
            sorts = [s for _, s in step.fields]
            if sorts == [me]:
                return (NAT, base.name, step.name)
            if len(sorts) == 2 and sorts.count(me) == 1:
                tail = sorts.index(me)
                return (LIST, base.name, step.name, 1 - tail, tail)
    if len(dt.ctors) == 1:
        c = dt.ctors[0]
        if c.fields and all(s != me for _, s in c.fields):
            return (RECORD, c.name)
    return (DATA,)


class Converter:
    """Conversions for one theory.  ``types`` maps datatype names to :class:`TypeAdapter`
    (they win over :func:`register_type` entries, which win over the built-in shapes)."""

    def __init__(self, theory, types: Mapping[str, TypeAdapter] | None = None):
        self.theory: Theory = resolve_theory(theory)
        self.space = value_space(self.theory)
        self.types = dict(types or {})
        self._shapes: dict[str, tuple] = {}

    # -- helpers ---------------------------------------------------------------------------
    def sort(self, sort) -> Sort:
        return resolve_sort(sort, self.theory)

    def _adapter(self, name: str) -> TypeAdapter | None:
        return self.types.get(name) or _REGISTRY.get(name)

    def _shape(self, dt: Datatype) -> tuple:
        sh = self._shapes.get(dt.name)
        if sh is None:
            sh = self._shapes[dt.name] = shape_of(dt)
        return sh

    # -- theory value -> Python ------------------------------------------------------------
    def to_python(self, value, sort):
        """The Python form of theory value ``value`` of ``sort``."""
        s = self.sort(sort)
        if not is_value_of(value, s, self.theory, _AnySize()):
            raise ConversionError(f"value={_short(value)} is not a value of sort {s}")
        return self._to_py(value, s)

    def _to_py(self, v, s: Sort):
        if s == BOOL or s == INT or s.is_function:
            return v
        dt = self.space.datatype(s)
        if dt is None:
            return v  # an element of an uninterpreted sort
        ad = self._adapter(dt.name)
        if ad is not None:
            fields = self.space.ctor_fields(s, v.ctor)
            return ad.to_python(Data(v.ctor, tuple(self._to_py(a, fs)
                                                   for a, fs in zip(v.args, fields))))
        sh = self._shape(dt)
        if sh[0] == NAT:
            n = 0
            while v.ctor == sh[2]:
                n += 1
                v = v.args[0]
            return n
        if sh[0] == LIST:
            elem_sort = self.space.ctor_fields(s, sh[2])[sh[3]]
            out = []
            while v.ctor == sh[2]:
                out.append(self._to_py(v.args[sh[3]], elem_sort))
                v = v.args[sh[4]]
            return out
        fields = self.space.ctor_fields(s, v.ctor)
        args = tuple(self._to_py(a, fs) for a, fs in zip(v.args, fields))
        if sh[0] == RECORD:
            return args
        return Data(v.ctor, args)

    # -- Python -> theory value ------------------------------------------------------------
    def from_python(self, obj, sort, where: str = "value"):
        """The theory value of ``sort`` whose Python form is ``obj`` (theory values of the
        right sort are accepted as they are)."""
        return self._from_py(obj, self.sort(sort), where)

    def _fail(self, where: str, s: Sort, expected: str, obj) -> ConversionError:
        return ConversionError(f"{where}: expected {expected} for sort {s}, got "
                               f"{_short(obj)} (of type {type(obj).__name__})")

    def _from_py(self, obj, s: Sort, where: str):
        if s == BOOL:
            if type(obj) is not bool:
                raise self._fail(where, s, "a bool", obj)
            return obj
        if s == INT:
            if isinstance(obj, bool) or not isinstance(obj, int):
                raise self._fail(where, s, "an int", obj)
            return int(obj)
        if s.is_function:
            if isinstance(obj, FunVal) and obj.sort == s:
                return obj
            raise self._fail(where, s, "a function value (TableFun or Closure)", obj)
        dt = self.space.datatype(s)
        if dt is None:
            if type(obj) is OpaqueVal and obj.sort == s.name and obj.index >= 0:
                return obj
            raise self._fail(where, s, f"an element OpaqueVal({s.name!r}, i)", obj)
        if type(obj) is CtorVal:
            if is_value_of(obj, s, self.theory, _AnySize()):
                return obj
            raise self._fail(where, s, "a theory value of this sort", obj)
        ad = self._adapter(dt.name)
        if ad is not None:
            d = ad.from_python(obj)
            if d is not None:
                if not d.ctor and len(dt.ctors) == 1:
                    d = Data(dt.ctors[0].name, d.args)
                return self._from_data(d, dt, s, where)
        sh = self._shape(dt)
        if sh[0] == NAT:
            if isinstance(obj, bool) or not isinstance(obj, int) or obj < 0:
                raise self._fail(where, s, "an int >= 0", obj)
            v = make_ctor(sh[1])
            for _ in range(obj):
                v = make_ctor(sh[2], (v,))
            return v
        if sh[0] == LIST:
            if isinstance(obj, (str, bytes)) or not isinstance(obj, Sequence):
                raise self._fail(where, s, "a list", obj)
            elem_sort = self.space.ctor_fields(s, sh[2])[sh[3]]
            elems = [self._from_py(x, elem_sort, f"{where}[{i}]") for i, x in enumerate(obj)]
            v = make_ctor(sh[1])
            for x in reversed(elems):
                args = [None, None]
                args[sh[3]], args[sh[4]] = x, v
                v = make_ctor(sh[2], tuple(args))
            return v
        if sh[0] == RECORD:
            if isinstance(obj, Data):
                return self._from_data(obj, dt, s, where)
            if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
                items = _fields_of(obj)
            elif isinstance(obj, (tuple, list)):
                items = tuple(obj)
            else:
                raise self._fail(where, s, "a tuple (or a dataclass instance)", obj)
            return self._from_data(Data(sh[1], items), dt, s, where)
        if isinstance(obj, Data):
            return self._from_data(obj, dt, s, where)
        names = ", ".join(c.name for c in dt.ctors)
        raise self._fail(where, s, f"a Data(ctor, args) value with ctor one of {names}", obj)

    def _from_data(self, d: Data, dt: Datatype, s: Sort, where: str):
        ctor = next((c for c in dt.ctors if c.name == d.ctor), None)
        if ctor is None:
            names = ", ".join(c.name for c in dt.ctors)
            raise ConversionError(f"{where}: {d.ctor!r} is not a constructor of sort {s}; "
                                  f"its constructors are: {names}")
        if len(d.args) != len(ctor.fields):
            raise ConversionError(f"{where}: constructor {ctor.name} of sort {s} takes "
                                  f"{len(ctor.fields)} arguments, got {len(d.args)}")
        args = tuple(self._from_py(a, fs, f"{where}.{sel}")
                     for a, (sel, fs) in zip(d.args, ctor.fields))
        return make_ctor(ctor.name, args)


class _AnySize(Mapping):
    """Domain sizes under which every non-negative index of an uninterpreted sort is valid."""

    def __getitem__(self, k):
        return 1 << 62

    def get(self, k, default=None):
        return 1 << 62

    def __iter__(self):
        return iter(())

    def __len__(self):
        return 0


def _short(obj, n: int = 80) -> str:
    try:
        text = show_value(obj) if isinstance(obj, (CtorVal, OpaqueVal)) else repr(obj)
    except Exception:  # noqa: BLE001 - display only
        text = object.__repr__(obj)
    return text if len(text) <= n else text[:n] + "..."


def to_python(value, sort, theory):
    """``Converter(theory).to_python(value, sort)``."""
    return Converter(theory).to_python(value, sort)


def from_python(obj, sort, theory):
    """``Converter(theory).from_python(obj, sort)``."""
    return Converter(theory).from_python(obj, sort)
