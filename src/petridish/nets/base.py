"""The motif-network contract: a blueprint whose motif part is data, not code.

A ``MotifNet`` is a frozen, hashable description of a tiny network. ``init`` draws one
parameter pytree (``theta_init``, shared by every motif); ``apply`` runs ONE network
for ONE motif code (a row of ``codes``) on a batch of inputs and returns logits.
Batching over motifs is done by the caller with ``jax.vmap`` over the code and the
parameters, so the networks stay independent by construction.

Everything the dish needs from a network is on this contract, so the dish names no
concrete network (networks are found by name in ``petridish.nets.registry``):

* ``input_shape`` / ``label_shape``: one synthetic sample's input and its fixed random
  binary labels, e.g. ``(in,)`` and ``(out,)``, or ``(T, in)`` and ``(T, out)``.
* ``codes(motifs)``: the motifs' codes ``(motifs, ...)`` in the fixed shape the network
  compiles for; motifs the network cannot run (wrong kind, too big) are a ``ValueError``
  naming the limit.
* ``trim(codes)``: the same codes, possibly cut to fewer (padding) entries, such that
  ``apply`` gives the same logits faster; codes are never made longer.
* ``motif_cost(codes)``: ``(motifs,)`` relative cost of running each code; predictions
  are ordered by it (largest first, stable) so chunks group codes of similar cost.
* ``predict_chunk``: at most this many motifs per call of the compiled inner loop when
  predicting (``None``: any number at once).
* ``shard_motifs``: whether the inner loop should spread the motif axis over the local
  devices (``petridish.dish.devices``).

``NetBase`` gives the defaults (codes from ``Motif.encode_many``, no trimming, equal
costs, no chunk limit, no sharding), so a simple network implements only ``init``,
``apply``, ``input_shape`` and ``label_shape``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar, Protocol

import jax
import numpy as np

from petridish.motifs.base import Motif, motif_family

__all__ = ["MotifNet", "NetBase", "Params"]

Params = Any  # a pytree of jax arrays


class MotifNet(Protocol):
    """Frozen, hashable network blueprint (usable as a static jit argument)."""

    @property
    def input_shape(self) -> tuple[int, ...]:
        """Shape of one synthetic input sample, e.g. ``(in,)`` or ``(T, in)``."""
        ...

    @property
    def label_shape(self) -> tuple[int, ...]:
        """Shape of one sample's binary labels (the logits of ``apply``), e.g. ``(out,)``."""
        ...

    @property
    def predict_chunk(self) -> int | None:
        """Most motifs per compiled inner-loop call when predicting; ``None``: no limit."""
        ...

    @property
    def shard_motifs(self) -> bool:
        """Whether the inner loop spreads the motif axis over the local devices."""
        ...

    def init(self, key: jax.Array, scale: float) -> Params:
        """One parameter pytree, weights and biases drawn from ``N(0, scale**2)``."""
        ...

    def apply(self, params: Params, code: jax.Array, x: jax.Array) -> jax.Array:
        """Logits ``(batch, *label_shape)`` for one motif: ``x`` is ``(batch, *input_shape)``."""
        ...

    def codes(self, motifs: Sequence[Motif]) -> np.ndarray:
        """Codes ``(motifs, ...)`` in the network's fixed shape; ``ValueError`` on a misfit."""
        ...

    def trim(self, codes: np.ndarray) -> np.ndarray:
        """``codes`` cut (never lengthened) so that ``apply`` gives the same logits."""
        ...

    def motif_cost(self, codes: np.ndarray) -> np.ndarray:
        """Relative cost of each code, ``(motifs,)``: predictions run largest first."""
        ...


class NetBase:
    """Defaults of the ``MotifNet`` contract for simple networks (mix into a frozen
    dataclass that defines ``init``, ``apply``, ``input_shape`` and ``label_shape``)."""

    predict_chunk: ClassVar[int | None] = None
    shard_motifs: ClassVar[bool] = False

    def codes(self, motifs: Sequence[Motif]) -> np.ndarray:
        """``Motif.encode_many`` of the motifs' (single) kind."""
        return np.asarray(motif_family(motifs).encode_many(motifs))

    def trim(self, codes: np.ndarray) -> np.ndarray:
        """No trimming: ``codes`` itself."""
        return codes

    def motif_cost(self, codes: np.ndarray) -> np.ndarray:
        """Every motif costs the same: ``(motifs,)`` zeros."""
        return np.zeros(codes.shape[0])
