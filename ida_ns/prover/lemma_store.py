"""A lemma library that persists across the problems of one run (a bench over a TIP folder).

Each TIP problem comes with its own theory, but many share definitions (``++``, ``len``,
``count``, ...).  A lemma proved for one problem is kept here with its proof *script* (the step
texts, the solver that closed each leaf and the lemmas each leaf used), under a fingerprint of
everything its meaning depends on: the definitions of the functions it mentions (and of every
function those call, transitively), the datatypes and uninterpreted sorts and functions they
use.  A later problem whose theory has the same definitions for those symbols (and no axioms)
*replays* the script: every step is re-parsed and re-applied with the one rule
(:func:`ida_ns.prover.steps.apply_step`) and every leaf is closed again by its solver, so
nothing is trusted from the earlier problem; only the search for the lemma is saved.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass

from ..errors import IdaNsError
from ..logic.ast import BOOL, Sort, Term, Theory, subterms, symbols
from ..verdict import Proved
from .goal import Goal
from .proof import LemmaLibrary, ProofNode
from .steps import Direct, StepError, apply_step, parse_step, step_text


@dataclass(frozen=True)
class _Script:
    step: str
    solver: str
    uses: tuple[str, ...]  # printed lemma formulas a leaf used
    children: tuple["_Script", ...]


@dataclass(frozen=True)
class _Entry:
    fingerprint: str
    text: str  # printed lemma
    script: _Script
    symbols: frozenset[str]


def _sort_names(s: Sort, out: set[str]) -> None:
    out.add(s.name)
    for a in s.args:
        _sort_names(a, out)


def fingerprint(theory: Theory, names: frozenset[str]) -> str | None:
    """A hash of the definitions behind ``names`` (functions, transitively, with the sorts and
    datatypes they use); None when the theory has axioms (a lemma's validity could then rest on
    them) or a name is unknown."""
    if theory.axioms:
        return None
    defs = {d.name: d for d in theory.all_defs()}
    decls = {f.name: f for f in theory.funs}
    ctors = {c.name: dt for dt in theory.all_datatypes() for c in dt.ctors}
    dts = {dt.name: dt for dt in theory.all_datatypes()}
    parts: list[str] = []
    sorts: set[str] = set()
    seen: set[str] = set()
    todo = sorted(names)
    while todo:
        n = todo.pop()
        if n in seen:
            continue
        seen.add(n)
        if n in defs:
            d = defs[n]
            parts.append(repr(d))
            for p in d.params:
                _sort_names(p.sort, sorts)
            _sort_names(d.ret, sorts)
            for s in subterms(d.body):
                srt = getattr(s, "sort", None)
                if isinstance(srt, Sort):
                    _sort_names(srt, sorts)
            todo.extend(sorted(symbols(d.body) - seen))
        elif n in decls:
            parts.append(repr(decls[n]))
            for s in decls[n].params + (decls[n].ret,):
                _sort_names(s, sorts)
        elif n in ctors:
            sorts.add(ctors[n].name)
        elif n.startswith("is-") or n in ("=", "and", "or", "not", "=>", "ite", "distinct",
                                          "+", "-", "*", "<", "<=", ">", ">=", "div", "mod",
                                          "abs", "xor", "true", "false"):
            continue
        else:
            sel = [dt for dt in dts.values() for c in dt.ctors for f, _ in c.fields if f == n]
            if not sel:
                return None
            sorts.add(sel[0].name)
    done: set[str] = set()
    todo_s = sorted(sorts)
    while todo_s:
        s = todo_s.pop()
        if s in done:
            continue
        done.add(s)
        if s in dts:
            parts.append(repr(dts[s]))
            for c in dts[s].ctors:
                for _, fs in c.fields:
                    more: set[str] = set()
                    _sort_names(fs, more)
                    todo_s.extend(sorted(more - done))
        elif s in theory.sorts:
            parts.append("sort " + s)
    return hashlib.sha256("\n".join(sorted(parts)).encode("utf-8", "surrogatepass")).hexdigest()


def _script(node: ProofNode, printed: dict) -> _Script:
    uses = tuple(printed[l] for l in node.step.lemmas) if isinstance(node.step, Direct) else ()
    return _Script(step_text(node.step), node.solver, uses,
                   tuple(_script(c, printed) for c in node.children))


def _script_json(s: _Script) -> dict:
    return {"step": s.step, "solver": s.solver, "uses": list(s.uses),
            "children": [_script_json(c) for c in s.children]}


def _script_from(obj, depth: int = 0) -> _Script:
    """A script read back from a library file (untrusted: shapes are checked, and a replay
    re-derives and re-proves everything anyway)."""
    if depth > 64 or not isinstance(obj, dict):
        raise ValueError("malformed script")
    step, solver, uses = obj.get("step"), obj.get("solver"), obj.get("uses")
    kids = obj.get("children")
    if not (isinstance(step, str) and isinstance(solver, str) and isinstance(uses, list)
            and all(isinstance(u, str) for u in uses) and isinstance(kids, list)):
        raise ValueError("malformed script")
    return _Script(step, solver, tuple(uses), tuple(_script_from(k, depth + 1) for k in kids))


class LemmaStore:
    """Lemmas with proof scripts, across the problems of a run (see the module doc).

    With ``path`` the store is also a file (JSON Lines, one lemma a line, appended as lemmas
    are recorded): :meth:`load` reads what earlier problems of the run (other processes)
    left there.  The file is never evidence: a lemma read from it is only a script that
    :meth:`replay` re-derives step by step and whose every leaf a solver closes again in the
    consuming process; lines that do not parse are skipped."""

    def __init__(self, max_entries: int = 2000, path: str | None = None):
        self.entries: dict[tuple[str, str], _Entry] = {}
        self.max_entries = max_entries
        self.replayed = 0
        self.failed = 0
        self.path = path
        self.loaded = 0
        self.skipped = 0  # lines of the file that did not parse

    @classmethod
    def load(cls, path: str, max_entries: int = 2000) -> "LemmaStore":
        """The store kept in ``path`` (empty if the file does not exist yet)."""
        import json
        from pathlib import Path

        store = cls(max_entries, path=str(path))
        p = Path(path)
        if not p.exists():
            return store
        with open(p, encoding="utf-8", errors="replace") as f:
            for line in f:
                if len(store.entries) >= max_entries:
                    break
                try:
                    obj = json.loads(line)
                    e = _Entry(str(obj["fingerprint"]), str(obj["text"]),
                               _script_from(obj["script"]),
                               frozenset(str(x) for x in obj["symbols"]))
                except (ValueError, KeyError, TypeError):
                    store.skipped += 1
                    continue
                if (e.fingerprint, e.text) not in store.entries:
                    store.entries[(e.fingerprint, e.text)] = e
                    store.loaded += 1
        return store

    def _append(self, e: _Entry) -> None:
        import json

        from ..storage import append_line_durable

        if self.path is not None:
            append_line_durable(self.path, json.dumps(
                {"fingerprint": e.fingerprint, "text": e.text, "symbols": sorted(e.symbols),
                 "script": _script_json(e.script)}, sort_keys=True))

    def __len__(self) -> int:
        return len(self.entries)

    def record(self, theory: Theory, library: LemmaLibrary) -> int:
        """Keep every lemma of ``library`` (in the order proved, so that the lemmas a proof
        uses come first).  Returns how many were new."""
        from ..logic.printer import print_term

        printed = {l: print_term(l) for l in library.proofs}
        new = 0
        for l, proof in library.proofs.items():
            if len(self.entries) >= self.max_entries:
                break
            syms = frozenset(symbols(l))
            fp = fingerprint(theory, syms)
            if fp is None or (fp, printed[l]) in self.entries:
                continue
            try:
                script = _script(proof, printed)
            except KeyError:
                continue  # uses a lemma the library does not hold
            self.entries[(fp, printed[l])] = _Entry(fp, printed[l], script, syms)
            self._append(self.entries[(fp, printed[l])])
            new += 1
        return new

    def candidates(self, goal: Goal) -> list[_Entry]:
        """Stored lemmas whose definitions agree with ``goal``'s theory and whose symbols the
        goal can reach (as for :meth:`LemmaLibrary.relevant`), smallest first."""
        from .proof import _callee_closure, _interesting_symbols

        have = _callee_closure(goal.theory, _interesting_symbols(goal.concl, goal.theory))
        known = {d.name for d in goal.theory.all_defs()} | {f.name for f in goal.theory.funs}
        out = []
        fps: dict[frozenset, str | None] = {}
        for e in self.entries.values():
            defined = frozenset(s for s in e.symbols if s in known)
            if not defined or not defined <= have:
                continue
            if e.symbols not in fps:
                fps[e.symbols] = fingerprint(goal.theory, e.symbols)
            if fps[e.symbols] == e.fingerprint:
                out.append(e)
        out.sort(key=lambda e: len(e.text))
        return out

    def replay(self, goal: Goal, library: LemmaLibrary, close, deadline: float,
               max_lemmas: int = 12) -> int:
        """Re-prove stored lemmas relevant to ``goal`` by their scripts and add them to
        ``library``.  ``close(solver, [(goal, lemmas)], timeout)`` closes leaves.  Returns how
        many were added."""
        from ..logic.parser import parse_term

        added = 0
        by_text = {}
        from ..logic.printer import print_term

        for l in library.proofs:
            by_text[print_term(l)] = l
        # Dependencies first: a stored lemma's leaves may use other stored lemmas.
        for e in self.candidates(goal)[:max_lemmas]:
            if time.perf_counter() >= deadline:
                break
            try:
                formula = parse_term(e.text, goal.theory, {}, expected=BOOL, file="<store>")
            except IdaNsError:
                continue
            if formula in library:
                by_text[e.text] = formula
                continue
            lg = Goal(goal.theory, formula)
            proof = self._replay(lg, e.script, by_text, close, deadline)
            if proof is None:
                self.failed += 1
                continue
            if library.add(lg, proof):
                by_text[e.text] = formula
                added += 1
                self.replayed += 1
        return added

    def _replay(self, goal: Goal, script: _Script, by_text: dict, close,
                deadline: float) -> ProofNode | None:
        leaves: list[tuple[Goal, tuple[Term, ...], str]] = []

        def build(g: Goal, s: _Script):
            step = parse_step(s.step, g)
            if isinstance(step, Direct):
                if s.children or any(u not in by_text for u in s.uses):
                    raise StepError("replay: a leaf uses a lemma not in the library")
                lemmas = tuple(by_text[u] for u in s.uses)
                leaves.append((g, lemmas, s.solver))
                return ("leaf", g, lemmas, s.solver, len(leaves) - 1)
            subs = apply_step(step, g)
            if len(subs) != len(s.children):
                raise StepError("replay: the step gives another number of subgoals")
            return ("node", g, step, tuple(build(c, cs) for c, cs in zip(subs, s.children)))

        try:
            tree = build(goal, script)
        except (StepError, IdaNsError):
            return None
        verdicts: dict[int, object] = {}
        by_solver: dict[str, list[int]] = {}
        for i, (_, _, solver) in enumerate(leaves):
            by_solver.setdefault(solver or "z3", []).append(i)
        for solver, idx in by_solver.items():
            remaining = deadline - time.perf_counter()
            if remaining <= 0.05:
                return None
            vs = close(solver, [(leaves[i][0], leaves[i][1]) for i in idx], remaining)
            if vs is None:
                return None
            for i, v in zip(idx, vs):
                if not isinstance(v, Proved):
                    return None
                verdicts[i] = v

        def make(t) -> ProofNode:
            if t[0] == "leaf":
                _, g, lemmas, solver, i = t
                return ProofNode(g, Direct(lemmas), (), solver or "z3", verdicts[i].time_s,
                                 "H")
            _, g, step, kids = t
            return ProofNode(g, step, tuple(make(k) for k in kids), source="H")

        return make(tree)
