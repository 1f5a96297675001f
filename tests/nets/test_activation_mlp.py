"""The ``activation_mlp`` network: ``Activation`` motifs on the MLP blueprint, in a dish."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from petridish import Dish, DishConfig
from petridish.motifs import Activation, SigmoidSlope
from petridish.nets import build_network, network_names
from petridish.nets.activation_mlp import ACTIVATION_NETWORK
from petridish.nets.mlp import MotifMLP

SMALL = dict(
    network=ACTIVATION_NETWORK,
    n_samples=4,
    inner_steps=5,
    outer_steps=3,
    restarts=1,
    ensemble=1,
    retries=0,
    outer_noise=0.0,
)


def test_registered_and_applies_the_expression() -> None:
    assert ACTIVATION_NETWORK in network_names()
    cfg = DishConfig.for_slopes(**SMALL)  # type: ignore[arg-type]
    net = build_network(ACTIVATION_NETWORK, cfg)
    assert isinstance(net, MotifMLP) and net.motif is Activation
    params = net.init(jax.random.PRNGKey(0), 1.0)
    x = jax.random.normal(jax.random.PRNGKey(1), (5, 10))
    swish = Activation("mul(x, sigmoid(scale(1.5, x)))")
    code = jnp.asarray(net.codes([swish])[0])  # (MAX_NODES, 4)
    h = x
    for w, b in params[:-1]:
        z = h @ w + b
        h = z * jax.nn.sigmoid(1.5 * z)
    w, b = params[-1]
    np.testing.assert_allclose(net.apply(params, code, x), h @ w + b, rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="runs Activation motifs"):
        net.codes([SigmoidSlope(1.0)])


def test_a_dish_fits_and_ranks_activations_through_the_registry() -> None:
    cfg = DishConfig.for_slopes(**SMALL)  # type: ignore[arg-type]
    motifs = [
        Activation(t)
        for t in ("relu(x)", "tanh(x)", "sigmoid(scale(0.5, x))", "mul(x, sigmoid(x))", "sin(x)")
    ]
    losses = [0.1, 0.15, 0.3, 0.08, 0.5]
    dish = Dish(cfg).fit(motifs, losses, seed=0)
    assert dish.record is not None and len(dish.record.outer_losses) == 3
    assert np.all(np.isfinite(dish.record.outer_losses))
    scores = dish.predict(motifs).scores
    assert scores.shape == (5,) and np.all(np.isfinite(scores))
    # Distinct expressions get distinct scores: the network sees the programs.
    assert len(set(np.round(scores, 6).tolist())) > 1
