"""Fixed-length feature vectors of recurrent cells, for the baseline predictors.

Contract:

* ``encode_cells(cells, kind, max_nodes)`` returns float64 ``(len(cells), n_features)``;
  every cell maps to the same columns whatever else is in the batch, so a model fit on one
  list of cells can be queried on another. ``n_features(kind, max_nodes)`` is the width.
* Kinds (``ENCODINGS``):

  - ``"adjacency"``: ``petridish.motifs.cell.adjacency_onehot`` -- for the canonical node
    order, the adjacency counts ``(4 + max_nodes, max_nodes)`` (graph inputs x, h_prev_0..2
    and nodes feeding each node), the op one-hot ``(max_nodes, len(OPS))`` and the output
    one-hot ``(max_nodes, 3)``; padding nodes are zeros. Because nodes are in canonical
    order, equal cells (up to renaming) have equal codes.
  - ``"op_counts"``: ``op_counts(cell)`` -- how many nodes use each op, ``(len(OPS),)``,
    followed by three size features: number of nodes, of ``linear`` weight matrices and of
    hidden states. Order-free and short: what a tabular model can use with 10 examples.
  - ``"concat"``: ``adjacency`` then ``op_counts``.

  The baselines default to ``"op_counts"``: in a 4-seed pilot on NAS-Bench-NLP (160
  training cells, rank-normal targets) it matched or beat ``"concat"`` for every model
  (Kendall tau: forest 0.245 vs 0.249, boosted trees 0.26 vs 0.20, GP 0.26 vs 0.22, NN
  0.28 vs 0.11); the adjacency of the canonical node order mostly adds noise features.

* ``max_nodes`` defaults to ``DEFAULT_MAX_NODES`` (15: the largest NAS-Bench-NLP cell, and
  ``DishConfig.max_nodes``). A cell with more nodes, a non-``Cell`` motif, an unknown kind or
  a bad ``max_nodes`` is a ``ValueError`` naming the value.
* Pure functions of the cells: no randomness, no state.
* Targets: ``transform_targets(losses, kind)`` turns training losses into regression
  targets. ``"zscore"``: ``(y - mean) / std``. ``"rank_normal"`` (the baselines' default):
  the normal scores of the ranks, ``Phi^-1((rank - 0.5) / n)`` with average ranks for
  ties, then z-scored. Benchmark losses are heavy-tailed (NAS-Bench-NLP: median 5.5 nats,
  worst 7.4), so under squared error a few bad cells dominate a z-scored fit; only the
  order matters for ranking, and the rank transform keeps exactly that. (4-seed pilot on
  NAS-Bench-NLP, 160 training cells: random forest Kendall tau 0.17 -> 0.25.)
* ``check_training_data`` is the ``fit`` argument check shared by the predictors built on
  these encodings (lengths, >= 2 finite losses, an int seed).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, get_args

import numpy as np
from scipy import stats

from petridish._validation import integer, positive_int
from petridish.metrics import zscore
from petridish.motifs import Cell, Motif
from petridish.motifs.cell import OPS, adjacency_onehot, adjacency_onehot_size, op_counts

__all__ = [
    "DEFAULT_MAX_NODES",
    "ENCODINGS",
    "CellEncoder",
    "EncodingKind",
    "TARGETS",
    "TargetKind",
    "check_training_data",
    "encode_cells",
    "n_features",
    "transform_targets",
]

EncodingKind = Literal["adjacency", "op_counts", "concat"]
ENCODINGS: tuple[str, ...] = get_args(EncodingKind)
TargetKind = Literal["rank_normal", "zscore"]
TARGETS: tuple[str, ...] = get_args(TargetKind)
DEFAULT_MAX_NODES = 15
_N_SIZE_FEATURES = 3  # nodes, weight matrices, hidden states


def _check_kind(kind: str) -> None:
    if kind not in ENCODINGS:
        raise ValueError(f"unknown cell encoding {kind!r}; known: {', '.join(ENCODINGS)}")


def _check_max_nodes(max_nodes: int) -> None:
    positive_int(max_nodes, "max_nodes")


def n_features(kind: str, max_nodes: int = DEFAULT_MAX_NODES) -> int:
    """Width of ``encode_cells(..., kind, max_nodes)``."""
    _check_kind(kind)
    _check_max_nodes(max_nodes)
    counts = len(OPS) + _N_SIZE_FEATURES
    if kind == "op_counts":
        return counts
    adjacency = adjacency_onehot_size(max_nodes)
    return adjacency if kind == "adjacency" else adjacency + counts


def _counts(cell: Cell) -> np.ndarray:
    sizes = np.array([cell.n_nodes, cell.n_weights, cell.n_states], dtype=np.float64)
    return np.concatenate([op_counts(cell).astype(np.float64), sizes])  # (len(OPS) + 3,)


def encode_cells(
    cells: Sequence[Motif], kind: str = "concat", max_nodes: int = DEFAULT_MAX_NODES
) -> np.ndarray:
    """Float64 features ``(len(cells), n_features(kind, max_nodes))``; see the module doc."""
    _check_kind(kind)
    _check_max_nodes(max_nodes)
    if len(cells) == 0:
        raise ValueError("no cells given: need at least one")
    rows: list[np.ndarray] = []
    for i, cell in enumerate(cells):
        if not isinstance(cell, Cell):
            raise ValueError(f"motif {i} is a {type(cell).__name__}, not a Cell")
        if cell.n_nodes > max_nodes:
            raise ValueError(
                f"cell {i} has {cell.n_nodes} nodes, more than max_nodes={max_nodes}; "
                f"raise max_nodes"
            )
        parts: list[np.ndarray] = []
        if kind in ("adjacency", "concat"):
            parts.append(adjacency_onehot(cell, max_nodes).astype(np.float64))
        if kind in ("op_counts", "concat"):
            parts.append(_counts(cell))
        rows.append(np.concatenate(parts))
    return np.stack(rows)


@dataclass(frozen=True)
class CellEncoder:
    """A fixed encoding as a value: ``CellEncoder("concat")(cells)`` -> ``(n, width)``."""

    kind: EncodingKind = "concat"
    max_nodes: int = DEFAULT_MAX_NODES

    def __post_init__(self) -> None:
        _check_kind(self.kind)
        _check_max_nodes(self.max_nodes)

    @property
    def width(self) -> int:
        return n_features(self.kind, self.max_nodes)

    def __call__(self, cells: Sequence[Motif]) -> np.ndarray:
        return encode_cells(cells, self.kind, self.max_nodes)


def check_training_data(
    motifs: Sequence[Motif], losses: Sequence[float] | np.ndarray, seed: int
) -> np.ndarray:
    """Validate ``fit`` arguments shared by the baselines; returns losses as float64 ``(n,)``."""
    y = np.asarray(losses, dtype=np.float64)
    if y.ndim != 1:
        raise ValueError(f"losses must be 1-D, got shape {y.shape}")
    if len(motifs) != y.shape[0]:
        raise ValueError(f"motifs and losses differ in length: {len(motifs)} vs {y.shape[0]}")
    if len(motifs) < 2:
        raise ValueError(f"need at least 2 training motifs, got {len(motifs)}")
    bad = np.flatnonzero(~np.isfinite(y))
    if bad.size:
        raise ValueError(f"losses must be finite; index {int(bad[0])} is {y[bad[0]]}")
    integer(seed, "seed")
    return y


def transform_targets(losses: np.ndarray, kind: str = "rank_normal") -> np.ndarray:
    """Regression targets ``(n,)`` float64 from finite losses ``(n,)``; see the module doc.

    A constant ``losses`` vector has no order to learn: ``ValueError``.
    """
    if kind not in TARGETS:
        raise ValueError(f"unknown target transform {kind!r}; known: {', '.join(TARGETS)}")
    y = np.asarray(losses, dtype=np.float64)
    try:
        if kind == "zscore":
            return zscore(y)
        # (n,) normal scores of average ranks: equal losses keep equal targets.
        scores = stats.norm.ppf((stats.rankdata(y) - 0.5) / y.shape[0])
        return zscore(scores)
    except ValueError as err:
        raise ValueError(f"losses: {err}") from None
