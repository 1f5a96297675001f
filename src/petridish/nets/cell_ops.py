"""Public building blocks of the cell executor for wide hidden states (language models).

``petridish.nets.cell.CellNet`` is tuned for the dish's tiny cells (hidden width 3): a node
is ``K * h`` broadcast multiply-adds, which is right for ``h = 3`` and wrong for ``h = 64``
or more, where a node's linear term is a matrix product. This module exposes the executor's
graph-as-data machinery under stable names and adds the matrix-product form of a node:

* ``cell_program(code, params, max_slots, hidden)`` is the executor's ``_program``: one
  cell's packed code ``(M, 2 + K)`` (a row of ``Cell.program(...).packed()``) and its
  weights ``params = {"w_x": (S, d_x, h), "w_h": (S, h, h), "b": (>= M, h)}`` turned into
  per-node coefficient arrays (``CellProgram``). Traced code is fine: no Python control flow
  depends on it.
* ``node_value_matmul(args, ...)`` computes one node in batch-major layout ``(B, h)`` with
  exactly the op formula of the executor's ``_node_value`` (``lin + mult + act``; unused
  ops contribute exact zeros, unused product factors are the constants 0 and 1), the linear
  term as ``sum_k args_k @ w_eff[k]``.

The contract of the value table is the executor's: rows ``0: x`` (cut or zero-padded to
``h`` features for non-linear ops), ``1..3: h_prev_0..2``, ``4 + i: node i``.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import jax
import jax.numpy as jnp
import numpy as np

from petridish.motifs.cell import Cell
from petridish.motifs.cell.genotype import GenotypeLayout, genotype_layout
from petridish.nets.cell import _node_value, _Program, _program

__all__ = [
    "NATIVE_COLUMNS",
    "CellProgram",
    "cell_program",
    "native_codes",
    "native_layer",
    "native_layout",
    "node_value_broadcast",
    "node_value_matmul",
]

CellProgram = _Program
cell_program = _program
# The executor's own node formula, feature-major ``(h, B)``; kept for parity tests.
node_value_broadcast = _node_value


def node_value_matmul(
    args: Sequence[jax.Array],
    used: jax.Array,
    is_prod: jax.Array,
    is_blend: jax.Array,
    w_eff: jax.Array,
    pre: jax.Array,
    act: jax.Array,
) -> jax.Array:
    """One node's value ``(B, h)`` from its K gathered inputs ``args`` (each ``(B, h)``,
    finite; arbitrary where unused), ``used (K,)``, ``w_eff (K, h, h)``, ``pre (B, h)`` (the
    x-projection plus bias), ``act (5,)``: the executor's ``_node_value`` transposed, with the
    linear term as matrix products."""
    k = len(args)
    lin = pre
    for j in range(k):
        lin = lin + args[j] @ w_eff[j]  # (B, h) @ (h, h)
    q = [jnp.where(is_prod | is_blend, args[0], 0.0)]
    for j in range(1, k):
        factor = jnp.where(is_prod & used[j], args[j], 1.0)
        if j == 1 and k >= 3:  # blend's (a - b)
            factor = jnp.where(is_blend, args[1] - args[2], factor)
        q.append(factor)
    mult = q[0]
    for factor in q[1:]:
        mult = mult * factor
    y = args[0]
    nonlin = act[1] * jax.nn.sigmoid(act[0] * y) + act[2] * y + act[3] * jnp.minimum(y, 0.0)
    return lin + mult + nonlin + act[4]


# --------------------------------------------------------------- native genotype (highway)
#
# A DARTS/ENAS/NAO genotype node ``s = s_p + c * (f(W_t s_p + b_t) - s_p)``,
# ``c = sigmoid(W_c s_p + b_c)`` is five primitive nodes (two linear, two activations, a
# blend); run natively it is one step: one ``(B, h) @ (h, 2h)`` product, one sigmoid and one
# activation. The native form reads the SAME parameters as the primitive form (the weight
# slots and bias rows of the node's two ``linear`` nodes, gathered by index), so both forms
# compute the same function of the same weights and train identically (to float rounding).

# Columns of a native code row (one row per native node, ``NATIVE_COLUMNS`` wide):
# act: GENOTYPE_ACT_ID (tanh 0, relu 1, sigmoid 2, identity 3); pred: predecessor native
# node (0 for node 0, which reads h_prev_0); out: 1 if averaged into h_new_0; slot_c/slot_t:
# weight slots of the gate's / candidate's h-side matrix; row_c/row_t: their bias rows;
# xslot_c/xslot_t: their x-side slots (node 0 only; 0 elsewhere). Padding rows: identity,
# pred 0, out 0, slot 0, row 0 (finite and unread).
NATIVE_COLUMNS = 9
_ACT_COEF = (
    # (c, g_sig, g_lin, g_neg, g_0) of act(y) = g_sig sigmoid(c y) + g_lin y + g_neg min(y,0) + g_0
    (2.0, 2.0, 0.0, 0.0, -1.0),  # tanh
    (0.0, 0.0, 1.0, -1.0, 0.0),  # relu
    (1.0, 1.0, 0.0, 0.0, 0.0),  # sigmoid
    (0.0, 0.0, 1.0, 0.0, 0.0),  # identity
)


def native_layout(cell: Cell) -> GenotypeLayout | None:
    """The cell's ``GenotypeLayout`` if it is a genotype cell (runs natively), else None."""
    return genotype_layout(cell.nodes)


def _slot_of(slots: np.ndarray, ins: np.ndarray, node: int, reads_x: bool) -> int:
    """The weight slot of ``node``'s input that reads ``x`` (or does not)."""
    for j in range(ins.shape[1]):
        if slots[node, j] >= 0 and (int(ins[node, j]) == 0) == reads_x:
            return int(slots[node, j])
    raise AssertionError("a genotype linear node lacks its slot")  # pragma: no cover


def native_codes(cells: Sequence[Cell], max_native: int | None = None) -> np.ndarray:
    """Native codes ``(N, G, NATIVE_COLUMNS)`` int32 of genotype cells (see the columns
    above), ``G = max_native`` or the batch's largest native node count; ``ValueError`` if a
    cell is not a genotype cell or does not fit. Slots and bias rows are those of
    ``Cell.program`` (the primitive form), so the native form reads the same parameters."""
    layouts = [native_layout(c) for c in cells]
    if not cells or any(lay is None for lay in layouts):
        raise ValueError("native_codes needs a non-empty sequence of genotype cells")
    lays = [lay for lay in layouts if lay is not None]
    need = max(lay.n_native for lay in lays)
    g = need if max_native is None else max_native
    if g < need:
        raise ValueError(f"cells need max_native >= {need}, got {g}")
    out = np.zeros((len(cells), g, NATIVE_COLUMNS), np.int32)
    out[:, :, 0] = 3  # padding: identity
    for b, (cell, lay) in enumerate(zip(cells, lays, strict=True)):
        prog = Cell.program([cell])
        slots, ins = prog.weight_slot[0], prog.inputs[0]  # (M, K)
        slot = functools.partial(_slot_of, slots, ins)
        for i in range(lay.n_native):
            out[b, i, 0] = lay.act[i]
            out[b, i, 1] = max(lay.pred[i], 0)
            out[b, i, 2] = int(i in lay.concat)
            out[b, i, 3] = slot(lay.lin_c[i], False)
            out[b, i, 4] = slot(lay.lin_t[i], False)
            out[b, i, 5] = lay.lin_c[i]
            out[b, i, 6] = lay.lin_t[i]
            if i == 0:
                out[b, i, 7] = slot(lay.lin_c[i], True)
                out[b, i, 8] = slot(lay.lin_t[i], True)
    return out


def native_layer(
    params: dict[str, jax.Array],
    code: jax.Array,
    x: jax.Array,
    h_prev: jax.Array,
    recurrent_mask: jax.Array | None = None,
) -> tuple[jax.Array, jax.Array]:
    """One genotype cell unrolled natively: ``code (G, NATIVE_COLUMNS)``, the primitive
    form's ``params = {"w_x": (S, d, h), "w_h": (S, h, h), "b": (>= M, h)}``, ``x (T, B, d)``,
    ``h_prev (B, h)`` (the cell's one state) -> outputs ``(T, B, h)`` and the last state
    ``(B, h)``. ``recurrent_mask (B, h)`` multiplies ``h_prev`` at every step (dropout).
    Equal (float32) to the primitive executor on ``Cell.program`` of the same cell."""
    g = code.shape[0]
    act = jnp.asarray(_ACT_COEF, params["w_h"].dtype)[code[:, 0]]  # (G, 5)
    pred = code[:, 1]
    out_w = code[:, 2].astype(params["w_h"].dtype)
    out_w = out_w / jnp.maximum(out_w.sum(), 1.0)  # (G,) mean weights
    # Gate and candidate side by side: (G, h, 2h), bias (G, 2h), node 0's x side (d, 2h).
    w_h = jnp.concatenate([params["w_h"][code[:, 3]], params["w_h"][code[:, 4]]], axis=-1)
    bias = jnp.concatenate([params["b"][code[:, 5]], params["b"][code[:, 6]]], axis=-1)
    w_x0 = jnp.concatenate([params["w_x"][code[0, 7]], params["w_x"][code[0, 8]]], axis=-1)
    h = h_prev.shape[-1]
    pre0 = x @ w_x0 + bias[0]  # (T, B, 2h)
    mask = jnp.ones_like(h_prev) if recurrent_mask is None else recurrent_mask

    def highway(s_p: jax.Array, z: jax.Array, a: jax.Array) -> jax.Array:
        c = jax.nn.sigmoid(z[:, :h])  # (B, h)
        y = z[:, h:]
        t = a[1] * jax.nn.sigmoid(a[0] * y) + a[2] * y + a[3] * jnp.minimum(y, 0.0) + a[4]
        return s_p + c * (t - s_p)

    def step(s_prev: jax.Array, pre0_t: jax.Array) -> tuple[jax.Array, jax.Array]:
        hp = s_prev * mask
        s0 = highway(hp, pre0_t + hp @ w_h[0], act[0])
        tab = jnp.zeros((g, *hp.shape), hp.dtype).at[0].set(s0)  # (G, B, h)

        def node(tab: jax.Array, i: jax.Array) -> tuple[jax.Array, None]:
            s_p = tab[pred[i]]
            val = highway(s_p, s_p @ w_h[i] + bias[i], act[i])
            return jax.lax.dynamic_update_index_in_dim(tab, val, i, 0), None

        if g > 1:
            tab, _ = jax.lax.scan(node, tab, jnp.arange(1, g))
        s_new = jnp.einsum("g,gbh->bh", out_w, tab)
        return s_new, s_new

    s_last, outs = jax.lax.scan(step, h_prev, pre0)
    return outs, s_last
