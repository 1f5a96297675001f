"""Canonical labelling: colour refinement plus individualisation-refinement.

``_canonical_nodes`` turns a validated ``_Graph`` into the canonical node tuple stored by
``Cell`` (intermediate nodes renamed ``n0, n1, ...``, canonical topological order, sorted
commutative inputs); see the package docstring for the guarantees and the leaf cap.
"""

from __future__ import annotations

import heapq
from collections import Counter

from petridish.motifs.cell.ops import GRAPH_INPUTS, OPS, OUTPUTS, Node
from petridish.motifs.cell.parse import _Graph

_MAX_LEAVES = 4096  # cap of the canonical-labelling search (see package docstring)


def _refine(g: _Graph, colours: list[int]) -> list[int]:
    """Colour refinement to a stable partition; colours are canonical ranks 0..k-1."""
    n_classes = len(set(colours))
    while True:
        sigs: list[tuple[int, tuple[int, ...], tuple[tuple[int, int], ...]]] = []
        for v in range(len(colours)):
            # Graph inputs keep their fixed negative codes, node colours are >= 0.
            ins = [colours[r] if r >= 0 else r for r in g.inputs[v]]
            if not g.ordered[v]:
                ins.sort()
            outs = sorted((colours[w], role) for w, role in g.consumers[v])
            sigs.append((colours[v], tuple(ins), tuple(outs)))
        rank = {s: i for i, s in enumerate(sorted(set(sigs)))}
        new = [rank[s] for s in sigs]
        if len(rank) == n_classes:
            return new
        colours, n_classes = new, len(rank)


def _topo_by_colour(g: _Graph, colours: list[int]) -> list[int]:
    """Kahn's topological order, ready nodes taken by smallest colour."""
    indeg = [sum(1 for r in row if r >= 0) for row in g.inputs]
    ready = [(colours[v], v) for v, d in enumerate(indeg) if d == 0]
    heapq.heapify(ready)
    order: list[int] = []
    while ready:
        _, v = heapq.heappop(ready)
        order.append(v)
        for w, _role in g.consumers[v]:
            indeg[w] -= 1
            if indeg[w] == 0:
                heapq.heappush(ready, (colours[w], w))
    return order


_Cert = tuple[tuple[int, int, tuple[tuple[int, int], ...]], ...]


def _ref_key(r: int, pos: list[int]) -> tuple[int, int]:
    # Graph inputs sort first (in GRAPH_INPUTS order), then nodes by canonical position.
    return (1, pos[r]) if r >= 0 else (0, -1 - r)


def _certificate(g: _Graph, order: list[int], pos: list[int]) -> _Cert:
    """The whole graph written with canonical positions: equal iff the labelled graphs are."""
    rows = []
    for v in order:
        refs = [_ref_key(r, pos) for r in g.inputs[v]]
        if not g.ordered[v]:
            refs.sort()
        rows.append((g.ops[v], g.out_k[v], tuple(refs)))
    return tuple(rows)


class _Search:
    """Individualisation-refinement for the smallest certificate, with orbit pruning."""

    def __init__(self, g: _Graph) -> None:
        self.g = g
        self.n = len(g.ops)
        self.best: tuple[_Cert, list[int]] | None = None
        self.first: tuple[_Cert, list[int]] | None = None
        self.automorphisms: list[list[int]] = []
        self.leaves = 0

    def run(self) -> list[int]:
        g = self.g
        start = sorted({(op, k) for op, k in zip(g.ops, g.out_k, strict=True)})
        rank = {c: i for i, c in enumerate(start)}
        self._search(_refine(g, [rank[c] for c in zip(g.ops, g.out_k, strict=True)]), [])
        assert self.best is not None
        return self.best[1]

    def _leaf(self, colours: list[int]) -> None:
        self.leaves += 1
        order = _topo_by_colour(self.g, colours)
        pos = [0] * self.n
        for p, v in enumerate(order):
            pos[v] = p
        cert = _certificate(self.g, order, pos)
        if self.first is None or self.best is None:
            self.first = self.best = (cert, order)
            return
        for ref_cert, ref_order in (self.first, self.best):
            if cert == ref_cert:
                # Same certificate: mapping each node to the node at its position in the
                # reference leaf is an automorphism of the graph.
                self.automorphisms.append([ref_order[pos[u]] for u in range(self.n)])
                return
        if cert < self.best[0]:
            self.best = (cert, order)

    def _same_orbit(self, v: int, tried: list[int], prefix: list[int]) -> bool:
        parent = list(range(self.n))

        def find(u: int) -> int:
            while parent[u] != u:
                parent[u] = parent[parent[u]]
                u = parent[u]
            return u

        for gamma in self.automorphisms:
            # Only automorphisms fixing the individualised prefix map this subtree to itself.
            if all(gamma[p] == p for p in prefix):
                for u, w in enumerate(gamma):
                    parent[find(u)] = find(w)
        root = find(v)
        return any(find(t) == root for t in tried)

    def _search(self, colours: list[int], prefix: list[int]) -> None:
        counts = Counter(colours)
        if len(counts) == self.n:
            self._leaf(colours)
            return
        target = min(c for c, m in counts.items() if m > 1)
        tried: list[int] = []
        for v in (u for u in range(self.n) if colours[u] == target):
            if self.leaves >= _MAX_LEAVES:
                return
            if tried and self._same_orbit(v, tried, prefix):
                continue
            tried.append(v)
            child = [2 * c for c in colours]  # keeps the order of all classes ...
            child[v] += 1  # ... and puts v right after its former cell-mates
            self._search(_refine(self.g, child), [*prefix, v])


def _canonical_nodes(g: _Graph) -> tuple[Node, ...]:
    order = _Search(g).run()
    pos = [0] * len(order)
    for p, v in enumerate(order):
        pos[v] = p
    names = [""] * len(order)
    n_inner = 0
    for v in order:
        if g.out_k[v] >= 0:
            names[v] = OUTPUTS[g.out_k[v]]
        else:
            names[v] = f"n{n_inner}"
            n_inner += 1
    nodes: list[Node] = []
    for v in order:
        refs = list(g.inputs[v])
        if not g.ordered[v]:
            refs.sort(key=lambda r: _ref_key(r, pos))
        ins = tuple(names[r] if r >= 0 else GRAPH_INPUTS[-1 - r] for r in refs)
        nodes.append((names[v], OPS[g.ops[v]], ins))
    return tuple(nodes)
