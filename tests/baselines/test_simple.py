"""Tests for parameter counts and the number-of-parameters predictor (baselines.simple)."""

from __future__ import annotations

import numpy as np
import pytest

from petridish.baselines import NotFittedError, Predictor
from petridish.baselines.simple import (
    ParamCountConfig,
    ParamCountPredictor,
    cell_param_count,
    nasbench_nlp_num_params,
)
from petridish.motifs import Cell, SigmoidSlope
from petridish.truth.nasbench_nlp import FILE_NAME, load_nasbench_nlp
from shared_paths import SHARED_REFERENCE

REFERENCE = SHARED_REFERENCE

TANH_RNN = Cell.from_recipe(
    {
        "f": {"op": "linear", "input": ["x", "h_prev_0"]},
        "h_new_0": {"op": "activation_tanh", "input": ["f"]},
    }
)
# Three linear nodes with 2 + 3 + 1 input slots, one of them reading x twice.
WIDE = Cell.from_recipe(
    {
        "a": {"op": "linear", "input": ["x", "h_prev_0"]},
        "b": {"op": "linear", "input": ["x", "a", "h_prev_0"]},
        "c": {"op": "linear", "input": ["b"]},
        "h_new_0": {"op": "elementwise_sum", "input": ["a", "c"]},
    }
)


def test_param_count_by_hand() -> None:
    # linear(x, h): W_x (400, 600) + W_h (600, 600) + bias 600.
    assert cell_param_count(TANH_RNN, hidden=600, input_size=400) == 400 * 600 + 600 * 600 + 600
    assert cell_param_count(TANH_RNN, hidden=3) == 2 * 9 + 3
    # a: d*h + h*h + h; b: d*h + 2*h*h + h; c: h*h + h.
    d, h = 5, 7
    assert cell_param_count(WIDE, hidden=h, input_size=d) == (
        (d * h + h * h + h) + (d * h + 2 * h * h + h) + (h * h + h)
    )


def test_param_count_errors() -> None:
    with pytest.raises(ValueError, match="hidden must be a positive int, got 0"):
        cell_param_count(TANH_RNN, hidden=0)
    with pytest.raises(ValueError, match="must be a Cell, got SigmoidSlope"):
        cell_param_count(SigmoidSlope(1.0), hidden=3)  # type: ignore[arg-type]


def test_matches_num_params_of_every_nasbench_log() -> None:
    if not (REFERENCE / FILE_NAME).is_file():
        pytest.skip(f"NAS-Bench-NLP logs not found in {REFERENCE}")
    bench = load_nasbench_nlp(REFERENCE, download=False)
    assert len(bench) == 345
    mismatched = [
        log.name
        for log in bench
        if nasbench_nlp_num_params(Cell.from_recipe(log.recipe)) != log.num_params
    ]
    assert mismatched == []


def test_fixed_directions() -> None:
    cells, losses = [TANH_RNN, WIDE], [1.0, 2.0]
    counts = ParamCountPredictor().counts(cells)
    more = ParamCountPredictor().fit(cells, losses, seed=0)
    assert more.sign == -1.0
    np.testing.assert_array_equal(more.query(cells), -counts)
    assert more.query(cells)[1] < more.query(cells)[0]  # WIDE has more parameters
    fewer = ParamCountPredictor(ParamCountConfig(direction="fewer_is_better"))
    np.testing.assert_array_equal(fewer.fit(cells, losses).query(cells), counts)


def test_fit_direction_follows_training_data() -> None:
    cells = [TANH_RNN, WIDE]
    fit = ParamCountConfig(direction="fit")
    # Bigger cell has the lower loss: more is better (negative scores).
    assert ParamCountPredictor(fit).fit(cells, [2.0, 1.0]).sign == -1.0
    # Bigger cell has the higher loss: fewer is better.
    assert ParamCountPredictor(fit).fit(cells, [1.0, 2.0]).sign == 1.0
    # No variation in counts: no evidence, fall back to more-is-better.
    assert ParamCountPredictor(fit).fit([WIDE, WIDE], [1.0, 2.0]).sign == -1.0


def test_protocol_errors_and_config() -> None:
    model = ParamCountPredictor()
    assert isinstance(model, Predictor)
    with pytest.raises(NotFittedError, match="before fit"):
        model.query([TANH_RNN])
    with pytest.raises(ValueError, match="direction must be one of"):
        ParamCountConfig(direction="bigger")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="differ in length"):
        model.fit([TANH_RNN], [1.0, 2.0])
