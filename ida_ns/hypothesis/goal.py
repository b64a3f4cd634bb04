"""``@proves(spec, goal)``: one property, proved symbolically and tested concretely.

Put it on a Hypothesis test that states a goal of a spec file in Python::

    @proves("properties.smt2", "append_assoc")
    @given(xs=python_values(TH, "list"), ys=..., zs=...)
    def test_append_assoc(xs, ys, zs):
        assert (xs + ys) + zs == xs + (ys + zs)

When the test runs, the goal is first given to the project's prover (once per process, with the
pytest plugin's ``--ida-ns-budget``/``--ida-ns-solver`` settings when it is active):

* refuted -> the test fails at once with the counterexample as Python values;
* proved or unknown -> the Hypothesis test runs as usual, so the property is also tested on
  concrete values (and the Python code is checked even where the spec is proved).

The verdict is kept as ``test.ida_ns_verdict`` (and in the junit XML with the plugin).  The
spec path is relative to the test file's folder unless it exists relative to the working
directory; an unknown goal name is an error listing the file's goals.
"""

from __future__ import annotations

import functools
from pathlib import Path

from ..theory_args import InvalidArgument

__all__ = ["proves", "GoalRefuted"]


class GoalRefuted(AssertionError):
    """The goal a ``@proves`` test names is false."""


def _locate(spec, fn) -> Path:
    if not isinstance(spec, (str, Path)):
        raise InvalidArgument(f"spec={spec!r} must be the path of an SMT-LIB/TIP file")
    p = Path(spec)
    if p.is_absolute() or p.is_file():
        cand = p
    else:
        code = getattr(fn, "__code__", None)
        here = Path(code.co_filename).parent if code is not None else Path.cwd()
        cand = here / p
    if not cand.is_file():
        raise InvalidArgument(f"spec={str(spec)!r}: no such file (looked at {cand})")
    return cand


def proves(spec, goal: str):
    """Decorator: the test states goal ``goal`` of spec file ``spec`` (see the module
    docstring)."""
    if not isinstance(goal, str) or not goal:
        raise InvalidArgument(f"goal={goal!r} must be the name of a goal of the spec file")

    def decorate(fn):
        if not callable(fn):
            raise InvalidArgument(f"@proves decorates a test function, got {fn!r}")
        from ..spec_goals import goals_of

        path = _locate(spec, fn)
        names = goals_of(path)
        if goal not in names:
            raise InvalidArgument(f"goal={goal!r} is not a goal of {path}; its goals are: "
                                  f"{', '.join(names)}")

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            __tracebackhide__ = True  # pytest shows the test, not this wrapper
            from ..spec_goals import counterexample_rows, goals_of, prove_goal

            g = goals_of(path)[goal]
            result = prove_goal(g)
            wrapper.ida_ns_verdict = result.verdict.status
            if result.verdict.status == "refuted":
                rows = counterexample_rows(g.problem, result.verdict.counterexample)
                shown = "\n".join(f"  {r.render()}" for r in rows)
                raise GoalRefuted(f"goal {goal} of {path.name} is false; counterexample:\n"
                                  f"{shown}")
            return fn(*args, **kwargs)

        wrapper.ida_ns_goal = (str(path), goal)
        wrapper.ida_ns_verdict = None
        return wrapper

    return decorate
