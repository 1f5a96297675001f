"""The cell motif-network for DARTS/ENAS/NAO genotypes, one executor step per genotype node.

A 12-node genotype (the paper's NAO space) is 66 primitive nodes (five per highway node,
four for identity, plus the output mean), and the primitive executor (``CellNet``) runs its
node loop once per primitive node at every time step of every inner step: the dish's
second-order inner loop is bound by that count of sequential node steps (README, "Speed").
``GenotypeCellNet`` runs the same cell as 13 highway steps ``s = s_p + c (f(W s_p) - s_p)``
(``petridish.nets.cell.native_layer``), reading the SAME parameters as the primitive form
(the weight slots and bias rows of each node's two ``linear`` nodes), so a dish on it
computes the same scores as a dish on ``CellNet`` from the same initial weights and data
(float32 rounding; pinned by ``tests/nets/test_genotype_cell.py``), several times faster.

Contract (the ``MotifNet`` one, with these specifics):

* Motifs are genotype cells (``Cell.from_genotype`` or any ``Cell`` whose canonical nodes
  are exactly a genotype's primitive form, ``petridish.nets.cell.native_layout``); any other
  cell, or a genotype whose primitive form does not fit ``max_nodes`` / ``max_slots`` /
  ``max_inputs``, is a ``ValueError`` naming the limit.
* ``codes``: ``native_codes`` padded to ``max_native = (max_nodes - 1) // 4`` rows (every
  highway node is at least four primitive nodes), ``(N, max_native, NATIVE_COLUMNS)``.
* ``trim`` cuts padding rows (rows past the batch's longest genotype); ``motif_cost`` is the
  genotype node count; parameters are ``CellNet``'s (``init`` is inherited), so a checkpoint
  of either network's weights fits the other.
* A cell whose state turns non-finite gets all-NaN logits (the dish scores it NaN, and
  ``isolate_nonfinite_grad`` in the inner loop keeps its gradient out of the shared one).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

import jax
import jax.numpy as jnp
import numpy as np

from petridish.motifs.base import Motif
from petridish.motifs.cell import Cell
from petridish.nets.base import Params
from petridish.nets.cell import (
    NATIVE_COLUMNS,
    CellNet,
    cell_codes,
    cell_network,
    native_codes,
    native_layout,
)
from petridish.nets.registry import NetworkConfig, register_network

__all__ = ["GENOTYPE_CELL_NETWORK", "GenotypeCellNet", "native_node_counts"]

GENOTYPE_CELL_NETWORK = "genotype_cell"

# Column of a native code row holding the gate's bias row: 0 only for padding rows past
# node 0 (a real node g >= 1 reads a bias row of a later primitive node).
_ROW_C = 5


def native_node_counts(codes: np.ndarray) -> np.ndarray:
    """Real highway nodes per cell of native codes ``(N, G, NATIVE_COLUMNS)``: ``(N,)``."""
    codes = np.asarray(codes)
    real = codes[:, :, _ROW_C] > 0  # (N, G)
    real[:, 0] = True  # node 0 always exists
    # Real rows come first, padding after: the count is one past the last real row.
    return np.where(real.any(axis=1), codes.shape[1] - np.argmax(real[:, ::-1], axis=1), 0)


@dataclass(frozen=True)
class GenotypeCellNet(CellNet):
    """``CellNet`` running genotype cells natively; see the module docstring.

    The fields are ``CellNet``'s: ``max_nodes``, ``max_slots`` and ``max_inputs`` bound the
    primitive form (whose parameter slots the native form reads), ``node_loop`` and
    ``remat`` are not used (the highway loop is a ``scan`` over genotype nodes).
    """

    node_bucket: ClassVar[int] = 1

    @property
    def max_native(self) -> int:
        """Most genotype (highway) nodes a code holds, node 0 included."""
        return max((self.max_nodes - 1) // 4, 1)

    def codes(self, motifs: Sequence[Motif]) -> np.ndarray:
        """Native codes ``(N, max_native, NATIVE_COLUMNS)`` of genotype cells."""
        if not all(isinstance(m, Cell) for m in motifs):
            kinds = sorted({type(m).__name__ for m in motifs})
            raise ValueError(f"the genotype cell network runs Cell motifs only, got {kinds}")
        cells = [m for m in motifs if isinstance(m, Cell)]
        for cell in cells:
            if native_layout(cell) is None:
                raise ValueError(
                    f"the genotype cell network runs genotype cells only (DARTS/ENAS/NAO "
                    f"highway nodes); cell {cell.digest[:12]} is not one: use the 'cell' network"
                )
        # The primitive form's limits (the native form reads its weight slots and bias rows).
        cell_codes(cells, self.max_nodes, self.max_inputs, self.max_slots)
        return native_codes(cells, self.max_native)

    def trim(self, codes: np.ndarray) -> np.ndarray:
        """Padding rows past the batch's longest genotype cut (they are never read)."""
        codes = np.asarray(codes)
        if codes.shape[0] == 0:
            return codes
        keep = max(int(native_node_counts(codes).max()), 1)
        return codes[:, :keep]

    def motif_cost(self, codes: np.ndarray) -> np.ndarray:
        """Genotype nodes per cell, ``(N,)``: the highway loop's length."""
        return native_node_counts(codes).astype(float)

    def apply(self, params: Params, code: jax.Array, x: jax.Array) -> jax.Array:
        code = jnp.asarray(code)
        if code.ndim != 2 or code.shape[1] != NATIVE_COLUMNS:
            raise ValueError(
                f"genotype cell code must be (nodes, {NATIVE_COLUMNS}), got shape {code.shape}"
            )
        if code.shape[0] > self.max_native:
            raise ValueError(
                f"code has {code.shape[0]} genotype nodes, blueprint allows {self.max_native}"
            )
        return self.apply_native(params, code, x)


def genotype_cell_network(config: NetworkConfig) -> GenotypeCellNet:
    """The registry factory: ``GenotypeCellNet`` from the cell network's fields (the cell
    network's factory checks them)."""
    return GenotypeCellNet(**dataclasses.asdict(cell_network(config)))


register_network(GENOTYPE_CELL_NETWORK, genotype_cell_network)
