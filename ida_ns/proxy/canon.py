"""Canonical names in the proxy's text (no torch; pure text over printed terms).

The proxy reads and writes goals with the goal's own variables renamed ``v0, v1, ...`` (the
conclusion's outer quantified ones, in the overseer's induction order, then the fixed ones),
so what it learned on ``(forall ((xs list)) ...)`` with ``induct xs`` transfers to
``(forall ((x list)) ...)`` and ``induct x``: both read ``induct v0``.  Definitions in the
prompt keep their own names (they are part of what a symbol means).  Renaming is token-wise
(an SMT-LIB symbol between parentheses and whitespace, ``|quoted|`` symbols whole) and
one-pass, so it is a bijection on the names it maps; the reverse map turns a canonical step
back into the goal's names, and the result is still only data for
:func:`ida_ns.prover.steps.parse_step`.

**Functions are named by what they compute.**  Every defined function whose definition
fingerprint (:func:`ida_ns.proxy.candidates._fingerprints`: body with parameters, bound names
and callees canonicalised) is unique in its theory reads ``f`` + the fingerprint's first 7 hex
digits, in goals, hypotheses, signatures, definitions and steps alike.  TIP files declare their
own copy of each function, sometimes under another name (isaplanner's ``len`` is prod's
``length``): both read ``fe242dc1``, so what the proxy learned about one is what it reads about
the other, and a lemma step learned on one theory is the same text on the other.  Only
definitions decide the name (no held-out information); a function whose fingerprint is shared
by another function of the same theory keeps its own name (the renaming stays a bijection).
"""

from __future__ import annotations

import re
from collections import Counter
from functools import lru_cache

_TOKEN = re.compile(r"\|[^|]*\||[^\s()|]+|[()]|\s+|\|")


def rename_tokens(text: str, mapping: dict[str, str]) -> str:
    """Replace every whole symbol token of ``text`` that is a key of ``mapping``."""
    if not mapping:
        return text
    return "".join(mapping.get(t, t) for t in _TOKEN.findall(text))


def canonical_names(goal) -> dict[str, str]:
    """Goal variable name -> canonical name (``v0, v1, ...``), skipping canonical names that
    are already symbols of the goal's theory or other names in the goal; and each defined
    function's printed symbol -> its fingerprint name (:func:`function_names`)."""
    out = variable_names(goal)
    used = set(out.values())
    for k, v in function_names(goal.theory).items():
        if k not in out and v not in used:
            out[k] = v
    return out


@lru_cache(maxsize=64)
def _function_names(theory) -> tuple:
    from ..logic.printer import quote
    from .candidates import _fingerprints

    fps = _fingerprints(theory)
    counts = Counter(fps.values())
    taken = _theory_names(theory)
    out = []
    for name, h in sorted(fps.items()):
        canon = "f" + h[:7]
        if counts[h] == 1 and canon not in taken:
            out.append((quote(name), canon))
    return tuple(out)


def function_names(theory) -> dict[str, str]:
    """Printed symbol of each defined function -> ``f`` + its definition fingerprint's first
    7 hex digits (functions with a fingerprint unique in the theory)."""
    try:
        return dict(_function_names(theory))
    except TypeError:  # an unhashable theory (a test double): no function renaming
        return {}


def variable_names(goal) -> dict[str, str]:
    """Goal variable name -> ``v0, v1, ...`` (see :func:`canonical_names`)."""
    from ..logic.ast import all_var_names

    names: list[str] = []
    for v in (*_forall_order(goal), *goal.fixed):
        if v.name not in names:
            names.append(v.name)
    taken = _theory_names(goal.theory) | (all_var_names(goal.concl) - set(names))
    for h in goal.hyps:
        taken |= all_var_names(h) - set(names)
    out, i = {}, 0
    for n in names:
        while f"v{i}" in taken:
            i += 1
        out[n] = f"v{i}"
        i += 1
    return out


def _forall_order(goal) -> list:
    """The conclusion's quantified variables, the overseer's induction order first (datatype
    variables by how often a recursive function matches on them,
    :func:`ida_ns.prover.overseer.induction_order`), then the others in order.  ``v0`` is
    then the variable H would induct on first: what the proxy learns about ``induct v0``
    carries that analysis, and where it learns otherwise it says so by naming another."""
    fa = list(goal.forall_vars)
    try:
        from ..prover.overseer import induction_order

        first = induction_order(goal)
    except Exception:  # noqa: BLE001 - a goal H cannot analyse keeps the written order
        first = []
    return first + [v for v in fa if v not in first]


def _theory_names(theory) -> set[str]:
    out = set(theory.sorts)
    for dt in theory.all_datatypes():
        out.add(dt.name)
        for c in dt.ctors:
            out.add(c.name)
            out.update(s for s, _ in c.fields)
    out.update(f.name for f in theory.funs)
    out.update(d.name for d in theory.all_defs())
    return out


def inverse(mapping: dict[str, str]) -> dict[str, str]:
    return {v: k for k, v in mapping.items()}
