"""NAO (Luo et al., 2018, Neural Architecture Optimization), small and CPU-fast, over genes.

Model (``G`` genes, position ``i`` with alphabet ``a_i``, letters one-hot over
``A_max = max a_i``; the string is ``(B, G, A_max)``):

* encoder: a position-specific embedding per letter, ``(G, A_max, D)``, mean-pooled over
  positions -> ``tanh(. W_e + b_e)``: the architecture embedding ``e`` ``(B, D)``;
* predictor: ``e -> tanh(. W_p + b_p) -> . w + b``: the z-scored loss ``(B,)``;
* decoder: one linear head per position, ``e -> (B, G, A_max)`` logits, letters a position
  lacks masked out (NAO's LSTM encoder/decoder shrunk to what trains in a second on CPU).

Training, from scratch at every call (strategies are stateless), on the whole history:
``trade_off * MSE(predictor, z-scored loss) + (1 - trade_off) * mean cross-entropy of the
reconstruction`` (NAO weighs the two about 0.8 / 0.2), full-batch Adam for ``steps`` steps,
initialised from a seed drawn from the caller's ``rng``. The history is padded to a
power-of-two bucket with a mask, so a growing history recompiles only when it crosses a
bucket (``jit`` caches one program per bucket and space).

``propose``: seeds are the best ``n_seeds`` history members (default ``n``) by true loss.
From each seed's embedding, NAO's gradient walk: ``e <- e - eta_j * grad / |grad|`` of the
predicted loss, ``eta_j = step_size * 2 ** j`` for ``j < walk_steps`` (a growing step, as NAO
grows its step until the decoded string changes; the gradient is normalised so that one
schedule suits any predictor scale -- a deviation from NAO's raw gradient), each point
decoded by argmax. A seed contributes the first decoded string that is new (not in the
history and not proposed yet); later new strings on the walks fill up the rest, then
``space.random_genes`` (new strings first). ``rank``: the predictor on the candidates, in
loss units (lower is better); ``None`` while the history has fewer than 2 entries.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from functools import partial
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax

from petridish._logging import logger
from petridish._validation import number, positive_float, positive_int
from petridish.search.space import SearchSpace, check_genes
from petridish.search.strategies.base import History, check_n, history_arrays
from petridish.search.strategies.registry import register_strategy

__all__ = ["NAOStrategy"]

Params = dict[str, jax.Array]
_MIN_BUCKET = 32


def _bucket(n: int) -> int:
    """Smallest power of two >= max(n, 32): the padded batch size for ``n`` rows."""
    return max(_MIN_BUCKET, 1 << max(0, n - 1).bit_length())


def _pad(rows: np.ndarray, size: int) -> np.ndarray:
    out = np.zeros((size, *rows.shape[1:]), rows.dtype)
    out[: len(rows)] = rows
    return out


@dataclass(frozen=True)
class _Layout:
    """A space's alphabet (hashable, so it can be a static jit argument)."""

    alphabet: tuple[int, ...]

    @property
    def width(self) -> int:
        """``A_max``: the largest alphabet; letters are one-hot over this width."""
        return int(max(self.alphabet))

    @property
    def valid(self) -> np.ndarray:
        """bool ``(G, A_max)``: letter ``v`` exists at position ``i``."""
        return np.arange(self.width)[None, :] < np.asarray(self.alphabet)[:, None]


@dataclass(frozen=True)
class NAOStrategy:
    """Encoder / predictor / decoder trained on the history; proposals by gradient walks."""

    dim: int = 24
    hidden: int = 64
    steps: int = 300
    learning_rate: float = 1e-2
    trade_off: float = 0.8
    n_seeds: int | None = None
    step_size: float = 0.05
    walk_steps: int = 8

    def __post_init__(self) -> None:
        for label in ("dim", "hidden", "steps", "walk_steps"):
            object.__setattr__(self, label, positive_int(getattr(self, label), label))
        if self.n_seeds is not None:
            object.__setattr__(self, "n_seeds", positive_int(self.n_seeds, "n_seeds"))
        positive_float(self.learning_rate, "learning_rate")
        if not 0.0 < number(self.trade_off, "trade_off") <= 1.0:
            raise ValueError(f"trade_off must be in (0, 1], got {self.trade_off!r}")
        positive_float(self.step_size, "step_size")

    @property
    def name(self) -> str:
        return "nao"

    # ------------------------------------------------------------------ public API

    def fit(
        self, space: SearchSpace, history: History, rng: np.random.Generator
    ) -> tuple[Params, float, float]:
        """Train on ``history``: ``(params, loss mean, loss std)`` (the z-score constants)."""
        genes, losses = history_arrays(space, history)
        if len(genes) < 2:
            raise ValueError(f"NAO needs at least 2 evaluated motifs to train, got {len(genes)}")
        mean = float(losses.mean())
        std = float(losses.std())
        std = std if std > 1e-12 else 1.0  # all losses equal: nothing to rank, avoid 0 / 0
        size = _bucket(len(genes))
        mask = np.zeros(size, np.float32)  # (Hb,) 1 on real rows
        mask[: len(genes)] = 1.0
        z = _pad(((losses - mean) / std).astype(np.float32), size)  # (Hb,)
        seed = int(rng.integers(2**31 - 1))
        params = _train(
            self,
            _Layout(tuple(space.alphabet)),
            jax.random.PRNGKey(seed),
            jnp.asarray(_pad(genes.astype(np.int32), size)),
            jnp.asarray(z),
            jnp.asarray(mask),
        )
        return params, mean, std

    def propose(
        self,
        space: SearchSpace,
        history: History,
        n: int,
        rng: np.random.Generator,
        *,
        exclude: Collection[str] = (),  # unused: realize maps proposals to free motifs
    ) -> np.ndarray:
        n = check_n(n)
        genes, losses = history_arrays(space, history)
        n_genes = len(space.alphabet)
        seen = {row.tobytes() for row in genes}
        chosen: list[np.ndarray] = []
        if len(genes) >= 2 and n > 0:
            params, _, _ = self.fit(space, history, rng)
            n_seeds = min(len(genes), self.n_seeds if self.n_seeds is not None else n)
            seeds = genes[np.argsort(losses, kind="stable")[:n_seeds]]  # (S, G) best first
            size = _bucket(n_seeds)
            walks = np.asarray(
                _walk(
                    self,
                    _Layout(tuple(space.alphabet)),
                    params,
                    jnp.asarray(_pad(seeds.astype(np.int32), size)),
                )
            )[:, :n_seeds].astype(np.int64)  # (J, S, G)
            first_new = [
                self._take(walks[:, s], seen, chosen, n, once=True) for s in range(n_seeds)
            ]
            for s in range(n_seeds):
                self._take(walks[:, s], seen, chosen, n, once=False)
            logger.debug(
                "NAO: %d of %d seeds moved to a new string; %d walk proposals",
                sum(first_new),
                n_seeds,
                len(chosen),
            )
        missing = n - len(chosen)
        if missing > 0:
            extra = np.asarray(space.random_genes(rng, 4 * missing), np.int64)  # (4m, G)
            unique: list[np.ndarray] = []
            for row in extra:
                if row.tobytes() not in seen:
                    seen.add(row.tobytes())
                    unique.append(row)
            # New strings first; the space's realize resolves any repeats that remain.
            fill = unique[:missing]
            fill += [extra[i % len(extra)] for i in range(missing - len(fill))]
            chosen.extend(fill)
        if not chosen:
            return np.zeros((0, n_genes), np.int64)
        return np.stack(chosen).astype(np.int64)

    def rank(
        self,
        space: SearchSpace,
        history: History,
        candidates: np.ndarray,
        rng: np.random.Generator,
    ) -> np.ndarray | None:
        cands = check_genes(space.alphabet, candidates, what="candidates")
        if len(history) < 2:
            return None
        params, mean, std = self.fit(space, history, rng)
        if len(cands) == 0:
            return np.zeros(0, np.float64)
        size = _bucket(len(cands))
        layout = _Layout(tuple(space.alphabet))
        z = _predict(layout, params, jnp.asarray(_pad(cands.astype(np.int32), size)))
        return np.asarray(z, np.float64)[: len(cands)] * std + mean

    # ----------------------------------------------------------------- helpers

    @staticmethod
    def _take(
        walk: np.ndarray, seen: set[bytes], chosen: list[np.ndarray], n: int, once: bool
    ) -> bool:
        """Append new strings of one seed's walk ``(J, G)`` (the first only if ``once``)."""
        took = False
        for row in walk:
            if len(chosen) >= n:
                break
            key = row.tobytes()
            if key in seen:
                continue
            seen.add(key)
            chosen.append(row)
            took = True
            if once:
                break
        return took


# ------------------------------------------------------------------------ the model


def _init(cfg: NAOStrategy, layout: _Layout, key: jax.Array) -> Params:
    d, h, g, a = cfg.dim, cfg.hidden, len(layout.alphabet), layout.width
    ks = jax.random.split(key, 4)

    def dense(k: jax.Array, n_in: int, n_out: int) -> jax.Array:
        return jax.random.normal(k, (n_in, n_out)) / np.sqrt(n_in)  # LeCun-normal scale

    return {
        "embed": 0.5 * jax.random.normal(ks[0], (g, a, d)),  # (G, A_max, D) per position
        "w_emb": dense(ks[1], d, d),
        "b_emb": jnp.zeros(d),
        "w_pred": dense(ks[2], d, h),
        "b_pred": jnp.zeros(h),
        "w_out": dense(ks[3], h, 1)[:, 0],
        "b_out": jnp.zeros(()),
        "w_logit": jnp.zeros((d, g, a)),  # zero: the decoder starts at uniform letters
        "b_logit": jnp.zeros((g, a)),
    }


def _onehot(layout: _Layout, genes: jax.Array) -> jax.Array:
    """Gene strings ``(B, G)`` -> one-hot letters ``(B, G, A_max)`` (dense: no scatter)."""
    return jax.nn.one_hot(genes, layout.width, dtype=jnp.float32)


def _encode(params: Params, onehot: jax.Array) -> jax.Array:
    """One-hot strings ``(B, G, A_max)`` -> architecture embeddings ``(B, D)``."""
    b, g, a = onehot.shape
    # Mean over positions of the position-specific letter embeddings, as one dense matmul
    # (B, G * A_max) @ (G * A_max, D): much faster on CPU than a gather or a batched einsum.
    pooled = onehot.reshape(b, g * a) @ params["embed"].reshape(g * a, -1) / g  # (B, D)
    return jnp.tanh(pooled @ params["w_emb"] + params["b_emb"])  # (B, D)


def _predictor(params: Params, e: jax.Array) -> jax.Array:
    """Embeddings ``(B, D)`` -> predicted z-scored losses ``(B,)``."""
    return jnp.tanh(e @ params["w_pred"] + params["b_pred"]) @ params["w_out"] + params["b_out"]


def _decode_logprobs(params: Params, layout: _Layout, e: jax.Array) -> jax.Array:
    """Embeddings ``(B, D)`` -> per-position letter log-probabilities ``(B, G, A_max)``."""
    # One linear head per position, all in one (B, D) @ (D, G * A_max) matmul: the widest
    # layer of the model, so it reads e directly rather than through a hidden layer.
    d, g, a = params["w_logit"].shape
    logits = (e @ params["w_logit"].reshape(d, g * a)).reshape(-1, g, a) + params["b_logit"]
    logits = jnp.where(jnp.asarray(layout.valid)[None], logits, -1e9)  # letters a position lacks
    return jax.nn.log_softmax(logits, axis=-1)


@partial(jax.jit, static_argnums=(0, 1))
def _train(
    cfg: NAOStrategy,
    layout: _Layout,
    key: jax.Array,
    genes: jax.Array,
    z: jax.Array,
    mask: jax.Array,
) -> Params:
    """Full-batch Adam on padded rows: genes ``(Hb, G)``, z ``(Hb,)``, mask ``(Hb,)``."""
    onehot = _onehot(layout, genes)  # (Hb, G, A_max)
    n_real = jnp.maximum(mask.sum(), 1.0)

    def loss_fn(params: Params) -> jax.Array:
        e = _encode(params, onehot)  # (Hb, D)
        mse = jnp.sum(mask * (_predictor(params, e) - z) ** 2) / n_real
        logp = _decode_logprobs(params, layout, e)  # (Hb, G, A_max)
        nll = -jnp.sum(onehot * logp, axis=-1)  # (Hb, G)
        ce = jnp.sum(mask[:, None] * nll) / (n_real * genes.shape[1])
        return cfg.trade_off * mse + (1.0 - cfg.trade_off) * ce

    opt = optax.adam(cfg.learning_rate)
    params = _init(cfg, layout, key)

    def step(carry: tuple[Params, Any], _: None) -> tuple[tuple[Params, Any], None]:
        p, state = carry
        grads = jax.grad(loss_fn)(p)
        updates, state = opt.update(grads, state, p)
        return (optax.apply_updates(p, updates), state), None

    (params, _), _ = jax.lax.scan(step, (params, opt.init(params)), None, length=cfg.steps)
    return params


@partial(jax.jit, static_argnums=(0,))
def _predict(layout: _Layout, params: Params, genes: jax.Array) -> jax.Array:
    """Predicted z-scored losses ``(B,)`` of gene strings ``(B, G)``."""
    return _predictor(params, _encode(params, _onehot(layout, genes)))


@partial(jax.jit, static_argnums=(0, 1))
def _walk(cfg: NAOStrategy, layout: _Layout, params: Params, seeds: jax.Array) -> jax.Array:
    """Gradient walks from seeds ``(S, G)``: decoded strings ``(J, S, G)``, step j = 0.. J-1."""
    e0 = _encode(params, _onehot(layout, seeds))  # (S, D)
    # Rows are independent, so the gradient of the sum is each row's own gradient.
    grad_fn = jax.grad(lambda e: _predictor(params, e).sum())

    def step(e: jax.Array, eta: jax.Array) -> tuple[jax.Array, jax.Array]:
        g = grad_fn(e)  # (S, D)
        g = g / (jnp.linalg.norm(g, axis=-1, keepdims=True) + 1e-12)
        e = e - eta * g
        return e, jnp.argmax(_decode_logprobs(params, layout, e), axis=-1)  # (S, G)

    etas = cfg.step_size * 2.0 ** jnp.arange(cfg.walk_steps)  # (J,) growing steps
    _, decoded = jax.lax.scan(step, e0, etas)
    return decoded


register_strategy("nao", NAOStrategy, "NAO: encoder, predictor and decoder")
