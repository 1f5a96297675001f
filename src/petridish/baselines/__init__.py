"""Baseline performance predictors that the Synthetic Petri Dish is compared against.

Every predictor follows the ``Predictor`` protocol: ``fit`` trains from scratch on motifs
and their measured losses with an explicit integer seed and returns the predictor;
``query`` returns one score per motif as a float ``(n,)`` array where LOWER IS BETTER
(its scale is the predictor's own, e.g. z-scored loss; only the order is comparable).
Querying before fitting raises ``NotFittedError``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import numpy as np

from petridish.baselines.nn_surrogate import NNSurrogate, NNSurrogateConfig, NotFittedError
from petridish.baselines.random_dish import random_data_dish
from petridish.motifs import Motif

__all__ = ["NNSurrogate", "NNSurrogateConfig", "NotFittedError", "Predictor", "random_data_dish"]


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
