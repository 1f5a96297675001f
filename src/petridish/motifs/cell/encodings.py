"""Fixed-length codes of a cell for the baseline predictors (adjacency one-hot, op counts)."""

from __future__ import annotations

import numpy as np

from petridish.motifs.cell.ops import _N_STATES, N_GRAPH_INPUTS, OP_ID, OPS
from petridish.motifs.cell.value import Cell


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
