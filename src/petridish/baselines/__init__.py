"""Baseline performance predictors that the Synthetic Petri Dish is compared against.

Every predictor follows the ``Predictor`` protocol: ``fit`` trains from scratch on motifs
and their measured losses with an explicit integer seed and returns the predictor;
``query`` returns one score per motif as a float ``(n,)`` array where LOWER IS BETTER
(its scale is the predictor's own, e.g. z-scored loss; only the order is comparable).
Querying before fitting raises ``NotFittedError``.
"""

from __future__ import annotations

from petridish.baselines.nn_surrogate import NNSurrogate, NNSurrogateConfig
from petridish.baselines.random_dish import random_data_dish
from petridish.predictor import NotFittedError, Predictor

__all__ = ["NNSurrogate", "NNSurrogateConfig", "NotFittedError", "Predictor", "random_data_dish"]
