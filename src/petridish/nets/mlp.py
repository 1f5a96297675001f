"""The MLP motif-network: an MLP whose hidden activation is the motif.

Blueprint of the paper's slope experiment (Section 4.1, Table 2): input 10 -> hidden h ->
hidden h -> output 10 with the motif activation on the hidden layers and sigmoid outputs
(returned here as logits; the loss applies the sigmoid).

Contract
--------
* ``MotifMLP(layer_sizes, motif)``: ``motif`` is a motif class that implements the
  ``Motif.activation(code, x)`` hook; its ``encode_many`` rows are the codes, and the
  hidden layers apply ``motif.activation(code, h)``. Motifs of another kind are rejected
  by ``codes``.
* Any such motif kind runs on this blueprint and in the dish with one registry line,
  ``register_network(name, mlp_network(Kind))``; this module needs no edit.
* ``SlopeMLP(layer_sizes)`` is the blueprint with ``SigmoidSlope`` motifs, registered as
  the network ``"slope_mlp"`` (``MLP_NETWORK``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import jax
import numpy as np

from petridish.motifs.base import Motif, has_activation, motif_family
from petridish.motifs.slope import SigmoidSlope
from petridish.nets.base import NetBase, Params
from petridish.nets.numerics import bce_with_logits
from petridish.nets.registry import NetworkConfig, NetworkFactory, register_network

__all__ = ["MLP_NETWORK", "MotifMLP", "SlopeMLP", "bce_with_logits", "mlp_network"]

# The registry name of the MLP on sigmoid-slope motifs (``DishConfig.network``).
MLP_NETWORK = "slope_mlp"


@dataclass(frozen=True)
class MotifMLP(NetBase):
    """``layer_sizes`` like ``(10, 1, 1, 10)``: input, hidden..., output; ``motif`` the
    motif class whose ``activation`` hook is the hidden activation."""

    layer_sizes: tuple[int, ...]
    motif: type[Motif]

    def __post_init__(self) -> None:
        object.__setattr__(self, "layer_sizes", tuple(int(s) for s in self.layer_sizes))
        if len(self.layer_sizes) < 2 or any(s < 1 for s in self.layer_sizes):
            raise ValueError(f"layer_sizes must be >= 2 positive ints, got {self.layer_sizes}")
        if not has_activation(self.motif):
            raise ValueError(
                f"{self.motif.__name__} motifs define no activation(code, x): they cannot "
                "be the activation of an MLP"
            )

    @property
    def input_shape(self) -> tuple[int, ...]:
        return (self.layer_sizes[0],)

    @property
    def label_shape(self) -> tuple[int, ...]:
        return (self.layer_sizes[-1],)

    def codes(self, motifs: Sequence[Motif]) -> np.ndarray:
        """``encode_many`` of the blueprint's motif kind; other kinds are a ``ValueError``."""
        kind = motif_family(motifs)
        if kind is not self.motif:
            raise ValueError(
                f"this MLP runs {self.motif.__name__} motifs, got {kind.__name__} motifs"
            )
        return np.asarray(kind.encode_many(motifs))

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
        # code: one row of encode_many (a () slope for SigmoidSlope); x: (batch, in)
        h = x
        for w, b in params[:-1]:
            h = self.motif.activation(code, h @ w + b)  # (batch, hidden)
        w, b = params[-1]
        return h @ w + b  # (batch, out) logits


@dataclass(frozen=True)
class SlopeMLP(MotifMLP):
    """The MLP on ``SigmoidSlope`` motifs (hidden activation ``sigmoid(c * x)``)."""

    layer_sizes: tuple[int, ...] = (10, 1, 1, 10)
    motif: type[Motif] = SigmoidSlope


def mlp_network(motif: type[Motif]) -> NetworkFactory:
    """A registry factory: ``MotifMLP(config.layer_sizes, motif)``; it has no time axis, so
    ``config.seq_len`` must be 1."""

    def factory(config: NetworkConfig) -> MotifMLP:
        if config.seq_len != 1:
            raise ValueError(
                f"the {config.network} network has no time axis: seq_len must be 1, got "
                f"{config.seq_len}"
            )
        return MotifMLP(config.layer_sizes, motif)

    return factory


register_network(MLP_NETWORK, mlp_network(SigmoidSlope))
