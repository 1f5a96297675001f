"""The dish on recurrent cells: Table 4 defaults, fit/predict through the cell network,
fixed-shape codes, save/load, and isolation of cells that diverge (scored worst, flagged,
no gradient poisoning)."""

from __future__ import annotations

from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from petridish import Dish, DishConfig
from petridish.dish.core import encode, inner_settings
from petridish.dish.outer import meta_loss
from petridish.motifs import Cell
from petridish.nets.cell import NODE_BUCKET, CellNet

TANH = {
    "p": {"op": "linear", "input": ["x", "h_prev_0"]},
    "h_new_0": {"op": "activation_tanh", "input": ["p"]},
}
SIGM = {
    "p": {"op": "linear", "input": ["x", "h_prev_0"]},
    "h_new_0": {"op": "activation_sigm", "input": ["p"]},
}
LEAKY = {
    "p": {"op": "linear", "input": ["x", "h_prev_0"]},
    "h_new_0": {"op": "activation_leaky_relu", "input": ["p"]},
}
GATED = {
    "z_lin": {"op": "linear", "input": ["x", "h_prev_0"]},
    "z": {"op": "activation_sigm", "input": ["z_lin"]},
    "c_lin": {"op": "linear", "input": ["x", "h_prev_0"]},
    "c": {"op": "activation_tanh", "input": ["c_lin"]},
    "h_new_0": {"op": "blend", "input": ["z", "c", "h_prev_0"]},
}
SUM2 = {
    "a": {"op": "linear", "input": ["x", "h_prev_0"]},
    "b": {"op": "activation_tanh", "input": ["a"]},
    "c": {"op": "activation_sigm", "input": ["a"]},
    "h_new_0": {"op": "elementwise_sum", "input": ["b", "c"]},
}
# h = p * p, p = linear(x, h_prev): doubly exponential growth, overflows within a few steps.
SQUARING = {
    "p": {"op": "linear", "input": ["x", "h_prev_0"]},
    "h_new_0": {"op": "elementwise_prod", "input": ["p", "p"]},
}

CELLS = [Cell.from_recipe(r) for r in (TANH, SIGM, LEAKY, GATED, SUM2)]
LOSSES = [4.6, 4.9, 5.3, 4.4, 4.8]
# Small and fast; every test here shares these shapes, so compiles are reused.
# No retries: these tests pin single fits (tests/dish/test_attempts.py tests retries).
CFG = DishConfig.for_cells(
    inner_steps=3, outer_steps=3, n_samples=4, seq_len=4, max_nodes=6, max_slots=8, retries=0
)


@pytest.fixture(scope="module")
def fitted() -> Dish:
    """``Dish(CFG).fit(CELLS, LOSSES, seed=0)``, shared: tests only read it."""
    return Dish(CFG).fit(CELLS, LOSSES, seed=0)


@pytest.fixture(scope="module")
def fitted_again() -> Dish:
    """A second, independent fit with the same seed (for determinism)."""
    return Dish(CFG).fit(CELLS, LOSSES, seed=0)


def test_for_cells_table4_holds_the_papers_configuration() -> None:
    cfg = DishConfig.for_cells_table4()
    assert cfg.network == "cell" and cfg.layer_sizes == (10, 3, 10) and cfg.seq_len == 10
    assert cfg.n_samples == 20 and cfg.input_shape == (10, 10) and cfg.label_shape == (10, 10)
    assert (cfg.inner_lr, cfg.inner_l2, cfg.inner_steps) == (0.01, 1e-5, 50)
    assert (cfg.outer_lr, cfg.outer_decay, cfg.outer_l2, cfg.outer_steps) == (2.0, 0.5, 5e-5, 200)
    assert cfg.motif_batch == 40
    assert cfg.init_scale == 0.3  # not in Table 4: chosen by measurement (config.py)
    assert DishConfig.for_cells_table4(outer_steps=7).outer_steps == 7
    assert DishConfig.from_json(cfg.to_json()) == cfg
    # Reproducible through for_cells too: the paper's outer loop as overrides.
    assert DishConfig.for_cells(outer_steps=200, outer_lr=2.0) == cfg


def test_for_cells_is_table_4_with_a_small_outer_step() -> None:
    cfg = DishConfig.for_cells()
    assert (cfg.outer_steps, cfg.outer_lr) == (10, 0.02)
    assert cfg == DishConfig.for_cells_table4(outer_steps=10, outer_lr=0.02)
    assert DishConfig.for_cells(outer_steps=7).outer_steps == 7
    assert cfg.describe() == "DishConfig.for_cells()"


def test_cell_config_errors_name_the_bad_value() -> None:
    with pytest.raises(ValueError, match=r"\(input, hidden, output\)"):
        DishConfig.for_cells(layer_sizes=(10, 3, 3, 10))
    with pytest.raises(ValueError, match="seq_len must be 1"):
        DishConfig.for_slopes(seq_len=5)
    with pytest.raises(ValueError, match="network 'lstm'"):
        DishConfig.for_cells(network="lstm")
    with pytest.raises(ValueError, match="max_nodes"):
        DishConfig.for_cells(max_nodes=0)


def test_codes_are_padded_to_the_network_size_and_big_cells_rejected() -> None:
    codes = encode(CFG, Cell, CELLS)
    assert codes.shape == (len(CELLS), CFG.max_nodes, 2 + 3)
    with pytest.raises(ValueError, match="max_nodes"):
        encode(CFG.replace(max_nodes=2), Cell, CELLS)


def test_fit_predict_on_cells(tmp_path: Path, fitted: Dish, fitted_again: Dish) -> None:
    dish = fitted
    assert dish.synthetic is not None and dish.labels is not None
    assert dish.synthetic["x_train"].shape == (4, 4, 10)
    assert dish.labels.shape == (4, 4, 10)
    assert set(np.unique(np.asarray(dish.labels))) <= {0.0, 1.0}
    assert dish.record is not None and len(dish.record.outer_losses) == 3
    assert np.all(np.isfinite(dish.record.outer_losses))
    pred = dish.predict(CELLS[:3])
    assert pred.scores.shape == (3,) and not pred.flagged.any()
    # Same seed, same result; the saved dish predicts the same.
    np.testing.assert_array_equal(fitted_again.predict(CELLS[:3]).scores, pred.scores)
    path = tmp_path / "cells.safetensors"
    dish.save(str(path))
    loaded = Dish.load(str(path))
    assert loaded.config == CFG and loaded.kind is Cell
    np.testing.assert_allclose(loaded.predict(CELLS[:3]).scores, pred.scores, rtol=1e-6)


def test_dish_of_cells_refuses_slopes(fitted: Dish) -> None:
    from petridish.motifs import SigmoidSlope

    with pytest.raises(ValueError, match="Cell"):
        fitted.predict([SigmoidSlope(1.0)])
    # The network itself rejects motifs it cannot run, whoever asks.
    with pytest.raises(ValueError, match="Cell motifs only"):
        CellNet().codes([SigmoidSlope(1.0)])


def _diverging_setup() -> tuple[DishConfig, list[Cell], jax.Array]:
    """A large init scale makes the squaring cell overflow; the others stay finite.

    Five cells, as in the fit test, so the compiled programs are shared."""
    cfg = CFG.replace(init_scale=30.0)
    cells = [*CELLS[:4], Cell.from_recipe(SQUARING)]
    dish = Dish(cfg).initialize(0, Cell)
    assert dish.synthetic is not None
    scores = dish.raw_scores(cells)
    return cfg, cells, jnp.asarray(scores)


def test_a_diverged_cell_is_flagged_scored_worst_and_does_not_poison_the_fit() -> None:
    cfg, cells, scores = _diverging_setup()
    assert not np.isfinite(scores[-1]) and np.all(np.isfinite(scores[:-1]))
    dish = Dish(cfg).initialize(0, Cell)
    assert dish.synthetic is not None and dish.labels is not None and dish.theta_init is not None
    pred = dish.predict(cells)
    assert pred.flagged.tolist() == [False] * 4 + [True]
    assert pred.ranks[-1] == len(cells)
    q = dish.query(cells)
    assert np.all(np.isfinite(q)) and q[-1] > q[:-1].max()

    # The meta-loss leaves the diverged cell out entirely: equal to the loss without it,
    # and so is its gradient (finite, not NaN).
    inner = inner_settings(cfg)
    targets = jnp.asarray([*LOSSES[:4], 9.9], dtype=jnp.float32)

    @jax.jit
    def loss_of(codes: jax.Array, t: jax.Array) -> tuple[jax.Array, dict[str, jax.Array]]:
        return jax.value_and_grad(meta_loss)(
            dish.synthetic, inner, dish.theta_init, codes, t, dish.labels
        )

    all_codes = jnp.asarray(encode(cfg, Cell, cells))
    loss_all, grad_all = loss_of(all_codes, targets)
    loss_ok, grad_ok = loss_of(all_codes[:-1], targets[:-1])
    assert np.isfinite(float(loss_all))
    np.testing.assert_allclose(float(loss_all), float(loss_ok), rtol=1e-5)
    for k in grad_ok:
        assert bool(jnp.all(jnp.isfinite(grad_all[k])))
        np.testing.assert_allclose(grad_all[k], grad_ok[k], rtol=1e-4, atol=1e-6)

    # A whole fit with the diverging cell in its training set stays finite.
    fitted = Dish(cfg).fit(cells, [*LOSSES[:4], 9.9], seed=0)
    assert fitted.record is not None and np.all(np.isfinite(fitted.record.outer_losses))
    assert fitted.synthetic is not None
    assert bool(jnp.all(jnp.isfinite(fitted.synthetic["x_train"])))


def test_fit_uses_the_float_targets_not_the_integer_code_dtype(fitted: Dish) -> None:
    # Cell codes are int32; the ground truth must not be cast to them (4.6 and 4.9 -> 4).
    start = Dish(CFG).initialize(0, Cell)
    assert fitted.record is not None and start.synthetic is not None
    expected = meta_loss(
        start.synthetic,
        inner_settings(CFG),
        start.theta_init,
        jnp.asarray(encode(CFG, Cell, CELLS)),
        jnp.asarray(LOSSES, dtype=jnp.float32),
        start.labels,
    )
    np.testing.assert_allclose(fitted.record.outer_losses[0], float(expected), rtol=1e-4)


def test_large_cell_predictions_run_in_chunks_equal_to_small_calls(
    monkeypatch: pytest.MonkeyPatch, fitted: Dish
) -> None:
    dish = fitted
    many = CELLS * 4  # 20 cells
    whole = dish.raw_scores(many)
    monkeypatch.setattr(CellNet, "predict_chunk", 8)  # 8 + 8 + 4 (padded to 8)
    chunked = dish.raw_scores(many)
    assert chunked.shape == (20,)
    np.testing.assert_allclose(chunked, whole, rtol=1e-5)
    # The same cell scores the same wherever it sits in the request.
    np.testing.assert_allclose(chunked.reshape(4, 5), np.tile(whole[:5], (4, 1)), rtol=1e-5)
    with pytest.raises(ValueError, match="no motifs"):
        dish.raw_scores([])


def test_trim_nodes_cuts_only_padding_rows_to_a_bucket() -> None:
    from petridish.dish.core import trim_nodes

    wide = CFG.replace(max_nodes=15, max_slots=8)
    codes = encode(wide, Cell, CELLS)  # (5, 15, 5); the longest cell has 5 nodes
    cut = trim_nodes(wide, codes)
    rows = -(-5 // NODE_BUCKET) * NODE_BUCKET
    assert cut.shape == (5, rows, codes.shape[2])
    np.testing.assert_array_equal(cut, codes[:, :rows])
    assert np.all(codes[:, rows:, 0] == -1)  # only all-padding rows were cut
    assert trim_nodes(CFG, encode(CFG, Cell, CELLS)).shape[1] == CFG.max_nodes  # capped
    slopes = np.linspace(0.1, 1.0, 4)
    assert trim_nodes(DishConfig.for_slopes(), slopes) is slopes  # other networks untouched


def test_sorted_trimmed_chunks_score_like_one_untrimmed_call(
    monkeypatch: pytest.MonkeyPatch, fitted: Dish
) -> None:
    """``raw_scores`` reorders cells by size and cuts each chunk's padding rows: the scores
    equal one call of the inner loop on the full-width codes in the caller's order."""
    from petridish.dish.inner import score_motifs

    dish = fitted
    many = [CELLS[i] for i in (3, 0, 4, 1, 2, 3, 4, 0, 1, 2, 4, 3)]  # sizes mixed
    assert dish.synthetic is not None and dish.labels is not None
    full = score_motifs(
        inner_settings(CFG),
        dish.theta_init,
        jnp.asarray(encode(CFG, Cell, many)),
        dish.synthetic["x_train"],
        dish.synthetic["x_val"],
        dish.labels,
    )
    monkeypatch.setattr(CellNet, "predict_chunk", 8)  # 8 largest, then 4 smallest
    np.testing.assert_allclose(dish.raw_scores(many), np.asarray(full), rtol=1e-5)
