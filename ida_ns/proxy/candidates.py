"""The candidate steps a proxy ranks (symbolic, no torch): the step grammar over one goal,
and the lemma memory a generation carries.

The proxy does not have to spell a step to propose it: :func:`grammar_steps` lists the legal
steps of the grammar over the goal's own names (``induct v`` and ``cases v`` for each datatype
variable in scope, ``induct v w`` for pairs of quantified ones, ``finduct f v...`` for each call
of a recursive function on distinct variables, ``generalize t`` for each repeated non-variable
subterm), and :class:`LemmaMemory` lists the lemmas proved and independently re-checked in the
training traces that apply to the goal's theory.  The model scores every candidate (and its
own sampled text) by likelihood; which ones are proposed, in which order, and with what
confidence is the model's decision.  Every candidate is text, parsed by
:func:`ida_ns.prover.steps.parse_step` and gated like any proposal.

**Transfer across theories.**  Each TIP file declares its own copy of the functions, sometimes
under another name (isaplanner's ``len`` is prod's ``length``).  A lemma in memory records a
*fingerprint* of each function it mentions: the definition's body with parameters and bound
variables renamed by first occurrence, the function's own name replaced, and the functions it
calls replaced by their fingerprints (recursively).  A lemma applies to a goal when every
function it mentions has a function of the same fingerprint in the goal's theory (renamed to
it, sorts renamed along the signatures), and it mentions at least one function of the goal or
one the goal's functions call.  Sorts enter the fingerprint by their shape (a datatype by its
constructors' names and arities, an uninterpreted sort as ``U``), so the specs' ``List`` of
``Nat`` matches TIP's ``list`` of ``a``.  A wrong match costs a rejected proposal, never
soundness.

**Recall.**  The memory also keeps, for every goal of a verified training proof, the steps
applied there (canonical names, :func:`recall_key`); the proxy offers them first when the
search meets the same goal, so a memory lemma's own proof is replayed step by step (each step
gated, each leaf closed again: the table is never evidence either).
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from functools import lru_cache
from pathlib import Path

from .canon import rename_tokens

MAX_MEMORY = 400  # lemmas kept in a generation's memory
MAX_LEMMA_CANDIDATES = 40  # memory lemmas offered per goal (smallest first; the model ranks)
MEMORY_FILE = "lemmas.json"
MAX_RECALL_STEPS = 2  # recalled steps per goal
MAX_RECALL = 20000  # goals in the recall table


def recall_key(goal_text: str, context_text: str) -> str:
    """A goal as the proxy reads it (canonical names), without the definitions part of the
    context: fixed variables, hypotheses and conclusion.  Definitions are left out because
    they print their own parameter names; the function names already stand for the
    definitions (:mod:`ida_ns.proxy.canon`)."""
    head = context_text.split(" ; sig ", 1)[0]
    if head.startswith("sig "):
        head = ""
    return goal_text + " | " + head


# ------------------------------------------------------------------------------ grammar
def grammar_steps(goal, max_generalize: int = 3) -> list[str]:
    """The legal steps of the grammar over ``goal`` (texts in the goal's own names)."""
    from ..logic.ast import App, Var, free_vars, size, subterms
    from ..logic.printer import print_term
    from ..logic.symbols import DEFINED, symbol_table

    table = symbol_table(goal.theory)
    out: list[str] = []
    fa = [v for v in goal.forall_vars if table.datatype_of(v.sort) is not None]
    fixed = [v for v in goal.fixed if table.datatype_of(v.sort) is not None]
    for v in fa + fixed:
        out.append(f"induct {v.name}")
    for i, a in enumerate(fa[:4]):
        for b in fa[i + 1:4]:
            out.append(f"induct {a.name} {b.name}")
    scope = set(goal.forall_vars)
    seen = set()
    counts: Counter = Counter()
    for s in subterms(goal.body):
        if not isinstance(s, App):
            continue
        d = goal.theory.fundef(s.fn)
        if d is not None and d.recursive and s.args and s.fn not in seen \
                and all(isinstance(a, Var) and a in scope for a in s.args) \
                and len(set(s.args)) == len(s.args) and len(s.args) >= 2:
            seen.add(s.fn)
            out.append(f"finduct {s.fn} " + " ".join(a.name for a in s.args))
        if table.kind(s.fn) == DEFINED and free_vars(s) and (
                table.datatype_of(s.sort) is not None or s.sort.name == "Int"):
            counts[s] += 1
    gens = sorted((t for t, c in counts.items() if c >= 2), key=lambda t: (-size(t), str(t)))
    for t in gens[:max_generalize]:
        try:
            out.append("generalize " + print_term(t))
        except Exception:  # noqa: BLE001 - a printing corner case drops one candidate
            continue
    for v in fa + fixed:
        out.append(f"cases {v.name}")
    return list(dict.fromkeys(out))


# -------------------------------------------------------------------------- fingerprints
@lru_cache(maxsize=64)
def _fingerprints(theory) -> dict[str, str]:
    """Defined function name -> fingerprint (see the module docstring)."""
    from ..logic.ast import all_var_names, symbols
    from ..logic.printer import print_term

    defs = {d.name: d for d in theory.all_defs()}
    memo: dict[str, str] = {}
    # Sorts by shape, not by name: a datatype by its constructors (names and arities), an
    # uninterpreted sort as "U", so the specs' List of Nat matches TIP's list of a (the
    # constructors and the definitions' bodies still have to agree)
    shapes = {dt.name: "dt(" + " ".join(f"{c.name}/{len(c.fields)}" for c in dt.ctors) + ")"
              for dt in theory.all_datatypes()}
    uninterpreted = set(theory.sorts)

    def shape(sort) -> str:
        t = str(sort)
        return shapes.get(t, "U" if t in uninterpreted else t)

    def fp(name: str, stack: tuple) -> str:
        if name in memo:
            return memo[name]
        d = defs[name]
        if name in stack or len(stack) > 6:
            return "rec"
        names = [p.name for p in d.params]
        try:
            body = print_term(d.body)
        except Exception:  # noqa: BLE001
            body = repr(d.body)
        bound = sorted(all_var_names(d.body) - set(names))
        ren = {p: f"p{i}" for i, p in enumerate(names)}
        order = []
        for tok in rename_tokens(body, {}).replace("(", " ").replace(")", " ").split():
            if tok in bound and tok not in order:
                order.append(tok)
        ren.update({b: f"b{i}" for i, b in enumerate(order)})
        ren[name] = "@self"
        for g in symbols(d.body):
            if g in defs and g != name:
                ren[g] = "#" + fp(g, stack + (name,))[:16]
        sig = " ".join(shape(p.sort) for p in d.params) + " -> " + shape(d.ret)
        h = hashlib.sha256(f"{len(d.params)}|{sig}|{rename_tokens(body, ren)}".encode(
            "utf-8", "surrogatepass")).hexdigest()
        memo[name] = h
        return h

    return {n: fp(n, ()) for n in defs}


# ------------------------------------------------------------------------- lemma memory
class LemmaMemory:
    """Closed lemma formulas from verified training traces, with the fingerprints of the
    functions they mention (so they can be offered on theories that name them differently)."""

    def __init__(self, entries=(), recall=None):
        # entry: {"text": formula text, "fns": {name: fingerprint}, "sigs": {name: [sorts]}}
        self.entries = list(entries)[:MAX_MEMORY]
        # recall: goal key (see recall_key) -> steps a verified training proof applied to that
        # goal, in the proxy's canonical names: the scripts of the proofs the memory's lemmas
        # came with (offered first when the search meets the same goal; still gated)
        self.recall = {k: list(v)[:MAX_RECALL_STEPS] for k, v in (recall or {}).items()
                       if isinstance(k, str) and isinstance(v, (list, tuple))
                       and all(isinstance(x, str) for x in v)}

    def recalled(self, goal_text: str, context_text: str) -> list[str]:
        """Steps (canonical names) verified proofs applied to this goal in training."""
        return self.recall.get(recall_key(goal_text, context_text), [])

    def __len__(self) -> int:
        return len(self.entries)

    @staticmethod
    def entry(formula, theory) -> dict | None:
        """A memory entry for a closed formula over ``theory`` (None: not universally
        quantified, mentions no defined function, or does not print)."""
        from ..logic.ast import symbols
        from ..logic.printer import print_term

        from ..logic.ast import Quant

        if not (isinstance(formula, Quant) and formula.kind == "forall"):
            return None  # a ground fact (a base case) says nothing about other goals
        fps = _fingerprints(theory)
        fns = sorted(n for n in symbols(formula) if n in fps)
        if not fns:
            return None
        try:
            text = print_term(formula)
        except Exception:  # noqa: BLE001
            return None
        sigs = {}
        for n in fns:
            d = theory.fundef(n)
            sigs[n] = [str(p.sort) for p in d.params] + [str(d.ret)]
        return {"text": text, "fns": {n: fps[n] for n in fns}, "sigs": sigs}

    def candidates(self, goal, limit: int = MAX_LEMMA_CANDIDATES) -> list[str]:
        """``lemma φ`` texts that apply to ``goal``'s theory and concern its functions."""
        from ..logic.ast import symbols

        if not self.entries:
            return []
        th = goal.theory
        fps = _fingerprints(th)
        if not fps:
            return []
        by_fp: dict[str, list[str]] = {}
        for n, h in fps.items():
            by_fp.setdefault(h, []).append(n)
        used = set()
        for t in (goal.concl, *goal.hyps):
            used |= {n for n in symbols(t) if n in fps}
        if not used:
            return []
        reach = set(used)
        todo = list(used)
        while todo:
            d = th.fundef(todo.pop())
            for g in symbols(d.body):
                if g in fps and g not in reach:
                    reach.add(g)
                    todo.append(g)
        out = []
        for e in self.entries:
            ren, ok = {}, True
            for n, h in e["fns"].items():
                targets = by_fp.get(h, [])
                if not targets:
                    ok = False
                    break
                ren[n] = n if n in targets else targets[0]
            if not ok or not (set(ren.values()) & reach):
                continue
            for n, sig in e.get("sigs", {}).items():
                d = th.fundef(ren[n])
                mine = [str(p.sort) for p in d.params] + [str(d.ret)]
                if len(mine) != len(sig):
                    ok = False
                    break
                for a, b in zip(sig, mine):
                    if a != b and " " not in a and " " not in b:
                        if ren.get(a, b) != b:
                            ok = False
                        ren[a] = b
            if not ok:
                continue
            text = rename_tokens(e["text"], ren)
            prio = {"lemma step": 0, "root goal": 1}.get(e.get("origin"), 2)
            out.append((prio, len(text), "lemma " + text))
        out.sort()
        return list(dict.fromkeys(t for *_, t in out))[:limit]

    def to_dict(self) -> dict:
        return {"format": "ida-ns-lemma-memory/1", "entries": self.entries,
                "recall": self.recall}

    def sha256(self) -> str:
        return hashlib.sha256(json.dumps(self.to_dict(), sort_keys=True).encode()).hexdigest()

    def save(self, directory) -> str:
        path = Path(directory) / MEMORY_FILE
        path.write_text(json.dumps(self.to_dict(), indent=1, sort_keys=True) + "\n")
        return self.sha256()

    @classmethod
    def load(cls, directory) -> "LemmaMemory":
        path = Path(directory) / MEMORY_FILE
        if not path.is_file():
            return cls()
        try:
            d = json.loads(path.read_text())
        except (OSError, ValueError):
            from ..errors import IdaNsError

            raise IdaNsError(f"{path}: not a lemma memory (unreadable JSON)") from None
        entries = [e for e in d.get("entries", []) if isinstance(e, dict)
                   and isinstance(e.get("text"), str) and isinstance(e.get("fns"), dict)]
        recall = d.get("recall") if isinstance(d.get("recall"), dict) else {}
        return cls(entries, recall)
