"""The most advanced partial proof of an unfinished search, and the goals it leaves open.

When a search stops without a proof (budget, exhausted space), the user still wants to see
how far it got: at each goal the accepted step whose subgoals are furthest along (most of them
proved, then fewest failed) is followed; goals with no live step are *open*.  Proved subgoals
keep their verified proof trees.  Nothing here is trusted: it only reports.
"""

from __future__ import annotations

from dataclasses import dataclass

from .goal import Goal
from .proof import ProofNode


@dataclass(frozen=True)
class PartialNode:
    goal: Goal
    status: str  # "proved" | "open" | "failed" (no accepted step could be completed)
    step: str = ""  # the step taken here ("" for an open goal)
    source: str = ""
    children: tuple["PartialNode", ...] = ()
    proof: ProofNode | None = None  # the verified proof of a proved node

    def open_goals(self) -> tuple[Goal, ...]:
        out: list[Goal] = []
        stack = [self]
        while stack:
            n = stack.pop()
            if n.status == "proved":
                continue
            if not n.children:
                out.append(n.goal)
            stack.extend(reversed(n.children))
        return tuple(out)


def partial_tree(root, max_nodes: int = 500) -> PartialNode:
    """The partial proof tree below a search's root OR node (``search._ONode``)."""
    budget = [max_nodes]

    def best_and(node):
        live = [a for a in node.children if a.status != "failed"] or list(node.children)
        if not live:
            return None
        return max(live, key=lambda a: (sum(c.status == "proved" for c in a.children),
                                        -sum(c.status == "failed" for c in a.children)))

    def build(node) -> PartialNode:
        budget[0] -= 1
        if node.status == "proved":
            return PartialNode(node.goal, "proved", proof=node.proof)
        a = best_and(node) if budget[0] > 0 else None
        if a is None:
            return PartialNode(node.goal, "failed" if node.status == "failed" and node.expanded
                               else "open")
        kids = tuple(build(c) for c in a.children)
        return PartialNode(node.goal, "open", a.text, a.source, kids)

    return build(root)


def partial_graph(root: PartialNode, library: dict | None = None):
    """A networkx DiGraph of a partial proof, in the shape of
    :func:`ida_ns.prover.proof.proof_graph`; goal nodes carry ``status`` (proved / open /
    failed); proved subtrees are included whole."""
    import networkx as nx

    from .proof import proof_graph

    g = nx.DiGraph()
    counter = [0]
    stack = [(root, "root")]
    while stack:
        n, nid = stack.pop()
        if n.status == "proved" and n.proof is not None:
            sub = proof_graph(n.proof, library)
            mapping = {x: (nid if x == "root" else f"{nid}/{x}") for x in sub.nodes}
            sub = nx.relabel_nodes(sub, mapping)
            g.update(sub)
            g.nodes[nid]["status"] = "proved"
            continue
        g.add_node(nid, goal=n.goal.text(), step=n.step, solver="", source=n.source,
                   status=n.status if n.children or n.status == "failed" else "open")
        for c in n.children:
            counter[0] += 1
            cid = f"n{counter[0]}"
            g.add_edge(nid, cid, kind="subgoal")
            stack.append((c, cid))
    return g
