"""How the synthetic data is learned (issue 17): ``DishConfig.data_rank`` (the inputs as
``x0 + reshape(B @ a)``, only ``a`` learned) and ``DishConfig.learn_train`` (False: only the
validation inputs, first order). The defaults are the paper's free inputs, unchanged."""

from __future__ import annotations

from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from petridish import Dish, DishConfig
from petridish.dish import core
from petridish.dish.core import attempt_seed, inner_settings, outer_settings
from petridish.dish.inner import InnerSettings
from petridish.dish.outer import (
    OuterSettings,
    Synthetic,
    draw_frame,
    materialise,
    meta_grad,
    meta_loss,
    outer_step,
)
from petridish.motifs import SigmoidSlope
from petridish.nets.base import Params

# The tiny slope fit of tests/dish/test_dish.py: every test here shares its shapes, so the
# default outer step and the scoring programs compiled there are reused (the suite's time is
# compiles); each test adds one or two programs of its own at most.
CFG = DishConfig.for_slopes(
    inner_steps=20, outer_steps=6, n_samples=6, restarts=1, ensemble=1, retries=0
)
SLOPES = [SigmoidSlope(c) for c in (0.4, 0.55, 0.7, 0.9, 1.1, 1.3, 1.5)]
LOSSES = [0.035, 0.040, 0.046, 0.052, 0.058, 0.066, 0.075]
PROBE = [SigmoidSlope(c) for c in (0.05, 0.3, 1.0, 1.9)]
RANK = 3


# -- config ---------------------------------------------------------------------------------


def test_learning_nothing_is_an_error_naming_both_options() -> None:
    with pytest.raises(ValueError, match="learn_train and DishConfig.learn_validation"):
        DishConfig.for_cells(learn_train=False, learn_validation=False)
    with pytest.raises(ValueError, match="DishConfig.data_rank"):
        DishConfig.for_cells(data_rank=-1)
    with pytest.raises(ValueError, match="DishConfig.learn_train must be True or False"):
        DishConfig.for_cells(learn_train="false")


def test_new_fields_are_left_out_of_the_json_at_their_defaults() -> None:
    old = DishConfig.for_cells().to_json()
    assert not {"learn_train", "data_rank", "max_inputs"} & set(old)
    # A config written before the fields existed reads back as the defaults.
    assert DishConfig.from_json(old) == DishConfig.for_cells(learn_train=True, data_rank=0)
    new = DishConfig.for_cells(learn_train=False, data_rank=8)
    assert new.to_json()["learn_train"] is False and new.to_json()["data_rank"] == 8
    assert DishConfig.from_json(new.to_json()) == new


# -- the default path is the old one --------------------------------------------------------


def _old_outer_step(
    inner: InnerSettings,
    outer: OuterSettings,
    synthetic: Synthetic,
    opt_state: optax.OptState,
    params0: Params,
    codes: jax.Array,
    targets: jax.Array,
    labels: jax.Array,
    noise: Synthetic | None = None,
) -> tuple[Synthetic, optax.OptState, jax.Array]:
    """``outer_step`` as it was before ``data_rank`` and ``learn_train`` (verbatim)."""

    def loss_at(syn: Synthetic) -> jax.Array:
        if noise is not None:
            syn = {k: syn[k] + noise[k] for k in syn}
        return meta_loss(syn, inner, params0, codes, targets, labels, outer.loss)

    loss, grads = jax.value_and_grad(loss_at)(synthetic)
    if not outer.learn_validation:
        grads = {**grads, "x_val": jnp.zeros_like(grads["x_val"])}
    updates, opt_state = outer.optimizer().update(grads, opt_state, synthetic)
    return optax.apply_updates(synthetic, updates), opt_state, loss


def test_default_outer_step_is_the_old_program() -> None:
    # The same program (jaxpr) as before the options existed, so the same bits; comparing
    # traces compiles nothing (the golden fits of slopes and cells were also compared bit
    # for bit, before and after, when the options were added).
    cfg = CFG.replace(learn_train=True, data_rank=0)  # the options as if absent
    assert cfg == CFG
    inner, outer = inner_settings(cfg), outer_settings(cfg)
    m = Dish(cfg)._draw(0)
    codes = core.encode(cfg, SigmoidSlope, SLOPES)
    targets = jnp.asarray(LOSSES, jnp.float32)
    noise = jax.tree_util.tree_map(jnp.ones_like, m.synthetic)
    state = outer.optimizer().init(m.synthetic)
    args = (m.synthetic, state, m.theta_init, codes, targets, m.labels, noise)
    new = jax.make_jaxpr(outer_step, static_argnums=(0, 1))(inner, outer, *args)
    old = jax.make_jaxpr(_old_outer_step, static_argnums=(0, 1))(inner, outer, *args)
    assert str(new) == str(old)


# -- data_rank ------------------------------------------------------------------------------


def test_low_rank_data_starts_at_the_draw_and_moves_only_in_its_basis(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Two attempts side by side: the frame carries the (attempts,) axis through the vmapped
    # outer step, one basis per attempt from its own seed.
    monkeypatch.setattr(core, "attempts_side_by_side", lambda: True)
    cfg = CFG.replace(data_rank=RANK, restarts=2, ensemble=2, min_train_spearman=-1.0)
    dish = Dish(cfg).fit(SLOPES, LOSSES, seed=0)
    assert dish.record is not None and sorted(dish.record.members) == [0, 1]
    for member in dish.members:
        seed = attempt_seed(0, member.attempt)
        start = Dish(cfg)._draw(seed).synthetic
        frame, a0 = draw_frame(Dish._frame_key(seed), start, RANK)
        for name, x in materialise(a0, frame).items():  # step 0 is the random-data dish
            np.testing.assert_array_equal(x, start[name])
        for name in ("x_train", "x_val"):
            delta = np.asarray(member.synthetic[name] - start[name], np.float64).ravel()
            basis = np.asarray(frame.basis[name], np.float64)  # (numel, k)
            coords, *_ = np.linalg.lstsq(basis, delta, rcond=None)
            # Only the k coordinates changed: the change lies in the basis' span, and moved.
            np.testing.assert_allclose(basis @ coords, delta, atol=1e-5)
            assert np.abs(coords).max() > 1e-3
    assert dish.record.moved_train is not None and dish.record.moved_train > 0
    assert dish.record.moved_val is not None and dish.record.moved_val > 0
    # Saved and loaded, it predicts the same.
    dish.save(tmp_path / "rank.dish")
    loaded = Dish.load(tmp_path / "rank.dish")
    assert loaded.config.data_rank == RANK
    np.testing.assert_array_equal(loaded.raw_scores(PROBE), dish.raw_scores(PROBE))


def test_coordinate_gradients_match_finite_differences_and_first_order(x64: None) -> None:
    # Second order (learn_train): the meta-gradient w.r.t. both tensors' coordinates equals
    # central finite differences. First order (learn_train=False): the same loss and the
    # same x_val gradient, none for x_train, from a program that does not differentiate the
    # inner loop (fewer loops).
    cfg = CFG.replace(data_rank=RANK)
    inner, second = inner_settings(cfg), outer_settings(cfg)
    first = outer_settings(cfg.replace(learn_train=False))
    m = Dish(cfg)._draw(1)
    as64 = lambda t: jax.tree_util.tree_map(lambda x: jnp.asarray(x, jnp.float64), t)  # noqa: E731
    x0, theta, labels = as64(m.synthetic), as64(m.theta_init), as64(m.labels)
    x0 = {**x0, "x_val": x0["x_val"] + 0.1}  # distinct train and validation inputs
    frame, a = draw_frame(jax.random.PRNGKey(5), x0, RANK)
    a = {k: v + 0.05 * jnp.arange(RANK, dtype=jnp.float64) for k, v in a.items()}
    codes = jnp.asarray([0.3, 0.9, 1.6], jnp.float64)
    targets = jnp.asarray([0.05, 0.02, 0.08], jnp.float64)
    args = (a, theta, codes, targets, labels, None, frame)
    grad = jax.jit(meta_grad, static_argnums=(0, 1))
    low2, low1 = grad.lower(inner, second, *args), grad.lower(inner, first, *args)
    exe2 = low2.compile()
    loss2, g2 = exe2(*args)
    eps = 1e-5
    for name in ("x_train", "x_val"):
        fd = []
        for i in range(RANK):
            e = jnp.zeros(RANK, jnp.float64).at[i].set(eps)
            up, _ = exe2({**a, name: a[name] + e}, *args[1:])
            down, _ = exe2({**a, name: a[name] - e}, *args[1:])
            fd.append(float(up - down) / (2 * eps))
        np.testing.assert_allclose(g2[name], fd, rtol=1e-4, atol=1e-9)
        assert np.abs(np.asarray(g2[name])).max() > 0
    loss1, g1 = low1.compile()(*args)
    np.testing.assert_allclose(loss1, loss2, rtol=1e-12)
    np.testing.assert_allclose(g1["x_val"], g2["x_val"], rtol=1e-9, atol=1e-12)
    assert not np.asarray(g1["x_train"]).any()
    assert low1.as_text().count("stablehlo.while") < low2.as_text().count("stablehlo.while")


# -- learn_train=False ----------------------------------------------------------------------


def test_learn_train_false_leaves_x_train_at_its_draw() -> None:
    cfg = CFG.replace(learn_train=False)
    dish = Dish(cfg).fit(SLOPES, LOSSES, seed=0)
    start = Dish(cfg)._draw(0).synthetic
    assert dish.synthetic is not None and dish.record is not None
    np.testing.assert_array_equal(dish.synthetic["x_train"], start["x_train"])
    assert not np.array_equal(dish.synthetic["x_val"], start["x_val"])
    assert dish.record.moved_train == 0.0 and (dish.record.moved_val or 0) > 0
