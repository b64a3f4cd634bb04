"""Property-based testing with ida-ns theories: Hypothesis strategies, spec conformance, and
properties that are proved first and tested after.

Needs ``hypothesis`` (``pip install -e .[test]``).  Everything takes the theory as a Theory, a
Problem, or the path of an SMT-LIB/TIP file, and sorts as Sorts or names::

    from hypothesis import given
    from ida_ns.hypothesis import values, python_values, conforms, spec_function, proves

    @given(python_values("sorting.smt2", "list"))           # [3, -1, 0] ... shrinking to []
    def test_isort(xs):
        conforms(my_isort, "sorting.smt2", "isort", xs)      # fails with the shrunk input

    conforms(my_isort, "sorting.smt2", "isort")              # the same, as one call
    spec_function("sorting.smt2", "isort")([2, 1])           # [1, 2]: the spec, evaluated

* :func:`values` / :func:`python_values` / :func:`arguments`: values of any Bool, Int,
  datatype, uninterpreted or function sort (theory values print as SMT-LIB terms; Python
  values as lists, ints, tuples, :class:`~ida_ns.convert.Data`); shrinking toward the least
  constructors and 0;
* :func:`terms` / :func:`goals`: well-sorted terms and problems of a theory, for fuzzing;
* :func:`conforms`, :func:`spec_function`: a Python implementation against the spec's own
  definition (ground evaluator); :mod:`ida_ns.convert` for the value conversions and
  :func:`register_type` for your own classes;
* :func:`proves`: a Hypothesis test that names the spec goal it states; the goal is proved
  symbolically before the test runs concretely (see also the pytest plugin,
  :mod:`ida_ns.pytest_plugin`).

Invalid arguments raise :class:`InvalidArgument` naming the argument (and listing, e.g., the
theory's sorts).
"""

from __future__ import annotations

from ..convert import ConversionError, Converter, Data, TypeAdapter, from_python, \
    register_type, to_python, unregister_type
from ..spec_function import SpecEvaluationError, SpecFunction, spec_function
from ..theory_args import InvalidArgument
from .conformance import Conformance, NonConformance, conforms
from .goal import GoalRefuted, proves
from .strategies import arguments, goals, python_values, terms, values

__all__ = ["values", "python_values", "arguments", "terms", "goals", "conforms", "Conformance",
           "NonConformance", "spec_function", "SpecFunction", "SpecEvaluationError", "proves",
           "GoalRefuted", "Converter", "Data", "TypeAdapter", "ConversionError",
           "register_type", "unregister_type", "to_python", "from_python", "InvalidArgument"]
