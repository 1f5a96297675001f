"""``nets.cell_ops``: the matrix-product node equals the executor's node formula."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from petridish.motifs.cell import OP_ID, Cell
from petridish.nets.cell_ops import cell_program, node_value_broadcast, node_value_matmul


@pytest.mark.parametrize("name", ["lstm", "gru"])
def test_matmul_node_equals_executor_node(name: str, cells: dict[str, Cell]) -> None:
    h, b = 5, 7
    code = jnp.asarray(Cell.program([cells[name]], max_inputs=3).packed()[0])
    m = code.shape[0]
    ks = jax.random.split(jax.random.PRNGKey(0), 4)
    params = {
        "w_x": jax.random.normal(ks[0], (12, h, h)),
        "w_h": jax.random.normal(ks[1], (12, h, h)),
        "b": jax.random.normal(ks[2], (m, h)),
    }
    prog = cell_program(code, params, 12, h)
    args = list(jax.random.normal(ks[3], (3, b, h)))  # (B, h) each
    pre = jnp.ones((b, h))
    ops_seen = set()
    for i in range(m):
        ops_seen.add(int(code[i, 0]))
        fields = (prog.used[i], prog.is_prod[i], prog.is_blend[i], prog.w_eff[i])
        mine = node_value_matmul(args, *fields, pre, prog.act[i])
        theirs = node_value_broadcast([a.T for a in args], *fields, pre.T, prog.act[i])
        np.testing.assert_allclose(np.asarray(mine), np.asarray(theirs).T, rtol=1e-5, atol=1e-5)
    assert OP_ID["linear"] in ops_seen and OP_ID["elementwise_prod"] in ops_seen
