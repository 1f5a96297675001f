"""A mixed generator: part of each batch of proposals from the GA, the rest uniformly random.

Why: the dish is a filter, and what it can keep depends on what it is shown. The GA's
children stay near the best motifs so far, which pays where losses are local in gene space
(the bundled NAO-space table: GA + learned dish 24 evaluations to a top-1% cell against 33.5
for random proposals); uniform proposals reach cells far from every parent, which pays where
they are not (the NAS-Bench-NLP pool: random + random-data dish 16.5 against 39.5 for the
GA). A mix shows the filter both kinds in every iteration. Measured with the learned
default dish over 10 seeds (issue 17, README "Search"): 16 evaluations to a top-3 cell of
the NAS-Bench-NLP pool against the GA's 36, so it is that space's default strategy; 26.5
to a top-1% cell of the NAO-space table against the GA's 24, where the GA stays default.

``propose(space, history, n, rng, exclude=...)`` returns ``n`` rows: the first
``n - k`` are ``GAStrategy.propose`` children of the history's elite, the last
``k = round(n * random_fraction)`` are ``space.random_genes(rng, k, exclude)`` (free motifs,
drawn without replacement, as ``RandomStrategy`` draws them). The random rows are drawn
first from ``rng``, then the GA's, so ``random_fraction=1`` proposes exactly what
``RandomStrategy`` proposes and ``random_fraction=0`` exactly what the GA proposes with the
same generator. With an empty history every row is random. No predictor: ``rank`` is
``None`` (the dish, when used, does the ranking).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

import numpy as np

from petridish._validation import probability
from petridish.search.space import SearchSpace
from petridish.search.strategies.base import History, check_n
from petridish.search.strategies.ga import GAStrategy
from petridish.search.strategies.registry import register_strategy

__all__ = ["MixedStrategy"]


@dataclass(frozen=True)
class MixedStrategy:
    """``round(n * random_fraction)`` uniform free motifs plus the children of
    ``GAStrategy(elite, p_mutation, p_crossover)`` for the rest (flat fields, so that a run's
    recorded strategy parameters stay plain JSON)."""

    random_fraction: float = 0.5
    elite: int = 20
    p_mutation: float = 0.05
    p_crossover: float = 0.3

    def __post_init__(self) -> None:
        probability(self.random_fraction, "random_fraction")
        GAStrategy(self.elite, self.p_mutation, self.p_crossover)  # validates them now

    @property
    def ga(self) -> GAStrategy:
        """The GA that proposes the non-random rows."""
        return GAStrategy(self.elite, self.p_mutation, self.p_crossover)

    @property
    def name(self) -> str:
        return "mixed"

    def propose(
        self,
        space: SearchSpace,
        history: History,
        n: int,
        rng: np.random.Generator,
        *,
        exclude: Collection[str] = (),
    ) -> np.ndarray:
        """int64 ``(n, n_genes)``: GA children first, then the random rows (see the module
        docstring)."""
        n = check_n(n)
        k = n if len(history) == 0 else int(round(n * self.random_fraction))
        n_genes = len(space.alphabet)
        uniform = np.zeros((0, n_genes), np.int64)  # (k, G)
        if k > 0:  # not drawn at all when k == 0, so the GA sees the generator untouched
            uniform = np.asarray(space.random_genes(rng, k, exclude=exclude), np.int64)
        if k == n:
            return uniform
        children = self.ga.propose(space, history, n - k, rng, exclude=exclude)  # (n - k, G)
        return np.concatenate([children, uniform]).astype(np.int64)

    def rank(
        self,
        space: SearchSpace,
        history: History,
        candidates: np.ndarray,
        rng: np.random.Generator,
    ) -> np.ndarray | None:
        return None


register_strategy(
    "mixed", MixedStrategy, "half GA children, half uniform random proposals (for the dish)"
)
