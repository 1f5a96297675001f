"""The predictor contract: anything that learns loss from motifs and ranks unseen ones.

Every predictor (the dish, the random-data dish, the baselines) follows ``Predictor``:
``fit`` trains from scratch on motifs and their measured losses with an explicit integer
seed and returns the predictor; ``query`` returns one score per motif as a float ``(n,)``
array where LOWER IS BETTER (its scale is the predictor's own, e.g. z-scored loss; only the
order is comparable). Querying before fitting raises ``NotFittedError``.

This module sits at the bottom of the package (it imports only ``motifs``) so that the
dish, the baselines and the search can all depend on it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import numpy as np

from petridish.motifs.base import Motif

__all__ = ["NotFittedError", "Predictor"]


class NotFittedError(RuntimeError):
    """``query`` was called before ``fit``. A ``RuntimeError`` for older callers."""


@runtime_checkable
class Predictor(Protocol):
    """A performance predictor: learn loss from motifs, then rank unseen motifs."""

    def fit(
        self, motifs: Sequence[Motif], losses: Sequence[float] | np.ndarray, *, seed: int = 0
    ) -> Predictor:
        """Train from scratch on ``motifs`` and their measured ``losses`` (lower = better)."""
        ...

    def query(self, motifs: Sequence[Motif]) -> np.ndarray:
        """One score per motif, float ``(len(motifs),)``; lower = predicted better."""
        ...
