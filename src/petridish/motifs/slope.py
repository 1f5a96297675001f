"""Sigmoid-slope motifs: the hidden activation ``sigmoid(c * x)`` (paper Section 4.1)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import jax
import numpy as np

from petridish._validation import positive_float
from petridish.motifs.base import Motif


@dataclass(frozen=True)
class SigmoidSlope(Motif):
    """The activation ``sigmoid(slope * x)``; ``slope`` must be finite and positive."""

    slope: float
    kind = "sigmoid_slope"

    def __post_init__(self) -> None:
        # Bools and text are refused (``True`` is not slope 1.0); the messages are
        # "sigmoid slope must be a number, got ..." and "... must be finite and > 0, got ...".
        value = positive_float(self.slope, "sigmoid slope")
        # Normalise ints and numpy scalars so equal slopes hash and serialise equally.
        object.__setattr__(self, "slope", value)

    def payload(self) -> dict[str, Any]:
        return {"slope": self.slope}

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> SigmoidSlope:
        if set(payload) != {"slope"}:
            raise ValueError(f"sigmoid_slope payload needs exactly 'slope', got {sorted(payload)}")
        return cls(payload["slope"])

    @classmethod
    def encode_many(cls, motifs: Sequence[Motif]) -> np.ndarray:
        slopes = [m.slope for m in motifs if isinstance(m, SigmoidSlope)]
        if len(slopes) != len(motifs):
            raise ValueError("encode_many got motifs that are not SigmoidSlope")
        return np.asarray(slopes, dtype=np.float32)  # (motifs,)

    @staticmethod
    def activation(code: jax.Array, x: jax.Array) -> jax.Array:
        """The ``Motif.activation`` hook: ``sigmoid(code * x)``, ``code`` a () slope."""
        return sigmoid_slope_activation(code, x)

    def __call__(self, x: jax.Array) -> jax.Array:
        return jax.nn.sigmoid(self.slope * x)


def sigmoid_slope_activation(slope: jax.Array, x: jax.Array) -> jax.Array:
    """The motif's activation with the slope as traced data (for vmap over motifs)."""
    return jax.nn.sigmoid(slope * x)
