"""The dish executor's native genotype node equals the primitive-node form of the cell."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from petridish.motifs.cell import DARTS_V1, ENAS, Cell, random_genotype
from petridish.nets.cell import CellNet, cell_codes, native_codes

CELLS = {
    "darts_v1": Cell.from_genotype(DARTS_V1, "all"),
    "enas": Cell.from_genotype(ENAS, "leaves"),
    "random12": Cell.from_genotype(random_genotype(np.random.default_rng(4), 12), "all"),
}


@pytest.fixture(scope="module")
def net() -> CellNet:
    return CellNet(input_dim=10, hidden=3, output_dim=10, max_nodes=68, max_inputs=12, max_slots=28)


@pytest.mark.parametrize("name", sorted(CELLS))
def test_apply_native_equals_apply(net: CellNet, name: str) -> None:
    cell = CELLS[name]
    params = net.init(jax.random.PRNGKey(1), 0.5)
    x = jax.random.normal(jax.random.PRNGKey(2), (4, 6, 10))
    (code,) = cell_codes([cell], net.max_nodes, net.max_inputs, net.max_slots)
    primitive = net.apply(params, jnp.asarray(code), x)
    native = net.apply_native(params, jnp.asarray(native_codes([cell])[0]), x)
    assert native.shape == primitive.shape == (4, 6, 10)
    np.testing.assert_allclose(native, primitive, atol=2e-5)


def test_native_is_one_step_per_genotype_node() -> None:
    cell = CELLS["random12"]
    assert cell.n_nodes > 50  # 5 primitive nodes per genotype node (4 for identity)
    assert native_codes([cell]).shape[1] == 13  # s0 plus the 12 genotype nodes
