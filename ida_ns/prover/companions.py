"""Companion properties for induction over mutual and nested datatype blocks.

Induction on a ``Tree`` variable of a block ``{Tree, Forest}`` (or of a nested ``Tree`` whose
``(list Tree)`` field monomorphisation turns into a block ``{Tree, list}``) needs a property of
the other sorts too: the one that gives hypotheses for ``Forest`` fields.  The heuristic here
derives it the way mutually recursive definitions suggest: translate the goal's property of
``x : Tree`` into one of ``z : Forest`` by replacing every function applied to (a term built
from) ``x`` by its partner on the other sort: the function of the same definition group (or
else of the theory) whose parameter sorts are those of the translated arguments, preferring
one whose result sort is the translated result sort (``size``/``sizes``,
``mirror``/``mirrors``).  ``=``, ``distinct`` and ``ite`` follow the sorts of their arguments;
anything else that would change sort (a constructor, a selector, a binder around ``x``) makes
the translation fail, and that sort gets no companion.

Only a proposal heuristic: whatever it returns is checked by the rule in
:mod:`ida_ns.prover.steps` (a wrong companion gives false subgoals, never a wrong proof).
"""

from __future__ import annotations

from ..logic.ast import BOOL, App, FunDef, Term, Theory, Var, forall, free_vars
from ..logic.symbols import DECLARED, DEFINED, symbol_table
from .goal import Goal
from .steps import MAX_COMPANIONS, _fresh, _induct_vars, split_forall

_POLY = ("=", "distinct", "ite")


def block_sorts(theory: Theory, sort) -> tuple:
    """The other sorts of the datatype group (mutual block) that declares ``sort``."""
    for group in theory.datatypes:
        names = [d.name for d in group]
        if sort.name in names and not sort.args:
            return tuple(d.sort for d in group if d.name != sort.name)
    return ()


def _partner(theory: Theory, f: str, arg_sorts: tuple, old_ret, new_ret):
    """The function standing for ``f`` at the argument sorts ``arg_sorts``."""
    group: tuple[FunDef, ...] = next((g for g in theory.defs if any(d.name == f for d in g)),
                                     ())
    pools = [[(d.name, tuple(p.sort for p in d.params), d.ret) for d in group]]
    rest = [(d.name, tuple(p.sort for p in d.params), d.ret) for d in theory.all_defs()
            if d not in group]
    rest += [(d.name, d.params, d.ret) for d in theory.funs]
    pools.append(rest)
    for pool in pools:
        cands = [(n, r) for n, ps, r in pool if n != f and ps == arg_sorts]
        if cands:
            best = [c for c in cands if c[1] == new_ret] or \
                [c for c in cands if c[1] == old_ret] or cands
            return best[0]
    return None


def translate(theory: Theory, t: Term, x: Var, z: Var) -> Term | None:
    """``t`` with ``x`` replaced by ``z`` (another sort) and every function on the way
    replaced by its partner; None when some subterm has no translation."""
    table = symbol_table(theory)

    def go(s: Term) -> Term | None:
        if x not in free_vars(s):
            return s
        if s == x:
            return z
        if not isinstance(s, App):
            return None  # x under a binder, a match, a lambda: no translation
        args = []
        for a in s.args:
            b = go(a)
            if b is None:
                return None
            args.append(b)
        args = tuple(args)
        if all(a.sort == b.sort for a, b in zip(s.args, args)):
            return App(s.fn, args, s.sort)
        if s.fn in _POLY:
            if s.fn == "ite":
                if args[1].sort != args[2].sort or args[0].sort != BOOL:
                    return None
                return App("ite", args, args[1].sort)
            if len({a.sort for a in args}) != 1:
                return None
            return App(s.fn, args, BOOL)
        if table.kind(s.fn) not in (DEFINED, DECLARED):
            return None
        new_ret = z.sort if s.sort == x.sort else s.sort
        p = _partner(theory, s.fn, tuple(a.sort for a in args), s.sort, new_ret)
        if p is None:
            return None
        return App(p[0], args, p[1])

    out = go(t)
    return out if out is not None and out.sort == BOOL else None


def companion_properties(goal: Goal, name: str) -> tuple[Term, ...]:
    """Companion properties for induction on ``name`` over its datatype block: one
    ``∀ z w̄. φ`` per other sort of the block that the goal's property translates to."""
    try:  # the variable in scope, of a datatype sort, reverted if fixed
        goal, (x,) = _induct_vars(goal, (name,), "companions")
    except Exception:
        return ()
    sorts = block_sorts(goal.theory, x.sort)
    if not sorts:
        return ()
    vs, body = split_forall(goal.concl)
    others = tuple(v for v in vs if v != x)
    supply = _fresh(goal)
    out = []
    for s in sorts:
        z = Var(supply.fresh(s.name[:1].lower() + "s"), s)
        t = translate(goal.theory, body, x, z)
        if t is None or t == body:
            continue
        used = free_vars(t)
        out.append(forall((z,) + tuple(v for v in others if v in used), t))
        if len(out) == MAX_COMPANIONS:
            break
    return tuple(out)


__all__ = ["block_sorts", "companion_properties", "translate"]
