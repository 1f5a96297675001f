"""A plain-NumPy reference executor of one cell step, to test batched executors against."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from petridish.motifs.cell.ops import _LEAKY_SLOPE, _N_STATES, OPS
from petridish.motifs.cell.value import Cell


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
