"""The strategy contract: candidate generators of the search loop (paper Algorithm 1).

A ``Strategy`` proposes gene strings of a ``SearchSpace`` and may score them with its own
predictor. Strategies are stateless between calls: everything is rebuilt from ``history``
(the ``(genes, ground-truth loss)`` pairs of the motifs evaluated so far whose evaluation
succeeded, lower loss is better), from ``exclude`` (the digests of EVERY motif evaluated,
failed ones included; a strategy may use it to avoid them, e.g. random search, or ignore
it and leave duplicates to ``SearchSpace.realize``) and from the ``rng`` passed in, so a
resumed search that replays its history and its generator gets the same proposals, and
the same seed gives the same output.

Losses that are not finite (a diverged or failed evaluation) count as strictly worse than
every finite loss: ``history_arrays`` replaces them by ``max + (max - min)`` of the finite
losses (``max + 1`` if those are all equal, 0 if none is finite), a bounded stand-in that
keeps a predictor's targets finite.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Protocol, runtime_checkable

import numpy as np

from petridish._validation import nonnegative_int, number
from petridish.search.space import SearchSpace, check_genes

__all__ = ["History", "Strategy", "history_arrays"]

History = Sequence[tuple[np.ndarray, float]]
"""``(genes (n_genes,), ground-truth loss)`` of every evaluated motif, in evaluation order."""


@runtime_checkable
class Strategy(Protocol):
    """Proposes candidates; optionally ranks them with its own predictor."""

    @property
    def name(self) -> str:
        """``"random"``, ``"ga"`` or ``"nao"``."""
        ...

    def propose(
        self,
        space: SearchSpace,
        history: History,
        n: int,
        rng: np.random.Generator,
        *,
        exclude: Collection[str] = (),
    ) -> np.ndarray:
        """int64 ``(n, n_genes)`` candidate gene strings, each within ``space.alphabet``."""
        ...

    def rank(
        self,
        space: SearchSpace,
        history: History,
        candidates: np.ndarray,
        rng: np.random.Generator,
    ) -> np.ndarray | None:
        """float64 ``(len(candidates),)`` own predicted losses (lower is better), or ``None``."""
        ...


def history_arrays(space: SearchSpace, history: History) -> tuple[np.ndarray, np.ndarray]:
    """``history`` as ``(genes int64 (H, n_genes), losses float64 (H,))``, validated.

    Non-finite losses become a loss worse than all finite ones, see the module docstring.
    """
    n_genes = len(space.alphabet)
    if len(history) == 0:
        return np.zeros((0, n_genes), np.int64), np.zeros(0, np.float64)
    rows: list[np.ndarray] = []
    losses: list[float] = []
    for i, item in enumerate(history):
        try:
            genes, loss = item
        except (TypeError, ValueError):
            raise ValueError(f"history[{i}] must be a (genes, loss) pair, got {item!r}") from None
        g = np.asarray(genes)
        if g.shape != (n_genes,):
            raise ValueError(f"history[{i}] genes must have shape ({n_genes},), got {g.shape}")
        rows.append(g)
        losses.append(number(loss, f"history[{i}] loss"))
    arr = check_genes(space.alphabet, np.stack(rows), what="history genes")
    y = np.asarray(losses, np.float64)  # (H,)
    finite = np.isfinite(y)
    if not finite.all():
        worst = 0.0
        if finite.any():
            spread = float(np.ptp(y[finite]))
            worst = float(y[finite].max()) + (spread if spread > 0 else 1.0)
        y = np.where(finite, y, worst)
    return arr, y


def check_n(n: int) -> int:
    """``n`` as a non-negative int, else ``ValueError`` naming it."""
    return nonnegative_int(n, "n")
