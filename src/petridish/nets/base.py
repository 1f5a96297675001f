"""The motif-network contract: a blueprint whose motif part is data, not code.

A ``MotifNet`` is a frozen, hashable description of a tiny network. ``init`` draws one
parameter pytree (``theta_init``, shared by every motif); ``apply`` runs ONE network
for ONE motif code (a row of ``Motif.encode_many``) on a batch of inputs and returns
logits. Batching over motifs is done by the caller with ``jax.vmap`` over the code and
the parameters, so the networks stay independent by construction.
"""

from __future__ import annotations

from typing import Any, Protocol

import jax

Params = Any  # a pytree of jax arrays


class MotifNet(Protocol):
    """Frozen, hashable network blueprint (usable as a static jit argument)."""

    def init(self, key: jax.Array, scale: float) -> Params:
        """One parameter pytree, weights and biases drawn from ``N(0, scale**2)``."""
        ...

    def apply(self, params: Params, code: jax.Array, x: jax.Array) -> jax.Array:
        """Logits for one motif: ``x`` is ``(batch, *input_shape)``."""
        ...
