"""The result of ``Dish.predict``: per motif, the dish score, its rank and its z-score."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from petridish.motifs.base import Motif


@dataclass(frozen=True)
class Prediction:
    """Scores are synthetic-validation BCE losses: lower = predicted better.

    ``ranks`` are 1-based (1 = predicted best, ties broken by order); ``zscores`` are the
    scores z-normalised over the finite ones; ``flagged`` marks motifs whose score was not
    finite (NaN or infinite): they are scored ``+inf`` and ranked last.
    """

    motifs: tuple[Motif, ...]
    scores: np.ndarray  # (motifs,)
    ranks: np.ndarray  # (motifs,) int
    zscores: np.ndarray  # (motifs,)
    flagged: np.ndarray  # (motifs,) bool

    @classmethod
    def from_scores(cls, motifs: tuple[Motif, ...], raw: np.ndarray) -> Prediction:
        raw = np.asarray(raw, dtype=np.float64)
        flagged = ~np.isfinite(raw)
        scores = np.where(flagged, np.inf, raw)
        order = np.argsort(scores, kind="stable")
        ranks = np.empty(len(scores), dtype=np.int64)
        ranks[order] = np.arange(1, len(scores) + 1)
        finite = scores[~flagged]
        z = np.full(len(scores), np.inf)
        if finite.size:
            std = finite.std()
            z[~flagged] = (finite - finite.mean()) / (std if std > 0 else 1.0)
        return cls(motifs, scores, ranks, z, flagged)

    def best(self, k: int = 1) -> tuple[Motif, ...]:
        """The ``k`` motifs predicted best, best first."""
        return tuple(self.motifs[i] for i in np.argsort(self.ranks)[:k])

    def __len__(self) -> int:
        return len(self.motifs)
