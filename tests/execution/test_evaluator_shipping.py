"""What an evaluator costs to ship to a worker: a used ``MnistSlopeEvaluator`` pickles
without the MNIST it loaded (a worker reads its own data folder) and without a remembered
"unavailable" (the data may exist where the copy lands); data given as ``data=`` travels."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest

from petridish.data.mnist import MnistUnavailableError
from petridish.evaluators import GroundTruthUnavailable, mnist_slope
from petridish.evaluators.mnist_slope import MnistSlopeEvaluator
from petridish.motifs.slope import SigmoidSlope
from petridish.truth.mnist_mlp import Protocol

BIG = 4_000_000  # bytes of fake "MNIST": far above what a shipped evaluator may weigh


def _fake_split(data_dir: str | None) -> tuple[np.ndarray, ...]:
    x = np.ones((BIG // 4, 1), np.float32)  # (images, features)
    y = np.zeros(BIG // 4, np.int32)  # (images,)
    return x, y, x[:10], y[:10]


def test_loaded_mnist_is_not_pickled(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    loads: list[str | None] = []

    def counting(data_dir: str | None) -> tuple[np.ndarray, ...]:
        loads.append(data_dir)
        return _fake_split(data_dir)

    monkeypatch.setattr(mnist_slope, "_mnist_split", counting)
    evaluator = MnistSlopeEvaluator(tmp_path, "tiny", chunk=2)
    fresh = len(pickle.dumps(evaluator))
    evaluator._load()
    assert loads == [str(tmp_path)]
    shipped = pickle.dumps(evaluator)
    assert len(shipped) == fresh < 10_000
    copy = pickle.loads(shipped)
    assert (copy.data_dir, copy.protocol, copy.chunk) == (tmp_path, "tiny", 2)
    # The copy loads from its own data folder on first use; the original keeps its data.
    assert copy._load()[0].shape == (BIG // 4, 1)
    assert loads == [str(tmp_path)] * 2
    assert evaluator._load()[0].shape == (BIG // 4, 1) and len(loads) == 2


def test_given_data_travels_and_unavailable_is_forgotten(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    x = np.arange(24, dtype=np.float32).reshape(4, 6)  # (images, features)
    y = np.arange(4, dtype=np.int32)
    unit = Protocol("unit", epochs=1, batch_size=2, seeds=1, n_train=4, n_val=4, hidden=(2,))
    given = MnistSlopeEvaluator(None, unit, data=(x, y, x, y))
    copy = pickle.loads(pickle.dumps(given))
    assert np.array_equal(copy._load()[0], x)

    def missing(data_dir: str | None) -> tuple[np.ndarray, ...]:
        raise MnistUnavailableError("no MNIST here")

    monkeypatch.setattr(mnist_slope, "_mnist_split", missing)
    evaluator = MnistSlopeEvaluator(tmp_path, "tiny")
    with pytest.raises(GroundTruthUnavailable):
        evaluator._load()
    assert evaluator._unavailable is not None
    copy = pickle.loads(pickle.dumps(evaluator))
    assert copy._unavailable is None
    monkeypatch.setattr(mnist_slope, "_mnist_split", _fake_split)
    assert copy._load()[0].shape == (BIG // 4, 1)  # tried again where it landed
    with pytest.raises(GroundTruthUnavailable):
        evaluator._load()  # the original still remembers (one attempt per process)


def test_outcomes_do_not_depend_on_the_batch_split(monkeypatch: pytest.MonkeyPatch) -> None:
    """Executors split motifs into batches as they see fit: every batch is padded to whole
    chunks, so each model is trained by the same compiled program."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(80, 6)).astype(np.float32)  # (images, features)
    y = (x[:, 0] > 0).astype(np.int32)  # (images,)
    unit = Protocol("unit2", epochs=1, batch_size=10, seeds=1, n_train=60, n_val=20, hidden=(4,))
    sizes: list[int] = []
    real = mnist_slope.train_slopes

    def counting(slopes, *args, **kwargs):  # type: ignore[no-untyped-def]
        sizes.append(len(slopes))
        return real(slopes, *args, **kwargs)

    monkeypatch.setattr(mnist_slope, "train_slopes", counting)
    evaluator = MnistSlopeEvaluator(None, unit, data=(x[:60], y[:60], x[60:], y[60:]), chunk=4)
    slopes = [SigmoidSlope(s) for s in (0.3, 1.0, 3.0)]
    together = evaluator.evaluate_many(slopes, 5)
    alone = [evaluator.evaluate(m, 5) for m in slopes]
    assert together == alone
    assert sizes == [4, 4, 4, 4]  # 3 padded to 4, then 1 padded to 4, three times
