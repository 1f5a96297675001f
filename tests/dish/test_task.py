"""A synthetic task shaped like the real one (issue 17): ``DishConfig.task="next_step"``
(each network predicts the next step of the synthetic sequences, so the learned data also
defines the targets) and ``DishConfig.data_init="teacher"`` (the sequences start as the
output of a small random RNN). The defaults are the paper's labels and N(0, 1) draw,
unchanged."""

from __future__ import annotations

from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from petridish import Dish, DishConfig
from petridish.dish import inner
from petridish.dish.core import _pad_batch, encode, inner_settings, outer_settings, trim_nodes
from petridish.dish.inner import InnerSettings, score_motif, train_motif
from petridish.dish.outer import STATS, compiled, outer_step
from petridish.dish.tasks import next_step_targets, task_data
from petridish.motifs import Cell
from petridish.nets.base import Params
from petridish.nets.numerics import bce_with_logits, isolate_nonfinite_grad

# The small cell config and cells of tests/dish/test_cell_dish.py (a compile-friendly size).
CFG = DishConfig.for_cells(
    inner_steps=3, outer_steps=3, n_samples=4, seq_len=4, max_nodes=6, max_slots=8, retries=0
)
_LINEAR = {"op": "linear", "input": ["x", "h_prev_0"]}
CELLS = [
    Cell.from_recipe({"p": _LINEAR, "h_new_0": {"op": act, "input": ["p"]}})
    for act in ("activation_tanh", "activation_sigm", "activation_leaky_relu")
] + [
    Cell.from_recipe(
        {
            "z_lin": _LINEAR,
            "z": {"op": "activation_sigm", "input": ["z_lin"]},
            "c_lin": _LINEAR,
            "c": {"op": "activation_tanh", "input": ["c_lin"]},
            "h_new_0": {"op": "blend", "input": ["z", "c", "h_prev_0"]},
        }
    )
]
LOSSES = [4.6, 4.9, 5.3, 4.4]
NEXT = CFG.replace(task="next_step")
# No outer L2 (for_cells: 5e-5), so one outer step shows where the meta-gradient is non-zero
# (test_next_step_meta_gradient_is_finite_and_reaches_the_data_through_the_targets).
BOTH = CFG.replace(task="next_step", data_init="teacher", outer_l2=0.0)


def _lag1(x: np.ndarray) -> float:
    """Lag-1 autocorrelation over time of (n, T, features) sequences, pooled."""
    a, b = x[:, :-1] - x[:, :-1].mean(), x[:, 1:] - x[:, 1:].mean()
    return float((a * b).mean() / np.sqrt((a * a).mean() * (b * b).mean()))


# -- config ---------------------------------------------------------------------------------


def test_defaults_keep_the_json_and_new_values_round_trip() -> None:
    old = DishConfig.for_cells().to_json()
    assert not {"task", "data_init"} & set(old)
    assert DishConfig.from_json(old) == DishConfig.for_cells(task="labels", data_init="normal")
    assert DishConfig.for_slopes().to_json() == DishConfig.for_slopes(task="labels").to_json()
    new = DishConfig.for_cells(task="next_step", data_init="teacher")
    assert new.to_json()["task"] == "next_step" and new.to_json()["data_init"] == "teacher"
    assert DishConfig.from_json(new.to_json()) == new


def test_invalid_values_are_rejected_naming_the_field() -> None:
    with pytest.raises(ValueError, match="unknown DishConfig.task 'next'"):
        DishConfig.for_cells(task="next")
    with pytest.raises(ValueError, match="unknown DishConfig.data_init 'uniform'"):
        DishConfig.for_cells(data_init="uniform")
    # No time axis: the slope MLP, or cells on one-step sequences.
    with pytest.raises(ValueError, match="DishConfig.task='next_step' needs .* time axis"):
        DishConfig.for_slopes(task="next_step")
    with pytest.raises(ValueError, match="DishConfig.task='next_step'.*label shape \\(1, 10\\)"):
        DishConfig.for_cells(seq_len=1, task="next_step")
    with pytest.raises(ValueError, match="DishConfig.data_init='teacher' needs .* time axis"):
        DishConfig.for_slopes(data_init="teacher")
    # More outputs than inputs: the next step has no target for output 11.
    with pytest.raises(ValueError, match="DishConfig.task='next_step'.*no more outputs"):
        DishConfig.for_cells(layer_sizes=(10, 3, 11), task="next_step")
    # The teacher does not care about outputs; fewer outputs than inputs is fine for both.
    DishConfig.for_cells(layer_sizes=(10, 3, 11), data_init="teacher")
    DishConfig.for_cells(layer_sizes=(10, 3, 4), task="next_step")


# -- the labels path is the old one ---------------------------------------------------------


def _old_score_motif(
    settings: InnerSettings,
    params0: Params,
    code: jax.Array,
    x_train: jax.Array,
    x_val: jax.Array,
    labels: jax.Array,
) -> jax.Array:
    """``score_motif`` as it was before ``task`` (verbatim)."""
    x_train, x_val = isolate_nonfinite_grad(x_train), isolate_nonfinite_grad(x_val)
    params = train_motif(settings, params0, code, x_train, labels)
    return bce_with_logits(settings.net.apply(params, code, x_val), labels)


def test_labels_task_is_the_old_program() -> None:
    # Same jaxpr as before the option existed, so the same bits (no compile needed).
    settings = inner_settings(CFG)
    assert settings.task == "labels"
    m = Dish(CFG)._draw(0)
    code = encode(CFG, Cell, CELLS[:1])[0]
    args = (_index0(m.theta_init), code, m.synthetic["x_train"], m.synthetic["x_val"], m.labels)
    new = jax.make_jaxpr(score_motif, static_argnums=0)(settings, *args)
    old = jax.make_jaxpr(_old_score_motif, static_argnums=0)(settings, *args)
    assert str(new) == str(old)


def _index0(tree: Params) -> Params:
    return jax.tree_util.tree_map(lambda a: a[0], tree)


# -- next_step ------------------------------------------------------------------------------


def test_next_step_targets_are_the_next_inputs_through_a_sigmoid() -> None:
    # Hand-built x: (n=1, T=3, in=3), 2 outputs; target of step t = sigmoid(x[t + 1, :2]).
    x = jnp.asarray([[[0.0, 1.0, 9.0], [2.0, -1.0, 9.0], [-3.0, 0.5, 9.0]]])
    labels = jnp.zeros((1, 3, 2))
    sig = lambda v: 1.0 / (1.0 + np.exp(-v))  # noqa: E731
    expected = np.asarray([[[sig(2.0), sig(-1.0)], [sig(-3.0), sig(0.5)]]])
    np.testing.assert_allclose(next_step_targets(x, 2), expected, rtol=1e-6)
    inputs, targets = task_data("next_step", x, labels)
    np.testing.assert_array_equal(inputs, x[:, :2])  # the last step is an input to nothing
    np.testing.assert_allclose(targets, expected, rtol=1e-6)
    same_x, same_labels = task_data("labels", x, labels)
    assert same_x is x and same_labels is labels


def test_next_step_score_trains_on_x_train_and_scores_on_x_val() -> None:
    # The next_step score is the labels-task program given the truncated inputs and, as
    # labels, the targets written out: training towards x_train's next steps, scoring
    # against x_val's. Same jaxpr, so the same bits (no compile needed).
    m = Dish(BOTH)._draw(0)
    xt, xv = m.synthetic["x_train"], m.synthetic["x_val"]
    code = encode(BOTH, Cell, CELLS[:1])[0]
    theta = _index0(m.theta_init)
    plain = inner_settings(CFG)  # the same network, task "labels"

    def written_out(
        theta: Params, code: jax.Array, xt: jax.Array, xv: jax.Array, labels: jax.Array
    ) -> jax.Array:
        xt, xv = isolate_nonfinite_grad(xt), isolate_nonfinite_grad(xv)
        steps = xt[:, :3]  # (n, T-1, in): steps 0..T-2
        next_steps = jax.nn.sigmoid(xt[:, 1:, :10] / 1.0)  # (n, T-1, out): steps 1..T-1
        params = train_motif(plain, theta, code, steps, next_steps)
        steps = xv[:, :3]
        next_steps = jax.nn.sigmoid(xv[:, 1:, :10] / 1.0)
        return bce_with_logits(plain.net.apply(params, code, steps), next_steps)

    args = (theta, code, xt, xv, m.labels)
    new = jax.make_jaxpr(score_motif, static_argnums=0)(inner_settings(BOTH), *args)
    assert str(new) == str(jax.make_jaxpr(written_out)(*args))


def test_next_step_meta_gradient_is_finite_and_reaches_the_data_through_the_targets(
    fitted: Dish,
) -> None:
    # One outer step of the fit's own compiled program (shared with ``fitted``: no second
    # compile). BOTH has no outer L2, so Adam's first step moves each input by
    # ``lr * g / (|g| + 1e-8)``: finite iff its meta-gradient g is, non-zero iff g is.
    inner, outer = inner_settings(BOTH), outer_settings(BOTH)
    m = Dish(BOTH)._draw(0)
    codes, targets = _pad_batch(
        jnp.asarray(trim_nodes(BOTH, encode(BOTH, Cell, CELLS))),
        np.asarray(LOSSES),
        BOTH.motif_batch,
    )
    state = outer.optimizer().init(m.synthetic)
    args = (m.synthetic, state, m.theta_init, codes, jnp.asarray(targets, jnp.float32), m.labels)
    before = STATS.compiles
    new, _, loss = compiled("outer_step", outer_step, (inner, outer), *args, None, None)
    assert STATS.compiles == before  # the fit compiled this program
    assert np.isfinite(float(loss))
    for name in ("x_train", "x_val"):
        step = np.asarray(new[name] - m.synthetic[name])  # (n, T, in)
        assert np.isfinite(step).all()
        assert np.abs(step).max() <= BOTH.outer_lr * (1 + 1e-5)
        # The last step is no network's input: it moves only through the targets (for
        # x_train: second order, through the trained network).
        assert np.abs(step[:, -1]).max() > 0.5 * BOTH.outer_lr, name
        assert np.abs(step[:, :-1]).max() > 0.5 * BOTH.outer_lr, name


# -- teacher --------------------------------------------------------------------------------


def test_teacher_sequences_are_seeded_standardised_and_correlated_in_time() -> None:
    cfg = BOTH.replace(n_samples=20, seq_len=10)
    a, again, other = Dish(cfg)._draw(0), Dish(cfg)._draw(0), Dish(cfg)._draw(1)
    iid = Dish(cfg.replace(data_init="normal"))._draw(0)
    for name in ("x_train", "x_val"):
        np.testing.assert_array_equal(a.synthetic[name], again.synthetic[name])
        assert not np.allclose(a.synthetic[name], other.synthetic[name])
        assert a.synthetic[name].shape == (20, 10, 10)
    xt, xv = np.asarray(a.synthetic["x_train"]), np.asarray(a.synthetic["x_val"])
    assert not np.allclose(xt, xv)  # two independent sets of the same teacher
    both = np.concatenate([xt, xv])
    np.testing.assert_allclose(both.mean(axis=(0, 1)), 0.0, atol=1e-5)
    np.testing.assert_allclose(both.std(axis=(0, 1)), 1.0, rtol=1e-4)
    # Structure across time: the i.i.d. draw has none.
    assert _lag1(xt) > 0.6 and _lag1(xv) > 0.6
    assert abs(_lag1(np.asarray(iid.synthetic["x_train"]))) < 0.15
    # Only the data's draw changes: the initial network and the labels are the same.
    np.testing.assert_array_equal(a.labels, iid.labels)
    for t, u in zip(
        jax.tree_util.tree_leaves(a.theta_init),
        jax.tree_util.tree_leaves(iid.theta_init),
        strict=True,
    ):
        np.testing.assert_array_equal(t, u)


# -- both, end to end -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def fitted() -> Dish:
    """``Dish(BOTH).fit(CELLS, LOSSES, seed=0)``, shared: tests only read it."""
    return Dish(BOTH).fit(CELLS, LOSSES, seed=0)


def test_a_fit_with_both_options_moves_the_data_and_predicts_finite_scores(
    fitted: Dish, tmp_path: Path
) -> None:
    dish = fitted
    start = Dish(BOTH)._draw(0).synthetic
    assert dish.synthetic is not None and dish.record is not None
    assert (dish.record.moved_train or 0) > 0 and (dish.record.moved_val or 0) > 0
    assert len(dish.record.outer_losses) == BOTH.outer_steps
    assert np.isfinite(dish.record.outer_losses).all()
    assert not np.array_equal(dish.synthetic["x_train"], start["x_train"])
    scores = dish.raw_scores(CELLS)
    assert scores.shape == (len(CELLS),) and np.isfinite(scores).all()
    dish.save(tmp_path / "next_step.dish")
    loaded = Dish.load(tmp_path / "next_step.dish")
    assert loaded.config == BOTH
    np.testing.assert_array_equal(loaded.raw_scores(CELLS), scores)


def test_inner_settings_carry_the_task() -> None:
    assert inner_settings(NEXT).task == "next_step"
    assert inner.InnerSettings.__dataclass_fields__["task"].default == "labels"


# -- a learned teacher (data_param="teacher") ------------------------------------------------

TEACHER = BOTH.replace(data_param="teacher")


def test_data_param_is_checked_and_left_out_of_the_json_at_its_default() -> None:
    assert "data_param" not in DishConfig.for_cells().to_json()
    assert TEACHER.to_json()["data_param"] == "teacher"
    assert DishConfig.from_json(TEACHER.to_json()) == TEACHER
    with pytest.raises(ValueError, match="unknown DishConfig.data_param 'weights'"):
        CFG.replace(data_param="weights")
    with pytest.raises(ValueError, match="needs data_init='teacher'.*got data_init='normal'"):
        CFG.replace(data_param="teacher")
    with pytest.raises(ValueError, match="got learn_train=False"):
        TEACHER.replace(learn_train=False)
    with pytest.raises(ValueError, match="got data_rank=4"):
        TEACHER.replace(data_rank=4)


def test_the_teacher_frame_starts_at_the_teacher_draw() -> None:
    """Step 0 of a learned teacher is exactly the teacher-start random-data dish."""
    from petridish.dish.outer import materialise

    cfg = TEACHER.replace(n_samples=20, seq_len=10)
    dish = Dish(cfg)
    frame, weights = dish._teacher_frame(3)
    assert set(weights) == {"w", "readout"} and weights["w"].shape == (16, 16)
    start = dish._draw(3).synthetic
    syn = materialise(weights, frame)
    for name in ("x_train", "x_val"):
        np.testing.assert_array_equal(np.asarray(syn[name]), np.asarray(start[name]))


def test_a_learned_teacher_moves_its_weights_and_keeps_the_sequences_a_process() -> None:
    dish = Dish(TEACHER).fit(CELLS, LOSSES, seed=0)
    start = Dish(TEACHER)._draw(0).synthetic
    assert dish.synthetic is not None and dish.record is not None
    assert np.isfinite(dish.record.outer_losses).all()
    # Both tensors move, and together: they are two sets of one (learned) teacher.
    assert (dish.record.moved_train or 0) > 0 and (dish.record.moved_val or 0) > 0
    both = np.concatenate(
        [np.asarray(dish.synthetic["x_train"]), np.asarray(dish.synthetic["x_val"])]
    )
    np.testing.assert_allclose(both.mean(axis=(0, 1)), 0.0, atol=1e-5)
    np.testing.assert_allclose(both.std(axis=(0, 1)), 1.0, rtol=1e-3)
    assert not np.array_equal(dish.synthetic["x_train"], start["x_train"])
    assert np.isfinite(dish.raw_scores(CELLS)).all()
