"""The evaluator kit: the ``petridish.evaluators.base`` contract as a pytest base class.

Subclass ``EvaluatorKit`` and provide, class-scoped or wider:

* ``evaluator``: the evaluator under test;
* ``motifs``: two or three motifs it can evaluate (keep them few: every check below
  evaluates them again, and a trained evaluator pays for each);

and optionally override ``seed`` (default 0) and the class attributes ``rtol`` / ``atol``,
the tolerance between a batched and a one-by-one evaluation (a trained evaluator may
batch models differently: "up to float rounding"), and ``volatile_metrics``, the names of
metrics that measure the run rather than the motif (e.g. wall-clock ``seconds``): they must
be present in every repeat but may differ.

The kit checks the ``name`` / ``protocol`` strings and the ``Evaluator`` protocol, that every
outcome is an ``Outcome`` with a known status and a finite loss when ``ok``, one outcome per
motif in input order, determinism per seed, that ``evaluate_many`` (where offered) equals
``evaluate`` one by one in order, that an empty batch gives no outcome, and that the
evaluator pickles (the Ray execution layer ships evaluators to workers) into one that gives
the same outcome.
"""

from __future__ import annotations

import math
import pickle
from collections.abc import Collection, Sequence
from typing import ClassVar

import pytest

from petridish.evaluators.base import (
    STATUSES,
    Evaluator,
    Outcome,
    evaluate_batch,
    has_evaluate_many,
)
from petridish.motifs.base import Motif

__all__ = ["EvaluatorKit", "assert_same_outcome"]


def assert_same_outcome(
    a: Outcome,
    b: Outcome,
    *,
    rtol: float = 0.0,
    atol: float = 0.0,
    volatile: Collection[str] = (),
) -> None:
    """``a`` and ``b`` agree: same status and metric names, losses and metrics within
    tolerance (NaN equals NaN; metrics named in ``volatile`` are not compared), same
    curve."""
    assert a.status == b.status, (a, b)
    if a.loss is None or b.loss is None:
        assert a.loss is b.loss, (a, b)
    else:
        assert a.loss == pytest.approx(b.loss, rel=rtol, abs=atol), (a, b)
    assert set(a.metrics) == set(b.metrics)
    for key in set(a.metrics) - set(volatile):
        assert a.metrics[key] == pytest.approx(b.metrics[key], rel=rtol, abs=atol, nan_ok=True)
    assert len(a.curve) == len(b.curve)
    assert list(a.curve) == pytest.approx(list(b.curve), rel=rtol, abs=atol, nan_ok=True)


class EvaluatorKit:
    """Contract tests for one evaluator; see the module docstring for the fixtures."""

    rtol: ClassVar[float] = 0.0
    atol: ClassVar[float] = 0.0
    volatile_metrics: ClassVar[frozenset[str]] = frozenset()

    def _same(self, a: Outcome, b: Outcome) -> None:
        assert_same_outcome(a, b, rtol=self.rtol, atol=self.atol, volatile=self.volatile_metrics)

    @pytest.fixture(scope="class")
    @classmethod
    def evaluator(cls) -> Evaluator:
        raise NotImplementedError("provide the fixture evaluator: the evaluator under test")

    @pytest.fixture(scope="class")
    @classmethod
    def motifs(cls) -> Sequence[Motif]:
        raise NotImplementedError("provide the fixture motifs: 2-3 motifs it can evaluate")

    @pytest.fixture(scope="class")
    @classmethod
    def seed(cls) -> int:
        return 0

    @pytest.fixture(scope="class")
    @classmethod
    def outcomes(cls, evaluator: Evaluator, motifs: Sequence[Motif], seed: int) -> list[Outcome]:
        """The batch's outcomes, computed once per kit subclass."""
        return evaluate_batch(evaluator, list(motifs), seed)

    def test_name_and_protocol(self, evaluator: Evaluator) -> None:
        assert isinstance(evaluator, Evaluator)
        for attr in ("name", "protocol"):
            value = getattr(evaluator, attr)
            assert isinstance(value, str) and value, f"{attr} must be a non-empty string"
            assert value == value.strip()

    def test_outcomes_are_valid(self, motifs: Sequence[Motif], outcomes: list[Outcome]) -> None:
        assert len(motifs) >= 2, "give at least two motifs"
        assert len(outcomes) == len(motifs)
        for outcome in outcomes:
            assert isinstance(outcome, Outcome)
            assert outcome.status in STATUSES
            if outcome.status == "ok":
                assert isinstance(outcome.loss, float) and math.isfinite(outcome.loss)
            else:
                assert outcome.loss is None or not math.isfinite(outcome.loss)
            if outcome.status == "failed":
                assert outcome.reason, "a failed outcome says why"
            assert all(isinstance(v, float) for v in outcome.metrics.values())
        assert any(o.status == "ok" for o in outcomes), "the kit's motifs should evaluate"

    def test_deterministic_per_seed(
        self, evaluator: Evaluator, motifs: Sequence[Motif], seed: int, outcomes: list[Outcome]
    ) -> None:
        again = evaluate_batch(evaluator, list(motifs), seed)
        for a, b in zip(outcomes, again, strict=True):
            self._same(a, b)

    def test_many_equals_one_by_one_in_order(
        self, evaluator: Evaluator, motifs: Sequence[Motif], seed: int, outcomes: list[Outcome]
    ) -> None:
        # ``outcomes`` came through ``evaluate_many`` where the evaluator offers it.
        singles = [evaluator.evaluate(m, seed) for m in motifs]
        for a, b in zip(outcomes, singles, strict=True):
            self._same(a, b)

    def test_empty_batch(self, evaluator: Evaluator, seed: int) -> None:
        assert evaluate_batch(evaluator, [], seed) == []
        if has_evaluate_many(evaluator):
            assert list(evaluator.evaluate_many([], seed)) == []  # type: ignore[attr-defined]

    def test_pickles(
        self, evaluator: Evaluator, motifs: Sequence[Motif], seed: int, outcomes: list[Outcome]
    ) -> None:
        copy = pickle.loads(pickle.dumps(evaluator))
        assert (copy.name, copy.protocol) == (evaluator.name, evaluator.protocol)
        self._same(copy.evaluate(motifs[0], seed), outcomes[0])
