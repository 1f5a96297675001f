"""The slope motif-network: an MLP whose hidden activation is ``sigmoid(c * x)``.

Blueprint of the paper's slope experiment (Section 4.1, Table 2): input 10 ->
hidden h -> hidden h -> output 10 with the motif activation on the hidden layers and
sigmoid outputs (returned here as logits; the loss applies the sigmoid).
"""

from __future__ import annotations

from dataclasses import dataclass

import jax
import jax.numpy as jnp

from petridish.motifs.slope import sigmoid_slope_activation
from petridish.nets.base import Params


@dataclass(frozen=True)
class SlopeMLP:
    """``layer_sizes`` like ``(10, 1, 1, 10)``: input, hidden..., output."""

    layer_sizes: tuple[int, ...] = (10, 1, 1, 10)

    def __post_init__(self) -> None:
        if len(self.layer_sizes) < 2 or any(int(s) < 1 for s in self.layer_sizes):
            raise ValueError(f"layer_sizes must be >= 2 positive ints, got {self.layer_sizes}")

    def init(self, key: jax.Array, scale: float) -> Params:
        params = []
        sizes = self.layer_sizes
        keys = jax.random.split(key, 2 * (len(sizes) - 1))
        for i, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
            w = scale * jax.random.normal(keys[2 * i], (fan_in, fan_out))
            b = scale * jax.random.normal(keys[2 * i + 1], (fan_out,))
            params.append((w, b))
        return params

    def apply(self, params: Params, code: jax.Array, x: jax.Array) -> jax.Array:
        # code: () the slope; x: (batch, in)
        h = x
        for w, b in params[:-1]:
            h = sigmoid_slope_activation(code, h @ w + b)  # (batch, hidden)
        w, b = params[-1]
        return h @ w + b  # (batch, out) logits


def bce_with_logits(logits: jax.Array, labels: jax.Array) -> jax.Array:
    """Mean binary cross-entropy of sigmoid(logits) against {0,1} labels, numerically stable."""
    return jnp.mean(jnp.maximum(logits, 0) - logits * labels + jnp.log1p(jnp.exp(-jnp.abs(logits))))
