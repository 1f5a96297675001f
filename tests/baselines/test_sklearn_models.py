"""Tests for the scikit-learn baselines on cell encodings (petridish.baselines.sklearn_models)."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from petridish.baselines.sklearn_models import (
    GaussianProcessConfig,
    GradientBoostingConfig,
    RandomForestConfig,
    SklearnPredictor,
    gaussian_process,
    gradient_boosting,
    random_forest,
)
from petridish.metrics import kendall_tau_b
from petridish.motifs import Cell
from petridish.motifs.cell import random_cell
from petridish.predictor import NotFittedError, Predictor

MODELS = {
    "random_forest": lambda: random_forest(n_estimators=50),
    "gradient_boosting": lambda: gradient_boosting(n_estimators=50),
    "gaussian_process": lambda: gaussian_process(n_restarts=0),
}


@pytest.fixture(scope="module")
def sklearn() -> None:
    """scikit-learn is optional (a dev dependency): the fitting tests skip without it."""
    pytest.importorskip("sklearn", reason="scikit-learn is not installed (optional resource)")


@pytest.fixture(scope="module")
def data() -> tuple[list[Cell], np.ndarray]:
    """60 distinct random cells; loss grows with the number of weight matrices, plus noise."""
    rng = np.random.default_rng(0)
    cells: dict[Cell, None] = {}
    while len(cells) < 60:
        cells[random_cell(rng)] = None
    out = list(cells)
    losses = np.array([c.n_weights + 0.5 * c.n_nodes for c in out]) + rng.normal(0, 0.1, 60)
    return out, losses


@pytest.fixture(scope="module")
def monotone() -> tuple[list[Cell], np.ndarray]:
    """40 distinct random cells whose loss is exactly their number of weight matrices
    (a monotone function of the op counts, no noise), sorted by it."""
    rng = np.random.default_rng(1)
    cells: dict[Cell, None] = {}
    while len(cells) < 40:
        cells[random_cell(rng)] = None
    out = sorted(cells, key=lambda c: c.n_weights)
    return out, np.array([float(c.n_weights) for c in out])


@pytest.mark.usefixtures("sklearn")
@pytest.mark.parametrize("name", list(MODELS))
def test_learns_a_learnable_ranking(name: str, data: tuple[list[Cell], np.ndarray]) -> None:
    cells, losses = data
    model = MODELS[name]().fit(cells[:40], losses[:40], seed=0)
    pred = model.query(cells[40:])
    assert pred.shape == (20,) and pred.dtype == np.float64
    assert kendall_tau_b(pred, losses[40:]) > 0.6


@pytest.mark.usefixtures("sklearn")
@pytest.mark.parametrize("name", list(MODELS))
def test_ranks_held_out_cells_of_a_monotone_target_in_order(
    name: str, monotone: tuple[list[Cell], np.ndarray]
) -> None:
    cells, losses = monotone
    train, test = np.arange(0, 40, 2), np.arange(1, 40, 2)  # interleaved: test inside range
    model = MODELS[name]().fit([cells[i] for i in train], losses[train], seed=0)
    pred = model.query([cells[i] for i in test])
    # The held-out cell with the most weight matrices is predicted worse than the one with
    # the fewest, and the order agrees overall.
    assert pred[np.argmax(losses[test])] > pred[np.argmin(losses[test])]
    assert kendall_tau_b(pred, losses[test]) > 0.7


@pytest.mark.usefixtures("sklearn")
@pytest.mark.parametrize("name", list(MODELS))
def test_same_seed_same_predictions(name: str, data: tuple[list[Cell], np.ndarray]) -> None:
    cells, losses = data
    a = MODELS[name]().fit(cells[:30], losses[:30], seed=4).query(cells[30:])
    b = MODELS[name]().fit(cells[:30], losses[:30], seed=4).query(cells[30:])
    np.testing.assert_array_equal(a, b)


@pytest.mark.usefixtures("sklearn")
def test_forest_seed_matters(data: tuple[list[Cell], np.ndarray]) -> None:
    cells, losses = data
    a = random_forest(n_estimators=20).fit(cells[:30], losses[:30], seed=0).query(cells[30:])
    b = random_forest(n_estimators=20).fit(cells[:30], losses[:30], seed=1).query(cells[30:])
    assert not np.array_equal(a, b)


@pytest.mark.usefixtures("sklearn")
def test_every_encoding_and_target_learns_the_monotone_target(
    monotone: tuple[list[Cell], np.ndarray],
) -> None:
    cells, losses = monotone
    train, test = np.arange(0, 40, 2), np.arange(1, 40, 2)
    for encoding in ("adjacency", "op_counts", "concat"):
        for target in ("rank_normal", "zscore"):
            model = random_forest(n_estimators=30, encoding=encoding, target=target)
            fitted = model.fit([cells[i] for i in train], losses[train], seed=0)
            pred = fitted.query([cells[i] for i in test])
            assert pred.shape == (20,) and np.all(np.isfinite(pred))
            tau = kendall_tau_b(pred, losses[test])
            assert tau > 0.3, (encoding, target, tau)
            # A fitted predictor's queries depend on the cells only: asking twice agrees.
            np.testing.assert_array_equal(fitted.query([cells[i] for i in test]), pred)


@pytest.mark.usefixtures("sklearn")
def test_protocol_and_not_fitted(data: tuple[list[Cell], np.ndarray]) -> None:
    cells, _ = data
    for make in MODELS.values():
        model = make()
        assert isinstance(model, Predictor)
        with pytest.raises(NotFittedError, match="before fit"):
            model.query(cells[:3])


def test_bad_configs_name_the_value() -> None:
    with pytest.raises(ValueError, match="n_estimators must be a positive int, got 0"):
        RandomForestConfig(n_estimators=0)
    with pytest.raises(ValueError, match=r"max_features must be in \(0.0, 1.0\], got 1.5"):
        RandomForestConfig(max_features=1.5)
    with pytest.raises(ValueError, match="subsample"):
        GradientBoostingConfig(subsample=0.0)
    # Bools are not counts or fractions.
    with pytest.raises(ValueError, match="max_depth must be a positive int, got True"):
        GradientBoostingConfig(max_depth=True)
    with pytest.raises(ValueError, match="max_features must be a number, got True"):
        RandomForestConfig(max_features=True)
    with pytest.raises(ValueError, match="n_restarts must be an int >= 0, got -1"):
        GaussianProcessConfig(n_restarts=-1)
    with pytest.raises(ValueError, match="nu must be 0.5, 1.5 or 2.5, got 2.0"):
        GaussianProcessConfig(nu=2.0)
    with pytest.raises(ValueError, match="unknown cell encoding 'graph'"):
        GaussianProcessConfig(encoding="graph")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="unknown target transform 'log'"):
        RandomForestConfig(target="log")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="model must be one of the model configs"):
        SklearnPredictor("forest")  # type: ignore[arg-type]


def test_missing_sklearn_is_a_clear_import_error(
    monkeypatch: pytest.MonkeyPatch, data: tuple[list[Cell], np.ndarray]
) -> None:
    cells, losses = data
    model = random_forest()  # constructing needs no sklearn ...
    monkeypatch.setitem(sys.modules, "sklearn.ensemble", None)  # ... fitting does
    with pytest.raises(ImportError, match="pip install scikit-learn"):
        model.fit(cells[:10], losses[:10], seed=0)
