"""Recurrent-cell motifs: NAS-Bench-NLP recipes and DARTS/ENAS genotypes as one value object.

Native form (NAS-Bench-NLP "recepie")
-------------------------------------
A JSON object mapping node names to ``{"op": OP, "input": [NAME, ...]}``. The graph inputs
are ``x`` (the layer input) and ``h_prev_0..2`` (the hidden states of the previous step);
the outputs are the nodes named ``h_new_0..2``. ``h_new_0`` is the cell output and is
required; ``h_new_k`` (k >= 1) exists iff some node reads ``h_prev_k``, and states are
numbered contiguously (``h_new_2`` needs ``h_new_1``), as in NAS-Bench-NLP's executor,
which keeps ``max k + 1`` states. Output nodes may also feed other nodes (95 of the 345
benchmark recipes do that, e.g. the LSTM's ``h_new_1 -> h_new_1_act``). Every node must
feed some output (no dead nodes: none of the benchmark recipes has one). Not required:
reading ``x`` or ``h_prev_0`` (all benchmark cells do), distinct inputs within a node.

Ops (ids are positions in ``OPS``; inputs ``v_1..v_k``):

==  =======================  =======  ===================================================
id  op                       arity    value
==  =======================  =======  ===================================================
0   linear                   >= 1     ``sum_i W_i v_i + b``: one weight matrix per input
                                      slot and one bias per node (benchmark: 2-3 inputs)
1   blend                    3        ``z * a + (1 - z) * b`` for inputs ``(z, a, b)``;
                                      the only op whose input order matters
2   elementwise_sum          >= 2     ``v_1 + ... + v_k``
3   elementwise_prod         >= 2     ``v_1 * ... * v_k``
4   activation_tanh          1        ``tanh(v)``
5   activation_sigm          1        ``sigmoid(v)``
6   activation_leaky_relu    1        ``leaky_relu(v)``, slope 0.01 (torch's default)
7   activation_relu          1        ``max(v, 0)``   -- extra op, for DARTS genotypes
8   elementwise_mean         >= 2     ``(v_1 + ... + v_k) / k`` -- extra op, for DARTS
==  =======================  =======  ===================================================

``linear``, ``elementwise_*`` are commutative (a linear's weights are per slot, so
permuting its inputs permutes the weights: the same family of functions).

Canonical form
--------------
``Cell`` stores the recipe in canonical form: intermediate nodes are renamed ``n0, n1, ...``
and all nodes are listed in a canonical topological order; commutative inputs are sorted
(graph inputs first, then nodes by position). The labelling is found by colour refinement
(Weisfeiler-Lehman on op, output name, ordered/multiset inputs and consumer roles) plus an
individualisation-refinement search with automorphism pruning that picks the smallest
certificate, so two recipes that differ only in intermediate names, dict order or the order
of commutative inputs are equal, hash equally and have the same ``canonical()`` and
``digest``. Two structurally different DAGs never collide (e.g. ``prod(p, q)`` over two
distinct ``linear(x)`` nodes differs from ``prod(p, p)``). The search is capped at
``_MAX_LEAVES`` leaves; only graphs with enormous automorphism groups could hit the cap
(then the labelling is still deterministic but may depend on the input names).

DARTS / ENAS genotypes
----------------------
A genotype is a sequence of ``(activation, predecessor)`` pairs, activation in
``tanh, relu, sigmoid, identity``; entry ``i`` (0-based) defines node ``i + 1`` with
predecessor ``j <= i``. ``Cell.from_genotype`` maps it to recipe ops:

* ``s0 = h + c0 * (tanh(W [x, h]) - h)``, ``c0 = sigmoid(W' [x, h])`` with ``h = h_prev_0``
  becomes ``c0 = activation_sigm(linear(x, h_prev_0))``,
  ``t0 = activation_tanh(linear(x, h_prev_0))``, ``s0 = blend(c0, t0, h_prev_0)``
  (``h + c (t - h) == c t + (1 - c) h``).
* node ``i``: ``c_i = activation_sigm(linear(s_j))``; ``t_i = ACT(linear(s_j))`` with
  ``tanh -> activation_tanh``, ``sigmoid -> activation_sigm``, ``relu -> activation_relu``
  and ``identity`` -> the ``linear`` node itself (no activation node);
  ``s_i = blend(c_i, t_i, s_j)``.
* ``h_new_0 = elementwise_mean(s_k for k in concat)`` (the blend node itself when concat
  has one node); ``concat="all"`` is DARTS (nodes 1..n), ``concat="leaves"`` is ENAS (nodes
  no later node uses).

Deviations from DARTS: each DARTS matrix ``W_i`` (split into c and h halves) becomes two
``linear`` nodes, which carry a bias (DARTS has none); dropout masks are the network's
business. The cell has one hidden state (``h_new_0`` is both output and state, as in DARTS).

Array form (``Cell.program`` -> ``CellBatch``)
----------------------------------------------
For ``N`` cells padded to ``M`` nodes and ``K`` input slots: a value table has rows
``0: x, 1: h_prev_0, 2: h_prev_1, 3: h_prev_2, 4 + i: node i`` (canonical topological
order, so node ``i`` only reads rows ``< 4 + i``); see ``CellBatch`` for the arrays.
"""

from __future__ import annotations

import heapq
import json
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Literal

import numpy as np

from petridish.motifs.base import Motif

__all__ = [
    "DARTS_V1",
    "DARTS_V2",
    "ENAS",
    "GENOTYPE_ACTIVATIONS",
    "GRAPH_INPUTS",
    "NASBENCH_OPS",
    "N_GRAPH_INPUTS",
    "OPS",
    "OP_ID",
    "OUTPUTS",
    "Cell",
    "CellBatch",
    "CellError",
    "Genotype",
    "adjacency_onehot",
    "adjacency_onehot_size",
    "genotype_recipe",
    "mutate",
    "mutate_genotype",
    "op_counts",
    "random_cell",
    "random_genotype",
    "random_recipe",
    "reference_step",
    "validate_genotype",
]


class CellError(ValueError):
    """A recipe or genotype that does not describe a valid cell; the message names the node."""


@dataclass(frozen=True)
class _OpSpec:
    name: str
    min_arity: int
    max_arity: int | None  # None: unbounded
    ordered: bool  # input order matters (blend); otherwise the inputs are a multiset


_SPECS: tuple[_OpSpec, ...] = (
    _OpSpec("linear", 1, None, False),
    _OpSpec("blend", 3, 3, True),
    _OpSpec("elementwise_sum", 2, None, False),
    _OpSpec("elementwise_prod", 2, None, False),
    _OpSpec("activation_tanh", 1, 1, False),
    _OpSpec("activation_sigm", 1, 1, False),
    _OpSpec("activation_leaky_relu", 1, 1, False),
    _OpSpec("activation_relu", 1, 1, False),
    _OpSpec("elementwise_mean", 2, None, False),
)
OPS: tuple[str, ...] = tuple(s.name for s in _SPECS)
"""All ops; an op's id is its position here."""
OP_ID: dict[str, int] = {name: i for i, name in enumerate(OPS)}
NASBENCH_OPS: tuple[str, ...] = OPS[:7]
"""The seven ops of the NAS-Bench-NLP search space (ids 0..6)."""
GRAPH_INPUTS: tuple[str, ...] = ("x", "h_prev_0", "h_prev_1", "h_prev_2")
"""Graph inputs; their position is their row in the executor's value table."""
N_GRAPH_INPUTS = len(GRAPH_INPUTS)
OUTPUTS: tuple[str, ...] = ("h_new_0", "h_new_1", "h_new_2")
_N_STATES = len(OUTPUTS)
_OUTPUT_K = {name: k for k, name in enumerate(OUTPUTS)}
_MAX_LEAVES = 4096  # cap of the canonical-labelling search (see module docstring)
_LEAKY_SLOPE = 0.01

Node = tuple[str, str, tuple[str, ...]]
"""One canonical node: (name, op, input names)."""


def _arity_text(spec: _OpSpec) -> str:
    if spec.max_arity is None:
        return f"at least {spec.min_arity}"
    return f"exactly {spec.min_arity}"


# --------------------------------------------------------------------------- validation


@dataclass
class _Graph:
    """A validated recipe with integer references.

    ``inputs[v]`` holds node indices (>= 0) or graph inputs as ``-1 - t`` (x = -1,
    h_prev_k = -2 - k); ``out_k[v]`` is k for node ``h_new_k`` and -1 otherwise.
    """

    names: list[str]
    ops: list[int]
    inputs: list[list[int]]
    out_k: list[int]

    @cached_property
    def ordered(self) -> list[bool]:
        return [_SPECS[op].ordered for op in self.ops]

    @cached_property
    def consumers(self) -> list[list[tuple[int, int]]]:
        """Per node, one (consumer, role) per use; role is the slot for ordered ops, else -1."""
        cons: list[list[tuple[int, int]]] = [[] for _ in self.ops]
        for w, refs in enumerate(self.inputs):
            for slot, r in enumerate(refs):
                if r >= 0:
                    cons[r].append((w, slot if self.ordered[w] else -1))
        return cons


def _load(recipe: object) -> Mapping[Any, Any]:
    if isinstance(recipe, str):
        try:
            recipe = json.loads(recipe)
        except ValueError as err:
            raise CellError(f"recipe is not valid JSON: {err}") from None
    if not isinstance(recipe, Mapping):
        raise CellError(
            "recipe must be a JSON object mapping node names to {'op': ..., 'input': [...]}, "
            f"got {type(recipe).__name__}"
        )
    if len(recipe) == 0:
        raise CellError("empty recipe: a cell needs at least its output node 'h_new_0'")
    return recipe


def _parse(recipe: Mapping[Any, Any]) -> _Graph:
    """Validate a recipe mapping; every error names the offending node."""
    names: list[str] = []
    ops: list[int] = []
    raw: list[list[str]] = []
    for name, spec in recipe.items():
        if not isinstance(name, str):
            raise CellError(f"node {name!r}: node names must be strings")
        if name in GRAPH_INPUTS:
            raise CellError(f"node {name!r}: the name is reserved for a graph input")
        if not isinstance(spec, Mapping):
            raise CellError(
                f"node {name!r}: expected an object with 'op' and 'input', "
                f"got {type(spec).__name__}"
            )
        for key in ("op", "input"):
            if key not in spec:
                raise CellError(f"node {name!r}: missing key {key!r}")
        extra = sorted(repr(k) for k in spec if k not in ("op", "input"))
        if extra:
            raise CellError(f"node {name!r}: unknown keys {', '.join(extra)}")
        op, inputs = spec["op"], spec["input"]
        if not isinstance(op, str) or op not in OP_ID:
            raise CellError(f"node {name!r}: unknown op {op!r}; known ops: {', '.join(OPS)}")
        if not isinstance(inputs, list | tuple):
            raise CellError(
                f"node {name!r}: 'input' must be a list of names, got {type(inputs).__name__}"
            )
        for item in inputs:
            if not isinstance(item, str):
                raise CellError(f"node {name!r}: input {item!r} is not a name (string)")
        sp = _SPECS[OP_ID[op]]
        if len(inputs) < sp.min_arity or (sp.max_arity is not None and len(inputs) > sp.max_arity):
            raise CellError(
                f"node {name!r}: op {op!r} takes {_arity_text(sp)} input(s), got {len(inputs)}"
            )
        names.append(name)
        ops.append(OP_ID[op])
        raw.append(list(inputs))

    index = {name: i for i, name in enumerate(names)}
    refs: list[list[int]] = []
    for name, items in zip(names, raw, strict=True):
        row: list[int] = []
        for item in items:
            if item in index:
                row.append(index[item])
            elif item in GRAPH_INPUTS:
                row.append(-1 - GRAPH_INPUTS.index(item))
            else:
                raise CellError(
                    f"node {name!r}: input {item!r} does not exist (neither a node of the "
                    f"recipe nor a graph input {', '.join(GRAPH_INPUTS)})"
                )
        refs.append(row)
    if OUTPUTS[0] not in index:
        raise CellError(f"missing output node {OUTPUTS[0]!r} (the cell output)")
    graph = _Graph(names, ops, refs, [_OUTPUT_K.get(name, -1) for name in names])
    _check_acyclic(graph)
    _check_states(graph)
    _check_live(graph)
    return graph


def _check_acyclic(g: _Graph) -> None:
    state = [0] * len(g.ops)  # 0: unseen, 1: on the DFS path, 2: finished
    for root in range(len(g.ops)):
        if state[root]:
            continue
        state[root] = 1
        stack: list[tuple[int, int]] = [(root, 0)]  # (node, next input slot)
        while stack:
            v, slot = stack[-1]
            if slot == len(g.inputs[v]):
                state[v] = 2
                stack.pop()
                continue
            stack[-1] = (v, slot + 1)
            w = g.inputs[v][slot]
            if w < 0 or state[w] == 2:
                continue
            if state[w] == 1:  # back edge: the cycle is the path from w to v, then w again
                path = [u for u, _ in stack]
                loop = [*path[path.index(w) :], w]
                text = " reads ".join(repr(g.names[u]) for u in loop)
                raise CellError(f"node {g.names[w]!r} is on a cycle: {text}")
            state[w] = 1
            stack.append((w, 0))


def _check_states(g: _Graph) -> None:
    present = {k for k in g.out_k if k >= 0}
    for k in sorted(present):
        if k > 0 and k - 1 not in present:
            raise CellError(
                f"node {OUTPUTS[k]!r}: hidden states must be numbered contiguously, "
                f"but {OUTPUTS[k - 1]!r} is missing"
            )
    readers: dict[int, str] = {}
    for name, row in zip(g.names, g.inputs, strict=True):
        for r in row:
            if r <= -2:
                readers.setdefault(-2 - r, name)
    for k, reader in sorted(readers.items()):
        if k not in present:
            raise CellError(
                f"node {reader!r} reads {GRAPH_INPUTS[1 + k]!r} but the recipe has no output "
                f"node {OUTPUTS[k]!r}"
            )
    for k in sorted(present):
        if k > 0 and k not in readers:
            raise CellError(
                f"node {OUTPUTS[k]!r} writes hidden state {k} but no node reads "
                f"{GRAPH_INPUTS[1 + k]!r}"
            )


def _check_live(g: _Graph) -> None:
    live = [False] * len(g.ops)
    stack = [v for v, k in enumerate(g.out_k) if k >= 0]
    while stack:
        v = stack.pop()
        if live[v]:
            continue
        live[v] = True
        stack.extend(r for r in g.inputs[v] if r >= 0)
    for v, ok in enumerate(live):
        if not ok:
            raise CellError(
                f"node {g.names[v]!r} does not feed any output node ({', '.join(OUTPUTS)})"
            )


# ------------------------------------------------------------------ canonical labelling


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


def _nodes_as_recipe(nodes: object) -> Mapping[Any, Any]:
    if not isinstance(nodes, list | tuple):
        raise CellError(f"Cell nodes must be a tuple of (name, op, inputs), got {nodes!r}")
    recipe: dict[Any, Any] = {}
    for item in nodes:
        if not isinstance(item, list | tuple) or len(item) != 3:
            raise CellError(f"Cell node {item!r} is not a (name, op, inputs) triple")
        name, op, ins = item
        if isinstance(name, str) and name in recipe:
            raise CellError(f"node {name!r}: defined twice")
        try:
            recipe[name] = {"op": op, "input": list(ins) if isinstance(ins, tuple) else ins}
        except TypeError:
            raise CellError(f"node {name!r}: node names must be strings") from None
    return _load(recipe)


# ------------------------------------------------------------------------------- Cell


@dataclass(frozen=True)
class CellBatch:
    """Dense program of ``N`` cells for one compiled executor (``M`` nodes, ``K`` slots).

    Value table per cell and time step: ``(4 + M, B, d)``, rows ``0: x, 1..3: h_prev_0..2,
    4 + i: node i``. Nodes are in canonical topological order, so a ``fori_loop``/``scan``
    over ``i`` can compute row ``4 + i`` from rows ``< 4 + i``. All arrays are int32.

    * ``op``          ``(N, M)``: op id (index in ``OPS``); -1 on padding nodes.
    * ``inputs``      ``(N, M, K)``: value-table rows read by each node, -1 on unused slots.
      ``blend`` uses slots ``(z, a, b)`` = 0, 1, 2; ``elementwise_mean`` divides by the
      number of used slots.
    * ``state_of``    ``(N, M)``: k if the node is ``h_new_k``, else -1.
    * ``outputs``     ``(N, 3)``: value-table row of ``h_new_k``, -1 if the cell lacks state k.
    * ``weight_slot`` ``(N, M, K)``: index of the weight matrix applied to that input of a
      ``linear`` node (numbered 0.. in node then slot order), -1 elsewhere. Each linear
      node also has one bias, best stored per node row ``(M, d)``.
    * ``n_nodes``, ``n_weights`` ``(N,)``: real node count and number of weight matrices.
    """

    op: np.ndarray
    inputs: np.ndarray
    state_of: np.ndarray
    outputs: np.ndarray
    weight_slot: np.ndarray
    n_nodes: np.ndarray
    n_weights: np.ndarray

    @property
    def max_nodes(self) -> int:
        return int(self.op.shape[1])

    @property
    def max_inputs(self) -> int:
        return int(self.inputs.shape[2])

    def packed(self) -> np.ndarray:
        """One int32 array ``(N, M, 2 + K)``: ``[op, state_of, inputs...]`` per node.

        It holds everything: ``outputs`` and ``weight_slot`` follow from it.
        """
        return np.concatenate([self.op[..., None], self.state_of[..., None], self.inputs], -1)


@dataclass(frozen=True)
class Cell(Motif):
    """A recurrent cell, stored as its canonical recipe (see the module docstring).

    Build with ``Cell.from_recipe`` or ``Cell.from_genotype``; constructing from ``nodes``
    directly also validates and canonicalises. Invalid content raises ``CellError``.
    """

    nodes: tuple[Node, ...]
    kind = "cell"

    def __post_init__(self) -> None:
        object.__setattr__(self, "nodes", _canonical_nodes(_parse(_nodes_as_recipe(self.nodes))))

    @classmethod
    def _trusted(cls, nodes: tuple[Node, ...]) -> Cell:
        # Nodes already canonical: skip the second validation/canonicalisation pass.
        obj = object.__new__(cls)
        object.__setattr__(obj, "nodes", nodes)
        return obj

    @classmethod
    def from_recipe(cls, recipe: Mapping[str, Any] | str) -> Cell:
        """A cell from a NAS-Bench-NLP recipe (a mapping, or its JSON text)."""
        return cls._trusted(_canonical_nodes(_parse(_load(recipe))))

    @classmethod
    def from_genotype(
        cls, genotype: Sequence[tuple[str, int]], concat: Literal["all", "leaves"] = "all"
    ) -> Cell:
        """A cell from a DARTS/ENAS recurrent genotype (mapping in the module docstring)."""
        return cls.from_recipe(genotype_recipe(genotype, concat))

    def to_recipe(self) -> dict[str, dict[str, Any]]:
        """The canonical recipe as a fresh JSON-able dict, in canonical topological order."""
        return {name: {"op": op, "input": list(ins)} for name, op, ins in self.nodes}

    @property
    def n_nodes(self) -> int:
        return len(self.nodes)

    @property
    def n_states(self) -> int:
        """Number of hidden states (1..3)."""
        return sum(1 for name, _, _ in self.nodes if name in _OUTPUT_K)

    @property
    def n_weights(self) -> int:
        """Number of weight matrices (one per input slot of each ``linear`` node)."""
        return sum(len(ins) for _, op, ins in self.nodes if op == "linear")

    def payload(self) -> dict[str, Any]:
        return {"recipe": self.to_recipe()}

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> Cell:
        if set(payload) != {"recipe"}:
            raise CellError(f"cell payload needs exactly 'recipe', got {sorted(payload)}")
        return cls.from_recipe(payload["recipe"])

    @classmethod
    def program(
        cls,
        cells: Sequence[Motif],
        max_nodes: int | None = None,
        max_inputs: int | None = None,
    ) -> CellBatch:
        """Pad ``cells`` into a ``CellBatch``; sizes default to the batch maxima.

        Pass fixed ``max_nodes``/``max_inputs`` to reuse one compiled executor across
        batches; a cell that does not fit raises ``ValueError``.
        """
        cs = [c for c in cells if isinstance(c, Cell)]
        if len(cs) != len(cells) or not cs:
            raise ValueError("Cell.program needs a non-empty sequence of Cell motifs")
        need_m = max(c.n_nodes for c in cs)
        need_k = max(len(ins) for c in cs for _, _, ins in c.nodes)
        m = need_m if max_nodes is None else max_nodes
        k = need_k if max_inputs is None else max_inputs
        if m < need_m or k < need_k:
            raise ValueError(
                f"cells need max_nodes >= {need_m} and max_inputs >= {need_k}, got {m}, {k}"
            )
        n = len(cs)
        op = np.full((n, m), -1, np.int32)
        state_of = np.full((n, m), -1, np.int32)
        inputs = np.full((n, m, k), -1, np.int32)
        weight_slot = np.full((n, m, k), -1, np.int32)
        outputs = np.full((n, _N_STATES), -1, np.int32)
        n_nodes = np.zeros(n, np.int32)
        n_weights = np.zeros(n, np.int32)
        for b, cell in enumerate(cs):
            row = {name: i for i, name in enumerate(GRAPH_INPUTS)}
            slot = 0
            for i, (name, op_name, ins) in enumerate(cell.nodes):
                row[name] = N_GRAPH_INPUTS + i
                op[b, i] = OP_ID[op_name]
                inputs[b, i, : len(ins)] = [row[s] for s in ins]
                if name in _OUTPUT_K:
                    state_of[b, i] = _OUTPUT_K[name]
                    outputs[b, _OUTPUT_K[name]] = N_GRAPH_INPUTS + i
                if op_name == "linear":
                    weight_slot[b, i, : len(ins)] = np.arange(slot, slot + len(ins))
                    slot += len(ins)
            n_nodes[b] = cell.n_nodes
            n_weights[b] = slot
        return CellBatch(op, inputs, state_of, outputs, weight_slot, n_nodes, n_weights)

    @classmethod
    def encode_many(cls, motifs: Sequence[Motif]) -> np.ndarray:
        """``Cell.program(motifs).packed()``: int32 ``(N, M, 2 + K)``, see ``CellBatch``."""
        return cls.program(motifs).packed()


# ------------------------------------------------------------------ reference executor


def _sigmoid(v: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-v))


def reference_step(
    cell: Cell,
    x: np.ndarray,
    h_prev: np.ndarray,
    weights: Sequence[np.ndarray],
    biases: np.ndarray,
) -> np.ndarray:
    """One step of ``cell`` in plain numpy, reading the ``Cell.program`` arrays.

    A reference to test a batched executor against. Shapes: ``x (B, d_x)``,
    ``h_prev (3, B, d_h)`` (rows of absent states are ignored), ``weights[s]`` for weight
    slot ``s`` is ``(d_in, d_h)`` with ``d_in = d_x`` if that slot reads ``x`` else ``d_h``,
    ``biases (n_nodes, d_h)`` (rows of non-linear nodes are ignored). Returns the new states
    ``(3, B, d_h)``, zero for states the cell does not have.
    """
    prog = Cell.program([cell])
    if len(weights) != int(prog.n_weights[0]):
        raise ValueError(f"cell has {int(prog.n_weights[0])} weight slots, got {len(weights)}")
    values: list[np.ndarray] = [x, *(h_prev[k] for k in range(_N_STATES))]
    for i in range(cell.n_nodes):
        used = prog.inputs[0, i] >= 0
        args = [values[r] for r in prog.inputs[0, i][used]]
        name = OPS[int(prog.op[0, i])]
        if name == "linear":
            slots = prog.weight_slot[0, i][used]
            out = biases[i] + sum(a @ weights[s] for a, s in zip(args, slots, strict=True))
        elif name == "blend":
            z, a, b = args
            out = z * a + (1.0 - z) * b
        elif name == "elementwise_sum":
            out = np.sum(args, axis=0)
        elif name == "elementwise_prod":
            out = np.prod(args, axis=0)
        elif name == "elementwise_mean":
            out = np.mean(args, axis=0)
        elif name == "activation_tanh":
            out = np.tanh(args[0])
        elif name == "activation_sigm":
            out = _sigmoid(args[0])
        elif name == "activation_leaky_relu":
            out = np.where(args[0] > 0, args[0], _LEAKY_SLOPE * args[0])
        else:  # activation_relu
            out = np.maximum(args[0], 0.0)
        values.append(np.asarray(out))
    new = np.zeros_like(np.asarray(h_prev, dtype=values[-1].dtype))
    for k, r in enumerate(prog.outputs[0]):
        if r >= 0:
            new[k] = values[r]
    return new


# ---------------------------------------------------------------------- baseline codes


def adjacency_onehot_size(max_nodes: int) -> int:
    """Length of ``adjacency_onehot(cell, max_nodes)``."""
    return (N_GRAPH_INPUTS + max_nodes) * max_nodes + max_nodes * (len(OPS) + _N_STATES)


def adjacency_onehot(cell: Cell, max_nodes: int) -> np.ndarray:
    """Fixed-length float32 code: adjacency counts, op one-hot and output one-hot.

    Layout (concatenated, row-major): ``A (4 + max_nodes, max_nodes)`` with ``A[r, i]`` the
    number of times value-table row ``r`` feeds node ``i`` (blend slot roles are not kept);
    ``op one-hot (max_nodes, len(OPS))``; ``output one-hot (max_nodes, 3)`` (node is
    ``h_new_k``). Padding nodes are all zero. Length ``adjacency_onehot_size(max_nodes)``.
    """
    if cell.n_nodes > max_nodes:
        raise ValueError(f"cell has {cell.n_nodes} nodes, more than max_nodes={max_nodes}")
    prog = Cell.program([cell], max_nodes=max_nodes)
    adj = np.zeros((N_GRAPH_INPUTS + max_nodes, max_nodes), np.float32)
    ops = np.zeros((max_nodes, len(OPS)), np.float32)
    outs = np.zeros((max_nodes, _N_STATES), np.float32)
    for i in range(cell.n_nodes):
        for r in prog.inputs[0, i]:
            if r >= 0:
                adj[r, i] += 1.0
        ops[i, prog.op[0, i]] = 1.0
        if prog.state_of[0, i] >= 0:
            outs[i, prog.state_of[0, i]] = 1.0
    return np.concatenate([adj.ravel(), ops.ravel(), outs.ravel()])


def op_counts(cell: Cell) -> np.ndarray:
    """Float32 ``(len(OPS),)``: how many nodes use each op, in ``OPS`` order."""
    counts = np.zeros(len(OPS), np.float32)
    for _, op, _ in cell.nodes:
        counts[OP_ID[op]] += 1.0
    return counts


# -------------------------------------------------------------------- recipe sampling


def _check_ops(ops: Sequence[str]) -> list[str]:
    bad = [op for op in ops if op not in OP_ID]
    if bad or not ops:
        raise ValueError(f"ops must be a non-empty subset of {OPS}, got {list(ops)}")
    return list(dict.fromkeys(ops))


def _arity_range(op: str) -> tuple[int, int]:
    """Arities the samplers use, as in the benchmark: linear 2-3, sum/prod 2, mean 2-3."""
    sp = _SPECS[OP_ID[op]]
    if op in ("linear", "elementwise_mean"):
        return 2, 3
    if op in ("elementwise_sum", "elementwise_prod"):
        return 2, 2
    return sp.min_arity, sp.min_arity


def random_recipe(
    rng: np.random.Generator,
    n_nodes: int | None = None,
    n_states: int | None = None,
    ops: Sequence[str] = NASBENCH_OPS,
) -> dict[str, dict[str, Any]]:
    """A random valid recipe with exactly ``n_nodes`` nodes (default: 2..12 at random).

    ``n_states`` (default 1..3, at most ``n_nodes``) hidden states; nodes use ``ops`` with
    benchmark-like arities (linear 2-3, blend 3, sum/prod 2, mean 2-3, activations 1) and
    never repeat an input within a node; every node feeds an output, and ``x`` and every
    used ``h_prev_k`` are read. Raises ``ValueError`` if the arguments admit no cell.
    """
    op_list = _check_ops(ops)
    n = int(rng.integers(2, 13)) if n_nodes is None else int(n_nodes)
    if n < 1:
        raise ValueError(f"n_nodes must be >= 1, got {n_nodes}")
    s = int(rng.integers(1, min(3, n) + 1)) if n_states is None else int(n_states)
    if not 1 <= s <= min(3, n):
        raise ValueError(f"n_states must be in 1..min(3, n_nodes)={min(3, n)}, got {n_states}")
    for _ in range(1000):
        recipe = _try_recipe(rng, n, s, op_list)
        if recipe is not None:
            return recipe
    raise ValueError(f"could not sample a cell with {n} nodes, {s} states from ops {op_list}")


def _try_recipe(
    rng: np.random.Generator, n: int, s: int, ops: list[str]
) -> dict[str, dict[str, Any]] | None:
    # Outputs: h_new_0 is the last node, h_new_1.. are distinct earlier nodes.
    state_of = {n - 1: 0}
    for k, v in enumerate(rng.choice(n - 1, size=s - 1, replace=False), start=1):
        state_of[int(v)] = k
    # Every non-output node gets a consumer among later nodes (at most 3 per consumer), so
    # no node is dead; other outputs feed a later node half of the time.
    must: list[list[int]] = [[] for _ in range(n)]
    for i in reversed(range(n - 1)):
        if i in state_of and rng.random() < 0.5:
            continue
        free = [j for j in range(i + 1, n) if len(must[j]) < 3]
        must[int(rng.choice(free))].append(i)
    terminals = ["x", *(f"h_prev_{k}" for k in range(s))]
    unread = set(terminals)
    names = [OUTPUTS[state_of[i]] if i in state_of else f"node_{i}" for i in range(n)]
    recipe: dict[str, dict[str, Any]] = {}
    for j in range(n):
        pool = terminals + [names[i] for i in range(j) if i not in must[j]]
        c = len(must[j])
        fits = [
            (op, lo, hi)
            for op in ops
            for lo, hi in [_arity_range(op)]
            if max(lo, c) <= min(hi, c + len(pool))
        ]
        if not fits:
            return None
        op, lo, hi = fits[int(rng.integers(len(fits)))]
        arity = int(rng.integers(max(lo, c), min(hi, c + len(pool)) + 1))
        chosen = [names[i] for i in must[j]]
        for _ in range(arity - c):
            left = [p for p in pool if p not in chosen]
            wanted = [p for p in left if p in unread]
            pick_from = wanted if wanted and rng.random() < 0.5 else left
            chosen.append(pick_from[int(rng.integers(len(pick_from)))])
        unread.difference_update(chosen)
        order = rng.permutation(len(chosen))
        recipe[names[j]] = {"op": op, "input": [chosen[int(t)] for t in order]}
    if unread:
        return None
    try:
        _parse(recipe)
    except CellError:
        return None
    return recipe


def random_cell(
    rng: np.random.Generator,
    n_nodes: int | None = None,
    n_states: int | None = None,
    ops: Sequence[str] = NASBENCH_OPS,
) -> Cell:
    """``Cell.from_recipe(random_recipe(...))``."""
    return Cell.from_recipe(random_recipe(rng, n_nodes, n_states, ops))


def mutate(cell: Cell, rng: np.random.Generator, ops: Sequence[str] = NASBENCH_OPS) -> Cell:
    """A valid cell different from ``cell`` that changes one node's op or one input.

    Op changes keep the node's input count (the new op from ``ops`` must take that many
    inputs within the samplers' benchmark-like arities, see ``random_recipe``); input
    changes pick another graph input of a used state or an earlier node, so the graph
    stays acyclic. Candidates that fail validation (a dead node, an orphaned state) or
    that are isomorphic to ``cell`` are redrawn. Raises ``ValueError`` if none is found.
    """
    op_list = _check_ops(ops)
    recipe = cell.to_recipe()
    names = list(recipe)
    terminals = ["x", *(f"h_prev_{k}" for k in range(cell.n_states))]
    for _ in range(200):
        v = int(rng.integers(len(names)))
        spec = recipe[names[v]]
        new = {name: {"op": sp["op"], "input": list(sp["input"])} for name, sp in recipe.items()}
        if rng.random() < 0.5:
            k = len(spec["input"])
            choices = [
                op
                for op in op_list
                if op != spec["op"] and _arity_range(op)[0] <= k <= _arity_range(op)[1]
            ]
            if not choices:
                continue
            new[names[v]]["op"] = choices[int(rng.integers(len(choices)))]
        else:
            slot = int(rng.integers(len(spec["input"])))
            pool = [p for p in terminals + names[:v] if p != spec["input"][slot]]
            if not pool:
                continue
            new[names[v]]["input"][slot] = pool[int(rng.integers(len(pool)))]
        try:
            out = Cell.from_recipe(new)
        except CellError:
            continue
        if out != cell:
            return out
    raise ValueError("could not find a valid mutation of this cell")


# --------------------------------------------------------------------------- genotypes

Genotype = tuple[tuple[str, int], ...]
"""DARTS recurrent genotype: entry i (0-based) is (activation, predecessor j <= i)."""
GENOTYPE_ACTIVATIONS: tuple[str, ...] = ("tanh", "relu", "sigmoid", "identity")
_GENOTYPE_ACT_OP = {
    "tanh": "activation_tanh",
    "relu": "activation_relu",
    "sigmoid": "activation_sigm",
}

DARTS_V1: Genotype = (
    ("relu", 0), ("relu", 1), ("tanh", 2), ("relu", 3),
    ("relu", 4), ("identity", 1), ("relu", 5), ("relu", 1),
)  # fmt: skip
"""First-order DARTS PTB cell (Liu et al., 2019); use with ``concat="all"``."""
DARTS_V2: Genotype = (
    ("sigmoid", 0), ("relu", 1), ("relu", 1), ("identity", 1),
    ("tanh", 2), ("sigmoid", 5), ("tanh", 3), ("relu", 5),
)  # fmt: skip
"""Second-order DARTS PTB cell (Liu et al., 2019); use with ``concat="all"``."""
ENAS: Genotype = (
    ("tanh", 0), ("tanh", 1), ("relu", 1), ("tanh", 3), ("tanh", 3), ("relu", 3),
    ("relu", 4), ("relu", 7), ("relu", 8), ("relu", 8), ("relu", 8),
)  # fmt: skip
"""ENAS PTB cell (Pham et al., 2018) in DARTS notation; use with ``concat="leaves"``."""


def validate_genotype(genotype: object) -> Genotype:
    """``genotype`` as a tuple of (activation, predecessor); ``CellError`` names the bad node."""
    if isinstance(genotype, str) or not isinstance(genotype, Sequence) or len(genotype) == 0:
        raise CellError(f"genotype must be a non-empty sequence of pairs, got {genotype!r}")
    out: list[tuple[str, int]] = []
    for i, entry in enumerate(genotype):
        node = i + 1
        if isinstance(entry, str) or not isinstance(entry, Sequence) or len(entry) != 2:
            raise CellError(
                f"genotype node {node}: expected (activation, predecessor), got {entry!r}"
            )
        act, pred = entry
        if not isinstance(act, str) or act not in GENOTYPE_ACTIVATIONS:
            raise CellError(
                f"genotype node {node}: unknown activation {act!r}; "
                f"known: {', '.join(GENOTYPE_ACTIVATIONS)}"
            )
        if isinstance(pred, bool) or not isinstance(pred, int | np.integer):
            raise CellError(f"genotype node {node}: predecessor must be an int, got {pred!r}")
        if not 0 <= int(pred) <= i:
            raise CellError(
                f"genotype node {node}: predecessor {int(pred)} is not an earlier node (0..{i})"
            )
        out.append((act, int(pred)))
    return tuple(out)


def genotype_recipe(
    genotype: Sequence[tuple[str, int]], concat: Literal["all", "leaves"] = "all"
) -> dict[str, dict[str, Any]]:
    """The recipe of a DARTS/ENAS genotype (node names ``s{i}``, ``c{i}`` ...; see module doc)."""
    geno = validate_genotype(genotype)
    if concat not in ("all", "leaves"):
        raise CellError(f"concat must be 'all' or 'leaves', got {concat!r}")
    n = len(geno)
    recipe: dict[str, dict[str, Any]] = {
        "c0_lin": {"op": "linear", "input": ["x", "h_prev_0"]},
        "c0": {"op": "activation_sigm", "input": ["c0_lin"]},
        "t0_lin": {"op": "linear", "input": ["x", "h_prev_0"]},
        "t0": {"op": "activation_tanh", "input": ["t0_lin"]},
        "s0": {"op": "blend", "input": ["c0", "t0", "h_prev_0"]},
    }
    for i, (act, pred) in enumerate(geno, start=1):
        prev = f"s{pred}"
        recipe[f"c{i}_lin"] = {"op": "linear", "input": [prev]}
        recipe[f"c{i}"] = {"op": "activation_sigm", "input": [f"c{i}_lin"]}
        recipe[f"t{i}_lin"] = {"op": "linear", "input": [prev]}
        t = f"t{i}_lin"
        if act != "identity":
            t = f"t{i}"
            recipe[t] = {"op": _GENOTYPE_ACT_OP[act], "input": [f"t{i}_lin"]}
        recipe[f"s{i}"] = {"op": "blend", "input": [f"c{i}", t, prev]}
    if concat == "all":
        picked = list(range(1, n + 1))
    else:
        used = {pred for _, pred in geno}
        picked = [i for i in range(1, n + 1) if i not in used]
    if len(picked) == 1:
        recipe[OUTPUTS[0]] = recipe.pop(f"s{picked[0]}")
        for spec in recipe.values():  # nothing reads a leaf, but keep the rename total
            spec["input"] = [OUTPUTS[0] if s == f"s{picked[0]}" else s for s in spec["input"]]
    else:
        recipe[OUTPUTS[0]] = {"op": "elementwise_mean", "input": [f"s{i}" for i in picked]}
    return recipe


def random_genotype(rng: np.random.Generator, n_nodes: int = 8) -> Genotype:
    """A uniform random genotype of ``n_nodes`` entries (DARTS uses 8)."""
    if n_nodes < 1:
        raise ValueError(f"n_nodes must be >= 1, got {n_nodes}")
    acts = GENOTYPE_ACTIVATIONS
    return tuple(
        (acts[int(rng.integers(len(acts)))], int(rng.integers(i + 1))) for i in range(n_nodes)
    )


def mutate_genotype(genotype: Sequence[tuple[str, int]], rng: np.random.Generator) -> Genotype:
    """``genotype`` with one activation or one predecessor changed (always a change).

    Node 1 can only take predecessor 0, so it only changes its activation.
    """
    geno = list(validate_genotype(genotype))
    i = int(rng.integers(len(geno)))
    act, pred = geno[i]
    if i > 0 and rng.random() < 0.5:
        others = [j for j in range(i + 1) if j != pred]
        geno[i] = (act, others[int(rng.integers(len(others)))])
    else:
        acts = [a for a in GENOTYPE_ACTIVATIONS if a != act]
        geno[i] = (acts[int(rng.integers(len(acts)))], pred)
    return tuple(geno)
