"""The paper's neural-network surrogate baseline (Rawal et al. 2020, Table 3).

Contract:

* ``NNSurrogate`` maps a motif's encoding (for ``SigmoidSlope``: the slope, one feature)
  through an MLP ``features -> 10 -> 10 -> 1`` to the z-scored ground-truth loss and is
  trained with Adam (lr 0.01, decayed by 0.97 every 100 steps, staircase), L2 1e-4 added
  to the gradient, 150 steps on minibatches of 15.
* Choices the paper leaves open, fixed here: ReLU hidden units; Glorot-uniform weights and
  zero biases; L2 applies to weights only (not biases) as ``grad += l2 * w``; minibatches
  are drawn without replacement, fresh each step (with <= 15 training points a batch is the
  whole set); features are standardised with the training mean and population std (a
  constant feature is divided by 1); targets are the z-scored training losses (population
  std), so ``query`` returns predicted z-scored loss, lower = better.
* Randomness comes only from ``fit(..., seed=...)``: the same data and seed give bit-equal
  predictions; different seeds give different initialisations and batches.
* The whole training loop is one jitted ``lax.scan``. Compiled trainers are cached per
  config and JAX caches per input shape, so refitting on data of the same shape does not
  recompile. ``trace_count()`` exposes how often the loop was traced (for tests).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import jax
import jax.numpy as jnp
import numpy as np
import optax

from petridish._logging import logger
from petridish._validation import nonnegative_float, positive_float, positive_int
from petridish.baselines.encodings import check_training_data
from petridish.metrics import zscore
from petridish.motifs import Motif, motif_family
from petridish.predictor import NotFittedError

__all__ = ["NNSurrogate", "NNSurrogateConfig", "NotFittedError", "trace_count"]

Params = list[dict[str, jax.Array]]  # one {"w": (in, out), "b": (out,)} per layer

_TRACES = {"train": 0}  # incremented only while JAX traces the training loop


@dataclass(frozen=True)
class NNSurrogateConfig:
    """Hyperparameters of the NN surrogate; defaults are the paper's (Section 4.1, Table 3)."""

    hidden: tuple[int, ...] = (10, 10)
    activation: Literal["relu", "tanh"] = "relu"
    learning_rate: float = 0.01
    decay_rate: float = 0.97
    decay_steps: int = 100
    l2: float = 1e-4
    steps: int = 150
    batch_size: int = 15

    def __post_init__(self) -> None:
        if not isinstance(self.hidden, tuple):
            raise ValueError(f"hidden must be a tuple of positive ints, got {self.hidden!r}")
        hidden = tuple(positive_int(w, f"hidden[{i}]") for i, w in enumerate(self.hidden))
        object.__setattr__(self, "hidden", hidden)
        if self.activation not in ("relu", "tanh"):
            raise ValueError(f"activation must be 'relu' or 'tanh', got {self.activation!r}")
        for name in ("learning_rate", "decay_rate"):
            positive_float(getattr(self, name), name)
        nonnegative_float(self.l2, "l2")
        for name in ("decay_steps", "steps", "batch_size"):
            object.__setattr__(self, name, positive_int(getattr(self, name), name))


def trace_count() -> int:
    """How many times the training loop has been traced (compiled) in this process."""
    return _TRACES["train"]


def _init_params(key: jax.Array, sizes: Sequence[int]) -> Params:
    init_w = jax.nn.initializers.glorot_uniform()
    keys = jax.random.split(key, len(sizes) - 1)
    return [
        {"w": init_w(k, (n_in, n_out), jnp.float32), "b": jnp.zeros((n_out,), jnp.float32)}
        for k, n_in, n_out in zip(keys, sizes[:-1], sizes[1:], strict=True)
    ]


def _forward(params: Params, x: jax.Array, act: Callable[[jax.Array], jax.Array]) -> jax.Array:
    """``x`` (batch, features) -> predictions (batch,)."""
    h = x
    for layer in params[:-1]:
        h = act(h @ layer["w"] + layer["b"])  # (batch, hidden)
    out = h @ params[-1]["w"] + params[-1]["b"]  # (batch, 1)
    return out[:, 0]


def _activation(name: str) -> Callable[[jax.Array], jax.Array]:
    return jax.nn.relu if name == "relu" else jnp.tanh


def _optimizer(config: NNSurrogateConfig) -> optax.GradientTransformation:
    schedule = optax.exponential_decay(
        init_value=config.learning_rate,
        transition_steps=config.decay_steps,
        decay_rate=config.decay_rate,
        staircase=True,
    )

    # L2 enters the gradient before Adam (classic L2 regularisation, not decoupled decay);
    # the mask keeps biases unregularised.
    def weights_only(params: Params) -> list[dict[str, bool]]:
        return [{"w": True, "b": False} for _ in params]

    return optax.chain(
        optax.add_decayed_weights(config.l2, mask=weights_only),
        optax.adam(schedule),
    )


@functools.lru_cache(maxsize=16)
def mlp_trainer(config: NNSurrogateConfig) -> Callable[..., Any]:
    """A jitted ``(key, x (n, features), y (n,)) -> params`` that trains the surrogate MLP
    of ``config`` on MSE; cached per config so jit's cache survives between fits."""
    act = _activation(config.activation)
    opt = _optimizer(config)

    def loss_fn(params: Params, xb: jax.Array, yb: jax.Array) -> jax.Array:
        return jnp.mean((_forward(params, xb, act) - yb) ** 2)

    def train(key: jax.Array, x: jax.Array, y: jax.Array) -> Params:
        # x: (n, features), y: (n,). Python side effect: runs once per trace, not per call.
        _TRACES["train"] += 1
        n, features = x.shape
        batch = min(config.batch_size, n)  # static: shapes are known at trace time
        init_key, batch_key = jax.random.split(key)
        params = _init_params(init_key, (features, *config.hidden, 1))
        opt_state = opt.init(params)

        def step(carry: tuple[Params, Any], i: jax.Array) -> tuple[tuple[Params, Any], None]:
            params, opt_state = carry
            if batch == n:
                xb, yb = x, y  # the whole set: no sampling needed
            else:
                idx = jax.random.permutation(jax.random.fold_in(batch_key, i), n)[:batch]
                xb, yb = x[idx], y[idx]  # (batch, features), (batch,)
            grads = jax.grad(loss_fn)(params, xb, yb)
            updates, opt_state = opt.update(grads, opt_state, params)
            return (optax.apply_updates(params, updates), opt_state), None

        (params, _), _ = jax.lax.scan(step, (params, opt_state), jnp.arange(config.steps))
        return params

    return jax.jit(train)


@functools.lru_cache(maxsize=16)
def mlp_predictor(activation: str) -> Callable[..., Any]:
    """A jitted ``(params, x (n, features)) -> (n,)`` forward pass of the surrogate MLP."""
    act = _activation(activation)
    return jax.jit(lambda params, x: _forward(params, x, act))


def _features(motifs: Sequence[Motif]) -> tuple[type[Motif], np.ndarray]:
    """Encode motifs as float32 features ``(n, features)`` plus their motif family."""
    family = motif_family(motifs)
    enc = np.asarray(family.encode_many(motifs), dtype=np.float32)
    # (n,) scalar encodings become one feature; richer encodings are flattened per motif.
    return family, enc.reshape(len(motifs), -1)


class NNSurrogate:
    """MLP surrogate from motif encoding to z-scored loss (see module docstring)."""

    def __init__(self, config: NNSurrogateConfig | None = None) -> None:
        self.config = config if config is not None else NNSurrogateConfig()
        self._params: Params | None = None
        self._family: type[Motif] | None = None
        self._mean: np.ndarray | None = None  # (features,)
        self._std: np.ndarray | None = None  # (features,)

    def fit(
        self, motifs: Sequence[Motif], losses: Sequence[float] | np.ndarray, *, seed: int = 0
    ) -> NNSurrogate:
        """Train from scratch on ``motifs`` and their measured ``losses`` (lower = better)."""
        y_raw = check_training_data(motifs, losses, seed)
        try:
            y = zscore(y_raw).astype(np.float32)  # (n,)
        except ValueError as err:
            raise ValueError(f"losses: {err}") from None
        family, x = _features(motifs)
        mean = x.mean(axis=0)
        std = x.std(axis=0)
        std = np.where(std > 0, std, 1.0).astype(np.float32)
        xs = (x - mean) / std  # (n, features)

        before = trace_count()
        params = mlp_trainer(self.config)(
            jax.random.key(int(seed)), jnp.asarray(xs), jnp.asarray(y)
        )
        if trace_count() != before:
            logger.debug("NNSurrogate: compiled trainer for %d points x %d features", *x.shape)
        self._params = jax.device_get(params)
        self._family, self._mean, self._std = family, mean, std
        return self

    def query(self, motifs: Sequence[Motif]) -> np.ndarray:
        """Predicted z-scored loss, float64 ``(len(motifs),)``; lower = better."""
        if self._params is None or self._mean is None or self._std is None:
            raise NotFittedError("NNSurrogate.query called before fit; call fit(...) first")
        family, x = _features(motifs)
        if family is not self._family:
            raise ValueError(
                f"query motifs are {family.__name__} but the surrogate was fit on "
                f"{getattr(self._family, '__name__', None)}"
            )
        if x.shape[1] != self._mean.shape[0]:
            raise ValueError(
                f"query motifs encode to {x.shape[1]} features, fit used {self._mean.shape[0]}"
            )
        xs = (x - self._mean) / self._std  # (n, features)
        pred = mlp_predictor(self.config.activation)(self._params, jnp.asarray(xs))
        return np.asarray(pred, dtype=np.float64)
