"""Semantic measures: termination whose decrease needs a proof.

When size-change termination fails, a group may still terminate by a measure such as the length
of a list argument (quicksort through ``filter``, merge sort bottom-up through pairing, nubBy
through filter, selection sort through delete-minimum).  Here:

* ``len_D`` is a fresh recursive function counting the recursive constructor nodes of a value
  of datatype ``D`` (structural, so trivially terminating and non-negative);
* candidate measures: ``len`` of the i-th argument (when every member has a datatype there) and
  the sum of ``len`` over all datatype arguments;
* each call yields an obligation ``forall vars. path => M(args) < M(params)`` stated over the
  parameters' known shapes (match patterns, let definitions), with lambda terms generalised to
  variables (the measure does not depend on them);
* obligations are proved by ida-ns's prover over a theory holding only the groups already shown
  terminating plus ``len_D`` — never the group being defined.  Helper lemmas of the shape
  ``len (h .. x ..) <= len x`` for the functions in the arguments are proved first and then
  available as axioms (they follow from the same definitions).
"""

from __future__ import annotations

import time
from dataclasses import replace

from .gate_calls import CallSite, group_calls
from .logic.ast import (
    BOOL, INT, App, FunDef, IntLit, Lambda, Match, MatchCase, PatCon, Quant, Term, Theory, Var,
    and_, free_vars, implies, subterms, substitute,
)
from .logic.symbols import DEFINED, SymbolTable


def len_name(dt: str, table: SymbolTable) -> str:
    base = f"gate-len-{dt}"
    name = base
    k = 0
    while table.kind(name) is not None:
        k += 1
        name = f"{base}-{k}"
    return name


def len_def(dt, name: str) -> FunDef:
    x = Var("x", dt.sort)
    cases = []
    for c in dt.ctors:
        vs = tuple(Var(f"y{k}", s) for k, (_, s) in enumerate(c.fields))
        rec = [App(name, (v,), INT) for v in vs if v.sort == dt.sort]
        body = IntLit(0) if not rec else App("+", (IntLit(1), *rec), INT)
        cases.append(MatchCase(PatCon(c.name, vs), body))
    return FunDef(name, (x,), INT, Match(x, tuple(cases), INT), True)


def _resolve(t: Term, values: dict[Var, Term]) -> Term:
    for _ in range(64):
        fv = free_vars(t) & values.keys()
        if not fv:
            return t
        t = substitute(t, {v: values[v] for v in fv})
    return t


def _generalise_lambdas(t: Term, lams: dict[Term, Var]) -> Term:
    found = [s for s in subterms(t) if isinstance(s, Lambda)]
    sub_t = t
    for lam in found:
        if lam not in lams:
            lams[lam] = Var(f"fn'{len(lams)}", lam.sort)
    from .logic.ast import replace_subterm

    for lam, v in lams.items():
        sub_t = replace_subterm(sub_t, lam, v)
    return sub_t


def _close(t: Term) -> Term:
    fv = sorted(free_vars(t), key=lambda v: v.name)
    return Quant("forall", tuple(fv), t) if fv else t


class SemanticMeasures:
    def __init__(self, discharger, max_obligations: int = 12):
        self.discharger = discharger
        self.max_obligations = max_obligations

    def semantic(self, group, terminating, theory: Theory, table: SymbolTable, deadline: float):
        from .logic.printer import print_term
        from .termination import TerminationResult

        if time.perf_counter() > deadline:
            return None
        try:
            calls = group_calls(group, table)
        except Exception:
            return None
        if not calls or len(calls) > self.max_obligations:
            return None
        names = {f.name for f in group}
        ok_funs = {f.name for g in terminating for f in g}
        last = None
        for cand in candidates(group, table):
            th, lens = obligation_theory(theory, terminating, group, table, cand)
            if th is None:
                continue
            obls = []
            for c in calls:
                f = obligation(c, cand, group, lens, table)
                if f is None or _uses(f, names) or not _only(f, ok_funs | set(lens.values()),
                                                               table):
                    obls = None
                    break
                obls.append(f)
            if obls is None:
                continue
            lemmas = helper_lemmas(obls, lens, table, ok_funs)
            proved_lemmas, lemma_ev = [], []
            for lm in lemmas:
                d = self.discharger.prove(th, lm, deadline)
                if _DEBUG:
                    print("gate lemma", print_term(lm), d.reason or "proved")
                if d.proof is not None:
                    proved_lemmas.append(lm)
                    lemma_ev.append({"formula": print_term(lm), "proof": d.proof})
            th2 = replace(th, axioms=tuple(proved_lemmas))
            ev_obls = []
            failed = None
            for c, f in zip(calls, obls):
                d = self.discharger.prove(th2, f, deadline)
                if d.proof is None:
                    failed = (c, f, d.reason)
                    break
                ev_obls.append({"call": c.index, "caller": c.caller, "proof": d.proof})
            if failed is None:
                ev = {"method": "semantic", "measure": list(cand), "lemmas": lemma_ev,
                      "obligations": ev_obls}
                return TerminationResult(True, f"semantic({describe(cand, group)})",
                                         group[0].name, ev)
            if time.perf_counter() > deadline:
                return TerminationResult(False, "unknown: budget (semantic measures)",
                                         group[0].name, budget=True)
            last = failed
        if last is None:
            return None
        c, f, why = last
        return TerminationResult(False, f"obligation not proved for {c.describe()}: "
                                 f"{_short(print_term(f))} ({why})", group[0].name)


_DEBUG = bool(__import__("os").environ.get("IDA_NS_GATE_DEBUG"))


def _short(s: str, n: int = 200) -> str:
    return s if len(s) <= n else s[:n - 3] + "..."


def _uses(t: Term, names) -> bool:
    return any(isinstance(s, App) and s.fn in names for s in subterms(t))


def _only(t: Term, allowed: set, table: SymbolTable) -> bool:
    return all(not (isinstance(s, App) and table.kind(s.fn) == DEFINED and s.fn not in allowed)
               for s in subterms(t))


def candidates(group, table: SymbolTable):
    n = min(len(f.params) for f in group)
    out = []
    for i in range(n):
        if all(table.datatype_of(f.params[i].sort) is not None for f in group):
            out.append(("len", i))
    if all(sum(1 for p in f.params if table.datatype_of(p.sort) is not None) >= 2
           for f in group):
        out.append(("sum",))
    return out


def describe(cand, group) -> str:
    if cand[0] == "len":
        return f"len({group[0].params[cand[1]].name})"
    return "sum of len of the datatype arguments"


def obligation_theory(theory: Theory, terminating, group, table: SymbolTable, cand):
    dts = {}
    for f in group:
        idx = [cand[1]] if cand[0] == "len" else [
            i for i, p in enumerate(f.params) if table.datatype_of(p.sort) is not None]
        for i in idx:
            dt = table.datatype_of(f.params[i].sort)
            if dt is None:
                return None, {}
            dts[dt.name] = dt
    lens = {name: len_name(name, table) for name in sorted(dts)}
    defs = tuple(terminating) + tuple((len_def(dts[n], lens[n]),) for n in sorted(dts))
    return replace(theory, defs=defs, axioms=()), lens


def _measure(f: FunDef, terms, cand, lens, table):
    idx = [cand[1]] if cand[0] == "len" else [
        i for i, p in enumerate(f.params) if table.datatype_of(p.sort) is not None]
    parts = []
    for i in idx:
        if i >= len(terms):
            return None
        dt = table.datatype_of(f.params[i].sort)
        parts.append(App(lens[dt.name], (terms[i],), INT))
    return parts[0] if len(parts) == 1 else App("+", tuple(parts), INT)


def obligation(c: CallSite, cand, group, lens, table: SymbolTable) -> Term | None:
    defs = {f.name: f for f in group}
    values = dict(c.values)
    args = [_resolve(a, values) for a in c.args]
    params = [_resolve(p, values) for p in c.params]
    before = _measure(defs[c.caller], params, cand, lens, table)
    after = _measure(defs[c.callee], args, cand, lens, table)
    if before is None or after is None:
        return None
    hyps = [_resolve(h, values) for h in c.path]
    lams: dict = {}
    concl = _generalise_lambdas(App("<", (after, before), BOOL), lams)
    hyps = [_generalise_lambdas(h, lams) for h in hyps]
    body = implies(and_(*hyps), concl) if hyps else concl
    return _close(body)


def helper_lemmas(obls, lens, table: SymbolTable, ok_funs) -> list[Term]:
    """``len (h .. x ..) <= len x`` for every call of a terminating function ``h`` returning a
    measured datatype inside an obligation, for each argument ``x`` of the same datatype."""
    by_sort = {}
    for dt_name, ln in lens.items():
        by_sort[dt_name] = ln
    out: list[Term] = []
    seen = set()
    for f in obls:
        for s in subterms(f):
            if not (isinstance(s, App) and s.fn in ok_funs):
                continue
            ln = by_sort.get(s.sort.name) if not s.sort.args else None
            if ln is None:
                continue
            info = table.info(s.fn)
            fd = table.theory.fundef(s.fn)
            if info is None or fd is None:
                continue
            xs = tuple(Var(f"a'{j}", p.sort) for j, p in enumerate(fd.params))
            same = [k for k, ps in enumerate(fd.params) if ps.sort == s.sort]
            bounds = [App(ln, (xs[k],), INT) for k in same]
            if len(bounds) > 1:  # len (h x y) <= len x + len y (merging)
                bounds.append(App("+", tuple(bounds), INT))
            for b in bounds:
                lm = _close(App("<=", (App(ln, (App(s.fn, xs, s.sort),), INT), b), BOOL))
                if lm not in seen:
                    seen.add(lm)
                    out.append(lm)
    return out[:6]


def recheck_semantic(group, done, theory: Theory, table: SymbolTable, ev, prove_many,
                     timeout_s: float, provers=None) -> str | None:
    from .gate_prove import recheck_proof
    from .logic.parser import parse_term

    if prove_many is None:
        return "semantic measure evidence needs a solver to re-check"
    cand = tuple(ev.get("measure") or ())
    if cand not in candidates(group, table):
        return f"measure {list(cand)} is not a candidate for {group[0].name}"
    th, lens = obligation_theory(theory, done, group, table, cand)
    if th is None:
        return "no obligation theory"
    calls = group_calls(group, table)
    names = {f.name for f in group}
    lemmas = []
    for e in ev.get("lemmas", []):
        if not isinstance(e, dict) or not isinstance(e.get("formula"), str):
            return "bad lemma entry"
        try:
            lm = parse_term(e["formula"], th, {}, expected=BOOL, file="evidence lemma")
        except Exception as ex:
            return f"lemma does not parse: {ex}"
        why = recheck_proof(th, lm, e.get("proof"), prove_many, timeout_s, provers)
        if why is not None:
            return f"lemma {e['formula']}: {why}"
        lemmas.append(lm)
    th2 = replace(th, axioms=tuple(lemmas))
    obls = ev.get("obligations")
    if not isinstance(obls, list) or len(obls) != len(calls):
        return "one obligation proof per call is needed"
    for c, e in zip(calls, obls):
        f = obligation(c, cand, group, lens, table)
        if f is None or _uses(f, names):
            return f"no obligation for {c.describe()}"
        if not isinstance(e, dict):
            return "bad obligation entry"
        why = recheck_proof(th2, f, e.get("proof"), prove_many, timeout_s, provers)
        if why is not None:
            return f"obligation for {c.describe()}: {why}"
    return None
