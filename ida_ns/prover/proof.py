"""Proof trees, the lemma library, and proof graphs (networkx) for researchers.

A :class:`ProofNode` records the step applied to a goal and one child proof per subgoal that
:func:`ida_ns.prover.steps.apply_step` produced, in order.  ``Direct`` leaves name the closed
lemmas they used as hypotheses; those lemmas have proofs of their own in the
:class:`LemmaLibrary`.  Lemma use forms a dependency graph that must be acyclic.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

from ..logic.ast import Term, size, symbols
from ..logic.symbols import BUILTIN, CTOR, symbol_table
from .goal import Goal
from .steps import Direct, Step, step_text


@dataclass(frozen=True)
class ProofNode:
    goal: Goal
    step: Step
    children: tuple["ProofNode", ...] = ()
    solver: str = ""  # for Direct leaves: who closed it
    time_s: float = 0.0
    source: str = "H"  # which policy proposed the step

    def nodes(self) -> Iterator["ProofNode"]:
        stack = [self]
        while stack:
            n = stack.pop()
            yield n
            stack.extend(reversed(n.children))

    def lemmas_used(self) -> set[Term]:
        out: set[Term] = set()
        for n in self.nodes():
            if isinstance(n.step, Direct):
                out.update(n.step.lemmas)
        return out

    def size(self) -> int:
        return sum(1 for _ in self.nodes())


def _interesting_symbols(t: Term, theory) -> frozenset[str]:
    table = symbol_table(theory)
    return frozenset(s for s in symbols(t) if table.kind(s) not in (BUILTIN, CTOR)
                     and not s.startswith("is-"))


_CALLEES: dict[int, tuple[object, dict[str, frozenset[str]]]] = {}


def _callee_closure(theory, names: frozenset[str]) -> frozenset[str]:
    """``names`` plus every defined function their definitions call, transitively."""
    hit = _CALLEES.get(id(theory))
    if hit is None or hit[0] is not theory:
        calls = {d.name: _interesting_symbols(d.body, theory) for d in theory.all_defs()}
        hit = (theory, calls)
        if len(_CALLEES) > 256:
            _CALLEES.clear()
        _CALLEES[id(theory)] = hit
    calls = hit[1]
    out, todo = set(names), list(names)
    while todo:
        for c in calls.get(todo.pop(), ()):
            if c not in out:
                out.add(c)
                todo.append(c)
    return frozenset(out)


class LemmaLibrary:
    """Closed lemmas proved so far in a run, each with its proof."""

    def __init__(self, max_relevant: int = 12):
        self.proofs: dict[Term, ProofNode] = {}
        self.max_relevant = max_relevant
        self.version = 0
        self._syms: dict[Term, frozenset[str]] = {}

    def __len__(self) -> int:
        return len(self.proofs)

    def __contains__(self, lemma: Term) -> bool:
        return lemma in self.proofs

    def add(self, goal: Goal, proof: ProofNode) -> bool:
        """Add a proved goal as a lemma if it is closed (no hypotheses, no fixed variables)."""
        if goal.hyps or goal.fixed or goal.concl in self.proofs:
            return False
        self.proofs[goal.concl] = proof
        self._syms[goal.concl] = _interesting_symbols(goal.concl, goal.theory)
        self.version += 1
        return True

    def relevant(self, goal: Goal) -> tuple[Term, ...]:
        """Lemmas whose defined symbols all occur in the goal or in the definitions it
        unfolds to (transitively), smallest first."""
        if not self.proofs:
            return ()
        have = _interesting_symbols(goal.concl, goal.theory)
        for h in goal.hyps:
            have |= _interesting_symbols(h, goal.theory)
        have = _callee_closure(goal.theory, have)
        cands = [l for l, syms in self._syms.items() if syms and syms <= have]
        cands.sort(key=size)
        return tuple(cands[: self.max_relevant])


def lemma_ids(lemmas: dict[Term, "ProofNode"]) -> dict[Term, str]:
    """The one numbering of a proof's lemmas used by the text rendering, the certificate and
    the proof graph: dependency order (a lemma after those its proof uses), ties broken by
    printed form; ids ``L0``, ``L1``, ...  Raises ValueError on circular lemma use."""
    from ..logic.printer import print_term

    order: list[Term] = []
    seen: set[Term] = set()

    def visit(l: Term, stack: tuple = ()) -> None:
        if l in seen or l not in lemmas:
            return
        if l in stack:
            raise ValueError("circular lemma use in proof")
        for u in sorted(lemmas[l].lemmas_used(), key=print_term):
            visit(u, stack + (l,))
        seen.add(l)
        order.append(l)

    for l in sorted(lemmas, key=print_term):
        visit(l)
    return {l: f"L{i}" for i, l in enumerate(order)}


# --------------------------------------------------------------------------------------------
# Graphs


def proof_graph(root: ProofNode, library: dict[Term, ProofNode] | None = None):
    """A networkx DiGraph: goal nodes (attributes: goal text, step, solver, source) with edges
    parent -> subgoal (``kind="subgoal"``) and leaf -> lemma (``kind="uses"``); every lemma's
    own proof tree is included under a node ``lemma:<i>``."""
    import networkx as nx
    from ..logic.printer import print_term

    g = nx.DiGraph()
    library = library or {}
    try:
        names = lemma_ids(library)
    except ValueError:
        names = {}
    used: dict[Term, str] = {}  # lemmas met so far -> node id

    def lemma_id(l: Term) -> str:
        if l not in used:
            used[l] = "lemma:" + names.get(l, f"X{len(used)}")
        return used[l]

    counter = [0]

    def add_tree(node: ProofNode, nid: str) -> None:
        stack = [(node, nid)]
        while stack:
            n, i = stack.pop()
            g.add_node(i, goal=n.goal.text(), step=step_text(n.step), solver=n.solver,
                       source=n.source)
            if isinstance(n.step, Direct):
                for l in n.step.lemmas:
                    g.add_edge(i, lemma_id(l), kind="uses")
            for c in n.children:
                counter[0] += 1
                cid = f"n{counter[0]}"
                g.add_edge(i, cid, kind="subgoal")
                stack.append((c, cid))

    add_tree(root, "root")
    done: set[Term] = set()
    while True:
        pending = [l for l in used if l not in done]
        if not pending:
            break
        for l in pending:
            done.add(l)
            lid = used[l]
            g.add_node(lid, formula=print_term(l), lemma=lid.split(":", 1)[1])
            if l in library:
                counter[0] += 1
                tid = f"n{counter[0]}"
                g.add_edge(lid, tid, kind="proof")
                add_tree(library[l], tid)
    return g


def lemma_dependency_graph(proofs: dict[Term, ProofNode]):
    """DiGraph lemma -> lemma it uses.  A cycle means circular reasoning."""
    import networkx as nx

    g = nx.DiGraph()
    for lemma, proof in proofs.items():
        g.add_node(lemma)
        for used in proof.lemmas_used():
            g.add_edge(lemma, used)
    return g


def find_lemma_cycle(proofs: dict[Term, ProofNode]) -> list | None:
    import networkx as nx

    try:
        return nx.find_cycle(lemma_dependency_graph(proofs))
    except nx.NetworkXNoCycle:
        return None


def dependents(proofs: dict[Term, ProofNode], lemma: Term) -> set[Term]:
    """Every lemma whose proof uses ``lemma``, directly or transitively (for retraction)."""
    import networkx as nx

    g = lemma_dependency_graph(proofs)
    if lemma not in g:
        return set()
    return set(nx.ancestors(g, lemma))


GRAPH_FORMATS = {".json": "node-link JSON", ".graphml": "GraphML", ".dot": "Graphviz DOT",
                 ".gv": "Graphviz DOT"}


def graph_format(path: str) -> str:
    """The export format a graph path asks for, by extension; an IdaNsError names the
    extensions accepted otherwise."""
    from pathlib import Path

    from ..errors import IdaNsError

    ext = Path(str(path)).suffix.lower()
    if ext not in GRAPH_FORMATS:
        raise IdaNsError(f"graph file {path!r}: unknown extension {ext or '(none)'!r}; use "
                         + ", ".join(f"{e} ({f})" for e, f in GRAPH_FORMATS.items()))
    return ext


def _dot_quote(text: str) -> str:
    return '"' + str(text).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def graph_dot(graph) -> str:
    """Graphviz DOT text of a proof graph (goals as boxes, lemmas as ellipses)."""
    lines = ["digraph proof {", "  node [shape=box, fontname=monospace];"]
    for n, attrs in graph.nodes(data=True):
        if "formula" in attrs:
            label = f"{attrs.get('lemma', n)}: {attrs['formula']}"
            lines.append(f"  {_dot_quote(n)} [shape=ellipse, label={_dot_quote(label)}];")
        else:
            step = attrs.get("step") or attrs.get("status", "").upper() or "?"
            label = f"{attrs.get('goal', '')}\n[{step}]"
            if attrs.get("solver"):
                label += f" {attrs['solver']}"
            lines.append(f"  {_dot_quote(n)} [label={_dot_quote(label)}];")
    for a, b, attrs in graph.edges(data=True):
        style = ("" if attrs.get("kind") == "subgoal"
                 else f" [style=dashed, label={_dot_quote(attrs.get('kind', ''))}]")
        lines.append(f"  {_dot_quote(a)} -> {_dot_quote(b)}{style};")
    lines.append("}")
    return "\n".join(lines) + "\n"


def export_graph(graph, path: str) -> None:
    """Write a proof graph by extension: ``.json`` (node-link JSON), ``.graphml`` or
    ``.dot``/``.gv`` (Graphviz); any other extension is refused with a message."""
    import json

    import networkx as nx

    from ..storage import atomic_write_text

    ext = graph_format(path)
    if ext == ".graphml":
        atomic_write_text(path, "\n".join(nx.generate_graphml(graph)) + "\n")
    elif ext in (".dot", ".gv"):
        atomic_write_text(path, graph_dot(graph))
    else:
        atomic_write_text(path, json.dumps(nx.node_link_data(graph, edges="links"), indent=1,
                                           default=str))
