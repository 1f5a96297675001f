"""Outer-step noise (``DishConfig.outer_noise``): the loss and gradient are taken at the
perturbed data, the draws are seeded, and zero noise is the paper's outer step."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from petridish import Dish, DishConfig
from petridish.dish.core import encode, inner_settings, outer_settings
from petridish.dish.outer import meta_loss, outer_step
from petridish.motifs import SigmoidSlope

CFG = DishConfig.for_slopes(
    inner_steps=20, outer_steps=6, n_samples=6, restarts=1, ensemble=1, retries=0, outer_noise=0.0
)
SLOPES = [0.4, 0.55, 0.7, 0.9, 1.1, 1.3, 1.5]
LOSSES = [0.035, 0.040, 0.046, 0.052, 0.058, 0.066, 0.075]
PROBE = [SigmoidSlope(c) for c in (0.05, 0.3, 1.0, 1.9)]


def _motifs(xs: list[float]) -> list[SigmoidSlope]:
    return [SigmoidSlope(c) for c in xs]


def test_noisy_step_takes_loss_and_gradient_at_the_perturbed_data() -> None:
    dish = Dish(CFG).initialize(0, SigmoidSlope)
    assert dish.synthetic is not None
    inner, outer = inner_settings(CFG), outer_settings(CFG)
    codes = jnp.asarray(encode(CFG, SigmoidSlope, _motifs(SLOPES)))
    targets = jnp.asarray(LOSSES, jnp.float32)
    keys = jax.random.split(jax.random.PRNGKey(1), 2)
    noise = {
        k: 0.3 * jax.random.normal(key, v.shape)
        for key, (k, v) in zip(keys, dish.synthetic.items(), strict=True)
    }
    state = outer.optimizer().init(dish.synthetic)
    _, _, loss = outer_step(
        inner, outer, dish.synthetic, state, dish.theta_init, codes, targets, dish.labels, noise
    )
    shifted = {k: dish.synthetic[k] + noise[k] for k in dish.synthetic}
    expected, grads = jax.value_and_grad(meta_loss)(
        shifted, inner, dish.theta_init, codes, targets, dish.labels
    )
    np.testing.assert_allclose(loss, expected, rtol=1e-6)
    clean = meta_loss(dish.synthetic, inner, dish.theta_init, codes, targets, dish.labels)
    assert float(loss) != pytest.approx(float(clean), rel=1e-6)
    # The step moves the clean data along the gradient taken at the perturbed data.
    opt = outer.optimizer()
    updates, _ = opt.update(grads, opt.init(dish.synthetic), dish.synthetic)
    new, _, _ = outer_step(
        inner, outer, dish.synthetic, state, dish.theta_init, codes, targets, dish.labels, noise
    )
    np.testing.assert_allclose(
        new["x_train"], dish.synthetic["x_train"] + updates["x_train"], rtol=1e-5, atol=1e-6
    )


def test_noisy_fits_are_seeded_and_differ_from_clean_ones() -> None:
    noisy = CFG.replace(outer_noise=0.3)
    a = Dish(noisy).fit(_motifs(SLOPES), LOSSES, seed=2).raw_scores(PROBE)
    b = Dish(noisy).fit(_motifs(SLOPES), LOSSES, seed=2).raw_scores(PROBE)
    clean = Dish(CFG).fit(_motifs(SLOPES), LOSSES, seed=2).raw_scores(PROBE)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, clean)


def test_outer_noise_must_be_finite_and_non_negative() -> None:
    with pytest.raises(ValueError, match="outer_noise must be finite and >= 0"):
        DishConfig.for_slopes(outer_noise=-0.1)
