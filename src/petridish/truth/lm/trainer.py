"""The batched language-model trainer: many recurrent cells trained at once, graph as data.

Model (per cell): embedding ``(V, E)`` -> ``layers`` recurrent layers, each the cell unrolled
over a BPTT window -> decoder (the embedding transposed when tied, else its own ``(H, V)``)
-> softmax cross-entropy in nats. The hidden states ``(3, B, h)`` of every layer are carried
from window to window with the gradient stopped, and reset to zero at each epoch's start and
for every evaluation pass.

Contract:

* ``train_cells(cells, protocol, corpus, seed)`` returns one ``LMResult`` per cell, in order.
  A cell's result depends only on ``(cell, protocol, corpus, seed)``, not on the other cells
  of its batch nor on its position: the initial weights of every weight slot and node row
  are drawn from keys folded from ``seed`` and the slot/row index (padding adds slots, it
  does not move them), dropout masks come from ``(seed, epoch, window)``, and padded nodes
  and slots contribute exact zeros. The text is read in order (no shuffling).
* Each cell is trained as its ``live_part`` (the states the output depends on): a state
  nothing reads cannot change the loss, and dropping it keeps its overflow from marking a
  trainable cell diverged.
* All cells of a batch run as ONE compiled program: their packed codes
  (``Cell.program(...).packed()``) are data, ``jax.vmap`` runs the cells, ``lax.scan`` runs
  windows, time steps and nodes. Programs are cached per (protocol, vocabulary, padded
  sizes), so a second batch of the same sizes does not recompile.
* Divergence is per cell: a training step whose loss or gradient is non-finite marks the
  cell diverged at that epoch and freezes its weights; a validation or epoch training loss
  that is non-finite or blew up (``blew_up``: above ``BLOWUP_FACTOR`` times the uniform
  model's ``log V`` nats) marks it diverged too. The other cells' arithmetic never touches
  a diverged cell's numbers (each cell has its own weights, loss and gradient under
  ``vmap``). A diverged cell's curve is NaN from the diverging epoch on and it has no test
  loss.
* Validation (every epoch) and test (at the end) score the first ``protocol.val_tokens``
  tokens of the split (all when ``None``), cut to whole windows of ``eval_batch`` rows by
  ``bptt`` steps, with the final (for ``nt_asgd``: averaged, once triggered) weights.
"""

from __future__ import annotations

import functools
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax

from petridish._logging import logger
from petridish.data.corpora import Corpus
from petridish.motifs.base import Motif
from petridish.motifs.cell import N_GRAPH_INPUTS, Cell, live_part
from petridish.nets.cell_ops import (
    cell_program,
    native_codes,
    native_layer,
    native_layout,
    node_value_matmul,
)
from petridish.truth.lm.protocols import LMProtocol

__all__ = [
    "BLOWUP_FACTOR",
    "LMResult",
    "ProgramSizes",
    "batchify",
    "blew_up",
    "capped_splits",
    "init_params",
    "program_sizes",
    "train_cells",
    "unigram_perplexity",
]

Params = dict[str, Any]
_N_STATES = 3
_NODE_BUCKET = 4  # padded node count rounded up to this (fewer distinct compiled programs)


@dataclass(frozen=True)
class LMResult:
    """One cell's training record. Losses are cross-entropies in nats per token."""

    val_curve: tuple[float, ...]  # validation loss after each epoch (NaN once diverged)
    train_curve: tuple[float, ...]  # mean training loss of each epoch (NaN once diverged)
    test_loss: float  # NaN when diverged
    diverged_epoch: int | None  # 1-based epoch of divergence, None if it trained through
    seconds: float  # wall time of the batch divided by its cell count
    protocol: str

    @property
    def diverged(self) -> bool:
        return self.diverged_epoch is not None

    @property
    def val_loss(self) -> float:
        return self.val_curve[-1] if self.val_curve else math.nan


class ProgramSizes(NamedTuple):
    """Static sizes of one compiled program: vocabulary, padded nodes, inputs per node and
    weight slots. Pinning them (``train_cells(..., sizes=)``) lets batches share a program.
    ``native > 0``: the batch is genotype cells run natively (``native_codes`` padded to
    ``native`` rows); the parameters keep the primitive form's shapes."""

    vocab: int
    max_nodes: int
    max_inputs: int
    max_slots: int
    native: int = 0  # native (highway) nodes per genotype cell; 0: the primitive executor


def batchify(tokens: np.ndarray, rows: int) -> np.ndarray:
    """``tokens (N,)`` -> ``(rows, N // rows)``: each row a contiguous stretch of the text."""
    n = (len(tokens) // rows) * rows
    if n == 0:
        raise ValueError(f"{len(tokens)} tokens cannot fill {rows} rows")
    return np.asarray(tokens[:n], np.int32).reshape(rows, -1)


def unigram_perplexity(corpus: Corpus, split: str = "valid") -> float:
    """Perplexity of ``split`` under the (add-one) training unigram model."""
    return math.exp(corpus.unigram_loss(split))


# ----------------------------------------------------------------------------- parameters


def _uniform_rows(key: jax.Array, n: int, shape: tuple[int, ...], bound: float) -> jax.Array:
    """``(n, *shape)`` with row ``i`` drawn from ``fold_in(key, i)``: a row's values do not
    depend on ``n`` (padding appends rows)."""
    keys = jax.vmap(lambda i: jax.random.fold_in(key, i))(jnp.arange(n))
    return jax.vmap(lambda k: jax.random.uniform(k, shape, minval=-bound, maxval=bound))(keys)


def init_params(key: jax.Array, protocol: LMProtocol, sizes: ProgramSizes) -> Params:
    """One cell's weights. Cell matrices and biases ~ U(-1/sqrt(h), 1/sqrt(h)) (PyTorch's
    ``Linear``), embedding ~ U(-init_range, init_range), decoder bias zero."""
    k_emb, k_dec, k_layers = jax.random.split(key, 3)
    e = protocol.embedding
    params: Params = {
        "embed": jax.random.uniform(
            k_emb, (sizes.vocab, e), minval=-protocol.init_range, maxval=protocol.init_range
        ),
        "dec_b": jnp.zeros((sizes.vocab,)),
    }
    h_last = protocol.layer_sizes[-1][1]
    if not protocol.is_tied:
        params["dec_w"] = jax.random.uniform(
            k_dec,
            (h_last, sizes.vocab),
            minval=-protocol.init_range,
            maxval=protocol.init_range,
        )
    layers = []
    for i, (d_in, h) in enumerate(protocol.layer_sizes):
        kl = jax.random.fold_in(k_layers, i)
        bound = 1.0 / math.sqrt(h)
        layers.append(
            {
                "w_x": _uniform_rows(jax.random.fold_in(kl, 0), sizes.max_slots, (d_in, h), bound),
                "w_h": _uniform_rows(jax.random.fold_in(kl, 1), sizes.max_slots, (h, h), bound),
                "b": _uniform_rows(jax.random.fold_in(kl, 2), sizes.max_nodes, (h,), bound),
            }
        )
    params["layers"] = layers
    return params


# ---------------------------------------------------------------------------------- model


def _locked_mask(key: jax.Array, shape: tuple[int, ...], p: float) -> jax.Array:
    """Inverted-dropout mask (kept entries scaled by 1/(1-p)), or 1 when ``p`` is 0."""
    if p <= 0.0:
        return jnp.ones(shape)
    keep = jax.random.bernoulli(key, 1.0 - p, shape)
    return keep.astype(jnp.float32) / (1.0 - p)


def _run_layer(
    layer: Params,
    code: jax.Array,
    x: jax.Array,
    h0: jax.Array,
    sizes: ProgramSizes,
    recurrent_mask: jax.Array,
) -> tuple[jax.Array, jax.Array]:
    """The cell over one window: ``x (T, B, d_in)``, ``h0 (3, B, h)`` -> outputs
    ``(T, B, h)`` (``h_new_0`` of each step) and the last states ``(3, B, h)``."""
    h = layer["w_h"].shape[-1]
    m, k = code.shape[0], code.shape[1] - 2
    prog = cell_program(code, layer, sizes.max_slots, h)
    n_t, n_b, d_in = x.shape
    # x-projection + bias of every node at every step, one einsum: (T, M, B, h).
    pre = jnp.einsum("tbd,mdh->tmbh", x, prog.w_x) + prog.bias[None, :, None, :]
    # Row 0 of the value table as non-linear ops see it: x cut or zero-padded to h features.
    d_keep = min(d_in, h)
    x_row = jnp.zeros((n_t, n_b, h), x.dtype).at[..., :d_keep].set(x[..., :d_keep])

    def node(tab: jax.Array, i: jax.Array, pre_t: jax.Array) -> jax.Array:
        args = [tab[prog.inputs[i, j]] for j in range(k)]  # K x (B, h)
        val = node_value_matmul(
            args,
            prog.used[i],
            prog.is_prod[i],
            prog.is_blend[i],
            prog.w_eff[i],
            pre_t[i],
            prog.act[i],
        )
        return jax.lax.dynamic_update_index_in_dim(tab, val, N_GRAPH_INPUTS + i, 0)

    def step(h_prev: jax.Array, inp: tuple[jax.Array, jax.Array]) -> tuple[jax.Array, jax.Array]:
        x_row_t, pre_t = inp  # (B, h), (M, B, h)
        tab = jnp.concatenate(
            [x_row_t[None], h_prev * recurrent_mask, jnp.zeros((m, n_b, h), h_prev.dtype)]
        )  # (4 + M, B, h)
        tab, _ = jax.lax.scan(lambda c, i: (node(c, i, pre_t), None), tab, jnp.arange(m))
        h_new = jnp.where(prog.has_state[:, None, None], tab[prog.out_row], 0.0)  # (3, B, h)
        return h_new, h_new[0]

    h_last, outs = jax.lax.scan(step, h0, (x_row, pre))
    return outs, h_last


def _forward(
    params: Params,
    code: jax.Array,
    states: Sequence[jax.Array],
    tokens: jax.Array,
    key: jax.Array,
    protocol: LMProtocol,
    sizes: ProgramSizes,
    train: bool,
) -> tuple[jax.Array, jax.Array, jax.Array, list[jax.Array]]:
    """Logits ``(T, B, V)`` for ``tokens (B, T)``, the last layer's dropped and raw outputs
    ``(T, B, h)`` and the new states, one ``(3, B, h)`` per layer."""
    p = protocol if train else None
    keys = jax.random.split(key, 4 + 3 * protocol.layers)
    emb = params["embed"]
    if p is not None and p.dropout_words > 0:
        emb = emb * _locked_mask(keys[0], (emb.shape[0], 1), p.dropout_words)
    x = jnp.swapaxes(emb[tokens], 0, 1)  # (T, B, E)
    n_b = tokens.shape[0]
    if p is not None:
        x = x * _locked_mask(keys[1], (1, n_b, x.shape[2]), p.dropout_embedding)
    new_states = []
    raw = x
    for i, layer in enumerate(params["layers"]):
        d_in, h = layer["w_x"].shape[1], layer["w_h"].shape[-1]
        kx, kh, kw = keys[4 + 3 * i : 7 + 3 * i]
        rec = jnp.ones((1, h))
        if p is not None:
            x = x * _locked_mask(kx, (1, n_b, d_in), p.dropout_cell_input)
            rec = _locked_mask(kh, (n_b, h), p.dropout_recurrent)
            if p.weight_drop > 0:  # DropConnect on the hidden-side matrices, per window
                layer = dict(
                    layer, w_h=layer["w_h"] * _locked_mask(kw, layer["w_h"].shape, p.weight_drop)
                )
        if sizes.native:
            raw, s_last = native_layer(layer, code, x, states[i][0], rec)
            st = jnp.zeros_like(states[i]).at[0].set(s_last)  # genotype cells: one state
        else:
            raw, st = _run_layer(layer, code, x, states[i], sizes, rec)
        new_states.append(st)
        x = raw
        if p is not None and i < len(params["layers"]) - 1:
            x = x * _locked_mask(jax.random.fold_in(keys[2], i), (1, n_b, h), p.dropout_layers)
    out = x
    if p is not None:
        out = out * _locked_mask(keys[3], (1, n_b, out.shape[2]), p.dropout_output)
    dec = params["embed"].T if "dec_w" not in params else params["dec_w"]
    logits = out @ dec + params["dec_b"]  # (T, B, V)
    return logits, out, raw, new_states


def _cross_entropy(logits: jax.Array, targets: jax.Array) -> jax.Array:
    """Mean softmax cross-entropy (nats): ``logits (T, B, V)``, ``targets (B, T)``."""
    logp = jax.nn.log_softmax(logits, axis=-1)
    picked = jnp.take_along_axis(logp, jnp.swapaxes(targets, 0, 1)[..., None], axis=-1)
    return -jnp.mean(picked)


def _optimizer(protocol: LMProtocol) -> optax.GradientTransformation:
    parts: list[optax.GradientTransformation] = []
    if protocol.clip > 0:
        parts.append(optax.clip_by_global_norm(protocol.clip))
    if protocol.weight_decay > 0:
        parts.append(optax.add_decayed_weights(protocol.weight_decay))
    if protocol.optimizer == "adam":
        parts.append(optax.adam(protocol.lr))
    else:  # sgd, and nt_asgd's underlying SGD (the averaging is done by the trainer)
        parts.append(optax.sgd(protocol.lr))
    return optax.chain(*parts)


def _all_finite(tree: Any) -> jax.Array:
    leaves = jax.tree_util.tree_leaves(tree)
    return jnp.all(jnp.stack([jnp.all(jnp.isfinite(leaf)) for leaf in leaves]))


class _State(NamedTuple):
    params: Params
    opt: Any
    avg: Params  # running average of the iterates since nt_asgd's trigger
    n_avg: jax.Array  # () float: iterates averaged so far
    averaging: jax.Array  # () bool: nt_asgd triggered
    bad: jax.Array  # () bool: diverged


class _Programs(NamedTuple):
    init: Callable[..., _State]
    epoch: Callable[..., tuple[_State, jax.Array]]
    evaluate: Callable[..., jax.Array]


@functools.lru_cache(maxsize=16)
def _programs(protocol: LMProtocol, sizes: ProgramSizes) -> _Programs:
    """The compiled init / train-one-epoch / evaluate programs, ``vmap``-ed over cells."""
    opt = _optimizer(protocol)
    hs = [h for _, h in protocol.layer_sizes]

    def zero_states(rows: int) -> jax.Array:
        # (layers, 3, rows, h) needs equal widths; keep a list-free layout by padding to max.
        return jnp.zeros((len(hs), _N_STATES, rows, max(hs)))

    def states_in(states: jax.Array) -> list[jax.Array]:
        return [states[i, :, :, : hs[i]] for i in range(len(hs))]

    def states_out(states: list[jax.Array], rows: int) -> jax.Array:
        full = zero_states(rows)
        for i, st in enumerate(states):
            full = full.at[i, :, :, : hs[i]].set(st)
        return full

    def init_one(key: jax.Array) -> _State:
        params = init_params(key, protocol, sizes)
        return _State(
            params=params,
            opt=opt.init(params),
            avg=params,
            n_avg=jnp.zeros(()),
            averaging=jnp.zeros((), bool),
            bad=jnp.zeros((), bool),
        )

    def loss_fn(
        params: Params, code: jax.Array, states: jax.Array, window: jax.Array, key: jax.Array
    ) -> tuple[jax.Array, tuple[jax.Array, jax.Array]]:
        logits, dropped, raw, new = _forward(
            params, code, states_in(states), window[:, :-1], key, protocol, sizes, True
        )
        loss = _cross_entropy(logits, window[:, 1:])
        total = loss
        if protocol.ar_alpha > 0:  # activation regularisation on the dropped output
            total = total + protocol.ar_alpha * jnp.mean(dropped**2)
        if protocol.tar_beta > 0:  # temporal activation regularisation on the raw output
            total = total + protocol.tar_beta * jnp.mean((raw[1:] - raw[:-1]) ** 2)
        return total, (loss, states_out(new, window.shape[0]))

    def epoch_one(
        state: _State, code: jax.Array, data: jax.Array, starts: jax.Array, key: jax.Array
    ) -> tuple[_State, jax.Array]:
        """One epoch for one cell: ``data (B, L)``, window starts ``(W,)``; returns the new
        state and the mean training loss (NaN if the cell diverged)."""
        states0 = zero_states(protocol.batch)

        def window_step(
            carry: tuple[_State, jax.Array], inp: tuple[jax.Array, jax.Array]
        ) -> tuple[tuple[_State, jax.Array], jax.Array]:
            st, states = carry
            start, w = inp
            window = jax.lax.dynamic_slice_in_dim(data, start, protocol.bptt + 1, axis=1)
            grads, (loss, new_states) = jax.grad(loss_fn, has_aux=True)(
                st.params, code, states, window, jax.random.fold_in(key, w)
            )
            ok = jnp.isfinite(loss) & _all_finite(grads) & ~st.bad
            updates, opt_new = opt.update(grads, st.opt, st.params)
            params_new = optax.apply_updates(st.params, updates)
            # Frozen once diverged: the old weights stay, so nothing non-finite is carried on.
            params = jax.tree_util.tree_map(lambda a, b: jnp.where(ok, a, b), params_new, st.params)
            opt_state = jax.tree_util.tree_map(lambda a, b: jnp.where(ok, a, b), opt_new, st.opt)
            n_avg = st.n_avg + jnp.where(ok & st.averaging, 1.0, 0.0)
            avg = jax.tree_util.tree_map(
                lambda a, p_: jnp.where(
                    ok & st.averaging, a + (p_ - a) / jnp.maximum(n_avg, 1.0), a
                ),
                st.avg,
                params,
            )
            new_states = jnp.where(ok, jax.lax.stop_gradient(new_states), 0.0)
            st = _State(params, opt_state, avg, n_avg, st.averaging, st.bad | ~ok)
            return (st, new_states), jnp.where(ok, loss, jnp.nan)

        windows = jnp.arange(starts.shape[0])
        (state, _), losses = jax.lax.scan(window_step, (state, states0), (starts, windows))
        return state, jnp.where(state.bad, jnp.nan, jnp.mean(losses))

    def evaluate_one(state: _State, code: jax.Array, data: jax.Array) -> jax.Array:
        """Mean cross-entropy over ``data (R, L)`` in windows of ``bptt``; carried states."""
        params = jax.tree_util.tree_map(
            lambda a, p_: jnp.where(state.averaging, a, p_), state.avg, state.params
        )
        n_win = (data.shape[1] - 1) // protocol.bptt
        states0 = zero_states(data.shape[0])

        def window_step(states: jax.Array, w: jax.Array) -> tuple[jax.Array, jax.Array]:
            window = jax.lax.dynamic_slice_in_dim(
                data, w * protocol.bptt, protocol.bptt + 1, axis=1
            )
            logits, _, _, new = _forward(
                params,
                code,
                states_in(states),
                window[:, :-1],
                jax.random.PRNGKey(0),
                protocol,
                sizes,
                False,
            )
            return states_out(new, data.shape[0]), _cross_entropy(logits, window[:, 1:])

        _, losses = jax.lax.scan(window_step, states0, jnp.arange(n_win))
        return jnp.mean(losses)

    return _Programs(
        init=jax.jit(jax.vmap(init_one)),
        epoch=jax.jit(jax.vmap(epoch_one, in_axes=(0, 0, None, None, None))),
        evaluate=jax.jit(jax.vmap(evaluate_one, in_axes=(0, 0, None))),
    )


# ------------------------------------------------------------------------------- driver


def program_sizes(cells: Sequence[Cell], vocab: int, native: bool = False) -> ProgramSizes:
    """The padded sizes ``train_cells`` derives from a batch: nodes and weight slots rounded
    up to a multiple of 4, at least 3 inputs per node; with ``native`` (every cell a
    genotype cell) also the native node count, rounded up to a multiple of 4."""
    prog = Cell.program(cells)
    m = -(-prog.max_nodes // _NODE_BUCKET) * _NODE_BUCKET
    k = max(3, prog.max_inputs)
    s = max(1, -(-int(prog.n_weights.max()) // _NODE_BUCKET) * _NODE_BUCKET)
    g = 0
    if native:
        layouts = [native_layout(c) for c in cells]
        g = max(lay.n_native for lay in layouts if lay is not None)
        g = -(-g // _NODE_BUCKET) * _NODE_BUCKET
    return ProgramSizes(vocab=vocab, max_nodes=m, max_inputs=k, max_slots=s, native=g)


def capped_splits(
    corpus: Corpus, cap: int | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """``(train, valid, test, vocab)`` token ids with the vocabulary capped to the ``cap``
    most frequent training words (ids ``0..cap-1`` by falling frequency, ties by id) plus
    one out-of-vocabulary id ``cap``; ``cap=None`` (or at least the vocabulary) is the
    corpus unchanged. A capped softmax is what makes the ``cpu`` protocol cheap."""
    if cap is None or cap >= corpus.vocab_size:
        return corpus.train, corpus.valid, corpus.test, corpus.vocab_size
    counts = np.bincount(corpus.train, minlength=corpus.vocab_size)
    order = np.argsort(-counts, kind="stable")
    new_id = np.full(corpus.vocab_size, cap, np.int32)
    new_id[order[:cap]] = np.arange(cap, dtype=np.int32)
    return new_id[corpus.train], new_id[corpus.valid], new_id[corpus.test], cap + 1


def _eval_data(tokens: np.ndarray, protocol: LMProtocol) -> jax.Array:
    if protocol.val_tokens is not None:
        tokens = tokens[: protocol.val_tokens + 1]
    data = batchify(tokens, protocol.eval_batch)
    n_win = (data.shape[1] - 1) // protocol.bptt
    if n_win < 1:
        raise ValueError(f"too few evaluation tokens for one window of {protocol.bptt} steps")
    return jnp.asarray(data[:, : n_win * protocol.bptt + 1])


def _window_starts(n_total: int, per_epoch: int, epoch: int, bptt: int) -> np.ndarray:
    """Start columns of epoch ``epoch``'s windows: epochs continue through the text."""
    idx = (np.arange(per_epoch) + epoch * per_epoch) % n_total
    return (idx * bptt).astype(np.int32)


def train_cells(
    cells: Sequence[Motif],
    protocol: LMProtocol,
    corpus: Corpus,
    seed: int,
    *,
    sizes: ProgramSizes | None = None,
    native: bool = True,
) -> list[LMResult]:
    """Train ``cells`` together under ``protocol`` on ``corpus``; see the module docstring.

    ``sizes`` pins the padded program sizes (nodes, inputs, slots) instead of deriving them
    from the batch; results do not depend on it, only compile reuse does.
    ``native``: genotype cells (``native_layout``) run as one highway step per genotype node
    (``native_layer``) instead of five primitive nodes, reading the same parameters, so
    their results equal the primitive form's to float rounding; a batch mixing genotype
    and other cells is trained as two batches (a cell's result never depends on its batch).
    """
    cs = [c for c in cells if isinstance(c, Cell)]
    if len(cs) != len(cells) or not cs:
        raise ValueError("train_cells needs a non-empty sequence of Cell motifs")
    # A state the output never reads (through any chain of states) cannot change the loss;
    # run with the graph as data, its overflow would still turn into NaN (0 * inf) and mark
    # a trainable cell diverged, where a framework differentiating the loss never sees it.
    cs = [live_part(c) for c in cs]
    if sizes is None and native:
        is_native = [native_layout(c) is not None for c in cs]
        if any(is_native) and not all(is_native):
            groups = [[i for i, f in enumerate(is_native) if f == want] for want in (True, False)]
            merged: list[LMResult | None] = [None] * len(cs)
            for idx in groups:
                part = train_cells([cs[i] for i in idx], protocol, corpus, seed)
                for i, r in zip(idx, part, strict=True):
                    merged[i] = r
            return [r for r in merged if r is not None]
        native = all(is_native)
    t0 = time.perf_counter()
    train_ids, valid_ids, test_ids, vocab = capped_splits(corpus, protocol.vocab_cap)
    sz = sizes if sizes is not None else program_sizes(cs, vocab, native)
    if sz.vocab != vocab:
        raise ValueError(f"sizes.vocab is {sz.vocab} but the protocol's vocabulary is {vocab}")
    if sz.native:
        codes = jnp.asarray(native_codes(cs, sz.native))
    else:
        codes = jnp.asarray(Cell.program(cs, sz.max_nodes, sz.max_inputs).packed())
    progs = _programs(protocol, sz)
    train = batchify(train_ids, protocol.batch)
    n_total = (train.shape[1] - 1) // protocol.bptt
    per_epoch = n_total
    if protocol.tokens_per_epoch is not None:
        per_epoch = max(
            1, min(n_total, protocol.tokens_per_epoch // (protocol.batch * protocol.bptt))
        )
    train_j = jnp.asarray(train)
    valid = _eval_data(valid_ids, protocol)
    test = _eval_data(test_ids, protocol)
    key = jax.random.PRNGKey(seed)
    k_init, k_drop = jax.random.split(key)
    state = progs.init(jnp.broadcast_to(k_init, (len(cs), *k_init.shape)))
    n = len(cs)
    val = np.full((protocol.epochs, n), np.nan)
    trn = np.full((protocol.epochs, n), np.nan)
    diverged: list[int | None] = [None] * n
    for e in range(protocol.epochs):
        starts = jnp.asarray(_window_starts(n_total, per_epoch, e, protocol.bptt))
        state, losses = progs.epoch(state, codes, train_j, starts, jax.random.fold_in(k_drop, e))
        v = np.asarray(progs.evaluate(state, codes, valid), np.float64)
        trn[e] = np.asarray(losses)
        bad = np.asarray(state.bad) | blew_up(v, vocab) | blew_up(trn[e], vocab)
        val[e] = v
        for c in range(n):
            if bad[c] and diverged[c] is None:
                diverged[c] = e + 1
            if diverged[c] is not None:
                val[e, c] = trn[e, c] = np.nan
        if protocol.optimizer == "nt_asgd":
            state = _maybe_trigger(state, val[: e + 1], protocol.nonmono)
        logger.info(
            "lm %s epoch %d/%d: median validation loss %.4f over %d cells",
            protocol.name,
            e + 1,
            protocol.epochs,
            float(np.nanmedian(val[e])) if np.isfinite(val[e]).any() else math.nan,
            n,
        )
    test_loss = np.asarray(progs.evaluate(state, codes, test), np.float64)
    seconds = (time.perf_counter() - t0) / n
    return [
        LMResult(
            val_curve=tuple(float(v) for v in val[:, c]),
            train_curve=tuple(float(v) for v in trn[:, c]),
            test_loss=math.nan if diverged[c] is not None else float(test_loss[c]),
            diverged_epoch=diverged[c],
            seconds=seconds,
            protocol=protocol.name,
        )
        for c in range(n)
    ]


# A loss this many times the uniform model's log(V) nats is a numerical blow-up, not a bad
# model: an untrained network starts near log(V), and one cell of the NAO table's seed-noise
# rerun reached a finite 2.6e20 nats, which an only-NaN/inf check counted as trained.
BLOWUP_FACTOR = 10.0


def blew_up(loss: np.ndarray, vocab: int) -> np.ndarray:
    """``(cells,)`` bool: the loss is NaN, infinite or above ``BLOWUP_FACTOR * log(vocab)``."""
    loss = np.asarray(loss, np.float64)
    limit = BLOWUP_FACTOR * math.log(max(vocab, 2))
    with np.errstate(invalid="ignore"):
        return ~np.isfinite(loss) | (loss > limit)


def _maybe_trigger(state: _State, val: np.ndarray, nonmono: int) -> _State:
    """AWD-LSTM's trigger, per cell: switch to averaging once the latest validation loss is
    worse than the best of all epochs but the last ``nonmono``. ``val (epochs, cells)``."""
    e = val.shape[0]
    if e <= nonmono:
        return state
    best_before = np.nanmin(np.where(np.isfinite(val[:-nonmono]), val[:-nonmono], np.inf), axis=0)
    trigger = val[-1] > best_before
    averaging = np.asarray(state.averaging) | trigger
    # Start the average at the current iterate for newly triggered cells.
    newly = jnp.asarray(trigger & ~np.asarray(state.averaging))

    def start(a: jax.Array, p: jax.Array) -> jax.Array:
        return jnp.where(newly.reshape(-1, *([1] * (p.ndim - 1))), p, a)

    avg = jax.tree_util.tree_map(start, state.avg, state.params)
    n_avg = jnp.where(newly, 1.0, state.n_avg)
    return state._replace(avg=avg, n_avg=n_avg, averaging=jnp.asarray(averaging))
