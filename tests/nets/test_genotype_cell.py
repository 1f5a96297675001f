"""The genotype cell network: native highway steps equal to the primitive executor, as a
network and inside a whole dish fit (parity with ``CellNet`` on the same parameters)."""

from __future__ import annotations

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


def test_apply_equals_the_primitive_executor(nets: tuple[CellNet, GenotypeCellNet]) -> None:
    prim, net = nets
    cells = _genotypes(3, 5, seed=3)
    params = prim.init(jax.random.PRNGKey(0), 0.5)
    x = jax.random.normal(jax.random.PRNGKey(1), (4, 7, 10))  # (batch, T, in)
    native = net.trim(net.codes(cells))
    for cell, code in zip(cells, native, strict=True):
        (p_code,) = cell_codes([cell], prim.max_nodes, prim.max_inputs, prim.max_slots)
        want = prim.apply(params, jnp.asarray(p_code), x)
        np.testing.assert_allclose(net.apply(params, jnp.asarray(code), x), want, atol=2e-5)


def test_registered_for_the_dish() -> None:
    cfg = DishConfig.for_cells(network=GENOTYPE_CELL_NETWORK, max_nodes=36, max_slots=16)
    assert isinstance(build_network(cfg.network, cfg), GenotypeCellNet)
    assert cfg.describe().startswith("DishConfig.for_cells() with network='genotype_cell'")


def test_a_dish_fit_matches_the_primitive_network() -> None:
    """Same seed, same cells, both networks: the same synthetic data and scores (second-order
    fit through the whole inner loop), so the native network is a faster equal."""
    cells = _genotypes(6, 4, seed=5)
    losses = np.linspace(4.5, 5.5, len(cells))
    held = _genotypes(4, 4, seed=6)
    base = dict(
        inner_steps=3,
        outer_steps=2,
        n_samples=4,
        seq_len=4,
        max_nodes=28,
        max_slots=12,
        max_inputs=6,
        retries=0,
        motif_batch=6,
    )
    prim = Dish(DishConfig.for_cells(**base)).fit(cells, losses, seed=0)  # type: ignore[arg-type]
    native = Dish(
        DishConfig.for_cells(network=GENOTYPE_CELL_NETWORK, **base)  # type: ignore[arg-type]
    ).fit(cells, losses, seed=0)
    for group in (cells, held):
        got, want = native.predict(group).scores, prim.predict(group).scores
        assert np.all(np.isfinite(want)) and np.ptp(want) > 0  # a real, non-constant score
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)
