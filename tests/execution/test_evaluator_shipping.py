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
