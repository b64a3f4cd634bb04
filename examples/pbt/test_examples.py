"""Property-based tests of Python code against SMT-LIB/TIP specifications (ida_ns.hypothesis).

Run:  pytest examples/pbt                                   (these tests)
      pytest --ida-ns-specs 'examples/**/*.smt2' examples/pbt  (and every spec goal, proof first)
"""

from pathlib import Path

import pytest
from hypothesis import given, settings

from ida_ns.hypothesis import NonConformance, conforms, proves, python_values, spec_function
from insertion_sort import insertion_sort
from list_reverse import reverse, reverse_off_by_one

HERE = Path(__file__).parent
SORTING = HERE / "sorting.smt2"
REVERSE = HERE / "reverse.smt2"
PROPERTIES = HERE / "properties.smt2"


# Conformance inside your own Hypothesis test: a failure is shrunk and reported by Hypothesis.
@settings(max_examples=150, deadline=None)
@given(python_values(SORTING, "list"))
def test_insertion_sort_conforms_to_isort(xs):
    conforms(insertion_sort, SORTING, "isort", xs)


# Conformance as one call: a Hypothesis search over the spec function's parameter sorts.
def test_reverse_conforms_to_rev():
    assert conforms(reverse, REVERSE, "rev").examples > 0


def test_buggy_reverse_is_caught_and_shrunk_to_one_element():
    with pytest.raises(NonConformance) as e:
        conforms(reverse_off_by_one, REVERSE, "rev")
    assert e.value.inputs == ([0],)  # the minimal input: a one-element list
    assert e.value.expected == [0] and e.value.got == []
    assert "reverse_off_by_one disagrees with the spec rev" in str(e.value)


def test_the_spec_itself_is_executable():
    isort = spec_function(SORTING, "isort")
    assert isort([3, -1, 2, -1]) == [-1, -1, 2, 3]
    assert spec_function(REVERSE, "rev")([1, 2, 3]) == [3, 2, 1]


# One property, proved for all inputs by the prover, then tested on concrete values.
@proves(PROPERTIES, "append_assoc")
@settings(max_examples=50, deadline=None)
@given(python_values(PROPERTIES, "list"), python_values(PROPERTIES, "list"),
       python_values(PROPERTIES, "list"))
def test_append_is_associative(xs, ys, zs):
    assert (xs + ys) + zs == xs + (ys + zs)
