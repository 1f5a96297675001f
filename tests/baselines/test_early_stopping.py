"""Tests for the early-stopping reference predictor (petridish.baselines.early_stopping)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from petridish.baselines import NotFittedError, Predictor
from petridish.baselines.early_stopping import (
    EarlyStoppingPredictor,
    complete_logs_by_cell,
    mean_seconds_per_epoch,
)
from petridish.motifs import Cell
from petridish.truth.nasbench_nlp import FILE_NAME, CellLog, load_nasbench_nlp
from shared_paths import SHARED_REFERENCE

REFERENCE = SHARED_REFERENCE

RNN = {
    "f": {"op": "linear", "input": ["x", "h_prev_0"]},
    "h_new_0": {"op": "activation_tanh", "input": ["f"]},
}
RNN_RENAMED = {
    "other": {"op": "linear", "input": ["h_prev_0", "x"]},
    "h_new_0": {"op": "activation_tanh", "input": ["other"]},
}
SIGM = {
    "f": {"op": "linear", "input": ["x", "h_prev_0"]},
    "h_new_0": {"op": "activation_sigm", "input": ["f"]},
}
LEAKY = {
    "f": {"op": "linear", "input": ["x", "h_prev_0"]},
    "h_new_0": {"op": "activation_leaky_relu", "input": ["f"]},
}


def log(name: str, recipe: dict[str, object], val: list[float], *, ok: bool = True) -> CellLog:
    n = len(val)
    return CellLog(
        name=name,
        recipe=dict(recipe),
        recipe_json=json.dumps(recipe),
        num_params=1,
        train_losses=tuple(val),
        val_losses=tuple(val),
        test_losses=tuple(val),
        wall_times=tuple(10.0 * (i + 1) for i in range(n)),  # 10, 20, 30, ...
        status="OK" if ok else "loss is nan!",
        planned_epochs=n,
    )


LOGS = [
    log("a", RNN, [6.0, 5.0, 4.0]),
    log("b", RNN_RENAMED, [8.0, 7.0, 6.0]),  # same cell as "a" under other names
    log("c", SIGM, [5.0, 4.5, 4.4]),
    log("d", LEAKY, [1.0, 1.0, 1.0], ok=False),  # diverged: never used
]


def test_groups_by_canonical_cell_and_skips_diverged() -> None:
    groups = complete_logs_by_cell(LOGS)
    assert list(groups) == [Cell.from_recipe(RNN), Cell.from_recipe(SIGM)]
    assert [g.name for g in groups[Cell.from_recipe(RNN)]] == ["a", "b"]
    # Mean over the 9 epochs of the complete logs: (10 + 20 + 30) / 3 = 20.
    assert mean_seconds_per_epoch(LOGS) == pytest.approx(20.0)


@pytest.mark.parametrize(("epochs", "rnn", "sigm"), [(1, 7.0, 5.0), (3, 5.0, 4.4)])
def test_lookup_is_mean_val_loss_after_e_epochs(epochs: int, rnn: float, sigm: float) -> None:
    model = EarlyStoppingPredictor.from_logs(LOGS, epochs)
    cells = [Cell.from_recipe(RNN), Cell.from_recipe(SIGM)]
    pred = model.fit(cells, [1.0, 2.0], seed=0).query([*cells, Cell.from_recipe(RNN_RENAMED)])
    np.testing.assert_allclose(pred, [rnn, sigm, rnn])
    assert model.training_seconds_per_cell == pytest.approx(20.0 * epochs)


def test_unlogged_cell_and_protocol() -> None:
    model = EarlyStoppingPredictor.from_logs(LOGS, 1)
    assert isinstance(model, Predictor)
    with pytest.raises(NotFittedError, match="before fit"):
        model.query([Cell.from_recipe(RNN)])
    leaky = Cell.from_recipe(LEAKY)  # only a diverged log: not in the table
    with pytest.raises(ValueError, match=f"digest {leaky.digest}"):
        model.fit([Cell.from_recipe(RNN), leaky], [1.0, 2.0])


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="epochs must be a positive int, got 0"):
        EarlyStoppingPredictor.from_logs(LOGS, 0)
    with pytest.raises(ValueError, match="fewer than epochs=5"):
        EarlyStoppingPredictor.from_logs(LOGS, 5)
    with pytest.raises(ValueError, match="empty"):
        EarlyStoppingPredictor.from_logs(LOGS[3:], 1)


def test_on_real_logs_cost_and_correlation() -> None:
    if not (REFERENCE / FILE_NAME).is_file():
        pytest.skip(f"NAS-Bench-NLP logs not found in {REFERENCE}")
    bench = load_nasbench_nlp(REFERENCE, download=False)
    groups = complete_logs_by_cell(bench)
    model = EarlyStoppingPredictor(groups, 3)
    cells = list(groups)
    finals = np.array([math.fsum(r.final_val_loss for r in g) / len(g) for g in groups.values()])
    pred = model.fit(cells[:5], finals[:5]).query(cells)
    first = groups[cells[0]]
    assert pred[0] == pytest.approx(np.mean([r.val_losses[2] for r in first]))
    # 3 epochs cost 3x the logs' mean epoch (~420 s on the NAS-Bench-NLP hardware).
    assert 300 < model.seconds_per_epoch < 600
    assert model.training_seconds_per_cell == pytest.approx(3 * model.seconds_per_epoch)
    assert np.corrcoef(pred, finals)[0, 1] > 0.5  # early losses do predict final ones
