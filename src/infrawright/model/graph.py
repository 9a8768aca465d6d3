"""The dependsOn graph: bootstrap layers, CRD edges and cycles.

A Kustomization's layer is the length of the longest dependsOn path from a root
(a Kustomization with no dependencies is layer 0).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Edge:
    """``source`` depends on ``target``; ``crd`` when ``target`` installs a kind it uses."""

    source: str
    target: str
    crd: bool


@dataclass(frozen=True)
class Graph:
    """Layers by name (None inside a cycle), edges, and every cycle found."""

    layers: Mapping[str, int | None]
    edges: tuple[Edge, ...]
    cycles: tuple[tuple[str, ...], ...]

    def by_layer(self) -> list[tuple[int, list[str]]]:
        groups: dict[int, list[str]] = {}
        for name, layer in self.layers.items():
            if layer is not None:
                groups.setdefault(layer, []).append(name)
        return [(n, sorted(groups[n])) for n in sorted(groups)]

    def depends_on(self, name: str) -> list[str]:
        return [e.target for e in self.edges if e.source == name]


def find_cycles(deps: Mapping[str, Iterable[str]]) -> list[tuple[str, ...]]:
    """Every elementary cycle's nodes in path order, found by an iterative DFS."""
    state: dict[str, int] = {}
    cycles: list[tuple[str, ...]] = []
    seen: set[frozenset[str]] = set()
    for start in sorted(deps):
        if state.get(start):
            continue
        path: list[str] = []
        stack: list[tuple[str, list[str]]] = [(start, sorted(deps.get(start, ())))]
        state[start] = 1
        path.append(start)
        while stack:
            node, todo = stack[-1]
            if not todo:
                stack.pop()
                path.pop()
                state[node] = 2
                continue
            nxt = todo.pop(0)
            if nxt not in deps:
                continue
            if state.get(nxt) == 1:
                cycle = tuple(path[path.index(nxt) :])
                if frozenset(cycle) not in seen:
                    seen.add(frozenset(cycle))
                    cycles.append(cycle)
            elif not state.get(nxt):
                state[nxt] = 1
                path.append(nxt)
                stack.append((nxt, sorted(deps.get(nxt, ()))))
    return cycles


def _cyclic_nodes(deps: Mapping[str, list[str]]) -> set[str]:
    """Nodes on some cycle: members of strongly connected components larger than one
    node, and nodes that depend on themselves (Tarjan's algorithm, iteratively)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    out: set[str] = set()
    counter = 0
    for root in sorted(deps):
        if root in index:
            continue
        work: list[tuple[str, int]] = [(root, 0)]
        while work:
            node, i = work.pop()
            if i == 0:
                index[node] = low[node] = counter
                counter += 1
                stack.append(node)
                on_stack.add(node)
            targets = deps[node]
            if i < len(targets):
                work.append((node, i + 1))
                nxt = targets[i]
                if nxt not in index:
                    work.append((nxt, 0))
                elif nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
                continue
            if low[node] == index[node]:
                members = []
                while True:
                    top = stack.pop()
                    on_stack.discard(top)
                    members.append(top)
                    if top == node:
                        break
                if len(members) > 1 or node in deps[node]:
                    out.update(members)
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
    return out


def build_graph(
    deps: Mapping[str, Iterable[str]], crd_edges: set[tuple[str, str]] | None = None
) -> Graph:
    """Layers and edges from ``name -> dependsOn names`` (unknown targets ignored)."""
    crd_edges = crd_edges or set()
    clean = {name: sorted({d for d in targets if d in deps}) for name, targets in deps.items()}
    cycles = find_cycles(clean)
    cyclic = _cyclic_nodes(clean)
    layers: dict[str, int | None] = {}

    def layer_of(root: str) -> None:
        stack = [root]
        while stack:
            node = stack[-1]
            if node in layers:
                stack.pop()
                continue
            if node in cyclic:
                layers[node] = None
                stack.pop()
                continue
            pending = [d for d in clean[node] if d not in layers]
            if pending:
                stack.extend(pending)
                continue
            sub = [layers[d] for d in clean[node]]
            layers[node] = (
                None if any(s is None for s in sub) else 1 + max((s or 0 for s in sub), default=-1)
            )
            stack.pop()

    for name in sorted(clean):
        layer_of(name)
    edges = tuple(
        Edge(name, target, (name, target) in crd_edges)
        for name in sorted(deps)
        for target in sorted(set(deps[name]))
    )
    return Graph(dict(sorted(layers.items())), edges, tuple(cycles))
