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

from collections.abc import Sequence

import jax

# The native genotype node lives with the executor; re-exported here for the LM trainer.
from petridish.nets.cell import (
    NATIVE_COLUMNS,
    _node_value,
    _Program,
    _program,
    native_codes,
    native_layer,
    native_layout,
    node_terms,
)

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
    mult, nonlin = node_terms(args, used, is_prod, is_blend, act)
    return lin + mult + nonlin
