"""Random search: uniform random motifs from the space (``space.random_genes``); no predictor."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from petridish.search.space import SearchSpace
from petridish.search.strategies.base import History, check_n

__all__ = ["RandomStrategy"]


@dataclass(frozen=True)
class RandomStrategy:
    """Proposes ``space.random_genes(rng, n)``, ignoring the history; ``rank`` is ``None``."""

    @property
    def name(self) -> str:
        return "random"

    def propose(
        self, space: SearchSpace, history: History, n: int, rng: np.random.Generator
    ) -> np.ndarray:
        return np.asarray(space.random_genes(rng, check_n(n)), np.int64)

    def rank(
        self,
        space: SearchSpace,
        history: History,
        candidates: np.ndarray,
        rng: np.random.Generator,
    ) -> np.ndarray | None:
        return None
