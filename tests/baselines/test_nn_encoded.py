"""Tests for the NN surrogate on fixed cell encodings (petridish.baselines.nn_encoded)."""

from __future__ import annotations

import numpy as np
import pytest

from petridish.baselines import NotFittedError, Predictor
from petridish.baselines.nn_encoded import EncodedNNSurrogate, EncodedNNSurrogateConfig
from petridish.metrics import kendall_tau_b
from petridish.motifs import Cell
from petridish.motifs.cell import random_cell


@pytest.fixture(scope="module")
def data() -> tuple[list[Cell], np.ndarray]:
    """50 distinct random cells of 2..12 nodes; loss grows with the number of weights."""
    rng = np.random.default_rng(1)
    cells: dict[Cell, None] = {}
    while len(cells) < 50:
        cells[random_cell(rng)] = None
    out = list(cells)
    return out, np.array([c.n_weights + 0.3 * c.n_nodes for c in out]) + rng.normal(0, 0.1, 50)


def test_learns_and_queries_cells_of_other_sizes(data: tuple[list[Cell], np.ndarray]) -> None:
    cells, losses = data
    # Train on the small cells only: the query batch holds larger cells (wider programs),
    # which the encoding must still map to the same columns.
    order = np.argsort([c.n_nodes for c in cells], kind="stable")
    train, test = order[:35], order[35:]
    model = EncodedNNSurrogate().fit([cells[i] for i in train], losses[train], seed=0)
    pred = model.query([cells[i] for i in test])
    assert pred.shape == (15,) and pred.dtype == np.float64
    assert kendall_tau_b(pred, losses[test]) > 0.5


def test_deterministic_by_seed(data: tuple[list[Cell], np.ndarray]) -> None:
    cells, losses = data
    # 35 x 12 training features as above: the compiled trainer is reused (fast test).
    config = EncodedNNSurrogateConfig(target="zscore")
    a = EncodedNNSurrogate(config).fit(cells[:35], losses[:35], seed=2).query(cells[35:])
    b = EncodedNNSurrogate(config).fit(cells[:35], losses[:35], seed=2).query(cells[35:])
    c = EncodedNNSurrogate(config).fit(cells[:35], losses[:35], seed=3).query(cells[35:])
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_protocol_and_errors(data: tuple[list[Cell], np.ndarray]) -> None:
    cells, losses = data
    model = EncodedNNSurrogate()
    assert isinstance(model, Predictor)
    with pytest.raises(NotFittedError, match="before fit"):
        model.query(cells[:2])
    with pytest.raises(ValueError, match="constant"):
        model.fit(cells[:5], np.ones(5))
    with pytest.raises(ValueError, match="unknown cell encoding 'graph'"):
        EncodedNNSurrogateConfig(encoding="graph")  # type: ignore[arg-type]
