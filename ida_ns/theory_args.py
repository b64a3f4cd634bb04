"""Checking the arguments of the public property-testing API (:mod:`ida_ns.hypothesis`,
:mod:`ida_ns.convert`, :mod:`ida_ns.spec_function`).

Every check raises :class:`InvalidArgument` with a message that repeats the argument's name and
value and, where there is a closed set of choices, lists what exists::

    >>> from ida_ns.logic.parser import parse_text
    >>> th = parse_text("(declare-datatype Nat ((Z) (S (p Nat)))) (prove true)").theory
    >>> resolve_sort("L", th)
    Traceback (most recent call last):
    ...
    ida_ns.theory_args.InvalidArgument: sort='L' is not a sort of the theory; its sorts are: Bool, Int, Nat
"""

from __future__ import annotations

import os
from pathlib import Path

from .errors import IdaNsError, SpecError
from .logic.ast import BOOL, INT, Problem, Sort, Theory

__all__ = ["InvalidArgument", "resolve_theory", "resolve_sort", "theory_sorts", "check_int",
           "describe_sorts"]


class InvalidArgument(IdaNsError, ValueError):
    """A public function was called with an argument it cannot use; the message names it."""


def resolve_theory(theory, argname: str = "theory") -> Theory:
    """A :class:`Theory` from a Theory, a :class:`Problem` (its theory) or the path of an
    SMT-LIB/TIP file (parsed; its goal is ignored)."""
    if isinstance(theory, Theory):
        return theory
    if isinstance(theory, Problem):
        return theory.theory
    if isinstance(theory, (str, os.PathLike)) and not isinstance(theory, bool):
        text = str(theory)
        if text.lstrip().startswith("("):
            raise InvalidArgument(
                f"{argname}={_short(text)} looks like SMT-LIB text, not a path: parse it with "
                f"ida_ns.logic.parser.parse_text(...) and pass the result")
        p = Path(theory)
        if not p.is_file():
            raise InvalidArgument(f"{argname}={text!r}: no such file (pass a Theory, a Problem, "
                                  f"or the path of an SMT-LIB/TIP file)")
        return _parsed(p)
    raise InvalidArgument(
        f"{argname}={_short(repr(theory))} (of type {type(theory).__name__}) is not a theory: "
        f"pass an ida_ns Theory or Problem, or the path of an SMT-LIB/TIP file")


_FILES: dict = {}


def _parsed(p: Path) -> Theory:
    """The theory of a spec file, parsed once per (path, modification time)."""
    from .logic.parser import parse_file
    from .logic.sortcheck import sortcheck_problem

    key = p.resolve()
    stamp = key.stat().st_mtime_ns
    hit = _FILES.get(key)
    if hit is not None and hit[0] == stamp:
        return hit[1]
    problem = parse_file(p)  # SpecError names file:line:col
    sortcheck_problem(problem)
    if len(_FILES) > 32:
        _FILES.clear()
    _FILES[key] = (stamp, problem.theory)
    return problem.theory


def theory_sorts(theory: Theory) -> list[Sort]:
    """The ground sorts values can be drawn from: Bool, Int, uninterpreted sorts, datatypes."""
    return [BOOL, INT, *(Sort(s) for s in theory.sorts),
            *(dt.sort for dt in theory.all_datatypes())]


def describe_sorts(theory: Theory) -> str:
    return ", ".join(str(s) for s in theory_sorts(theory))


def resolve_sort(sort, theory: Theory, argname: str = "sort") -> Sort:
    """A :class:`Sort` of ``theory`` from a Sort or its SMT-LIB spelling (``"Nat"``,
    ``"(=> Nat Bool)"``); anything that does not name a sort of the theory is an error listing
    the theory's sorts."""
    if isinstance(sort, str):
        text = sort.strip()
        if not text:
            raise InvalidArgument(f"{argname}={sort!r} is empty; the theory's sorts are: "
                                  f"{describe_sorts(theory)}")
        from .logic.parser import parse_sort

        try:
            s = parse_sort(text, theory, file=f"<{argname}>")
        except SpecError as e:
            why = "" if "unknown sort" in e.message else f" ({e.message})"
            raise InvalidArgument(f"{argname}={sort!r} is not a sort of the theory; its sorts "
                                  f"are: {describe_sorts(theory)}{why}") from None
    elif isinstance(sort, Sort):
        s = sort
    else:
        raise InvalidArgument(f"{argname}={_short(repr(sort))} (of type {type(sort).__name__}) "
                              f"is not a sort: pass a Sort or a sort name, one of: "
                              f"{describe_sorts(theory)}")
    _check_known(s, theory, argname, sort)
    return s


def _check_known(s: Sort, theory: Theory, argname: str, given) -> None:
    known = set(theory_sorts(theory))
    stack = [s]
    while stack:
        x = stack.pop()
        if x.is_function:
            if len(x.args) < 2:
                raise InvalidArgument(f"{argname}={given!r}: a function sort needs argument and "
                                      f"result sorts")
            stack.extend(x.args)
        elif x not in known:
            what = f"{argname}={given!r}" if x == s else f"{argname}={given!r} mentions {x}, which"
            raise InvalidArgument(f"{what} is not a sort of the theory; its sorts are: "
                                  f"{describe_sorts(theory)}")


def check_int(value, argname: str, minimum: int | None = 0, allow_none: bool = False):
    """``value`` as an int at least ``minimum`` (None allowed when ``allow_none``)."""
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidArgument(f"{argname}={_short(repr(value))} must be an integer"
                              + (" or None" if allow_none else ""))
    if minimum is not None and value < minimum:
        raise InvalidArgument(f"{argname}={value} must be at least {minimum}")
    return value


def _short(text: str, n: int = 60) -> str:
    return text if len(text) <= n else text[:n] + "..."
