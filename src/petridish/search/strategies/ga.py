"""The paper's elitist genetic algorithm over gene strings.

Parents are the ``elite`` best members of the history by ground-truth loss (ties: earlier in
the history first; non-finite losses rank last). Each of the ``n`` children:

1. copies a parent drawn uniformly from the elite;
2. with probability ``p_crossover`` takes genes ``[c:]`` from another elite member (drawn
   uniformly among the others) at a uniform cut ``c`` in ``1 .. n_genes - 1``;
3. changes each gene, with probability ``p_mutation``, to a different value drawn uniformly
   from that position's alphabet (positions with a one-letter alphabet never change).

Children may repeat a parent or each other: mapping them to new motifs is the space's
``realize`` (the one mapping shared by all strategies). With an empty history the children
are ``space.random_genes``. The GA has no predictor: ``rank`` returns ``None``.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

import numpy as np

from petridish._validation import positive_int, probability
from petridish.search.space import SearchSpace
from petridish.search.strategies.base import History, check_n, history_arrays
from petridish.search.strategies.registry import register_strategy

__all__ = ["GAStrategy"]


@dataclass(frozen=True)
class GAStrategy:
    """Elitist GA: top-``elite`` parents, single-point crossover, per-gene mutation."""

    elite: int = 20
    p_mutation: float = 0.05
    p_crossover: float = 0.3

    def __post_init__(self) -> None:
        object.__setattr__(self, "elite", positive_int(self.elite, "elite"))
        probability(self.p_mutation, "p_mutation")
        probability(self.p_crossover, "p_crossover")

    @property
    def name(self) -> str:
        return "ga"

    def parents(self, space: SearchSpace, history: History) -> np.ndarray:
        """The elite's gene strings, best first: int64 ``(min(elite, H), n_genes)``."""
        genes, losses = history_arrays(space, history)
        order = np.argsort(losses, kind="stable")[: self.elite]
        return genes[order]

    def propose(
        self,
        space: SearchSpace,
        history: History,
        n: int,
        rng: np.random.Generator,
        *,
        exclude: Collection[str] = (),  # unused: realize maps proposals to free motifs
    ) -> np.ndarray:
        n = check_n(n)
        parents = self.parents(space, history)  # (E, G)
        if len(parents) == 0:
            return np.asarray(space.random_genes(rng, n), np.int64)
        n_elite, n_genes = parents.shape
        alphabet = np.asarray(space.alphabet, np.int64)  # (G,)

        first = rng.integers(n_elite, size=n)  # (n,) parent of each child
        children = parents[first].copy()  # (n, G)
        if n_elite > 1 and n_genes > 1:
            cross = rng.random(n) < self.p_crossover  # (n,)
            # A different elite member: shift the first parent's index by 1 .. E-1.
            second = (first + rng.integers(1, n_elite, size=n)) % n_elite
            cut = rng.integers(1, n_genes, size=n)  # (n,) genes [cut:] come from `second`
            tail = cross[:, None] & (np.arange(n_genes)[None, :] >= cut[:, None])  # (n, G)
            children = np.where(tail, parents[second], children)

        mutable = alphabet > 1  # (G,)
        hit = (rng.random((n, n_genes)) < self.p_mutation) & mutable[None, :]  # (n, G)
        # old + s mod a with s uniform in 1 .. a-1 is uniform over the other a - 1 values.
        shift = rng.integers(1, np.maximum(alphabet, 2)[None, :], size=(n, n_genes))
        mutated = (children + shift) % alphabet[None, :]
        return np.where(hit, mutated, children).astype(np.int64)

    def rank(
        self,
        space: SearchSpace,
        history: History,
        candidates: np.ndarray,
        rng: np.random.Generator,
    ) -> np.ndarray | None:
        return None


register_strategy("ga", GAStrategy, "the paper's elitist genetic algorithm")
