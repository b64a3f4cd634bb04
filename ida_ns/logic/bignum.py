"""Integers of any size as data: decimal conversion without Python's int/str digit limit, and
short renderings for messages.

Python 3.11+ refuses ``int(s)`` and ``str(n)`` beyond ``sys.get_int_max_str_digits()`` digits
(4,300 by default) to stop quadratic-time conversions on untrusted input.  ida-ns parses
numerals and prints values that may legitimately be that large, so conversion goes through
:func:`int_to_decimal` / :func:`decimal_to_int`, which split the work into pieces below the
limit (divide and conquer, so the cost stays sub-quadratic) and never touch the global
setting.  How large a value may get is bounded elsewhere (the evaluator's size bound, the
command's budget), not here.

>>> n = 7 ** 20000
>>> decimal_to_int(int_to_decimal(n)) == n
True
>>> abbreviate(10 ** 100)
'100000000000000000000000000000…0000000000 (101 digits)'
"""

from __future__ import annotations

_SAFE = 4000  # digits converted by one int()/str() call (below every default limit)
_POW10: dict[int, int] = {}


def _pow10(k: int) -> int:
    p = _POW10.get(k)
    if p is None:
        p = _POW10[k] = 10 ** k
        if len(_POW10) > 64:
            _POW10.pop(next(iter(_POW10)))
    return p


def int_to_decimal(n: int) -> str:
    """``str(n)`` for an int of any size."""
    if n < 0:
        return "-" + int_to_decimal(-n)
    if n.bit_length() <= _SAFE * 3:  # < 10**3612 digits: one call is safe
        return str(n)
    return _digits(n, _digit_estimate(n))


def _digit_estimate(n: int) -> int:
    return int(n.bit_length() * 0.30103) + 1  # >= the number of decimal digits


def _digits(n: int, width: int) -> str:
    """Decimal digits of ``0 <= n < 10**width``, without leading zeros."""
    if width <= _SAFE:
        return str(n)
    half = width // 2
    hi, lo = divmod(n, _pow10(half))
    if hi == 0:
        return _digits(lo, half)
    return _digits(hi, width - half) + _digits(lo, half).rjust(half, "0")


def decimal_to_int(s: str) -> int:
    """``int(s)`` for a decimal numeral of any length (optional sign, digits only)."""
    s = s.strip()
    if s[:1] in "+-" and s[:1]:
        v = decimal_to_int(s[1:])
        return -v if s[0] == "-" else v
    if not s or not s.isdigit() or not s.isascii():
        raise ValueError(f"not a decimal numeral: {abbreviate_text(s)}")
    return _parse(s)


def _parse(s: str) -> int:
    if len(s) <= _SAFE:
        return int(s)
    half = len(s) // 2
    return _parse(s[:-half]) * _pow10(half) + _parse(s[-half:])


def based_to_int(s: str, base: int) -> int:
    """``int(s, base)`` for base 2 or 16 (no digit limit applies to power-of-two bases)."""
    return int(s, base)


def abbreviate(n: int, keep: int = 30) -> str:
    """A decimal rendering fit for a message: long numbers keep their first ``keep`` and last
    10 digits and say how many digits there are.  Values over about a million digits are
    described by their bit length instead of being converted at all."""
    if n.bit_length() > 3_400_000:
        return f"<an integer of {n.bit_length()} bits>"
    return abbreviate_text(int_to_decimal(n), keep)


def abbreviate_numerals(text: str, keep: int = 30) -> str:
    """``text`` (a value, a term) with every long run of digits abbreviated, for messages.

    >>> abbreviate_numerals("(cons " + "7" * 100 + " nil)")
    '(cons 777777777777777777777777777777…7777777777 (100 digits) nil)'
    """
    import re

    return re.sub(r"\d{%d,}" % (keep + 21), lambda m: abbreviate_text(m.group(), keep), text)


def abbreviate_text(text: str, keep: int = 30) -> str:
    digits = text.lstrip("-")
    if len(digits) <= keep + 20:
        return text
    sign = "-" if text.startswith("-") else ""
    return f"{sign}{digits[:keep]}…{digits[-10:]} ({len(digits)} digits)"
