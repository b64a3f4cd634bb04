"""A function of a specification as a Python callable: ``spec_function(theory, "name")``.

Calls convert their Python arguments to theory values (:mod:`ida_ns.convert`), evaluate the
spec's own definition with the project's ground evaluator (:mod:`ida_ns.logic.evaluate`:
fuel-bounded, never a solver), and convert the result back::

    >>> from ida_ns.logic.parser import parse_text
    >>> th = parse_text('''
    ... (declare-datatype list ((nil) (cons (head Int) (tail list))))
    ... (define-fun-rec app ((xs list) (ys list)) list
    ...   (match xs ((nil ys) ((cons x r) (cons x (app r ys))))))
    ... (prove true)''').theory
    >>> app = spec_function(th, "app")
    >>> app([1, 2], [3])
    [1, 2, 3]
    >>> app
    SpecFunction(app (xs list) (ys list) -> list)

When the evaluation gives no value (fuel spent, a selector on the wrong constructor, a
quantifier it cannot decide) the call raises :class:`SpecEvaluationError` saying why.
"""

from __future__ import annotations

from .convert import Converter, TypeAdapter
from .errors import IdaNsError
from .logic.values import EvalAbort, show_value
from .theory_args import InvalidArgument, check_int, resolve_theory

__all__ = ["SpecFunction", "SpecEvaluationError", "spec_function"]

DEFAULT_FUEL = 100_000  # function calls per evaluation


class SpecEvaluationError(IdaNsError):
    """The spec's definition gave no value on these arguments (the message says why)."""


class SpecFunction:
    """A defined function of a theory, callable on Python values (see the module docstring).

    ``python=False`` calls take and return theory values instead.  :meth:`value` always takes
    Python values (or theory values) and returns the theory value."""

    def __init__(self, theory, name: str, *, fuel: int = DEFAULT_FUEL, python: bool = True,
                 types: dict[str, TypeAdapter] | None = None):
        th = resolve_theory(theory)
        if not isinstance(name, str):
            raise InvalidArgument(f"name={name!r} must be the name of a defined function (a "
                                  f"string)")
        fdef = th.fundef(name)
        if fdef is None:
            defined = sorted(d.name for d in th.all_defs())
            declared = {f.name for f in th.funs}
            why = " (it is declared, not defined: it has no definition to evaluate)" \
                if name in declared else ""
            raise InvalidArgument(f"name={name!r} is not a function defined by the theory{why}; "
                                  f"its defined functions are: "
                                  f"{', '.join(defined) or '(none)'}")
        self.fuel = check_int(fuel, "fuel", minimum=1)
        self.theory = th
        self.name = name
        self.fdef = fdef
        self.python = bool(python)
        self.converter = Converter(th, types)
        self.param_sorts = tuple(v.sort for v in fdef.params)
        self.ret = fdef.ret
        self._ev = None

    @property
    def evaluator(self):
        if self._ev is None:
            from .logic.evaluate import Evaluator

            self._ev = Evaluator(self.theory, fuel=self.fuel)
        return self._ev

    def __repr__(self) -> str:
        ps = " ".join(f"({v.name} {v.sort})" for v in self.fdef.params)
        return f"SpecFunction({self.name} {ps} -> {self.ret})"

    def arguments(self, args) -> tuple:
        """Theory values for Python (or theory) ``args``; checks the count and every sort."""
        if len(args) != len(self.param_sorts):
            raise InvalidArgument(f"{self.name} takes {len(self.param_sorts)} arguments "
                                  f"({', '.join(v.name for v in self.fdef.params)}), got "
                                  f"{len(args)}")
        return tuple(self.converter.from_python(a, s, f"{self.name} argument {v.name}")
                     for a, s, v in zip(args, self.param_sorts, self.fdef.params))

    def value(self, *args):
        """The theory value of the call."""
        vals = self.arguments(args)
        try:
            return self.evaluator.call(self.name, vals)
        except EvalAbort as e:
            shown = ", ".join(show_value(v) for v in vals)
            raise SpecEvaluationError(f"({self.name} {shown.replace(', ', ' ')}) has no value: "
                                      f"{e}") from None

    def __call__(self, *args):
        v = self.value(*args)
        if not self.python:
            return v
        return self.converter.to_python(v, self.ret)


def spec_function(theory, name: str, *, fuel: int = DEFAULT_FUEL, python: bool = True,
                  types: dict[str, TypeAdapter] | None = None) -> SpecFunction:
    """The theory's definition of ``name`` as a Python callable (see :class:`SpecFunction`).
    ``theory``: a Theory, a Problem, or the path of an SMT-LIB/TIP file."""
    return SpecFunction(theory, name, fuel=fuel, python=python, types=types)
