"""Tests for the cell feature vectors and target transforms (petridish.baselines.encodings)."""

from __future__ import annotations

import numpy as np
import pytest

from petridish.baselines.encodings import (
    ENCODINGS,
    CellEncoder,
    check_training_data,
    encode_cells,
    n_features,
    transform_targets,
)
from petridish.motifs import Cell, SigmoidSlope
from petridish.motifs.cell import OP_ID, OPS, adjacency_onehot_size, random_cell

LSTM_LIKE = {
    "i": {"op": "linear", "input": ["x", "h_prev_0"]},
    "i_act": {"op": "activation_sigm", "input": ["i"]},
    "j": {"op": "linear", "input": ["x", "h_prev_0"]},
    "j_act": {"op": "activation_tanh", "input": ["j"]},
    "h_new_1": {"op": "elementwise_prod", "input": ["i_act", "j_act"]},
    "h_new_0": {"op": "blend", "input": ["i_act", "h_new_1", "h_prev_1"]},
}
TANH_RNN = {
    "f": {"op": "linear", "input": ["x", "h_prev_0"]},
    "h_new_0": {"op": "activation_tanh", "input": ["f"]},
}


def renamed(recipe: dict[str, dict[str, list[str] | str]]) -> dict[str, object]:
    """The same cell with other intermediate names and reversed dict order."""
    names = {k: (k if k.startswith("h_new") else f"zz_{k}") for k in recipe}
    out = {}
    for k, spec in reversed(list(recipe.items())):
        ins = [names.get(s, s) for s in spec["input"]]
        out[names[k]] = {"op": spec["op"], "input": ins}
    return out


def test_widths_match_n_features_and_concat_is_both() -> None:
    cells = [Cell.from_recipe(LSTM_LIKE), Cell.from_recipe(TANH_RNN)]
    for kind in ENCODINGS:
        x = encode_cells(cells, kind, max_nodes=8)
        assert x.shape == (2, n_features(kind, 8))
        assert x.dtype == np.float64
    adj = encode_cells(cells, "adjacency", 8)
    counts = encode_cells(cells, "op_counts", 8)
    np.testing.assert_array_equal(encode_cells(cells, "concat", 8), np.hstack([adj, counts]))
    assert adj.shape[1] == adjacency_onehot_size(8)
    assert counts.shape[1] == len(OPS) + 3


def test_op_counts_by_hand() -> None:
    (row,) = encode_cells([Cell.from_recipe(LSTM_LIKE)], "op_counts")
    expected = np.zeros(len(OPS) + 3)
    expected[OP_ID["linear"]] = 2
    expected[OP_ID["activation_sigm"]] = 1
    expected[OP_ID["activation_tanh"]] = 1
    expected[OP_ID["elementwise_prod"]] = 1
    expected[OP_ID["blend"]] = 1
    expected[len(OPS) :] = [6, 4, 2]  # nodes, weight matrices (2 linears x 2 inputs), states
    np.testing.assert_array_equal(row, expected)


def test_adjacency_counts_edges_and_ops() -> None:
    (row,) = encode_cells([Cell.from_recipe(TANH_RNN)], "adjacency", max_nodes=4)
    # 2 nodes: 2 edges into the linear (x, h_prev_0) + 1 into the tanh; 2 op ones; 1 output.
    assert row.sum() == 3 + 2 + 1
    assert set(np.unique(row)) == {0.0, 1.0}


def test_same_cell_under_other_names_encodes_equally() -> None:
    a = encode_cells([Cell.from_recipe(LSTM_LIKE)], "concat")
    b = encode_cells([Cell.from_recipe(renamed(LSTM_LIKE))], "concat")
    np.testing.assert_array_equal(a, b)


def test_encoding_does_not_depend_on_the_batch() -> None:
    rng = np.random.default_rng(0)
    cells = [random_cell(rng) for _ in range(6)]
    together = encode_cells(cells, "concat")
    alone = np.vstack([encode_cells([c], "concat") for c in cells])
    np.testing.assert_array_equal(together, alone)


def test_encoder_value_object() -> None:
    enc = CellEncoder("adjacency", 5)
    assert enc.width == n_features("adjacency", 5)
    assert enc([Cell.from_recipe(TANH_RNN)]).shape == (1, enc.width)


def test_bad_inputs_name_the_value() -> None:
    big = Cell.from_recipe(LSTM_LIKE)
    with pytest.raises(ValueError, match="6 nodes, more than max_nodes=3"):
        encode_cells([big], "adjacency", max_nodes=3)
    with pytest.raises(ValueError, match="unknown cell encoding 'graph'"):
        encode_cells([big], "graph")
    with pytest.raises(ValueError, match="SigmoidSlope, not a Cell"):
        encode_cells([SigmoidSlope(1.0)], "op_counts")
    with pytest.raises(ValueError, match="max_nodes must be a positive int, got 0"):
        CellEncoder("concat", 0)
    with pytest.raises(ValueError, match="at least one"):
        encode_cells([], "concat")


def test_rank_normal_targets_keep_order_and_ties() -> None:
    losses = np.array([5.0, 7.4, 4.6, 5.0, 100.0])
    t = transform_targets(losses, "rank_normal")
    assert t.shape == (5,)
    np.testing.assert_allclose([t.mean(), t.std()], [0.0, 1.0], atol=1e-12)
    assert t[0] == t[3]  # tied losses, equal targets
    np.testing.assert_array_equal(np.argsort(t, kind="stable"), np.argsort(losses, kind="stable"))
    # The outlier is only "the worst", not 100 nats worse: its target is bounded.
    assert t[4] < 2.0
    z = transform_targets(losses, "zscore")
    assert z[4] > 1.9 and np.allclose(z.mean(), 0.0)


def test_target_errors() -> None:
    with pytest.raises(ValueError, match="constant"):
        transform_targets(np.ones(4), "rank_normal")
    with pytest.raises(ValueError, match="unknown target transform 'log'"):
        transform_targets(np.arange(3.0), "log")


def test_check_training_data() -> None:
    cells = [Cell.from_recipe(TANH_RNN), Cell.from_recipe(LSTM_LIKE)]
    np.testing.assert_array_equal(check_training_data(cells, [1, 2], 0), [1.0, 2.0])
    with pytest.raises(ValueError, match="differ in length: 2 vs 3"):
        check_training_data(cells, [1, 2, 3], 0)
    with pytest.raises(ValueError, match="index 1"):
        check_training_data(cells, [1, np.inf], 0)
    with pytest.raises(ValueError, match="seed must be an int"):
        check_training_data(cells, [1, 2], 1.5)  # type: ignore[arg-type]
