"""The genotype cell network: native highway steps equal to the primitive executor, as a
network (values and gradients) and inside a dish (parity with ``CellNet`` on the same
parameters)."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from petridish import Dish, DishConfig
from petridish.motifs.cell import Cell, random_genotype
from petridish.nets.cell import NATIVE_COLUMNS, CellNet, cell_codes
from petridish.nets.genotype_cell import (
    GENOTYPE_CELL_NETWORK,
    GenotypeCellNet,
    native_node_counts,
)
from petridish.nets.registry import build_network

LSTM_LIKE = {
    "z_lin": {"op": "linear", "input": ["x", "h_prev_0"]},
    "z": {"op": "activation_sigm", "input": ["z_lin"]},
    "h_new_0": {"op": "elementwise_prod", "input": ["z", "h_prev_0"]},
}


def _genotypes(n: int, nodes: int, seed: int) -> list[Cell]:
    rng = np.random.default_rng(seed)
    return [Cell.from_genotype(random_genotype(rng, nodes), "all") for _ in range(n)]


@pytest.fixture(scope="module")
def nets() -> tuple[CellNet, GenotypeCellNet]:
    sizes = dict(input_dim=10, hidden=3, output_dim=10, max_nodes=36, max_inputs=6, max_slots=16)
    return CellNet(**sizes), GenotypeCellNet(**sizes)  # type: ignore[arg-type]


def test_codes_trim_and_costs(nets: tuple[CellNet, GenotypeCellNet]) -> None:
    _, net = nets
    cells = _genotypes(2, 3, seed=0) + _genotypes(1, 5, seed=1)
    codes = net.codes(cells)
    assert codes.shape == (3, net.max_native, NATIVE_COLUMNS) and net.max_native == 8
    np.testing.assert_array_equal(native_node_counts(codes), [4, 4, 6])
    np.testing.assert_array_equal(net.motif_cost(codes), [4, 4, 6])
    assert net.trim(codes).shape == (3, 6, NATIVE_COLUMNS)
    assert net.trim(codes[:2]).shape == (2, 4, NATIVE_COLUMNS)


def test_rejects_what_it_cannot_run(nets: tuple[CellNet, GenotypeCellNet]) -> None:
    _, net = nets
    with pytest.raises(ValueError, match="genotype cells only"):
        net.codes([Cell.from_recipe(LSTM_LIKE)])
    with pytest.raises(ValueError):  # 12 genotype nodes: 66 primitive nodes > max_nodes 36
        net.codes(_genotypes(1, 12, seed=2))


def test_registered_for_the_dish() -> None:
    cfg = DishConfig.for_cells(network=GENOTYPE_CELL_NETWORK, max_nodes=36, max_slots=16)
    assert isinstance(build_network(cfg.network, cfg), GenotypeCellNet)
    assert cfg.describe().startswith("DishConfig.for_cells() with network='genotype_cell'")


def test_values_and_gradients_equal_the_primitive_executor(
    nets: tuple[CellNet, GenotypeCellNet],
) -> None:
    """The same function of the same parameters: equal logits, and equal gradients in the
    weights and in the inputs (what the dish's inner and outer loops differentiate)."""
    prim, net = nets
    (cell,) = _genotypes(1, 4, seed=7)
    params = prim.init(jax.random.PRNGKey(3), 0.5)
    x = jax.random.normal(jax.random.PRNGKey(4), (3, 5, 10))  # (batch, T, in)
    (p_code,) = cell_codes([cell], prim.max_nodes, prim.max_inputs, prim.max_slots)
    n_code = net.trim(net.codes([cell]))[0]

    def run(model: CellNet, code: np.ndarray) -> Any:
        def logits(p: Any, xx: jax.Array) -> jax.Array:
            return model.apply(p, jnp.asarray(code), xx)  # (batch, T, out)

        def both(p: Any, xx: jax.Array) -> Any:
            total = lambda q, y: jnp.sum(jnp.tanh(logits(q, y)))  # noqa: E731
            return logits(p, xx), jax.grad(total, argnums=(0, 1))(p, xx)

        return jax.jit(both)(params, x)

    (lp, (gp_w, gp_x)), (ln, (gn_w, gn_x)) = run(prim, p_code), run(net, n_code)
    assert ln.shape == lp.shape == (3, 5, 10)
    np.testing.assert_allclose(ln, lp, atol=2e-5)
    np.testing.assert_allclose(gn_x, gp_x, atol=2e-5)
    for name in ("w_x", "w_h", "b", "w_out", "b_out"):
        np.testing.assert_allclose(gn_w[name], gp_w[name], atol=2e-5)
    assert float(jnp.max(jnp.abs(gp_w["w_h"]))) > 0


def test_dish_scores_match_the_primitive_network() -> None:
    """Same seed, same cells, both networks in a dish: the same scores (inner Adam training
    on the same synthetic data from the same initial weights)."""
    # 2-node genotypes (16 primitive nodes) keep the primitive network's compile short;
    # zero outer steps: the outer step differentiates the same function (gradient test above).
    cells = _genotypes(5, 2, seed=5)
    losses = np.linspace(4.5, 5.5, len(cells))
    base = dict(
        inner_steps=3,
        outer_steps=0,
        n_samples=4,
        seq_len=4,
        max_nodes=16,
        max_slots=8,
        max_inputs=3,
        retries=0,
    )
    prim = Dish(DishConfig.for_cells(**base)).fit(cells, losses, seed=0)
    native = Dish(DishConfig.for_cells(network=GENOTYPE_CELL_NETWORK, **base)).fit(
        cells, losses, seed=0
    )
    got, want = native.predict(cells).scores, prim.predict(cells).scores
    assert np.all(np.isfinite(want)) and np.ptp(want) > 0  # a real, non-constant score
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)
