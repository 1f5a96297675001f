"""The sigmoid-slope evaluator: the MNIST MLP trainer, written through the store."""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from petridish.evaluators import (
    MnistSlopeEvaluator,
    Outcome,
    measure_slopes_into_store,
    mnist_slope,
)
from petridish.evaluators.mnist_slope import outcome_from_result, slope_table_from_evaluations
from petridish.motifs import SigmoidSlope
from petridish.motifs.cell import random_cell
from petridish.store import Store
from petridish.truth.mnist_mlp import Protocol, SlopeResult, slope_table_from_results, train_slopes
from shared_paths import SHARED_DATA

SHARED_MNIST = SHARED_DATA / "mnist"

Data = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]
# A small synthetic problem (4 classes from the signs of 2 of 12 features), fast to compile.
UNIT = Protocol("unit", epochs=2, batch_size=10, seeds=1, n_train=120, n_val=40, hidden=(8, 8))
# One model per compiled batch everywhere below: every call then reuses one compiled program
# (compiling is most of the cost of these tests).
CHUNK = 1


@pytest.fixture(scope="module")
def data() -> Data:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(160, 12)).astype(np.float32)  # (images, features)
    y = ((x[:, 0] > 0).astype(np.int32) * 2 + (x[:, 1] > 0)).astype(np.int32)  # (images,)
    return x[:120], y[:120], x[120:], y[120:]


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[list[float]]]:
    """Every ``train_slopes`` call the evaluator makes, as its list of slopes."""
    seen: list[list[float]] = []

    def counting(slopes: Sequence[float], *args: Any, **kwargs: Any) -> list[SlopeResult]:
        seen.append(list(slopes))
        return train_slopes(slopes, *args, **kwargs)

    monkeypatch.setattr(mnist_slope, "train_slopes", counting)
    yield seen


def test_outcomes_match_train_slopes(data: Data, calls: list[list[float]]) -> None:
    evaluator = MnistSlopeEvaluator(None, UNIT, data=data, chunk=CHUNK)
    slopes = [0.5, 1.0, 2.0]
    outcomes = evaluator.evaluate_many([SigmoidSlope(s) for s in slopes], seed=3)
    assert calls == [slopes]  # one batched call
    direct = train_slopes(slopes, UNIT, data=data, seeds=[3], chunk=CHUNK)
    for outcome, result in zip(outcomes, direct, strict=True):
        assert outcome.status == "ok"
        assert outcome.loss == pytest.approx(1.0 - result.val_accuracy, abs=1e-6)
        assert outcome.metrics["accuracy"] == pytest.approx(result.val_accuracy, abs=1e-6)
        assert outcome.metrics["val_nll"] == pytest.approx(result.val_loss, rel=1e-5)
        assert outcome.metrics["train_loss"] == pytest.approx(result.train_loss_curve[-1], rel=1e-5)
        assert len(outcome.curve) == UNIT.epochs
        assert outcome.curve[-1] == pytest.approx(outcome.loss)
    single = evaluator.evaluate(SigmoidSlope(1.0), seed=3)
    assert single.loss == pytest.approx(outcomes[1].loss, abs=1e-6)


def test_store_runs_each_slope_once(tmp_path: Path, data: Data, calls: list[list[float]]) -> None:
    evaluator = MnistSlopeEvaluator(None, UNIT, data=data, chunk=CHUNK)
    motifs = [SigmoidSlope(s) for s in (0.5, 1.0)]
    with Store(tmp_path / "store.db") as store:
        first = store.evaluate_many(motifs, evaluator, seed=0)
        assert calls == [[0.5, 1.0]]
        assert [(e.evaluator, e.protocol) for e in first] == [("mnist_mlp", "unit")] * 2
        more = store.evaluate_many([*motifs, SigmoidSlope(1.5)], evaluator, seed=0)
        assert calls == [[0.5, 1.0], [1.5]]  # only the new slope is trained
        assert more[:2] == first
    with Store(tmp_path / "store.db") as store:
        again = store.evaluate_many(motifs, evaluator, seed=0)
        assert again == first and len(calls) == 2


def test_diverged_results_are_reported_as_such() -> None:
    result = SlopeResult(
        slope=1.0,
        seed=0,
        val_accuracy=0.098,
        val_loss=math.nan,
        learning_curve=(0.5, 0.098),
        train_loss_curve=(2.0, math.nan),
    )
    outcome = outcome_from_result(result)
    assert outcome.status == "diverged" and outcome.loss is None
    assert outcome.metrics["accuracy"] == pytest.approx(0.098)
    assert "nan" in outcome.reason
    ok = outcome_from_result(
        SlopeResult(
            slope=1.0,
            seed=0,
            val_accuracy=0.75,
            val_loss=0.7,
            learning_curve=(0.5, 0.75),
            train_loss_curve=(1.0, 0.8),
        )
    )
    assert ok == Outcome(
        "ok",
        loss=0.25,
        metrics={"accuracy": 0.75, "val_nll": 0.7, "train_loss": 0.8},
        curve=(0.5, 0.25),
    )


def test_bad_input_is_named(data: Data) -> None:
    evaluator = MnistSlopeEvaluator(None, UNIT, data=data, chunk=CHUNK)
    cell = random_cell(np.random.default_rng(0))
    with pytest.raises(ValueError, match="got Cell"):
        evaluator.evaluate(cell, seed=0)
    with pytest.raises(ValueError, match="-1"):
        evaluator.evaluate(SigmoidSlope(1.0), seed=-1)
    with pytest.raises(ValueError, match="'fancy'"):
        MnistSlopeEvaluator(None, "fancy")
    with pytest.raises(ValueError, match="'tiny' is a registered"):
        MnistSlopeEvaluator(None, "tiny", data=data)
    with pytest.raises(ValueError, match="0"):
        MnistSlopeEvaluator(None, UNIT, chunk=0)
    assert MnistSlopeEvaluator(None).protocol == "tiny"


def test_a_cell_through_the_store_is_recorded_failed(tmp_path: Path, data: Data) -> None:
    evaluator = MnistSlopeEvaluator(None, UNIT, data=data, chunk=CHUNK)
    with Store(tmp_path / "store.db") as store:
        ev = store.evaluate(random_cell(np.random.default_rng(0)), evaluator, seed=0)
    assert ev.status == "failed" and "SigmoidSlope" in ev.reason


def test_slope_table_from_evaluations_averages_seeds(tmp_path: Path) -> None:
    with Store(tmp_path / "store.db") as store:
        for slope, seed, acc in [(0.5, 0, 0.8), (0.5, 1, 0.6), (0.25, 0, 0.9)]:
            store.record(
                SigmoidSlope(slope),
                "mnist_mlp",
                "unit",
                seed,
                Outcome("ok", loss=1 - acc, metrics={"accuracy": acc}),
                wall_seconds=0,
                started_at=0,
            )
        store.record(
            SigmoidSlope(1.0),
            "mnist_mlp",
            "unit",
            0,
            Outcome("diverged"),
            wall_seconds=0,
            started_at=0,
        )
        slopes, accuracies = slope_table_from_evaluations(store.evaluations())
    np.testing.assert_allclose(slopes, [0.25, 0.5])
    np.testing.assert_allclose(accuracies, [0.9, 0.7])


@pytest.mark.slow
def test_measure_slopes_on_real_mnist(tmp_path: Path, calls: list[list[float]]) -> None:
    """Real MNIST, protocol 'tiny'. Slow only by compiling (about 5-15 s on a shared CPU);
    the training itself takes a fraction of a second."""
    if not SHARED_MNIST.is_dir():
        pytest.skip(f"MNIST files not found in {SHARED_MNIST} (shared test data absent)")
    slopes = [0.25, 1.0]
    progress: list[tuple[int, int]] = []
    with Store(tmp_path / "store.db") as store:
        evaluations = measure_slopes_into_store(
            store,
            slopes,
            [0],
            "tiny",
            SHARED_MNIST,
            progress=lambda d, t: progress.append((d, t)),
        )
        # One batched call, padded to a whole chunk (8) with copies of its first slope.
        padded = slopes + [slopes[0]] * 6
        assert calls == [padded]
        assert [(e.motif, e.seed, e.protocol) for e in evaluations] == [
            (SigmoidSlope(0.25), 0, "tiny"),
            (SigmoidSlope(1.0), 0, "tiny"),
        ]
        assert progress[0] == (0, 2) and progress[-1] == (2, 2)
        direct = train_slopes(slopes, "tiny", data_dir=str(SHARED_MNIST), seeds=[0])
        for ev, result in zip(evaluations, direct, strict=True):
            assert ev.status == "ok" and ev.metrics["accuracy"] > 0.5
            assert ev.metrics["accuracy"] == pytest.approx(result.val_accuracy, abs=1e-6)
        table = slope_table_from_evaluations(evaluations)
        np.testing.assert_allclose(table, slope_table_from_results(direct), atol=1e-6)
        # A second measurement, with one more seed: only the new seed's models are trained.
        again = measure_slopes_into_store(store, slopes, [0, 1], "tiny", SHARED_MNIST)
        assert calls == [padded, padded]
        assert [again[0], again[2]] == evaluations
        assert [(e.motif.slope, e.seed) for e in again] == [  # type: ignore[attr-defined]
            (0.25, 0),
            (0.25, 1),
            (1.0, 0),
            (1.0, 1),
        ]
