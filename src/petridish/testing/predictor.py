"""The predictor kit: the ``petridish.predictor.Predictor`` contract as a pytest base class.

Subclass ``PredictorKit`` and provide, class-scoped or wider:

* ``predictor_factory``: a callable ``() -> Predictor`` giving a fresh, unfitted predictor;
* ``training_set``: ``(motifs, losses)``, a small training set whose losses are a strictly
  monotone function of something the predictor sees (e.g. the slope; a cell's size);
* optionally ``query_set``: ``(motifs, losses)`` held out, the same toy target (default:
  the training set).

Class attributes: ``min_rank_correlation`` (default 0.0), the Spearman correlation between
the scores and the toy target on ``query_set`` that the fitted predictor must exceed
("better than chance"); set it to ``None`` only for a predictor that by design does not
learn from the losses (e.g. a dish without its outer loop), which is then only required to
tell the motifs apart. ``rtol``: tolerance of the determinism checks (default exact: the
same query after the same fit); ``query_rtol``: tolerance between one query and the same
motifs queried in another order or batch (default 1e-6: batched float arithmetic may round
differently).

The kit checks: ``query`` before ``fit`` raises ``NotFittedError``; ``fit`` returns the
predictor itself; ``query`` gives one finite float score per motif, float ``(n,)``, in motif
order; the same seed gives the same scores; the toy target is ranked better than chance;
a refit starts from scratch (fitting other data first changes nothing).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import ClassVar

import numpy as np
import pytest

from petridish.metrics import spearman
from petridish.motifs.base import Motif
from petridish.predictor import NotFittedError, Predictor

__all__ = ["PredictorKit", "TrainingSet"]

TrainingSet = tuple[Sequence[Motif], np.ndarray]
"""``(motifs, losses float64 (n,))``."""


class PredictorKit:
    """Contract tests for one predictor; see the module docstring for the fixtures."""

    min_rank_correlation: ClassVar[float | None] = 0.0
    rtol: ClassVar[float] = 0.0
    query_rtol: ClassVar[float] = 1e-6
    seed: ClassVar[int] = 0

    @pytest.fixture(scope="class")
    @classmethod
    def predictor_factory(cls) -> Callable[[], Predictor]:
        raise NotImplementedError("provide the fixture predictor_factory: () -> a fresh predictor")

    @pytest.fixture(scope="class")
    @classmethod
    def training_set(cls) -> TrainingSet:
        raise NotImplementedError("provide the fixture training_set: (motifs, losses)")

    @pytest.fixture(scope="class")
    @classmethod
    def query_set(cls, training_set: TrainingSet) -> TrainingSet:
        return training_set

    @pytest.fixture(scope="class")
    @classmethod
    def fitted(
        cls, predictor_factory: Callable[[], Predictor], training_set: TrainingSet
    ) -> tuple[Predictor, Predictor]:
        """``(predictor, what its fit returned)``, fitted once per kit subclass."""
        motifs, losses = training_set
        predictor = predictor_factory()
        returned = predictor.fit(list(motifs), np.asarray(losses, np.float64), seed=cls.seed)
        return predictor, returned

    def _close(self, a: np.ndarray, b: np.ndarray, rtol: float | None = None) -> None:
        np.testing.assert_allclose(a, b, rtol=self.rtol if rtol is None else rtol, atol=0.0)

    def test_follows_the_protocol(self, predictor_factory: Callable[[], Predictor]) -> None:
        assert isinstance(predictor_factory(), Predictor)

    def test_query_before_fit_raises(
        self, predictor_factory: Callable[[], Predictor], training_set: TrainingSet
    ) -> None:
        with pytest.raises(NotFittedError):
            predictor_factory().query(list(training_set[0]))

    def test_fit_returns_self(self, fitted: tuple[Predictor, Predictor]) -> None:
        predictor, returned = fitted
        assert returned is predictor

    def test_one_finite_float_per_motif(
        self, fitted: tuple[Predictor, Predictor], query_set: TrainingSet
    ) -> None:
        predictor, _ = fitted
        motifs = list(query_set[0])
        scores = predictor.query(motifs)
        assert isinstance(scores, np.ndarray)
        assert scores.shape == (len(motifs),) and scores.dtype.kind == "f"
        assert np.all(np.isfinite(scores))
        # In motif order: a reversed query gives the reversed scores, a single one its own.
        self._close(predictor.query(motifs[::-1]), scores[::-1], self.query_rtol)
        self._close(predictor.query(motifs[:1]), scores[:1], self.query_rtol)

    def test_deterministic_per_seed(
        self,
        fitted: tuple[Predictor, Predictor],
        predictor_factory: Callable[[], Predictor],
        training_set: TrainingSet,
        query_set: TrainingSet,
    ) -> None:
        motifs, losses = training_set
        again = predictor_factory().fit(list(motifs), np.asarray(losses), seed=self.seed)
        queried = list(query_set[0])
        self._close(again.query(queried), fitted[0].query(queried))

    def test_ranks_a_monotone_target_better_than_chance(
        self, fitted: tuple[Predictor, Predictor], query_set: TrainingSet
    ) -> None:
        motifs, losses = query_set
        scores = fitted[0].query(list(motifs))
        if self.min_rank_correlation is None:
            assert np.ptp(scores) > 0, "the scores do not tell the motifs apart"
            return
        rho = spearman(scores, np.asarray(losses, np.float64))
        assert rho > self.min_rank_correlation, f"Spearman {rho:.3f} on a monotone target"

    def test_refit_starts_from_scratch(
        self,
        fitted: tuple[Predictor, Predictor],
        predictor_factory: Callable[[], Predictor],
        training_set: TrainingSet,
        query_set: TrainingSet,
    ) -> None:
        motifs, losses = training_set
        y = np.asarray(losses, np.float64)
        predictor = predictor_factory()
        # Other data first: the reversed target, another seed.
        predictor.fit(list(motifs), y.max() + y.min() - y, seed=self.seed + 1)
        refit = predictor.fit(list(motifs), y, seed=self.seed)
        assert refit is predictor
        queried = list(query_set[0])
        self._close(predictor.query(queried), fitted[0].query(queried))
