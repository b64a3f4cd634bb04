"""Canonical variable names in the proxy's text (no torch; pure text over printed terms).

The proxy reads and writes goals with the goal's own variables renamed ``v0, v1, ...`` (fixed
variables first, then the conclusion's outer quantified ones, in order), so what it learned on
``(forall ((xs list)) ...)`` with ``induct xs`` transfers to ``(forall ((x list)) ...)`` and
``induct x``: both read ``induct v0``.  Definitions in the prompt keep their own names (they
are part of what a symbol means).  Renaming is token-wise (an SMT-LIB symbol between
parentheses and whitespace, ``|quoted|`` symbols whole) and one-pass, so it is a bijection on
the names it maps; the reverse map turns a canonical step back into the goal's names, and the
result is still only data for :func:`ida_ns.prover.steps.parse_step`.
"""

from __future__ import annotations

import re

_TOKEN = re.compile(r"\|[^|]*\||[^\s()|]+|[()]|\s+|\|")


def rename_tokens(text: str, mapping: dict[str, str]) -> str:
    """Replace every whole symbol token of ``text`` that is a key of ``mapping``."""
    if not mapping:
        return text
    return "".join(mapping.get(t, t) for t in _TOKEN.findall(text))


def canonical_names(goal) -> dict[str, str]:
    """Goal variable name -> canonical name (``v0, v1, ...``), skipping canonical names that
    are already symbols of the goal's theory or other names in the goal."""
    from ..logic.ast import all_var_names

    names: list[str] = []
    for v in (*goal.fixed, *goal.forall_vars):
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
