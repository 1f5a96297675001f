"""The recurrent-cell motif-network: a batched, heterogeneous cell executor.

Blueprint of the paper's cell experiment (Rawal et al. 2020, Appendix A.3.2, Table 4):
input ``input_dim`` (10) -> one recurrent cell with hidden width ``hidden`` (3) -> a
linear readout of ``output_dim`` (10) logits at every time step, unrolled over the
sequence. The cell is DATA: its ``code`` is a fixed-shape int array, and one compiled
program runs any cell of at most ``max_nodes`` nodes, ``max_inputs`` inputs per node and
``max_slots`` weight matrices. ``jax.vmap`` over the code runs many different cells at once.

Contract
--------
* ``code`` is one row of ``Cell.program(cells, max_nodes, max_inputs).packed()``: int32
  ``(M, 2 + K)`` = ``[op, state_of, inputs...]`` per node with ``M <= max_nodes``,
  ``K <= max_inputs`` (``cell_codes`` builds it with the blueprint's fixed sizes and checks
  that every cell fits, which ``apply`` cannot do on traced data). Everything else
  (``outputs``, ``weight_slot``) is derived from it inside ``apply``: weight slots are
  numbered 0.. in node-then-slot order over the inputs of ``linear`` nodes, exactly as in
  ``Cell.program``. A cell with more than ``max_slots`` weight matrices is NOT detected by
  ``apply`` (its extra slots would reuse the last matrix); ``cell_codes`` rejects it.
* ``init(key, scale)`` returns ONE parameter dict shared by every cell, all entries drawn
  from ``N(0, scale**2)`` (biases included, as in the other blueprints):
  ``w_x (max_slots, input_dim, hidden)`` for weight slots that read ``x``,
  ``w_h (max_slots, hidden, hidden)`` for slots that read a hidden state or a node,
  ``b (max_nodes, hidden)`` the bias of a ``linear`` node at position ``i`` (unused for
  other ops), ``w_out (hidden, output_dim)``, ``b_out (output_dim,)``. Slot ``s`` of a cell
  uses ``w_x[s]`` if it reads ``x`` and ``w_h[s]`` otherwise (``reference_weights`` gives
  the matching list for ``petridish.motifs.cell.reference_step``).
* ``apply(params, code, x)``: ``x (batch, T, input_dim)`` -> logits ``(batch, T,
  output_dim)``. ``h_prev`` starts at zero; each step computes the cell's nodes in order
  from the value table (rows ``0: x, 1..3: h_prev_0..2, 4 + i: node i``); the new states are
  the ``h_new_k`` nodes (absent states stay zero); the readout is ``h_new_0 @ w_out + b_out``.
* A non-``linear`` op reading ``x`` directly (no benchmark recipe or genotype does; the
  random samplers can) sees ``x`` cut or zero-padded to ``hidden`` features; when
  ``input_dim == hidden`` that is ``x`` itself.
* Numerical isolation. Unselected ops get zero coefficients and exactly-zero or -one
  product factors (never masked products of real values), and node inputs are read through
  a finite filter, so NaN/inf from an op the node does not use can never reach its value or
  its gradient. A cell that overflows anywhere (any non-finite node value at any step) is
  diverged: ``apply`` returns all-NaN logits for it, and its gradients stay finite (its value
  table is kept finite and the NaN logits pass no cotangent back). Different cells under
  ``vmap`` never mix. Callers still must drop non-finite scores before mixing cells (a NaN
  score poisons any mean or z-score): ``safe_mean_loss`` does that for a mean; for
  belt-and-braces isolation of the shared input's gradient against a non-finite BACKWARD
  pass (e.g. an overflowing Hessian term), wrap the shared input in
  ``isolate_nonfinite_grad`` inside the per-cell function.

Implementation notes (CPU, second-order inner loops): graph as data, no Python control
flow per cell. The x-projections and biases of all nodes and time steps are one einsum
before the time loop; the time loop is a ``lax.scan``; inside it the nodes run as a
``lax.scan`` over node index (or unrolled, ``node_loop="unroll"``), each node gathering its
inputs from a ``(4 + M, hidden, batch)`` value table, computing the uniform op formula (see
``_Program``) and writing its row. Feature-major ``(hidden, batch)`` layout, one gather per
input slot, no einsum inside the loop (tiny batched dots are slow under ``vmap``), and the
node body under ``jax.checkpoint`` (``remat``) were each measured faster; see
``benchmarks/bench_cell_executor.py``.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar, Literal, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from petridish._validation import positive_int
from petridish.motifs.base import Motif
from petridish.motifs.cell import N_GRAPH_INPUTS, OP_ID, Cell
from petridish.motifs.cell.genotype import GenotypeLayout, genotype_layout
from petridish.nets.base import NetBase, Params
from petridish.nets.numerics import isolate_nonfinite_grad, safe_mean_loss
from petridish.nets.registry import NetworkConfig, register_network

__all__ = [
    "CELL_NETWORK",
    "NATIVE_COLUMNS",
    "NODE_BUCKET",
    "PREDICT_CHUNK",
    "CellNet",
    "cell_codes",
    "cell_network",
    "isolate_nonfinite_grad",
    "native_codes",
    "native_layer",
    "native_layout",
    "reference_weights",
    "safe_mean_loss",
    "trim_codes",
]

# The name of this network in the registry (``DishConfig.network``).
CELL_NETWORK = "cell"

# Largest number of cells scored by one call of the compiled inner loop when predicting.
# Measured on 2 CPU cores (``benchmarks/bench_cell_dish.py``, "predict chunk" rows): up to
# 64 cells per call cost about the same per cell, 128 at once more than twice as much per
# cell (the working set of the inner training runs falls out of cache), so larger requests
# run in chunks.
PREDICT_CHUNK = 64

# Cell codes are cut to the longest cell they hold, rounded up to a multiple of this many
# nodes (``trim_codes``): the executor's node loop runs once per node row, padding rows
# included, so a chunk of small cells costs what its cells need. Measured side by side in
# ``benchmarks/bench_cell_dish.py`` (``predict_100_untrimmed_s``). Few buckets, few compiles.
NODE_BUCKET = 4

_N_STATES = 3
_LIN = OP_ID["linear"]
_BLEND = OP_ID["blend"]
_SUM = OP_ID["elementwise_sum"]
_PROD = OP_ID["elementwise_prod"]
_TANH = OP_ID["activation_tanh"]
_SIGM = OP_ID["activation_sigm"]
_LEAKY = OP_ID["activation_leaky_relu"]
_RELU = OP_ID["activation_relu"]
_MEAN = OP_ID["elementwise_mean"]
_LEAKY_SLOPE = 0.01


def cell_codes(
    cells: Sequence[Motif], max_nodes: int, max_inputs: int, max_slots: int
) -> np.ndarray:
    """Fixed-shape codes ``(N, max_nodes, 2 + max_inputs)`` int32 for ``CellNet.apply``.

    Equal to ``Cell.program(cells, max_nodes, max_inputs).packed()``; raises ``ValueError``
    if a cell needs more nodes, inputs per node or weight slots than given.
    """
    prog = Cell.program(cells, max_nodes=max_nodes, max_inputs=max_inputs)
    worst = int(prog.n_weights.max())
    if worst > max_slots:
        raise ValueError(f"a cell has {worst} weight matrices, more than max_slots={max_slots}")
    return prog.packed()


def node_counts(codes: np.ndarray) -> np.ndarray:
    """Real (non-padding) nodes of each code in ``codes (N, M, 2 + K)``: ``(N,)``."""
    return np.sum(codes[:, :, 0] >= 0, axis=1)


def trim_codes(codes: np.ndarray, bucket: int = NODE_BUCKET) -> np.ndarray:
    """``codes (N, M, 2 + K)`` cut to the longest cell's node count rounded up to a multiple
    of ``bucket`` (never longer than they are). The cut rows are padding (op -1) that no
    node reads, so ``CellNet.apply`` gives the same logits; the node loop runs fewer rows."""
    if codes.shape[0] == 0:
        return codes
    real = int(node_counts(codes).max())
    rows = min(codes.shape[1], max(bucket, -(-real // bucket) * bucket))
    return codes[:, :rows]


class _Program(NamedTuple):
    """One cell's code turned into per-node coefficient arrays (traced; shapes static).

    Every op is written as the same arithmetic: ``value = lin + mult + act`` with
    ``lin = sum_k w_eff[k]^T args_k + pre`` (linear; sum, mean and blend's ``+ b`` as
    identity / ``1/count`` / identity matrices), ``mult = q_0 * q_1 * ...`` (prod, and
    blend's ``z * (a - b)``; ``q_0 = 0`` for other ops) and, on ``y = args_0``,
    ``act = g_sig sigmoid(c y) + g_lin y + g_neg min(y, 0) + g_0`` (tanh = 2 sigmoid(2y) - 1,
    leaky_relu, relu). Ops other than the node's own get zero coefficients, so the value is
    one real term plus exact zeros: no select chain over op ids (whose backward pass was the
    slowest kernel of a first version), one transcendental per node.
    """

    inputs: jax.Array  # (M, K) value-table rows read, clamped to >= 0
    used: jax.Array  # (M, K) bool: slot holds an input
    is_prod: jax.Array  # (M,) bool
    is_blend: jax.Array  # (M,) bool
    w_eff: jax.Array  # (M, K, h, h) per-slot matrices of the lin term
    w_x: jax.Array  # (M, d_x, h) x-side matrices of linear nodes (slots reading x add up)
    bias: jax.Array  # (M, h) bias of linear nodes, zero elsewhere
    act: jax.Array  # (M, 5) activation coefficients (c, g_sig, g_lin, g_neg, g_0)
    out_row: jax.Array  # (3,) value-table row of h_new_k (clamped)
    has_state: jax.Array  # (3,) bool


def _program(code: jax.Array, params: Params, max_slots: int, hidden: int) -> _Program:
    op = code[:, 0]  # (M,)
    state_of = code[:, 1]  # (M,)
    raw = code[:, 2:]  # (M, K)
    m = code.shape[0]
    dtype = params["w_h"].dtype
    used = raw >= 0
    is_lin = op == _LIN
    lin_in = used & is_lin[:, None]
    # Weight slots: running count of linear inputs in node-then-slot order (Cell.program).
    slot = jnp.cumsum(lin_in.reshape(-1)).reshape(lin_in.shape) - 1
    slot = jnp.clip(slot, 0, max_slots - 1)
    reads_x = raw == 0
    lin_x = lin_in & reads_x  # (M, K)
    lin_h = lin_in & ~reads_x

    eye = jnp.eye(hidden, dtype=dtype)
    count = jnp.maximum(jnp.sum(used, axis=1), 1).astype(dtype)  # (M,)
    # Identity coefficient of each slot: sum 1, mean 1/count, blend's b (slot 2) 1.
    ident = jnp.where(used & (op == _SUM)[:, None], 1.0, 0.0)
    ident = ident + jnp.where(used & (op == _MEAN)[:, None], 1.0 / count[:, None], 0.0)
    blend_b = (op == _BLEND)[:, None] & (jnp.arange(raw.shape[1]) == 2)[None, :]
    ident = ident + jnp.where(blend_b, 1.0, 0.0)  # (M, K)
    w_h = jnp.where(lin_h[..., None, None], params["w_h"][slot], 0.0)  # (M, K, h, h)
    w_eff = w_h + ident.astype(dtype)[..., None, None] * eye
    w_x = jnp.where(lin_x[..., None, None], params["w_x"][slot], 0.0).sum(axis=1)  # (M,d_x,h)
    bias = jnp.where(is_lin[:, None], params["b"][:m], 0.0)  # (M, h)
    # act = g_sig * sigmoid(c * y) + g_lin * y + g_neg * min(y, 0) + g_0, with
    # tanh(y) = 2 sigmoid(2y) - 1 and leaky_relu(y) = y - 0.99 min(y, 0), relu = y - min(y, 0):
    # one transcendental per node instead of two.
    is_tanh, is_sigm = op == _TANH, op == _SIGM
    is_leaky, is_relu = op == _LEAKY, op == _RELU
    act = jnp.stack(
        [
            jnp.where(is_tanh, 2.0, jnp.where(is_sigm, 1.0, 0.0)),  # c
            jnp.where(is_tanh, 2.0, jnp.where(is_sigm, 1.0, 0.0)),  # g_sig
            jnp.where(is_leaky | is_relu, 1.0, 0.0),  # g_lin
            jnp.where(is_leaky, _LEAKY_SLOPE - 1.0, jnp.where(is_relu, -1.0, 0.0)),  # g_neg
            jnp.where(is_tanh, -1.0, 0.0),  # g_0
        ],
        axis=1,
    ).astype(dtype)  # (M, 5)
    states = state_of[None, :] == jnp.arange(_N_STATES)[:, None]  # (3, M)
    return _Program(
        inputs=jnp.maximum(raw, 0),
        used=used,
        is_prod=op == _PROD,
        is_blend=op == _BLEND,
        w_eff=w_eff,
        w_x=w_x,
        bias=bias,
        act=act,
        out_row=N_GRAPH_INPUTS + jnp.argmax(states, axis=1),
        has_state=jnp.any(states, axis=1),
    )


def _node_value(
    args: Sequence[jax.Array],
    used: jax.Array,
    is_prod: jax.Array,
    is_blend: jax.Array,
    w_eff: jax.Array,
    pre: jax.Array,
    act: jax.Array,
) -> jax.Array:
    """One node's value ``(h, B)``: ``args`` its K gathered inputs ``(h, B)`` (finite; arbitrary
    where unused), ``used (K,)``, ``w_eff (K, h, h)``, ``pre (h, B)``, ``act (5,)``.

    Feature-major ``(h, B)`` layout on purpose: the innermost (vectorised) loop of every fused
    kernel then runs over the batch, not over 3 hidden units (about 2x faster on CPU).

    The product factors of ops other than prod/blend are the constants 0 and 1, not masked
    products of real values, so they can neither overflow nor carry a gradient.
    """
    k = len(args)
    # K * h broadcast multiply-adds instead of an einsum: under vmap a tiny batched dot
    # (and its transposes) cost more on CPU than the whole rest of the node.
    lin = pre  # (h, B)
    for j in range(k):
        for a in range(args[j].shape[0]):
            lin = lin + w_eff[j, a][:, None] * args[j][a][None, :]
    mult, nonlin = node_terms(args, used, is_prod, is_blend, act)
    return lin + mult + nonlin


def node_terms(
    args: Sequence[jax.Array],
    used: jax.Array,
    is_prod: jax.Array,
    is_blend: jax.Array,
    act: jax.Array,
) -> tuple[jax.Array, jax.Array]:
    """The op formula's product term and its activation term (bias ``act[4]`` included), the
    same shape as each of ``args``: elementwise, so any layout (``(h, B)`` or ``(B, h)``)."""
    k = len(args)
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
    return mult, nonlin + act[4]


# Recompute a node in the backward pass instead of storing its ~30 intermediates per node
# and time step (each stored with its own kernel): only the gathered inputs are kept.
_node_value_remat = jax.checkpoint(_node_value, prevent_cse=False)


@dataclass(frozen=True)
class CellNet(NetBase):
    """Cell motif-network blueprint; see the module docstring for the contract.

    ``node_loop``: ``"scan"`` runs nodes with ``lax.scan`` (compiles in seconds, whatever
    ``max_nodes``); ``"unroll"`` writes the ``M`` nodes out inside the time loop: about 1.7x
    faster second-order inner loops on CPU but a ~4x longer compile (about a minute for 15
    nodes) that grows with ``max_nodes``. That gain was measured on one device
    (``benchmarks/bench_cell_executor.py``); inside a ``Dish`` fit with the motifs split over
    the 2 CPU cores it vanished (Table 4 cell fit, 40 cells: 2.88 s per outer step unrolled
    against 2.67 s with scan, after a 75 s compile), so ``Dish`` keeps ``"scan"``.
    ``remat``: what the backward pass recomputes instead of storing: ``"node"`` each node's
    intermediates (only its gathered inputs are stored), ``"step"`` also each whole time step
    (stores one ``(3, h, batch)`` carry per step: least memory), ``"none"`` nothing (most
    memory). Numbers: ``benchmarks/bench_cell_executor.py``.
    ``seq_len``: time steps of the synthetic sequences a dish draws for it (``input_shape``);
    ``apply`` runs sequences of any length.

    The ``MotifNet`` extras: ``codes`` is ``cell_codes`` with these sizes, ``trim`` is
    ``trim_codes`` (``node_bucket`` rows), ``motif_cost`` the node count, predictions run
    ``PREDICT_CHUNK`` cells per call and the motif axis is split over devices (measured on
    2 CPU cores, ``benchmarks/bench_cell_dish.py``, ``devices_speedup``: the cell dish's
    outer step runs 1.77x faster on two devices, 3.45 s against 6.12 s).
    """

    predict_chunk: ClassVar[int | None] = PREDICT_CHUNK
    shard_motifs: ClassVar[bool] = True
    node_bucket: ClassVar[int] = NODE_BUCKET

    input_dim: int = 10
    hidden: int = 3
    output_dim: int = 10
    max_nodes: int = 15
    max_inputs: int = 3
    max_slots: int = 36
    node_loop: Literal["scan", "unroll"] = "scan"
    remat: Literal["node", "step", "none"] = "node"
    seq_len: int = 10

    def __post_init__(self) -> None:
        names = ("input_dim", "hidden", "output_dim", "max_nodes", "max_inputs", "max_slots")
        for name in (*names, "seq_len"):
            positive_int(getattr(self, name), f"CellNet.{name}")
        if self.node_loop not in ("scan", "unroll"):
            raise ValueError(
                f"CellNet.node_loop must be 'scan' or 'unroll', got {self.node_loop!r}"
            )
        if self.remat not in ("node", "step", "none"):
            raise ValueError(f"CellNet.remat must be 'node', 'step' or 'none', got {self.remat!r}")

    @property
    def input_shape(self) -> tuple[int, ...]:
        return (self.seq_len, self.input_dim)

    @property
    def label_shape(self) -> tuple[int, ...]:
        return (self.seq_len, self.output_dim)

    def codes(self, motifs: Sequence[Motif]) -> np.ndarray:
        """``cell_codes`` with this blueprint's sizes: ``(N, max_nodes, 2 + max_inputs)``."""
        if not all(isinstance(m, Cell) for m in motifs):
            kinds = sorted({type(m).__name__ for m in motifs})
            raise ValueError(f"the cell network runs Cell motifs only, got {kinds}")
        return cell_codes(motifs, self.max_nodes, self.max_inputs, self.max_slots)

    # Kept as a static method for callers of ``CellNet.node_counts(codes)``.
    node_counts = staticmethod(node_counts)

    def trim(self, codes: np.ndarray) -> np.ndarray:
        """``trim_codes(codes, node_bucket)``: only all-padding node rows are cut."""
        return trim_codes(codes, self.node_bucket)

    def motif_cost(self, codes: np.ndarray) -> np.ndarray:
        """Real nodes per cell, ``(N,)``: the node loop's length."""
        return node_counts(codes)

    def init(self, key: jax.Array, scale: float) -> Params:
        ks = jax.random.split(key, 5)
        d_x, h, s = self.input_dim, self.hidden, self.max_slots
        return {
            "w_x": scale * jax.random.normal(ks[0], (s, d_x, h)),
            "w_h": scale * jax.random.normal(ks[1], (s, h, h)),
            "b": scale * jax.random.normal(ks[2], (self.max_nodes, h)),
            "w_out": scale * jax.random.normal(ks[3], (h, self.output_dim)),
            "b_out": scale * jax.random.normal(ks[4], (self.output_dim,)),
        }

    def apply(self, params: Params, code: jax.Array, x: jax.Array) -> jax.Array:
        code = jnp.asarray(code)
        if code.ndim != 2 or code.shape[1] < 3:
            raise ValueError(f"cell code must be (nodes, 2 + inputs), got shape {code.shape}")
        m, k = code.shape[0], code.shape[1] - 2
        if m > self.max_nodes or k > self.max_inputs:
            raise ValueError(
                f"code has {m} nodes x {k} inputs, blueprint allows {self.max_nodes} x "
                f"{self.max_inputs}"
            )
        if x.ndim != 3 or x.shape[2] != self.input_dim:
            raise ValueError(f"x must be (batch, T, {self.input_dim}), got {x.shape}")
        h = self.hidden
        prog = _program(code, params, self.max_slots, h)
        xt = jnp.swapaxes(x, 0, 1)  # (T, B, d_x)
        n_t, n_b = xt.shape[0], xt.shape[1]
        # Internally feature-major (h, B), see _node_value.
        # x-projection + bias of every node at every step, one einsum: (T, M, h, B).
        pre = jnp.einsum("tbd,mdh->tmhb", xt, prog.w_x) + prog.bias[None, :, :, None]
        # Row 0 of the value table, as seen by non-linear ops: x cut/padded to h features.
        d_keep = min(self.input_dim, h)
        x_row = jnp.zeros((n_t, h, n_b), x.dtype)
        x_row = x_row.at[:, :d_keep].set(jnp.swapaxes(xt[..., :d_keep], 1, 2))  # (T, h, B)

        def node(carry: jax.Array, i: jax.Array | int, pre_t: jax.Array) -> jax.Array:
            tab = carry  # (4 + M, h, B); node rows hold raw values, possibly non-finite
            # One gather per slot rather than one (K, h, B) gather: slicing a stacked args
            # array turns into pad chains in the backward pass (~35% slower second order).
            args = [tab[prog.inputs[i, j]] for j in range(k)]  # K x (h, B)
            # Read through a finite filter: zero coefficients then never meet inf, and the
            # backward pass of a diverged cell stays finite (its overflow is flagged below).
            args = [jnp.where(jnp.isfinite(a), a, 0.0) for a in args]
            value_fn = _node_value if self.remat == "none" else _node_value_remat
            val = value_fn(
                args,
                prog.used[i],
                prog.is_prod[i],
                prog.is_blend[i],
                prog.w_eff[i],
                pre_t[i],
                prog.act[i],
            )
            return jax.lax.dynamic_update_index_in_dim(tab, val, N_GRAPH_INPUTS + i, 0)

        def step(
            carry: tuple[jax.Array, jax.Array], inp: tuple[jax.Array, jax.Array]
        ) -> tuple[tuple[jax.Array, jax.Array], jax.Array]:
            h_prev, bad = carry  # (3, h, B), () bool
            x_row_t, pre_t = inp  # (h, B), (M, h, B)
            tab = jnp.concatenate(
                [x_row_t[None], h_prev, jnp.zeros((m, h, n_b), h_prev.dtype)], axis=0
            )  # (4 + M, h, B)
            if self.node_loop == "unroll":
                for i in range(m):
                    tab = node(tab, i, pre_t)
            else:
                tab, _ = jax.lax.scan(lambda c, i: (node(c, i, pre_t), None), tab, jnp.arange(m))
            # A cell with any non-finite value is diverged: flag it (NaN logits at the end)
            # and carry finite states on.
            bad = bad | ~jnp.all(jnp.isfinite(tab))
            h_new = tab[prog.out_row]  # (3, h, B)
            h_new = jnp.where(prog.has_state[:, None, None] & jnp.isfinite(h_new), h_new, 0.0)
            return (h_new, bad), h_new[0]

        body = jax.checkpoint(step) if self.remat == "step" else step
        carry0 = (jnp.zeros((_N_STATES, h, n_b), x.dtype), jnp.zeros((), bool))
        (_, bad), outs = jax.lax.scan(body, carry0, (x_row, pre))  # outs: (T, h, B)
        logits = jnp.einsum("thb,ho->bto", outs, params["w_out"]) + params["b_out"]
        return jnp.where(bad, jnp.nan, logits)  # (B, T, output_dim)

    def apply_native(self, params: Params, code: jax.Array, x: jax.Array) -> jax.Array:
        """``apply`` for a genotype cell given its native code (``native_codes``, ``(G,
        NATIVE_COLUMNS)``): one highway step per genotype node instead of five primitive
        nodes, reading the same ``params``; equal to ``apply`` on ``Cell.program``'s code of
        the same cell (float32). A cell with any non-finite state gets all-NaN logits."""
        if x.ndim != 3 or x.shape[2] != self.input_dim:
            raise ValueError(f"x must be (batch, T, {self.input_dim}), got {x.shape}")
        xt = jnp.swapaxes(x, 0, 1)  # (T, B, d_x)
        h0 = jnp.zeros((x.shape[0], self.hidden), x.dtype)
        outs, _ = native_layer(params, code, xt, h0)  # (T, B, h)
        logits = jnp.einsum("tbh,ho->bto", outs, params["w_out"]) + params["b_out"]
        return jnp.where(jnp.all(jnp.isfinite(outs)), logits, jnp.nan)  # (B, T, output_dim)


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


def reference_weights(
    net: CellNet, params: Params, cell: Cell
) -> tuple[list[np.ndarray], np.ndarray]:
    """``(weights, biases)`` for ``reference_step(cell, ...)`` matching ``net.apply``."""
    prog = Cell.program([cell])
    w_x, w_h = np.asarray(params["w_x"]), np.asarray(params["w_h"])
    weights: list[np.ndarray] = [np.empty(0)] * int(prog.n_weights[0])
    for i in range(cell.n_nodes):
        for j in range(prog.inputs.shape[2]):
            s = int(prog.weight_slot[0, i, j])
            if s >= 0:
                weights[s] = w_x[s] if int(prog.inputs[0, i, j]) == 0 else w_h[s]
    return weights, np.asarray(params["b"])[: cell.n_nodes]


def cell_network(config: NetworkConfig) -> CellNet:
    """The registry factory: a ``CellNet`` from ``layer_sizes`` (input, hidden, output),
    ``seq_len``, ``max_nodes``, ``max_slots`` and ``max_inputs``; other ``layer_sizes`` are a
    ``ValueError``."""
    if len(config.layer_sizes) != 3:
        raise ValueError(
            f"the cell network needs layer_sizes (input, hidden, output), got {config.layer_sizes}"
        )
    n_in, hidden, n_out = config.layer_sizes
    return CellNet(
        input_dim=n_in,
        hidden=hidden,
        output_dim=n_out,
        max_nodes=config.max_nodes,
        max_slots=config.max_slots,
        max_inputs=config.max_inputs,
        seq_len=config.seq_len,
    )


register_network(CELL_NETWORK, cell_network)
