"""``conforms(py_fn, theory, "name")``: does a Python implementation agree with the spec?

Two ways to use it:

* standalone, ``conforms(isort, theory, "isort")``: a Hypothesis search over the spec
  function's parameter sorts (as Python values); when implementation and spec disagree it
  raises :class:`NonConformance` for the *shrunk* input (``.inputs``), otherwise it returns a
  :class:`Conformance` summary;
* inside your own Hypothesis test, ``conforms(isort, theory, "isort", xs)``: checks one input
  and raises :class:`NonConformance`, so Hypothesis shrinks and reports it.

The implementation gets deep copies of the inputs (an in-place sort cannot change what the
report shows); its result is converted to a theory value of the spec's result sort (a result
of the wrong shape is a disagreement, named as such) and compared with SMT-LIB ``=`` against
the value of the spec's definition (:mod:`ida_ns.spec_function`).  Inputs on which the spec
itself has no value (out of fuel, undetermined) are rejected, not counted.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

from hypothesis import HealthCheck, Phase, given, settings as Settings, strategies as st
from hypothesis.control import currently_in_test_context, reject

from ..convert import ConversionError
from ..logic.values import FunctionEquality, show_value, smt_equal
from ..spec_function import SpecEvaluationError, SpecFunction
from ..theory_args import InvalidArgument, check_int
from .strategies import values

__all__ = ["conforms", "Conformance", "NonConformance"]


class NonConformance(AssertionError):
    """The implementation and the spec disagree on ``inputs`` (Python values)."""

    def __init__(self, message: str, name: str, inputs: tuple, expected, got):
        super().__init__(message)
        self.name = name
        self.inputs = inputs
        self.expected = expected  # the spec's result (Python form)
        self.got = got  # what the implementation returned


@dataclass(frozen=True)
class Conformance:
    name: str
    examples: int  # inputs on which both ran and agreed


_SPECS: dict = {}


def _spec(theory, name: str, fuel: int, types) -> SpecFunction:
    key = (id(theory), name, fuel, id(types) if types else None)
    hit = _SPECS.get(key)
    if hit is not None and hit[0] is theory:
        return hit[1]
    spec = SpecFunction(theory, name, fuel=fuel, types=types)
    if len(_SPECS) > 64:
        _SPECS.clear()
    _SPECS[key] = (theory, spec)
    return spec


def conforms(py_fn, theory, name: str, *inputs, max_examples: int = 200, fuel: int = 20_000,
             types=None, settings: Settings | None = None):
    """Check ``py_fn`` against the theory's definition of ``name`` (see the module docstring).
    ``theory``: a Theory, a Problem or a spec file path.  ``max_examples``/``settings``: for
    the standalone search (default: derandomized, no example database, no deadline)."""
    if not callable(py_fn):
        raise InvalidArgument(f"py_fn={py_fn!r} is not callable")
    spec = _spec(theory, name, fuel, types)
    if inputs:
        _check_one(py_fn, spec, inputs)
        return Conformance(spec.name, 1)
    check_int(max_examples, "max_examples", minimum=1)
    if settings is not None and not isinstance(settings, Settings):
        raise InvalidArgument(f"settings={settings!r} must be a hypothesis.settings object")
    strategy = st.tuples(*(values(spec.theory, s, python=True, types=types)
                           for s in spec.param_sorts))
    agreed = [0]

    def run(args):
        _check_one(py_fn, spec, args)
        agreed[0] += 1

    cfg = settings or Settings(max_examples=max_examples, deadline=None, database=None,
                               derandomize=True,
                               suppress_health_check=[HealthCheck.too_slow],
                               # no "explain" phase: it re-runs the shrunk example many times
                               # to annotate it, and the report already shows everything
                               phases=[p for p in Phase if p is not Phase.explain])
    test = cfg(given(strategy)(run))
    test()
    return Conformance(spec.name, agreed[0])


def _check_one(py_fn, spec: SpecFunction, inputs: tuple) -> None:
    try:
        args = spec.arguments(inputs)
        expected_v = spec.evaluator.call(spec.name, args)
    except SpecEvaluationError:
        raise
    except ConversionError:
        raise
    except Exception as e:  # EvalAbort: the spec has no value here
        from ..logic.values import EvalAbort

        if not isinstance(e, EvalAbort):
            raise
        if currently_in_test_context():
            reject()
        raise SpecEvaluationError(f"the spec {spec.name} has no value on {inputs!r}: {e}") \
            from None
    conv = spec.converter
    got = py_fn(*copy.deepcopy(tuple(inputs)))
    expected = conv.to_python(expected_v, spec.ret)
    shown_inputs = "\n".join(
        f"  {v.name} = {_both(x, a)}" for v, x, a in zip(spec.fdef.params, inputs, args))
    head = f"{getattr(py_fn, '__name__', 'implementation')} disagrees with the spec " \
           f"{spec.name} on input:\n{shown_inputs}\n"
    try:
        got_v = conv.from_python(got, spec.ret, "result")
    except ConversionError as e:
        raise NonConformance(f"{head}implementation returned {got!r}, which is not a value of "
                             f"sort {spec.ret} ({e})\nspec returns: {_both(expected, expected_v)}",
                             spec.name, tuple(inputs), expected, got) from None
    try:
        same = smt_equal(got_v, expected_v)
    except FunctionEquality:
        if currently_in_test_context():
            reject()
        raise
    if not same:
        raise NonConformance(f"{head}implementation returned: {_both(got, got_v)}\n"
                             f"spec returns:           {_both(expected, expected_v)}",
                             spec.name, tuple(inputs), expected, got)


def _both(py, v) -> str:
    text = show_value(v)
    r = repr(py)
    return r if r == text else f"{r}    (SMT-LIB: {text})"
