"""S-expression reader for SMT-LIB 2.6 / TIP text, with a source location on every node.

The reader is iterative (no Python recursion), so deeply nested input never overflows the
stack; callers may still bound the nesting depth with ``max_depth``.

>>> [str(x) for x in read_sexprs("(assert (> x 1)) ; comment\\n(check-sat)")]
['(assert (> x 1))', '(check-sat)']
>>> read_sexprs("|a b| :k 42")[0].value
'a b'
"""

from __future__ import annotations

from .bignum import decimal_to_int

import re
from bisect import bisect_right
from typing import Union

from ..errors import SpecError

# Atom kinds
SYMBOL, NUMERAL, DECIMAL, HEXADECIMAL, BINARY, STRING, KEYWORD = (
    "symbol", "numeral", "decimal", "hexadecimal", "binary", "string", "keyword")

SIMPLE_SYMBOL_CHARS = r"A-Za-z0-9~!@$%^&*_\-+=<>.?/"
_SIMPLE_SYMBOL_RE = re.compile(rf"[A-Za-z~!@$%^&*_\-+=<>.?/][{SIMPLE_SYMBOL_CHARS}]*\Z")

_TOKEN_RE = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<comment>;[^\n]*)
  | (?P<lpar>\()
  | (?P<rpar>\))
  | (?P<string>"(?:[^"]|"")*")
  | (?P<qsym>\|[^|\\]*\|)
  | (?P<keyword>:[""" + SIMPLE_SYMBOL_CHARS + r"""]+)
  | (?P<hex>\#x[0-9a-fA-F]+)
  | (?P<bin>\#b[01]+)
  | (?P<decimal>[0-9]+\.[0-9]+)
  | (?P<numeral>[0-9]+)
  | (?P<symbol>[A-Za-z~!@$%^&*_\-+=<>.?/][""" + SIMPLE_SYMBOL_CHARS + r"""]*)
    """,
    re.VERBOSE,
)
_DELIMITER = re.compile(r"[\s();\"|]|\Z")
# What a quoted symbol may not contain besides | and \: SMT-LIB allows printable characters
# and whitespace only.  Control characters other than tab/LF/CR (a NUL truncates solver
# symbol names), DEL, C1 controls, and lone surrogates (not encodable as UTF-8).
_BAD_IN_QUOTED = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


class Atom:
    """A token other than a parenthesis.  ``value`` is the symbol's name (without ``|...|``),
    the numeral's int, the string's contents, or the keyword including its colon."""

    __slots__ = ("kind", "value", "text", "line", "col", "quoted")

    def __init__(self, kind: str, value, text: str, line: int, col: int, quoted: bool = False):
        self.kind = kind
        self.value = value
        self.text = text
        self.line = line
        self.col = col
        self.quoted = quoted

    def is_symbol(self, name: str | None = None) -> bool:
        """An unquoted symbol (optionally a given one): how reserved words are recognised."""
        return self.kind == SYMBOL and not self.quoted and (name is None or self.value == name)

    def __repr__(self) -> str:
        return f"Atom({self.text!r} @{self.line}:{self.col})"

    def __str__(self) -> str:
        return self.text


class SList:
    """A parenthesised list; ``line``/``col`` locate its opening parenthesis."""

    __slots__ = ("items", "line", "col")

    def __init__(self, items: list, line: int, col: int):
        self.items = items
        self.line = line
        self.col = col

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, i):
        return self.items[i]

    def __iter__(self):
        return iter(self.items)

    @property
    def text(self) -> str:
        """A short rendering for error messages."""
        s = str(self)
        return s if len(s) <= 60 else s[:57] + "..."

    def head_symbol(self) -> str | None:
        """The name of an unquoted symbol in head position, else None."""
        if self.items and isinstance(self.items[0], Atom) and self.items[0].is_symbol():
            return self.items[0].value
        return None

    def __repr__(self) -> str:
        return f"SList({self.text!r} @{self.line}:{self.col})"

    def __str__(self) -> str:  # iterative, for deep lists
        out: list[str] = []
        stack: list = [self]
        while stack:
            x = stack.pop()
            if isinstance(x, str):
                out.append(x)
            elif isinstance(x, Atom):
                out.append(x.text)
            else:
                out.append("(")
                stack.append(")")
                for i in range(len(x.items) - 1, -1, -1):
                    stack.append(x.items[i])
                    if i:
                        stack.append(" ")
        return "".join(out)


SExpr = Union[Atom, SList]


def is_simple_symbol(name: str) -> bool:
    return bool(_SIMPLE_SYMBOL_RE.match(name))


class _Lines:
    def __init__(self, text: str):
        self.starts = [0] + [m.end() for m in re.finditer("\n", text)]

    def loc(self, pos: int) -> tuple[int, int]:
        i = bisect_right(self.starts, pos) - 1
        return i + 1, pos - self.starts[i] + 1


def read_sexprs(text: str, file: str = "<input>", max_depth: int | None = None) -> list[SExpr]:
    """Read every S-expression in ``text``.

    Raises :class:`SpecError` with file:line:col and the token for invalid characters,
    control characters or lone surrogates inside a quoted symbol, unterminated strings or
    quoted symbols, a stray ``)`` (located at the ``)``), an unclosed
    ``(`` (located where that list opened), or nesting deeper than ``max_depth``.
    """
    lines = _Lines(text)
    top: list[SExpr] = []
    stack: list[SList] = []
    pos, n = 0, len(text)
    match = _TOKEN_RE.match
    while pos < n:
        m = match(text, pos)
        if m is None:
            line, col = lines.loc(pos)
            ch = text[pos]
            if ch == '"':
                raise SpecError("unterminated string literal", file, line, col, text[pos:pos + 20])
            if ch == "|":
                raise SpecError("unterminated quoted symbol", file, line, col, text[pos:pos + 20])
            raise SpecError(f"invalid character {ch!r}", file, line, col, ch)
        kind = m.lastgroup
        end = m.end()
        if kind == "ws" or kind == "comment":
            pos = end
            continue
        line, col = lines.loc(pos)
        if kind == "lpar":
            if max_depth is not None and len(stack) >= max_depth:
                raise SpecError(f"nesting deeper than {max_depth} levels is not supported",
                                file, line, col, "(")
            lst = SList([], line, col)
            (stack[-1].items if stack else top).append(lst)
            stack.append(lst)
        elif kind == "rpar":
            if not stack:
                raise SpecError("unbalanced parentheses: unexpected ')' with no open '('",
                                file, line, col, ")")
            stack.pop()
        else:
            tok = m.group()
            if kind in ("numeral", "decimal", "hex", "bin", "keyword", "symbol") \
                    and not _DELIMITER.match(text, end):
                bad = re.match(r"[^\s();]+", text[pos:]).group()
                raise SpecError(f"invalid token {bad!r}", file, line, col, bad)
            if kind == "symbol":
                atom = Atom(SYMBOL, tok, tok, line, col)
            elif kind == "qsym":
                bad = _BAD_IN_QUOTED.search(tok)
                if bad is not None:
                    bline, bcol = lines.loc(pos + bad.start())
                    ch = bad.group()
                    raise SpecError(
                        f"character U+{ord(ch):04X} is not allowed in a quoted symbol (SMT-LIB "
                        f"allows printable characters and whitespace only)", file, bline, bcol,
                        tok.encode("unicode_escape").decode("ascii"))
                atom = Atom(SYMBOL, tok[1:-1], tok, line, col, quoted=True)
            elif kind == "numeral":
                if len(tok) > 1 and tok[0] == "0":
                    raise SpecError("numeral with a leading zero", file, line, col, tok)
                atom = Atom(NUMERAL, decimal_to_int(tok), tok, line, col)
            elif kind == "string":
                atom = Atom(STRING, tok[1:-1].replace('""', '"'), tok, line, col)
            elif kind == "keyword":
                atom = Atom(KEYWORD, tok, tok, line, col)
            elif kind == "decimal":
                atom = Atom(DECIMAL, tok, tok, line, col)
            elif kind == "hex":
                atom = Atom(HEXADECIMAL, int(tok[2:], 16), tok, line, col)
            else:
                atom = Atom(BINARY, int(tok[2:], 2), tok, line, col)
            (stack[-1].items if stack else top).append(atom)
        pos = end
    if stack:
        inner = stack[-1]
        extra = ""
        if len(stack) > 1:
            outer = stack[0]
            extra = f"; the enclosing list opened at {outer.line}:{outer.col} is unclosed too"
        raise SpecError(f"unbalanced parentheses: '(' is never closed{extra}",
                        file, inner.line, inner.col, _head_text(inner))
    return top


def _head_text(lst: SList) -> str:
    h = lst.items[0] if lst.items else None
    return "(" + (h.text if isinstance(h, Atom) else "")
