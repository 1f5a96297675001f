"""Tests for the paper's NN surrogate baseline (petridish.baselines.nn_surrogate)."""

from __future__ import annotations

import numpy as np
import pytest

from petridish.baselines import NNSurrogate, NNSurrogateConfig, NotFittedError, Predictor
from petridish.baselines.nn_surrogate import trace_count
from petridish.metrics import spearman
from petridish.motifs import SigmoidSlope

# The paper's training band: 15 training slopes and held-out slopes in between.
BAND = np.linspace(0.37, 1.5, 30)
TRAIN, HELD_OUT = BAND[::2], BAND[1::2]


def motifs(slopes: np.ndarray) -> list[SigmoidSlope]:
    return [SigmoidSlope(float(s)) for s in slopes]


def loss_of(slopes: np.ndarray) -> np.ndarray:
    """A smooth, increasing (so monotone) loss curve in the band."""
    return np.log(slopes) + 0.3 * slopes


def test_ranks_held_out_points_in_band() -> None:
    model = NNSurrogate().fit(motifs(TRAIN), loss_of(TRAIN), seed=0)
    pred = model.query(motifs(HELD_OUT))
    assert pred.shape == (15,)
    assert pred.dtype == np.float64
    assert spearman(pred, loss_of(HELD_OUT)) > 0.9


def test_predicts_z_scored_targets() -> None:
    model = NNSurrogate().fit(motifs(TRAIN), 100.0 + 5.0 * loss_of(TRAIN), seed=0)
    pred = model.query(motifs(TRAIN))
    # Targets are z-scored, so predictions live on that scale, not the raw loss scale.
    assert abs(pred.mean()) < 0.5
    assert 0.5 < pred.std() < 1.5


def test_same_seed_is_deterministic_and_does_not_recompile() -> None:
    a = NNSurrogate().fit(motifs(TRAIN), loss_of(TRAIN), seed=3).query(motifs(HELD_OUT))
    traces = trace_count()
    b = NNSurrogate().fit(motifs(TRAIN), loss_of(TRAIN), seed=3).query(motifs(HELD_OUT))
    np.testing.assert_array_equal(a, b)
    assert trace_count() == traces  # same config and shapes: cached compilation reused


def test_different_seeds_differ() -> None:
    a = NNSurrogate().fit(motifs(TRAIN), loss_of(TRAIN), seed=0).query(motifs(HELD_OUT))
    b = NNSurrogate().fit(motifs(TRAIN), loss_of(TRAIN), seed=1).query(motifs(HELD_OUT))
    assert not np.array_equal(a, b)


def test_minibatches_when_more_points_than_batch() -> None:
    slopes = np.linspace(0.37, 1.5, 40)
    model = NNSurrogate().fit(motifs(slopes), loss_of(slopes), seed=0)
    assert spearman(model.query(motifs(slopes)), loss_of(slopes)) > 0.9


def test_query_before_fit_raises() -> None:
    with pytest.raises(NotFittedError, match="before fit"):
        NNSurrogate().query(motifs(TRAIN))


def test_mismatched_lengths_raise() -> None:
    with pytest.raises(ValueError, match="differ in length: 15 vs 14"):
        NNSurrogate().fit(motifs(TRAIN), loss_of(TRAIN)[:-1])


def test_bad_losses_raise() -> None:
    bad = loss_of(TRAIN)
    bad[4] = np.nan
    with pytest.raises(ValueError, match="index 4"):
        NNSurrogate().fit(motifs(TRAIN), bad)
    with pytest.raises(ValueError, match="constant"):
        NNSurrogate().fit(motifs(TRAIN), np.ones(15))
    with pytest.raises(ValueError, match="at least 2"):
        NNSurrogate().fit(motifs(TRAIN[:1]), [0.5])


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("hidden", (10, 0)),
        ("hidden", (True,)),
        ("hidden", [10]),
        ("activation", "gelu"),
        ("learning_rate", -1.0),
        ("decay_rate", True),
        ("l2", float("nan")),
        ("steps", 0),
        ("batch_size", True),
    ],
)
def test_bad_config_raises(field: str, value: object) -> None:
    with pytest.raises(ValueError, match=field):
        NNSurrogateConfig(**{field: value})  # type: ignore[arg-type]


def test_follows_predictor_protocol() -> None:
    assert isinstance(NNSurrogate(), Predictor)
    assert NNSurrogate().config == NNSurrogateConfig()
