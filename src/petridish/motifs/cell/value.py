"""The value object ``Cell`` and its dense array form ``CellBatch``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from petridish.motifs.base import Motif
from petridish.motifs.cell.canonical import _canonical_nodes
from petridish.motifs.cell.genotype import genotype_recipe
from petridish.motifs.cell.ops import (
    _N_STATES,
    _OUTPUT_K,
    GRAPH_INPUTS,
    N_GRAPH_INPUTS,
    OP_ID,
    CellError,
    Node,
)
from petridish.motifs.cell.parse import _load, _nodes_as_recipe, _parse


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
    """A recurrent cell, stored as its canonical recipe (see the package docstring).

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
        """A cell from a DARTS/ENAS recurrent genotype (mapping in the package docstring)."""
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
