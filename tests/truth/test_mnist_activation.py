"""The MNIST trainer on ``Activation`` motifs: ``sigmoid(scale(c, x))`` is the slope ``c``."""

from __future__ import annotations

import numpy as np
import pytest

from petridish.motifs import Activation, SigmoidSlope
from petridish.truth.mnist_mlp import TrainingProtocol, train_motifs, train_slopes

# The protocol and data of tests/truth/test_mnist_mlp.py: in one test session the slope
# trainer's compiled programs are shared with those tests.
SMALL = TrainingProtocol(
    "small", epochs=2, batch_size=10, seeds=2, n_train=120, n_val=40, hidden=(8, 8)
)


@pytest.fixture(scope="module")
def data() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(160, 12)).astype(np.float32)  # (images, features)
    y = ((x[:, 0] > 0).astype(np.int32) * 2 + (x[:, 1] > 0)).astype(np.int32)  # (images,)
    return x[:120], y[:120], x[120:], y[120:]


def test_sigmoid_scale_equals_the_slope_trainer(data: tuple[np.ndarray, ...]) -> None:
    slopes = [0.5, 1.5]
    motifs = [Activation(f"sigmoid(scale({c}, x))") for c in slopes]
    by_motif = train_motifs(motifs, SMALL, data=data, seeds=[0, 3], chunk=4)  # type: ignore[arg-type]
    by_slope = train_slopes(slopes, SMALL, data=data, seeds=[0, 3], chunk=4)  # type: ignore[arg-type]
    assert [(r.motif, r.seed) for r in by_motif] == [(m, s) for m in motifs for s in (0, 3)]
    for a, b in zip(by_motif, by_slope, strict=True):
        assert a.seed == b.seed
        np.testing.assert_allclose(a.learning_curve, b.learning_curve, atol=1e-6)
        np.testing.assert_allclose(a.train_loss_curve, b.train_loss_curve, rtol=1e-5)
        np.testing.assert_allclose(a.val_loss, b.val_loss, rtol=1e-5)
    # Other expressions train to other numbers (the hook is really used).
    relu = train_motifs([Activation("relu(x)")], SMALL, data=data, seeds=[0], chunk=4)  # type: ignore[arg-type]
    assert relu[0].train_loss_curve != by_motif[0].train_loss_curve


def test_train_motifs_rejects_mixed_kinds(data: tuple[np.ndarray, ...]) -> None:
    with pytest.raises(ValueError, match="mixed kinds"):
        train_motifs([Activation("x"), SigmoidSlope(1.0)], SMALL, data=data)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="no motifs"):
        train_motifs([], SMALL, data=data)  # type: ignore[arg-type]
