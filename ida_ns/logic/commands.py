"""The command layer of the SMT-LIB/TIP front end: declarations, definitions, assertions.

Reads a file's top-level S-expressions into (possibly polymorphic) declarations over an
:class:`~ida_ns.logic.parser.Env`, then hands them to :mod:`ida_ns.logic.mono` to build the
monomorphic :class:`~ida_ns.logic.ast.Problem`.  Used through
:func:`ida_ns.logic.parser.parse_text`.
"""

from __future__ import annotations

from ..errors import SpecError, UnsupportedFeature
from .ast import BOOL, Problem, Sort, Term, tester_name
from .parser import (
    BUILTIN_SORTS, CTOR, DECLARED, DEFINED, FUN_SORT_NAMES, DatatypeDecl, Elaborator,
    Env, FunctionDecl, SortClash, SymSig, TyVar, sort_tyvars,
)
from .sexpr import NUMERAL, SYMBOL, Atom, SExpr, SList

IGNORED = frozenset({"set-logic", "set-info", "set-option", "exit", "get-model", "get-info",
                     "get-value", "get-assertions", "get-proof", "get-unsat-core", "echo"})


class CommandReader:
    """Processes commands in order; :meth:`read` returns the finished problem."""

    def __init__(self, file: str):
        self.file = file
        self.env = Env()
        self.symbol_names: set[str] = set()  # every symbol spelled anywhere in the file
        # binders that shadow a theory symbol get fresh names avoiding every symbol of the file
        self.el = Elaborator(self.env, file, avoid=self.symbol_names)
        self.decl_count = 0
        self.group_count = 0
        self.sort_order: list[str] = []
        self.datatypes: list[DatatypeDecl] = []
        self.functions: list[FunctionDecl] = []
        # (template formula, its type variables, location) in file order
        self.asserts: list[tuple[Term, tuple[str, ...], SExpr]] = []
        self.goals: list[tuple[Term, tuple[str, ...], SExpr]] = []

    def error(self, msg: str, sx: SExpr, cls=SpecError) -> SpecError:
        return self.el.error(msg, sx, cls)

    def read(self, sxs: list[SExpr]) -> Problem:
        from .mono import monomorphise

        self._collect_names(sxs)
        for sx in sxs:
            try:
                self.command(sx)
            except RecursionError:
                raise self.error("command nested too deeply to process", sx) from None
        return monomorphise(self)

    def _collect_names(self, sxs: list[SExpr]) -> None:
        stack = list(sxs)
        names = self.symbol_names
        while stack:
            x = stack.pop()
            if isinstance(x, SList):
                stack.extend(x.items)
            elif x.kind == SYMBOL:
                names.add(x.value)

    # ----------------------------------------------------------------------------------------
    def command(self, sx: SExpr) -> None:
        name = sx.head_symbol() if isinstance(sx, SList) else None
        if name is None:
            raise self.error("expected a command (a parenthesised list headed by a symbol)", sx)
        if name in IGNORED:
            return
        handler = _COMMANDS.get(name)
        if handler is None:
            if name in ("push", "pop", "reset", "check-sat-assuming", "declare-codatatypes",
                        "define-sort", "define-funs", "assert-soft"):
                raise self.error(f"command {name} is not supported", sx[0], UnsupportedFeature)
            raise self.error(f"unknown command {name!r}", sx[0])
        handler(self, sx)

    def need(self, sx: SList, n: int, shape: str) -> None:
        if len(sx) != n:
            raise self.error(f"malformed {sx[0].value}: expected {shape}", sx)

    def new_name(self, sx: SExpr, what: str, sort_namespace: bool = False) -> str:
        name = self.el.check_binder_name(sx, what)
        if sort_namespace:
            if name in BUILTIN_SORTS or name in FUN_SORT_NAMES:
                raise self.error(f"{name!r} is a builtin sort and cannot be redeclared", sx)
            if name in self.env.sorts or name in self.env.datatypes:
                raise self.error(f"sort {name!r} is already declared", sx)
            return name
        if name in self.env.syms:
            raise self.error(f"symbol {name!r} is already declared", sx)
        if name.startswith("is-") and name[3:] in self.env.syms \
                and self.env.syms[name[3:]].kind == CTOR:
            raise self.error(f"{name!r} clashes with the tester of constructor {name[3:]}", sx)
        return name

    def par(self, sx: SExpr) -> tuple[tuple[str, ...], SExpr | None]:
        """Split ``(par (a ...) X)`` into its type variables and X; else ((), None)."""
        if isinstance(sx, SList) and sx.head_symbol() == "par":
            if len(sx) != 3 or not isinstance(sx[1], SList):
                raise self.error("malformed par: expected (par (a ...) ...)", sx)
            tvs = []
            for a in sx[1]:
                n = self.el.check_binder_name(a, "type variable")
                if n in tvs:
                    raise self.error(f"type variable {n!r} is bound twice", a)
                tvs.append(n)
            if not tvs:
                raise self.error("par binds no type variables", sx[1])
            return tuple(tvs), sx[2]
        return (), None

    # sorts and datatypes --------------------------------------------------------------------
    def declare_sort(self, sx: SList) -> None:
        if len(sx) not in (2, 3):
            raise self.error("malformed declare-sort: expected (declare-sort name arity)", sx)
        name = self.new_name(sx[1], "sort", sort_namespace=True)
        arity = 0
        if len(sx) == 3:
            if not (isinstance(sx[2], Atom) and sx[2].kind == NUMERAL):
                raise self.error("sort arity must be a numeral", sx[2])
            arity = sx[2].value
        if arity != 0:
            raise self.error("sorts with parameters are not supported", sx[2], UnsupportedFeature)
        self.env.sorts[name] = 0
        self.sort_order.append(name)

    def declare_datatype(self, sx: SList) -> None:
        self.need(sx, 3, "(declare-datatype name (ctor ...))")
        name = self.new_name(sx[1], "datatype", sort_namespace=True)
        tvs, body = self.par(sx[2])
        self.datatype_group([(name, tvs, body if body is not None else sx[2], sx[1])])

    def declare_datatypes(self, sx: SList) -> None:
        self.need(sx, 3, "(declare-datatypes ((name arity) ...) (decl ...))")
        heads, decls = sx[1], sx[2]
        if not isinstance(heads, SList) or not isinstance(decls, SList):
            raise self.error("malformed declare-datatypes", sx)
        if all(isinstance(h, Atom) for h in heads):  # SMT-LIB 2.5: (declare-datatypes (a) (...))
            tvs = tuple(self.el.check_binder_name(h, "type variable") for h in heads)
            group = []
            for d in decls:
                if not isinstance(d, SList) or not d.items:
                    raise self.error("expected (name ctor ...)", d)
                group.append((self.new_name(d[0], "datatype", True), tvs,
                              SList(d.items[1:], d.line, d.col), d))
            return self.datatype_group(group)
        if len(heads) != len(decls):
            raise self.error(f"{len(heads)} datatype names but {len(decls)} declarations", sx)
        group = []
        seen: set[str] = set()
        for h, d in zip(heads, decls):
            if not isinstance(h, SList) or len(h) != 2 or not (
                    isinstance(h[1], Atom) and h[1].kind == NUMERAL):
                raise self.error("expected (name arity)", h)
            name = self.new_name(h[0], "datatype", sort_namespace=True)
            if name in seen:
                raise self.error(f"datatype {name!r} is declared twice", h[0])
            seen.add(name)
            tvs, body = self.par(d)
            if len(tvs) != h[1].value:
                raise self.error(f"datatype {name} has arity {h[1].value} but "
                                 f"{len(tvs)} type parameter(s)", d)
            group.append((name, tvs, body if body is not None else d, h[0]))
        self.datatype_group(group)

    def datatype_group(self, group: list[tuple[str, tuple[str, ...], SExpr, SExpr]]) -> None:
        gid = self._next_group()
        decls = []
        for name, tvs, _, loc in group:  # names first: the group may be mutually recursive
            d = DatatypeDecl(name, tvs, [], gid, self._next_index(), loc)
            self.env.datatypes[name] = d
            decls.append(d)
        for d, (_, tvs, body, _) in zip(decls, group):
            if not isinstance(body, SList) or not body.items:
                raise self.error(f"datatype {d.name} needs at least one constructor", body)
            tv = frozenset(tvs)
            for c in body:
                if isinstance(c, Atom):  # a bare nullary constructor
                    c = SList([c], c.line, c.col)
                if not isinstance(c, SList) or not c.items:
                    raise self.error("expected a constructor (name (selector sort) ...)", c)
                cname = self.new_name(c[0], "constructor")
                if any(cname == x for x, _ in d.ctors) or any(
                        cname == x for o in decls for x, _ in o.ctors):
                    raise self.error(f"constructor {cname!r} is declared twice", c[0])
                fields = []
                for f in c.items[1:]:
                    if not isinstance(f, SList) or len(f) != 2:
                        raise self.error("expected a (selector sort) field", f)
                    sel = self.new_name(f[0], "selector")
                    if any(sel == s for _, fs in d.ctors for s, _ in fs) or any(
                            sel == s for s, _ in fields):
                        raise self.error(f"selector {sel!r} is declared twice", f[0])
                    fields.append((sel, self.el.sort(f[1], tv)))
                d.ctors.append((cname, fields))
                names = [cname, tester_name(cname), *(s for s, _ in fields)]
                for n in names:
                    if n in self.env.syms or names.count(n) > 1:
                        raise self.error(f"symbol {n!r} is declared twice", c)
                self.env.add_datatype_symbols(DatatypeDecl(d.name, d.tvars, [(cname, fields)]))
        self._check_inhabited(decls)
        self.datatypes.extend(decls)

    def _check_inhabited(self, decls: list[DatatypeDecl]) -> None:
        names = {d.name for d in decls}
        ok: set[str] = set()

        def inhabited(s: Sort) -> bool:
            if s.name in names and not isinstance(s, TyVar):
                return s.name in ok
            if s.is_function:
                return inhabited(s.codomain)
            return True

        changed = True
        while changed:
            changed = False
            for d in decls:
                if d.name not in ok and any(all(inhabited(s) for _, s in fs) for _, fs in d.ctors):
                    ok.add(d.name)
                    changed = True
        for d in decls:
            if d.name not in ok:
                raise self.error(f"datatype {d.name} is empty: every constructor needs a value "
                                 f"of a recursive sort (add a base case)", d.loc)

    # functions ------------------------------------------------------------------------------
    def declare_fun(self, sx: SList) -> None:
        # (declare-fun f (S ...) R) | (declare-fun f (par (a ...) ((S ...) R)))
        if len(sx) == 3:
            tvs, body = self.par(sx[2])
            if body is None or not isinstance(body, SList) or len(body) != 2:
                raise self.error("malformed declare-fun", sx)
            params_sx, ret_sx = body[0], body[1]
        else:
            self.need(sx, 4, "(declare-fun name (sort ...) sort)")
            tvs, params_sx, ret_sx = (), sx[2], sx[3]
        name = self.new_name(sx[1], "function")
        if not isinstance(params_sx, SList):
            raise self.error("expected a list of parameter sorts", params_sx)
        tv = frozenset(tvs)
        params = tuple(self.el.sort(p, tv) for p in params_sx)
        self._add_declared(name, tvs, params, self.el.sort(ret_sx, tv), sx)

    def declare_const(self, sx: SList) -> None:
        # (declare-const c S) | (declare-const c (par (a ...) S))
        self.need(sx, 3, "(declare-const name sort)")
        name = self.new_name(sx[1], "constant")
        tvs, body = self.par(sx[2])
        s = body if body is not None else sx[2]
        if tvs and isinstance(s, SList) and len(s) == 1:
            s = s[0]
        self._add_declared(name, tvs, (), self.el.sort(s, frozenset(tvs)), sx)

    def _add_declared(self, name, tvs, params, ret, sx) -> None:
        self._check_tyvars_determined(name, tvs, params, ret, sx)
        f = FunctionDecl(name, tvs, params, ret, None, False, self._next_group(),
                         self._next_index(), sx)
        self.env.syms[name] = SymSig(name, DECLARED, tvs, params, ret, name)
        self.env.functions[name] = f
        self.functions.append(f)

    def _check_tyvars_determined(self, name, tvs, params, ret, sx) -> None:
        used: set[str] = set()
        for s in (*params, ret):
            sort_tyvars(s, used)
        unused = [a for a in tvs if a not in used]
        if unused:
            raise self.error(f"type variable {unused[0]} of {name} occurs in neither its "
                             f"parameters nor its result", sx, UnsupportedFeature)

    def _signature(self, sx_name: SExpr, tvs: tuple[str, ...], params_sx: SExpr,
                   ret_sx: SExpr, where: SExpr, group: frozenset[str] = frozenset()):
        """Name, type variables, parameters, result sort and the parameters' source names of
        a definition.  A parameter named like a theory symbol, the function itself or another
        function of its group (``group``) is renamed (its body would print ambiguously)."""
        name = self.new_name(sx_name, "function")
        tv = frozenset(tvs)
        binders = self.el.sorted_binders(params_sx, tv, "parameter", where, group | {name})
        params = tuple(v for _, v in binders)
        ret = self.el.sort(ret_sx, tv)
        self._check_tyvars_determined(name, tvs, [v.sort for v in params], ret, where)
        source = tuple(n for n, _ in binders)
        return name, tvs, params, ret, (source if source != tuple(v.name for v in params)
                                        else None)

    def define_fun(self, sx: SList, recursive: bool = False) -> None:
        if len(sx) not in (4, 5):
            raise self.error(f"malformed {sx[0].value}: expected (name ((x sort) ...) sort body)",
                             sx)
        if len(sx) == 5:  # name (params) ret body
            name, tvs, params, ret, source = self._signature(sx[1], (), sx[2], sx[3], sx)
        else:  # name (par (a ...) ((params) ret)) body
            tvs, inner = self.par(sx[2])
            if inner is None or not isinstance(inner, SList) or len(inner) != 2:
                raise self.error("malformed function signature", sx)
            name, tvs, params, ret, source = self._signature(sx[1], tvs, inner[0], inner[1],
                                                             sx)
        f = FunctionDecl(name, tvs, params, ret, None, recursive, self._next_group(),
                         self._next_index(), sx, source_names=source)
        sig = SymSig(name, DEFINED, tvs, tuple(v.sort for v in params), ret, name)
        if recursive:
            self.env.syms[name] = sig
        self._set_body(f, sx[-1])
        self.env.syms[name] = sig
        self.env.functions[name] = f
        self.functions.append(f)

    def define_fun_rec(self, sx: SList) -> None:
        self.define_fun(sx, recursive=True)

    def define_funs_rec(self, sx: SList) -> None:
        self.need(sx, 3, "(define-funs-rec ((name ((x sort) ...) sort) ...) (body ...))")
        decls, bodies = sx[1], sx[2]
        if not isinstance(decls, SList) or not isinstance(bodies, SList) or not decls.items:
            raise self.error("malformed define-funs-rec", sx)
        if len(decls) != len(bodies):
            raise self.error(f"{len(decls)} signatures but {len(bodies)} bodies", sx)
        gid = self._next_group()
        group = frozenset(_signature_name(d) for d in decls) - {None}
        fs = []
        for d in decls:
            if isinstance(d, SList) and d.head_symbol() == "par":
                tvs, inner = self.par(d)
                if not isinstance(inner, SList) or len(inner) != 3:
                    raise self.error("malformed signature in define-funs-rec", d)
                name, tvs, params, ret, source = self._signature(inner[0], tvs, inner[1],
                                                                 inner[2], d, group)
            elif isinstance(d, SList) and len(d) == 3:
                name, tvs, params, ret, source = self._signature(d[0], (), d[1], d[2], d,
                                                                 group)
            elif isinstance(d, SList) and len(d) == 2 and isinstance(d[1], SList) \
                    and d[1].head_symbol() == "par":
                # TIP's form: (name (par (a ...) (((x sort) ...) ret)))
                tvs, inner = self.par(d[1])
                if not isinstance(inner, SList) or len(inner) != 2:
                    raise self.error("malformed signature in define-funs-rec: expected "
                                     "(name (par (a ...) (((x sort) ...) sort)))", d)
                name, tvs, params, ret, source = self._signature(d[0], tvs, inner[0],
                                                                 inner[1], d, group)
            else:
                raise self.error("malformed signature in define-funs-rec", d)
            if any(f.name == name for f in fs):
                raise self.error(f"function {name!r} is defined twice", d)
            f = FunctionDecl(name, tvs, params, ret, None, True, gid, self._next_index(), d,
                             source_names=source)
            self.env.syms[name] = SymSig(name, DEFINED, tvs, tuple(v.sort for v in params), ret,
                                         name)
            self.env.functions[name] = f
            fs.append(f)
        for f, b in zip(fs, bodies):
            self._set_body(f, b)
        self.functions.extend(fs)

    def _set_body(self, f: FunctionDecl, sx: SExpr) -> None:
        scope = f.param_scope()
        try:
            t = self.el.term(sx, scope, frozenset(f.tvars), f.ret)
            f.body = self.el.expect(t, f.ret, sx)
        except SortClash:
            if not f.tvars:
                raise
            f.body_sx = sx  # sort-checks only at some instances: elaborated per instance

    # assertions and goals -------------------------------------------------------------------
    def formula(self, sx: SList) -> tuple[Term, tuple[str, ...], SExpr]:
        self.need(sx, 2, f"({sx[0].value} formula)")
        tvs, body = self.par(sx[1])
        f_sx = body if body is not None else sx[1]
        t = self.el.term(f_sx, {}, frozenset(tvs), BOOL)
        return self.el.expect(t, BOOL, f_sx), tvs, sx

    def assert_(self, sx: SList) -> None:
        self.asserts.append(self.formula(sx))

    def prove(self, sx: SList) -> None:
        self.goals.append(self.formula(sx))

    def check_sat(self, sx: SList) -> None:
        if len(sx) != 1:
            raise self.error("check-sat takes no arguments", sx)

    # ----------------------------------------------------------------------------------------
    def _next_index(self) -> int:
        self.decl_count += 1
        return self.decl_count

    def _next_group(self) -> int:
        self.group_count += 1
        return self.group_count


_COMMANDS = {
    "declare-sort": CommandReader.declare_sort,
    "declare-datatype": CommandReader.declare_datatype,
    "declare-datatypes": CommandReader.declare_datatypes,
    "declare-fun": CommandReader.declare_fun,
    "declare-const": CommandReader.declare_const,
    "define-fun": CommandReader.define_fun,
    "define-fun-rec": CommandReader.define_fun_rec,
    "define-funs-rec": CommandReader.define_funs_rec,
    "assert": CommandReader.assert_,
    "assert-not": CommandReader.prove,
    "prove": CommandReader.prove,
    "check-sat": CommandReader.check_sat,
}


def _signature_name(d: SExpr) -> str | None:
    """The function name of a define-funs-rec signature (plain or ``par``), if it has one."""
    if isinstance(d, SList) and d.head_symbol() == "par" and len(d) == 3:
        d = d[2]
    if isinstance(d, SList) and d.items and isinstance(d[0], Atom) and d[0].kind == SYMBOL:
        return d[0].value
    return None
