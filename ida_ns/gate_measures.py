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
  terminating plus ``len_D`` (and ``spine_k_D``, ``elem_D``) — never the group being defined.
  Helper lemmas are proved first and then available as axioms (they follow from the same
  definitions): ``0 <= M x`` for each measure function, ``len (h .. x ..) <= len x`` for the
  functions in the arguments, and membership lemmas for deleting functions
  (``elem a x => len (h a x) < len x`` and the call's instance ``elem t s``);
* when no single candidate decreases on every call, :meth:`SemanticMeasures.semantic_sct` runs
  size-change termination over all candidates at once (``spine_k`` follows the ``k``-th
  recursive field: the left spine of a tree), each edge ``M -> M`` strict or weak by a proved
  obligation; the evidence (method ``semantic-sct``) is re-checked edge by edge.
"""

from __future__ import annotations

import time
from dataclasses import replace

from .gate_calls import CallSite, group_calls
from .logic.ast import (
    BOOL, FALSE, INT, App, FunDef, IntLit, Lambda, Match, MatchCase, PatCon, Quant, Term,
    Theory, Var,
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


def spine_name(dt: str, k: int, table: SymbolTable) -> str:
    base = f"gate-spine{k}-{dt}"
    name = base
    j = 0
    while table.kind(name) is not None:
        j += 1
        name = f"{base}-{j}"
    return name


def _rec_fields(dt, ctor) -> list[int]:
    return [j for j, (_, s) in enumerate(ctor.fields) if s == dt.sort]


def spine_def(dt, name: str, k: int) -> FunDef:
    """The length of the path that follows the ``k``-th recursive field of each node (a node
    without one counts 1 and stops there; a constructor without recursive fields counts 0).
    For a binary tree, ``spine0`` is the length of the left spine.  Structural, so terminating
    and non-negative."""
    x = Var("x", dt.sort)
    cases = []
    for c in dt.ctors:
        vs = tuple(Var(f"y{j}", s) for j, (_, s) in enumerate(c.fields))
        rec = _rec_fields(dt, c)
        if not rec:
            body = IntLit(0)
        elif len(rec) > k:
            body = App("+", (IntLit(1), App(name, (vs[rec[k]],), INT)), INT)
        else:
            body = IntLit(1)
        cases.append(MatchCase(PatCon(c.name, vs), body))
    return FunDef(name, (x,), INT, Match(x, tuple(cases), INT), True)


MAX_ELEM_SORTS = 2  # element sorts per datatype that get a membership function


def elem_sorts(dt) -> list:
    """The sorts of ``dt``'s non-recursive fields, in order of first appearance."""
    out = []
    for c in dt.ctors:
        for _, srt in c.fields:
            if srt != dt.sort and srt not in out:
                out.append(srt)
    return out[:MAX_ELEM_SORTS]


def elem_def(dt, name: str, esort) -> FunDef:
    """Membership: ``elem(e, x)`` holds iff some node of ``x`` has a field of sort ``esort``
    equal to ``e``.  Structural, so terminating."""
    e = Var("e", esort)
    x = Var("x", dt.sort)
    cases = []
    for c in dt.ctors:
        vs = tuple(Var(f"y{j}", srt) for j, (_, srt) in enumerate(c.fields))
        parts = [App("=", (e, v), BOOL) for v in vs if v.sort == esort] + \
            [App(name, (e, v), BOOL) for v in vs if v.sort == dt.sort]
        body = FALSE if not parts else parts[0] if len(parts) == 1 else App("or", tuple(parts),
                                                                           BOOL)
        cases.append(MatchCase(PatCon(c.name, vs), body))
    return FunDef(name, (e, x), BOOL, Match(x, tuple(cases), BOOL), True)


def _fresh_name(base: str, table: SymbolTable) -> str:
    name = base
    j = 0
    while table.kind(name) is not None:
        j += 1
        name = f"{base}-{j}"
    return name


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
        memo: dict = {}  # lemma proofs, shared by the candidates (keyed by theory and formula)
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
            proved_lemmas, lemma_ev = self._prove_lemmas(th, lemmas, deadline, memo)
            th2 = replace(th, axioms=tuple(proved_lemmas))
            ev_obls = []
            failed = None
            for c, f in zip(calls, obls):
                d = self.discharger.prove(th2, f, deadline, axioms_are_lemmas=True)
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
        r = self.semantic_sct(group, calls, terminating, theory, table, deadline, ok_funs,
                              names, memo)
        if r is not None and (r.terminating or r.budget):
            return r
        if last is None:
            return r
        c, f, why = last
        return TerminationResult(False, f"obligation not proved for {c.describe()}: "
                                 f"{_short(print_term(f))} ({why})", group[0].name)


    def _by_induction(self, th: Theory, lm: Term, table=None):
        """A structural induction with direct leaves on the one variable of a lemma ``forall x.
        0 <= M x`` (the non-negativity of a measure function), re-checked; None if it is
        not of that shape or does not check."""
        from .gate_prove import Discharged, recheck_proof
        from .logic.symbols import symbol_table

        if not (isinstance(lm, Quant) and len(lm.vars) == 1 and isinstance(lm.body, App)
                and lm.body.fn == "<=" and lm.body.args[0] == IntLit(0)):
            return None
        dt = symbol_table(th).datatype_of(lm.vars[0].sort)
        if dt is None or self.discharger.prove_many is None:
            return None
        leaf = {"step": "direct", "solver": self.discharger.solver, "children": []}
        proof = {"step": f"induct {lm.vars[0].name}", "children": [leaf] * len(dt.ctors)}
        if recheck_proof(th, lm, proof, self.discharger.prove_many, 1.0,
                         self.discharger.provers) is not None:
            return None
        return Discharged(proof)

    def _prove_lemmas(self, th: Theory, lemmas, deadline: float, memo: dict):
        """The helper lemmas proved (each over ``th``, with no other lemma), with their
        evidence; a conditional lemma whose conclusion is already proved is skipped."""
        from .logic.printer import print_term

        proved, ev = [], []
        for lm in lemmas:
            hyp, concl = _split_obligation(lm)
            if hyp is not None and _close(concl) in proved:
                continue  # implied by the unconditional one
            key = (th, lm)
            d = memo.get(key)
            if d is None:
                d = self._by_induction(th, lm, table=None)
            if d is None:
                d = memo[key] = self.discharger.prove(th, lm, deadline)
                if _DEBUG:
                    print("gate lemma", print_term(lm)[:200], d.reason or "proved")
            if d.proof is not None:
                proved.append(lm)
                ev.append({"formula": print_term(lm), "proof": d.proof})
        return proved, ev

    def semantic_sct(self, group, calls, terminating, theory, table, deadline, ok_funs,
                     names, memo=None):
        """Size-change termination over several semantic measures at once: for each call and
        each candidate measure ``M``, an edge ``M -> M`` that is strict when
        ``M(args) < M(params)`` is proved, weak when ``M(args) <= M(params)`` is; then the
        size-change criterion over those graphs (lexicographic orders such as (number of
        nodes, length of the left spine) for flattening by rotation).  Every measure is a
        non-negative integer function defined structurally, so strict decrease is well
        founded; every edge's obligation is proved over the terminating part only."""
        from .gate_calls import EQUAL, STRICT
        from .logic.printer import print_term
        from .termination import TerminationResult, _norm, sct_check

        cands = sct_candidates(group, table)
        if not cands or time.perf_counter() > deadline:
            return None
        th, lens = obligation_theory(theory, terminating, group, table, cands, several=True)
        if th is None:
            return None
        allowed = ok_funs | set(lens.values())
        obls: dict = {}
        for ci, cand in enumerate(cands):
            for k, c in enumerate(calls):
                for strict in (True, False):
                    f = obligation(c, cand, group, lens, table, strict)
                    if f is not None and not _uses(f, names) and _only(f, allowed, table):
                        obls[ci, k, strict] = f
        if not obls:
            return None
        lemmas = helper_lemmas([f for key, f in obls.items() if key[2]], lens, table, ok_funs)
        proved_lemmas, lemma_ev = self._prove_lemmas(th, lemmas, deadline,
                                                     {} if memo is None else memo)
        th2 = replace(th, axioms=tuple(proved_lemmas))
        graphs, ev_calls = [], []
        proved: dict = {}

        def edge(ci: int, k: int, strict: bool):
            if (ci, k, strict) not in proved:
                f = obls.get((ci, k, strict))
                d = None if f is None else self.discharger.prove(
                    th2, f, deadline, per_obligation_s=1.5, max_nodes=24,
                    axioms_are_lemmas=True)
                if _DEBUG and f is not None:
                    print("gate sct edge", ci, k, strict, print_term(f)[:160],
                          d.reason or "proved")
                proved[ci, k, strict] = None if d is None else d.proof
            return proved[ci, k, strict]

        if len(group) == 1:
            # one function: each call's graph is its own idempotent power, so every call
            # needs a strict edge; look for those first and stop at a call that has none
            for k, c in enumerate(calls):
                if time.perf_counter() > deadline:
                    return TerminationResult(False, "unknown: budget (semantic measures)",
                                             group[0].name, budget=True)
                if not any(edge(ci, k, True) is not None for ci in range(len(cands))):
                    shown = ", ".join(describe(cd, group) for cd in cands)
                    return TerminationResult(False, f"no semantic measure ({shown}) is shown "
                                             f"to decrease on {c.describe()}", group[0].name)
        for k, c in enumerate(calls):
            edges, proofs = [], []
            for ci in range(len(cands)):
                for strict in (True, False):
                    if time.perf_counter() > deadline:
                        return TerminationResult(False, "unknown: budget (semantic measures)",
                                                 group[0].name, budget=True)
                    pr = edge(ci, k, strict)
                    if pr is not None:
                        edges.append((ci, ci, STRICT if strict else EQUAL))
                        proofs.append(pr)
                        break
            if not edges:
                shown = ", ".join(describe(cd, group) for cd in cands)
                return TerminationResult(False, f"no semantic measure ({shown}) is shown not "
                                         f"to grow on {c.describe()}", group[0].name)
            graphs.append((c.caller, c.callee, _norm(edges)))
            ev_calls.append({"call": c.index, "caller": c.caller, "callee": c.callee,
                             "edges": [list(e) for e in edges], "proofs": proofs})
        ok, bad, why = sct_check(graphs, deadline)
        if why == "budget":
            return TerminationResult(False, "unknown: budget (semantic measures)",
                                     group[0].name, budget=True)
        if not ok:
            return TerminationResult(False, f"semantic measures "
                                     f"({', '.join(describe(cd, group) for cd in cands)}): "
                                     f"{why} for {bad or group[0].name}", group[0].name)
        used = sorted({a for _, _, G in graphs for a, b, r in G if r == STRICT})
        ev = {"method": "semantic-sct", "measures": [list(cd) for cd in cands],
              "lemmas": lemma_ev, "calls": ev_calls}
        return TerminationResult(True, "semantic size-change(" + ", ".join(
            describe(cands[a], group) for a in used) + ")", group[0].name, ev)


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


MAX_SCT_CANDIDATES = 6


def sct_candidates(group, table: SymbolTable):
    """Measures for size-change termination over semantic measures: the single candidates,
    then the spines of datatype arguments whose nodes have two or more recursive fields
    (``spine_k`` of argument ``i``)."""
    out = list(candidates(group, table))
    n = min(len(f.params) for f in group)
    for i in range(n):
        dts = [table.datatype_of(f.params[i].sort) for f in group]
        if any(d is None for d in dts) or len({d.name for d in dts}) != 1:
            continue
        width = max(len(_rec_fields(dts[0], c)) for c in dts[0].ctors)
        if width < 2:
            continue  # one recursive field: the spine is len
        out.extend(("spine", i, k) for k in range(width))
    return out[:MAX_SCT_CANDIDATES]


def describe(cand, group) -> str:
    if cand[0] == "len":
        return f"len({group[0].params[cand[1]].name})"
    if cand[0] == "spine":
        return f"spine{cand[2]}({group[0].params[cand[1]].name})"
    return "sum of len of the datatype arguments"


def obligation_theory(theory: Theory, terminating, group, table: SymbolTable, cand,
                      several: bool = False):
    """The theory obligations are proved in: the groups already shown terminating plus the
    measure functions of ``cand`` (or of each candidate in the list ``cand`` when
    ``several``), and the map from measure keys (a datatype name for its ``len``;
    ``(datatype, k)`` for its ``spine_k``) to their names."""
    cands = list(cand) if several else [cand]
    dts = {}
    spines = {}
    for cd in cands:
        for f in group:
            idx = [cd[1]] if cd[0] in ("len", "spine") else [
                i for i, p in enumerate(f.params) if table.datatype_of(p.sort) is not None]
            for i in idx:
                if i >= len(f.params):
                    return None, {}
                dt = table.datatype_of(f.params[i].sort)
                if dt is None:
                    return None, {}
                if cd[0] == "spine":
                    spines[(dt.name, cd[2])] = dt
                else:
                    dts[dt.name] = dt
    lens: dict = {name: len_name(name, table) for name in sorted(dts)}
    defs = tuple(terminating) + tuple((len_def(dts[n], lens[n]),) for n in sorted(dts))
    for key in sorted(spines):
        lens[key] = spine_name(key[0], key[1], table)
        defs += ((spine_def(spines[key], lens[key], key[1]),),)
    for n in sorted(dts):  # membership, for conditional lemmas ("elem a x => len (h a x) < ..")
        for k, esort in enumerate(elem_sorts(dts[n])):
            key = ("elem", n, k)
            lens[key] = _fresh_name(f"gate-elem{k}-{n}", table)
            defs += ((elem_def(dts[n], lens[key], esort),),)
    return replace(theory, defs=defs, axioms=()), lens


def _measure(f: FunDef, terms, cand, lens, table):
    idx = [cand[1]] if cand[0] in ("len", "spine") else [
        i for i, p in enumerate(f.params) if table.datatype_of(p.sort) is not None]
    parts = []
    for i in idx:
        if i >= len(terms) or i >= len(f.params):
            return None
        dt = table.datatype_of(f.params[i].sort)
        if dt is None:
            return None
        key = (dt.name, cand[2]) if cand[0] == "spine" else dt.name
        if key not in lens:
            return None
        parts.append(App(lens[key], (terms[i],), INT))
    return parts[0] if len(parts) == 1 else App("+", tuple(parts), INT)


def obligation(c: CallSite, cand, group, lens, table: SymbolTable, strict: bool = True
               ) -> Term | None:
    """``forall vars. path => M(args) < M(params)`` (``<=`` when not ``strict``)."""
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
    concl = _generalise_lambdas(App("<" if strict else "<=", (after, before), BOOL), lams)
    hyps = [_generalise_lambdas(h, lams) for h in hyps]
    body = implies(and_(*hyps), concl) if hyps else concl
    return _close(body)


def helper_lemmas(obls, lens, table: SymbolTable, ok_funs) -> list[Term]:
    """``len (h .. x ..) <= len x`` for every call of a terminating function ``h`` returning a
    measured datatype inside an obligation, for each argument ``x`` of the same datatype."""
    by_sort = {}
    for dt_name, ln in lens.items():
        if isinstance(dt_name, str):  # len functions (spines have (datatype, k) keys)
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
    return nonneg_lemmas(obls, lens) + out[:6] + \
        membership_lemmas(obls, lens, table, ok_funs)[:MAX_MEMBERSHIP_LEMMAS]


def nonneg_lemmas(obls, lens) -> list[Term]:
    """``forall x. 0 <= M x`` for each measure function ``M`` the obligations use (true by
    construction, but solvers do not know it without induction: ``len Leaf < len (Node Leaf
    x c)`` needs ``0 <= len c``)."""
    from .logic.ast import IntLit

    used = set()
    for f in obls:
        used |= {s for s in subterms(f) if isinstance(s, App) and len(s.args) == 1
                 and s.sort == INT}
    names = {v for k, v in lens.items() if not (isinstance(k, tuple) and k[0] == "elem")}
    out, seen = [], set()
    for s in sorted(used, key=lambda a: a.fn):
        if s.fn in names and s.fn not in seen:
            seen.add(s.fn)
            x = Var("a'0", s.args[0].sort)
            out.append(_close(App("<=", (IntLit(0), App(s.fn, (x,), INT)), BOOL)))
    return out


MAX_MEMBERSHIP_LEMMAS = 4


def _split_obligation(f: Term) -> tuple[Term | None, Term]:
    """(hypothesis or None, conclusion) of ``forall vs. H => C`` / ``forall vs. C``."""
    body = f.body if isinstance(f, Quant) else f
    if isinstance(body, App) and body.fn == "=>" and len(body.args) == 2:
        return body.args[0], body.args[1]
    return None, body


def membership_lemmas(obls, lens, table: SymbolTable, ok_funs) -> list[Term]:
    """Conditional lemmas for a strict decrease through a deleting function ``h``: where an
    obligation measures ``len (h .. t .. s ..)`` with ``t`` of an element sort of ``s``'s
    datatype, ``elem a x => len (h .. a .. x ..) < len x`` (the function removes a member)
    and the membership instance ``elem t s`` (its free variables generalised; under the
    obligation's hypotheses when needed).  Each is proved like any helper lemma, over the
    terminating part only, before it is used."""
    lens_of = {k: v for k, v in lens.items() if isinstance(k, str)}
    elems = {(k[1], k[2]): v for k, v in lens.items() if isinstance(k, tuple) and len(k) == 3
             and k[0] == "elem"}
    out: list[Term] = []
    seen: set = set()

    def add(t: Term) -> None:
        if t not in seen:
            seen.add(t)
            out.append(t)

    for f in obls:
        hyp, concl = _split_obligation(f)
        if not (isinstance(concl, App) and concl.fn == "<"):
            continue
        for s in subterms(concl):
            if not (isinstance(s, App) and len(s.args) == 1 and isinstance(s.args[0], App)
                    and s.args[0].fn in ok_funs):
                continue
            u = s.args[0]
            dname = u.sort.name if not u.sort.args else None
            if dname is None or lens_of.get(dname) != s.fn:
                continue
            dt = table.datatype_of(u.sort)
            fd = table.theory.fundef(u.fn)
            if dt is None or fd is None or len(fd.params) != len(u.args):
                continue
            xs = tuple(Var(f"a'{j}", p.sort) for j, p in enumerate(fd.params))
            ln = s.fn
            for k, esort in enumerate(elem_sorts(dt)):
                el = elems.get((dname, k))
                if el is None:
                    continue
                for pd, par in enumerate(fd.params):
                    if par.sort != u.sort:
                        continue
                    for pe, pare in enumerate(fd.params):
                        if pare.sort != esort:
                            continue
                        add(_close(implies(
                            App(el, (xs[pe], xs[pd]), BOOL),
                            App("<", (App(ln, (App(u.fn, xs, u.sort),), INT),
                                      App(ln, (xs[pd],), INT)), BOOL))))
                        t, c = u.args[pe], u.args[pd]
                        if isinstance(t, Var):
                            continue  # an arbitrary value is not a member
                        atom = App(el, (t, c), BOOL)
                        add(_close(atom))
                        if hyp is not None:
                            add(_close(implies(hyp, atom)))
    return out


def _recheck_lemmas(th: Theory, ev, prove_many, timeout_s: float, provers):
    """The obligation theory with the evidence's helper lemmas as axioms, each re-proved from
    its proof over ``th``; or the reason one does not re-check."""
    from .gate_prove import recheck_proof
    from .logic.parser import parse_term

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
    return replace(th, axioms=tuple(lemmas))


def _recheck_setting(group, done, theory: Theory, table: SymbolTable, cands, several: bool,
                     ev, prove_many, timeout_s: float, provers):
    """What both semantic re-checks start from: the obligation theory of ``cands`` with the
    evidence's lemmas re-proved as axioms, the measures' length functions, the group's calls
    and its function names; or the reason there is none."""
    th, lens = obligation_theory(theory, done, group, table, cands, several=several)
    if th is None:
        return "no obligation theory"
    th2 = _recheck_lemmas(th, ev, prove_many, timeout_s, provers)
    if isinstance(th2, str):
        return th2
    return th2, lens, group_calls(group, table), {f.name for f in group}


def recheck_semantic(group, done, theory: Theory, table: SymbolTable, ev, prove_many,
                     timeout_s: float, provers=None) -> str | None:
    from .gate_prove import recheck_proof

    if prove_many is None:
        return "semantic measure evidence needs a solver to re-check"
    cand = tuple(ev.get("measure") or ())
    if cand not in candidates(group, table):
        return f"measure {list(cand)} is not a candidate for {group[0].name}"
    setting = _recheck_setting(group, done, theory, table, cand, False, ev, prove_many,
                               timeout_s, provers)
    if isinstance(setting, str):
        return setting
    th2, lens, calls, names = setting
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


def recheck_semantic_sct(group, done, theory: Theory, table: SymbolTable, ev, prove_many,
                         timeout_s: float, provers=None) -> str | None:
    """None if ``ev`` (method ``semantic-sct``) shows that ``group`` terminates: the measures
    are candidates, every lemma and every claimed edge's obligation is re-proved from its
    proof, and the size-change criterion holds on the re-checked graphs."""
    from .gate_calls import EQUAL, STRICT
    from .gate_prove import recheck_proof
    from .termination import _norm, sct_check

    if prove_many is None:
        return "semantic measure evidence needs a solver to re-check"
    raw = ev.get("measures")
    allowed = sct_candidates(group, table)
    if not isinstance(raw, list) or not raw:
        return "no measures"
    cands = []
    for m in raw:
        if not isinstance(m, list) or tuple(m) not in allowed or tuple(m) in cands:
            return f"measure {m!r} is not a candidate for {group[0].name}"
        cands.append(tuple(m))
    setting = _recheck_setting(group, done, theory, table, cands, True, ev, prove_many,
                               timeout_s, provers)
    if isinstance(setting, str):
        return setting
    th2, lens, calls, names = setting
    claimed = ev.get("calls")
    if not isinstance(claimed, list) or len(claimed) != len(calls):
        return "one entry per call is needed"
    graphs = []
    for c, e in zip(calls, claimed):
        if not isinstance(e, dict) or e.get("caller") != c.caller or \
                e.get("callee") != c.callee:
            return f"evidence does not match {c.describe()}"
        edges, proofs = e.get("edges"), e.get("proofs")
        if not isinstance(edges, list) or not isinstance(proofs, list) or \
                len(edges) != len(proofs):
            return f"one proof per edge is needed for {c.describe()}"
        checked = []
        for edge, proof in zip(edges, proofs):
            if not (isinstance(edge, list) and len(edge) == 3 and all(
                    type(x) is int for x in edge)):
                return f"bad edge {edge!r}"
            a, b, r = edge
            if a != b or not (0 <= a < len(cands)) or r not in (STRICT, EQUAL):
                return f"bad edge {edge!r}"
            f = obligation(c, cands[a], group, lens, table, r == STRICT)
            if f is None or _uses(f, names):
                return f"no obligation for {c.describe()}"
            why = recheck_proof(th2, f, proof, prove_many, timeout_s, provers)
            if why is not None:
                return f"edge {edge} of {c.describe()}: {why}"
            checked.append((a, b, r))
        graphs.append((c.caller, c.callee, _norm(checked)))
    ok, bad, why = sct_check(graphs, time.perf_counter() + 60.0)
    if not ok:
        return f"size-change check fails for {bad or group[0].name}: {why}"
    return None
