"""The MLP blueprint takes its hidden activation from the motif kind's ``activation`` hook;
the slope MLP keeps its numbers; the generic numerics live in ``nets.numerics``."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from petridish.motifs import Cell, SigmoidSlope
from petridish.motifs.base import Motif, has_activation
from petridish.motifs.slope import sigmoid_slope_activation
from petridish.nets import MotifMLP, SlopeMLP, build_network, network_names
from petridish.nets.mlp import MLP_NETWORK


def test_slope_mlp_is_the_mlp_with_the_slope_hook_bit_for_bit() -> None:
    net = SlopeMLP((4, 3, 3, 2))
    assert net.motif is SigmoidSlope and net.input_shape == (4,) and net.label_shape == (2,)
    params = net.init(jax.random.PRNGKey(0), 1.0)
    x = jax.random.normal(jax.random.PRNGKey(1), (6, 4))
    slope = jnp.float32(1.7)
    h = x
    for w, b in params[:-1]:
        h = jax.nn.sigmoid(slope * (h @ w + b))  # the paper's formula, written out
    expected = h @ params[-1][0] + params[-1][1]
    np.testing.assert_array_equal(net.apply(params, slope, x), expected)
    generic = MotifMLP((4, 3, 3, 2), SigmoidSlope)
    np.testing.assert_array_equal(generic.apply(params, slope, x), expected)


def test_the_slope_hook_is_the_slope_activation() -> None:
    x, c = jnp.linspace(-3.0, 3.0, 7), jnp.float32(0.6)
    np.testing.assert_array_equal(SigmoidSlope.activation(c, x), sigmoid_slope_activation(c, x))
    np.testing.assert_array_equal(SigmoidSlope(0.6)(x), SigmoidSlope.activation(c, x))
    assert has_activation(SigmoidSlope) and not has_activation(Cell)
    assert not has_activation(Motif)  # type: ignore[type-abstract]
    with pytest.raises(NotImplementedError, match="no activation"):
        Motif.activation(0.0, x)


def test_mlp_codes_and_bad_blueprints() -> None:
    net = SlopeMLP()
    codes = net.codes([SigmoidSlope(0.5), SigmoidSlope(2.0)])
    assert codes.dtype == np.float32 and codes.tolist() == [0.5, 2.0]
    # The defaults of the contract: no trimming, equal costs, no chunks, one device.
    assert net.trim(codes) is codes and net.motif_cost(codes).tolist() == [0.0, 0.0]
    assert net.predict_chunk is None and net.shard_motifs is False
    with pytest.raises(ValueError, match="runs SigmoidSlope motifs, got Cell"):
        net.codes([Cell.from_recipe({"h_new_0": {"op": "linear", "input": ["x"]}})])
    with pytest.raises(ValueError, match="no activation"):
        MotifMLP((2, 1, 2), Cell)
    with pytest.raises(ValueError, match="layer_sizes"):
        SlopeMLP((2, 0, 2))


def test_registry_builds_the_built_in_networks() -> None:
    from petridish import DishConfig
    from petridish.nets import CellNet

    assert {MLP_NETWORK, "cell"} <= set(network_names())
    assert build_network(MLP_NETWORK, DishConfig.for_slopes()) == MotifMLP(
        (10, 1, 1, 10), SigmoidSlope
    )
    cell = build_network("cell", DishConfig.for_cells(seq_len=5, max_nodes=7))
    assert cell == CellNet(max_nodes=7, seq_len=5)
    assert cell.input_shape == (5, 10) and cell.predict_chunk == 64 and cell.shard_motifs


def test_numerics_are_re_exported_from_their_old_modules() -> None:
    from petridish.nets import cell, mlp, numerics

    assert cell.safe_mean_loss is numerics.safe_mean_loss
    assert cell.isolate_nonfinite_grad is numerics.isolate_nonfinite_grad
    assert mlp.bce_with_logits is numerics.bce_with_logits
    logits, labels = jnp.array([0.0, 100.0, -100.0]), jnp.array([1.0, 1.0, 0.0])
    np.testing.assert_allclose(numerics.bce_with_logits(logits, labels), np.log(2) / 3, rtol=1e-6)
    scores = jnp.array([1.0, jnp.nan, 3.0])
    assert float(numerics.safe_mean_loss(scores)) == 2.0
    grad = jax.grad(lambda s: numerics.safe_mean_loss(s))(scores)
    assert grad.tolist() == [0.5, 0.0, 0.5]
