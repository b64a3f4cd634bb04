"""Symbol table of a theory: what each first-order symbol name is and its signature."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from .ast import BUILTINS, Constructor, Datatype, Sort, Theory, tester_name

# Symbol kinds
CTOR, SELECTOR, TESTER, DEFINED, DECLARED, BUILTIN = (
    "ctor", "selector", "tester", "defined", "declared", "builtin")


@dataclass(frozen=True)
class SymbolInfo:
    name: str
    kind: str
    params: tuple[Sort, ...]
    ret: Sort
    datatype: str | None = None  # owning datatype for ctor/selector/tester
    ctor: str | None = None  # owning constructor for selector/tester


class SymbolTable:
    """Lookups over a theory.  Build with :func:`symbol_table` (cached per theory)."""

    def __init__(self, theory: Theory):
        self.theory = theory
        self.infos: dict[str, SymbolInfo] = {}
        self.datatypes: dict[str, Datatype] = {}
        self.ctors: dict[str, Constructor] = {}
        for dt in theory.all_datatypes():
            self.datatypes[dt.name] = dt
            for c in dt.ctors:
                self.ctors[c.name] = c
                self.infos[c.name] = SymbolInfo(
                    c.name, CTOR, tuple(s for _, s in c.fields), dt.sort, dt.name, c.name)
                self.infos[tester_name(c.name)] = SymbolInfo(
                    tester_name(c.name), TESTER, (dt.sort,), Sort("Bool"), dt.name, c.name)
                for sel, s in c.fields:
                    self.infos[sel] = SymbolInfo(sel, SELECTOR, (dt.sort,), s, dt.name, c.name)
        for f in theory.funs:
            self.infos[f.name] = SymbolInfo(f.name, DECLARED, f.params, f.ret)
        for d in theory.all_defs():
            self.infos[d.name] = SymbolInfo(
                d.name, DEFINED, tuple(v.sort for v in d.params), d.ret)

    def info(self, name: str) -> SymbolInfo | None:
        return self.infos.get(name)

    def kind(self, name: str) -> str | None:
        if name in self.infos:
            return self.infos[name].kind
        if name in BUILTINS:
            return BUILTIN
        return None

    def datatype_of(self, sort: Sort) -> Datatype | None:
        return self.datatypes.get(sort.name) if not sort.args else None

    def ctor_datatype(self, ctor: str) -> Datatype:
        return self.datatypes[self.infos[ctor].datatype]

    def is_recursive_field(self, dt: Datatype, sort: Sort) -> bool:
        """Whether a field of this sort belongs to dt's mutually recursive group."""
        for group in self.theory.datatypes:
            names = {d.name for d in group}
            if dt.name in names:
                return sort.name in names and not sort.args
        return False


@lru_cache(maxsize=256)
def symbol_table(theory: Theory) -> SymbolTable:
    return SymbolTable(theory)
