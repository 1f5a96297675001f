"""Random search: uniform sampling without replacement of the unevaluated motifs; no predictor.

``propose(space, history, n, rng, exclude=...)`` is ``space.random_genes(rng, n, exclude)``:
``n`` distinct motifs (while enough are free) drawn uniformly among those whose digest is
not in ``exclude``. The search loop passes ``exclude`` = every motif evaluated in the run,
failed and diverged ones included (``history`` only holds the ok ones), so each proposal is
a free motif that ``space.realize`` maps to itself: the space's nearest-free mapping, which
would favour the neighbours of evaluated motifs, never applies, and random search is exactly
uniform sampling without replacement (the law of ``random_search_hit_quantiles``).
The history itself is ignored.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

import numpy as np

from petridish.search.space import SearchSpace
from petridish.search.strategies.base import History, check_n
from petridish.search.strategies.registry import register_strategy

__all__ = ["RandomStrategy"]


@dataclass(frozen=True)
class RandomStrategy:
    """Proposes ``space.random_genes(rng, n, exclude)``; ``rank`` is ``None``."""

    @property
    def name(self) -> str:
        return "random"

    def propose(
        self,
        space: SearchSpace,
        history: History,
        n: int,
        rng: np.random.Generator,
        *,
        exclude: Collection[str] = (),
    ) -> np.ndarray:
        """int64 ``(n, n_genes)``: motifs whose digest is not in ``exclude``, uniformly
        without replacement (see the module docstring)."""
        return np.asarray(space.random_genes(rng, check_n(n), exclude=exclude), np.int64)

    def rank(
        self,
        space: SearchSpace,
        history: History,
        candidates: np.ndarray,
        rng: np.random.Generator,
    ) -> np.ndarray | None:
        return None


register_strategy("random", RandomStrategy, "random search: uniform sampling without replacement")
