"""Hypothesis strategies drawn from a theory: values, Python values, terms and goals.

Every function checks its arguments when called (not when the strategy is first drawn from) and
raises :class:`~ida_ns.theory_args.InvalidArgument` naming the argument; a sort the theory does
not have gets the list of the sorts it does have.
"""

from __future__ import annotations

from collections.abc import Mapping

from hypothesis import strategies as st

from ..convert import Converter, TypeAdapter
from ..logic.ast import BOOL, Problem, Quant, Sort, Theory, Var
from ..logic.values import DEFAULT_DOMAIN_SIZE
from ..testing.values import _Builder, check_inhabited, shown
from ..theory_args import InvalidArgument, check_int, describe_sorts, resolve_sort, \
    resolve_theory

__all__ = ["values", "python_values", "arguments", "terms", "goals"]


def values(theory, sort, *, python: bool = False, domain_size: int = DEFAULT_DOMAIN_SIZE,
           max_int: int | None = None, types: Mapping[str, TypeAdapter] | None = None
           ) -> st.SearchStrategy:
    """Values of ``sort`` in ``theory``.

    ``theory``: a Theory, a Problem, or the path of an SMT-LIB/TIP file.  ``sort``: a Sort or
    its name (``"list"``, ``"Int"``, ``"(=> Nat Bool)"``).  Theory values (``python=False``)
    print as their SMT-LIB term, ``CtorVal<(cons 1 nil)>``; with ``python=True`` they are
    converted by :class:`~ida_ns.convert.Converter` (lists, ints, tuples, :class:`Data`) and
    print as Python values.  Shrinking goes toward the least constructors (``nil``, ``Z``)
    and toward 0.  ``domain_size``: elements of uninterpreted sorts (>= 1); ``max_int``: bound
    on integers (None: unbounded)."""
    th = resolve_theory(theory)
    s = resolve_sort(sort, th)
    check_int(domain_size, "domain_size", minimum=1)
    check_int(max_int, "max_int", minimum=0, allow_none=True)
    _check_bool(python, "python")
    check_inhabited(th, s)
    strat = _Builder(th, domain_size, max_int).strategy(s)
    if python:
        conv = Converter(th, _check_types(types, th))
        strat = strat.map(lambda v: conv._to_py(v, s))
    return shown(strat)


def python_values(theory, sort, **kw) -> st.SearchStrategy:
    """``values(theory, sort, python=True, **kw)``."""
    return values(theory, sort, python=True, **kw)


def arguments(theory, name: str, *, python: bool = True, **kw) -> st.SearchStrategy:
    """Tuples of arguments for the theory's defined or declared function ``name``."""
    th = resolve_theory(theory)
    params = _signature(th, name)
    return st.tuples(*(values(th, s, python=python, **kw) for s in params))


def _signature(th: Theory, name) -> tuple[Sort, ...]:
    if not isinstance(name, str):
        raise InvalidArgument(f"name={name!r} must be a function name (a string)")
    d = th.fundef(name)
    if d is not None:
        return tuple(v.sort for v in d.params)
    for f in th.funs:
        if f.name == name:
            return f.params
    names = sorted([d.name for d in th.all_defs()] + [f.name for f in th.funs])
    raise InvalidArgument(f"name={name!r} is not a function of the theory; its functions are: "
                          f"{', '.join(names) or '(none)'}")


def terms(theory, sort, *, variables=(), max_depth: int = 3, text: bool = False
          ) -> st.SearchStrategy:
    """Well-sorted terms of ``sort`` over the theory's symbols (constructors, selectors,
    testers, defined and declared functions, builtins, ``ite``/``let``/``match``/quantifiers)
    whose free variables are among ``variables`` (a mapping name -> sort, or Vars).  With
    ``text=True`` the terms come printed in SMT-LIB (TIP dialect).  For fuzzing tools."""
    from ..testing.ast_strategies import terms as ast_terms

    th = resolve_theory(theory)
    s = resolve_sort(sort, th)
    scope = _variables(variables, th)
    bare = _sorts_without_terms(th, scope)
    if bare:
        raise InvalidArgument(
            f"variables={variables!r}: the theory's uninterpreted sort(s) {', '.join(bare)} have "
            f"no constant, so terms need a variable of each: add one to variables, e.g. "
            f"{{'u': {bare[0]!r}}}")
    check_int(max_depth, "max_depth", minimum=0)
    _check_bool(text, "text")
    strat = ast_terms(th, s, scope, max_depth, prefix=_fresh_prefix(th, scope))
    return _printed(strat, th) if text else strat


def goals(theory, *, max_depth: int = 3, text: bool = False) -> st.SearchStrategy:
    """Problems over ``theory``: closed Bool formulas (usually universally quantified over a
    few variables), true or false, as :class:`~ida_ns.logic.ast.Problem` (or, with
    ``text=True``, the whole problem printed in SMT-LIB).  For fuzzing provers and checkers."""
    from ..testing.ast_strategies import ground_sorts, terms as ast_terms

    th = resolve_theory(theory)
    check_int(max_depth, "max_depth", minimum=0)
    _check_bool(text, "text")
    prefix = _fresh_prefix(th, ())
    sorts = [s for s in ground_sorts(th)]

    # uninterpreted sorts without a constant: always quantify over one element of each
    bare = tuple(Var(f"{prefix}u{i}", Sort(s))
                 for i, s in enumerate(_sorts_without_terms(th, ())))

    @st.composite
    def problem(draw):
        n = draw(st.integers(0, 2))
        vs = bare + tuple(Var(f"{prefix}x{i}", draw(st.sampled_from(sorts))) for i in range(n))
        body = draw(ast_terms(th, BOOL, vs, max_depth, prefix=prefix))
        return Problem(th, Quant("forall", vs, body) if vs else body, "<generated>")

    strat = problem()
    if text:
        from ..logic.printer import print_problem

        return strat.map(lambda p: print_problem(p, dialect="tip"))
    return strat


# --------------------------------------------------------------------------------------------


def _sorts_without_terms(th: Theory, scope) -> list[str]:
    """Uninterpreted sorts with no constant in the theory and no variable in ``scope``."""
    have = {f.ret.name for f in th.funs if not f.params} | {v.sort.name for v in scope}
    return [s for s in th.sorts if s not in have]


def _check_bool(value, argname: str) -> None:
    if not isinstance(value, bool):
        raise InvalidArgument(f"{argname}={value!r} must be True or False")


def _check_types(types, th: Theory):
    if types is None:
        return None
    if not isinstance(types, Mapping):
        raise InvalidArgument(f"types={types!r} must map datatype names to TypeAdapter")
    names = {dt.name for dt in th.all_datatypes()}
    for k, v in types.items():
        if k not in names:
            raise InvalidArgument(f"types key {k!r} is not a datatype of the theory; its "
                                  f"datatypes are: {', '.join(sorted(names)) or '(none)'}")
        if not isinstance(v, TypeAdapter):
            raise InvalidArgument(f"types[{k!r}]={v!r} must be a TypeAdapter")
    return types


def _variables(variables, th: Theory) -> tuple[Var, ...]:
    if isinstance(variables, Mapping):
        items = list(variables.items())
        out = []
        for name, s in items:
            if not isinstance(name, str) or not name:
                raise InvalidArgument(f"variables key {name!r} must be a non-empty name")
            out.append(Var(name, resolve_sort(s, th, f"variables[{name!r}]")))
        return tuple(out)
    if isinstance(variables, (str, bytes)):
        raise InvalidArgument(f"variables={variables!r} must be a mapping name -> sort or a "
                              f"sequence of Var")
    out = []
    try:
        seq = list(variables)
    except TypeError:
        raise InvalidArgument(f"variables={variables!r} must be a mapping name -> sort or a "
                              f"sequence of Var") from None
    for i, v in enumerate(seq):
        if not isinstance(v, Var):
            raise InvalidArgument(f"variables[{i}]={v!r} is not a Var (or pass a mapping name "
                                  f"-> sort)")
        resolve_sort(v.sort, th, f"variables[{i}].sort")
        out.append(v)
    return tuple(out)


def _fresh_prefix(th: Theory, scope) -> str:
    from ..logic.symbols import symbol_table

    names = set(symbol_table(th).infos) | {v.name for v in scope}
    prefix = "v"
    while any(n.startswith(prefix) for n in names):
        prefix = "_" + prefix
    return prefix


def _printed(strat: st.SearchStrategy, th: Theory) -> st.SearchStrategy:
    from ..logic.printer import print_term

    return strat.map(lambda t: print_term(t, theory=th))


__all__ += ["describe_sorts"]
