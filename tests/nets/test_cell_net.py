"""The cell executor: parity with the NumPy reference, batching, independence, padding,
numerical isolation of diverged cells, and the code contract."""

from __future__ import annotations

import functools
import json
import zipfile
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from petridish.motifs.cell import (
    DARTS_V2,
    OPS,
    Cell,
    random_cell,
    random_genotype,
    reference_step,
)
from petridish.nets.cell import (
    CellNet,
    cell_codes,
    isolate_nonfinite_grad,
    reference_weights,
    safe_mean_loss,
)
from petridish.nets.mlp import bce_with_logits
from shared_paths import SHARED_REFERENCE

LOGS = SHARED_REFERENCE / "nasbench_nlp_wikitext2_logs.zip"

# Small hand-written cells (always available, cover every op and 1-3 states).
LSTM_LIKE = {
    "i": {"op": "linear", "input": ["x", "h_prev_0"]},
    "i_act": {"op": "activation_sigm", "input": ["i"]},
    "g": {"op": "linear", "input": ["x", "h_prev_0"]},
    "g_act": {"op": "activation_tanh", "input": ["g"]},
    "c": {"op": "elementwise_prod", "input": ["i_act", "g_act"]},
    "h_new_1": {"op": "elementwise_sum", "input": ["c", "h_prev_1"]},
    "h_tanh": {"op": "activation_tanh", "input": ["h_new_1"]},
    "o": {"op": "linear", "input": ["x", "h_prev_0", "h_prev_1"]},
    "o_act": {"op": "activation_sigm", "input": ["o"]},
    "h_new_0": {"op": "elementwise_prod", "input": ["o_act", "h_tanh"]},
}
BLEND_LEAKY = {
    "z": {"op": "linear", "input": ["x", "h_prev_0"]},
    "z_act": {"op": "activation_sigm", "input": ["z"]},
    "a": {"op": "linear", "input": ["x", "h_prev_2"]},
    "a_act": {"op": "activation_leaky_relu", "input": ["a"]},
    "h_new_1": {"op": "linear", "input": ["h_prev_1", "h_prev_0"]},
    "h_new_2": {"op": "activation_tanh", "input": ["h_new_1"]},
    "h_new_0": {"op": "blend", "input": ["z_act", "a_act", "h_prev_0"]},
}


def _cell(recipe: dict[str, Any]) -> Cell:
    return Cell.from_recipe(recipe)


@functools.cache
def _logged_cells() -> tuple[Cell, ...]:
    """A few real NAS-Bench-NLP cells covering blend, prod and three states."""
    if not LOGS.is_file():
        return ()
    with zipfile.ZipFile(LOGS) as z:
        names = sorted(m for m in z.namelist() if m.endswith(".json"))
        cells = [Cell.from_recipe(json.loads(z.read(m))["recepie"]) for m in names]
    picked: list[Cell] = []
    wanted: list[Callable[[Cell], bool]] = [
        lambda c: any(op == "blend" for _, op, _ in c.nodes),
        lambda c: any(op == "elementwise_prod" for _, op, _ in c.nodes),
        lambda c: c.n_states == 3,
        lambda c: any(op == "activation_leaky_relu" for _, op, _ in c.nodes),
        lambda c: c.n_nodes == max(d.n_nodes for d in cells),
    ]
    for want in wanted:
        picked.append(next(c for c in cells if want(c) and c not in picked))
    return tuple(picked)


def _reference_logits(net: CellNet, params: Any, cell: Cell, x: np.ndarray) -> np.ndarray:
    """NumPy loop over time with ``reference_step`` and the matching weights."""
    weights, biases = reference_weights(net, params, cell)
    w_out, b_out = np.asarray(params["w_out"]), np.asarray(params["b_out"])
    h = np.zeros((3, x.shape[0], net.hidden), x.dtype)
    out = []
    for t in range(x.shape[1]):
        h = reference_step(cell, x[:, t], h, weights, biases)
        out.append(h[0] @ w_out + b_out)
    return np.stack(out, axis=1)  # (B, T, out)


def _data(net: CellNet, batch: int = 4, steps: int = 6, seed: int = 1) -> jax.Array:
    return jax.random.normal(jax.random.PRNGKey(seed), (batch, steps, net.input_dim))


@functools.cache
def _jit_apply(net: CellNet) -> Callable[..., jax.Array]:
    return jax.jit(net.apply)


def _check_parity(net: CellNet, cells: list[Cell], scale: float = 0.7) -> None:
    params = net.init(jax.random.PRNGKey(0), scale)
    x = _data(net)
    codes = net.codes(cells)
    for cell, code in zip(cells, codes, strict=True):
        got = np.asarray(_jit_apply(net)(params, jnp.asarray(code), x))
        want = _reference_logits(net, params, cell, np.asarray(x))
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5, err_msg=str(cell.to_recipe()))


# ------------------------------------------------------------------------------ parity


@pytest.mark.usefixtures("x64")
def test_parity_handwritten_cells() -> None:
    _check_parity(CellNet(), [_cell(LSTM_LIKE), _cell(BLEND_LEAKY)])  # shares the compile below


@pytest.mark.usefixtures("x64")
def test_parity_nasbench_recipes() -> None:
    cells = _logged_cells()
    if not cells:
        pytest.skip(f"NAS-Bench-NLP logs not found at {LOGS} (optional shared resource)")
    _check_parity(CellNet(), list(cells))


@pytest.mark.usefixtures("x64")
def test_parity_darts_genotype() -> None:
    cell = Cell.from_genotype(DARTS_V2)
    net = CellNet(max_nodes=cell.n_nodes, max_inputs=8, max_slots=cell.n_weights)
    _check_parity(net, [cell], scale=0.5)


@pytest.mark.usefixtures("x64")
def test_parity_random_cells_all_ops_on_x() -> None:
    # input_dim == hidden so that ops other than linear may read x directly, as the
    # reference does; relu and mean come from the genotype-only extra ops.
    rng = np.random.default_rng(3)
    cells = [random_cell(rng, n_nodes=int(rng.integers(2, 9)), ops=OPS) for _ in range(8)]
    net = CellNet(input_dim=3, hidden=3, output_dim=4, max_nodes=8)
    _check_parity(net, cells)


# --------------------------------------------------------------------------- batching


def _mixed_cells() -> list[Cell]:
    rng = np.random.default_rng(5)
    cells = [_cell(LSTM_LIKE), _cell(BLEND_LEAKY)]
    cells += [Cell.from_genotype(random_genotype(rng, 2)) for _ in range(2)]
    cells += list(_logged_cells()[:2])
    return cells


MIXED_NET = CellNet(max_nodes=16, max_inputs=3, max_slots=36)


def _mixed_loss(p: Any, code: jax.Array, xx: jax.Array) -> tuple[jax.Array, jax.Array]:
    logits = MIXED_NET.apply(p, code, xx)
    y = (jnp.sin(jnp.arange(logits.size).reshape(logits.shape)) > 0).astype(logits.dtype)
    return bce_with_logits(logits, y), logits


@functools.cache
def _mixed_value_and_grad(batched: bool) -> Callable[..., Any]:
    """Jitted ((loss, logits), (grad params, grad x)); shared by tests to compile once."""
    vg = jax.value_and_grad(_mixed_loss, argnums=(0, 2), has_aux=True)
    return jax.jit(jax.vmap(vg, in_axes=(None, 0, None)) if batched else vg)


@pytest.mark.usefixtures("x64")
def test_batched_equals_one_at_a_time_forward_and_gradients() -> None:
    cells = _mixed_cells()
    codes = jnp.asarray(MIXED_NET.codes(cells))
    params = MIXED_NET.init(jax.random.PRNGKey(0), 0.7)
    x = _data(MIXED_NET)
    (_, fwd), (g_params, g_x) = _mixed_value_and_grad(True)(params, codes, x)
    for i in range(len(cells)):
        (_, fwd_i), (g_p, g_x_i) = _mixed_value_and_grad(False)(params, codes[i], x)
        np.testing.assert_allclose(fwd[i], fwd_i, rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(g_x[i], g_x_i, rtol=1e-5, atol=1e-5)
        for name in params:
            np.testing.assert_allclose(g_params[name][i], g_p[name], rtol=1e-5, atol=1e-5)


@pytest.mark.usefixtures("x64")
def test_changing_one_code_never_changes_another_cell() -> None:
    cells = _mixed_cells()
    codes = np.asarray(MIXED_NET.codes(cells))
    params = MIXED_NET.init(jax.random.PRNGKey(0), 1.0)
    x = _data(MIXED_NET)
    (_, before), (_, g_before) = _mixed_value_and_grad(True)(params, jnp.asarray(codes), x)
    swapped = codes.copy()
    swapped[2] = MIXED_NET.codes([_cell(LSTM_LIKE)])[0]  # cell 2 becomes another cell
    (_, after), (_, g_after) = _mixed_value_and_grad(True)(params, jnp.asarray(swapped), x)
    assert not np.allclose(before[2], after[2])
    keep = np.array([i for i in range(len(cells)) if i != 2])
    np.testing.assert_array_equal(np.asarray(before)[keep], np.asarray(after)[keep])
    np.testing.assert_array_equal(np.asarray(g_before)[keep], np.asarray(g_after)[keep])


@pytest.mark.usefixtures("x64")
def test_padding_invariance() -> None:
    cell = _cell(BLEND_LEAKY)
    small = CellNet()  # 15 nodes x 3 inputs: shares the compile of the parity tests
    large = CellNet(max_nodes=24, max_inputs=6)
    params = large.init(jax.random.PRNGKey(0), 1.0)  # a superset of small's parameters
    x = _data(small)
    a = _jit_apply(small)(params, jnp.asarray(small.codes([cell])[0]), x)
    b = _jit_apply(large)(params, jnp.asarray(large.codes([cell])[0]), x)
    assert large.codes([cell]).shape == (1, 24, 8)
    np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-9)


# --------------------------------------------------------------------- numerical safety

# h_new_0 = p * p with p = linear(x, h_prev_0): doubly exponential growth, overflows fast.
SQUARING = {
    "p": {"op": "linear", "input": ["x", "h_prev_0"]},
    "h_new_0": {"op": "elementwise_prod", "input": ["p", "p"]},
}
TANH = {
    "p": {"op": "linear", "input": ["x", "h_prev_0"]},
    "h_new_0": {"op": "activation_tanh", "input": ["p"]},
}


def test_huge_values_never_leak_from_unselected_ops() -> None:
    # Inputs ~1e19: an unmasked product of two of them would be inf in float32.
    net = CellNet(max_nodes=4)
    params = net.init(jax.random.PRNGKey(0), 1.0)
    code = jnp.asarray(net.codes([_cell(TANH)])[0])
    x = 1e19 * _data(net)
    logits, grad_x = jax.jit(jax.value_and_grad(lambda xx: jnp.sum(net.apply(params, code, xx))))(x)
    assert bool(jnp.all(jnp.isfinite(logits)))
    assert bool(jnp.all(jnp.isfinite(grad_x)))


def test_diverged_cell_is_nan_and_does_not_poison_the_batch_gradient() -> None:
    net = CellNet(max_nodes=4)
    sigm = {name: {**spec} for name, spec in TANH.items()}
    sigm["h_new_0"]["op"] = "activation_sigm"
    cells = [_cell(TANH), _cell(SQUARING), _cell(sigm)]
    codes = jnp.asarray(net.codes(cells))
    params = net.init(jax.random.PRNGKey(0), 3.0)
    x = 3.0 * _data(net, steps=6)
    y = jnp.ones((x.shape[0], x.shape[1], net.output_dim))

    def score(code: jax.Array, xx: jax.Array) -> jax.Array:
        return bce_with_logits(net.apply(params, code, isolate_nonfinite_grad(xx)), y)

    # Per-cell scores and gradients; the diverged cell's own gradient is finite too (its
    # value table is kept finite and its NaN logits pass no cotangent back).
    s, g = jax.jit(jax.vmap(jax.value_and_grad(score, argnums=1), in_axes=(0, None)))(codes, x)
    assert bool(jnp.isnan(s[1])) and bool(jnp.all(jnp.isfinite(s[jnp.array([0, 2])])))
    assert bool(jnp.all(jnp.isfinite(g)))
    # The masked batch mean: its gradient is the good cells' mean gradient, not NaN.
    loss, grad = jax.jit(
        jax.value_and_grad(lambda xx: safe_mean_loss(jax.vmap(score, in_axes=(0, None))(codes, xx)))
    )(x)
    np.testing.assert_allclose(loss, (s[0] + s[2]) / 2, rtol=1e-6)
    np.testing.assert_allclose(grad, (g[0] + g[2]) / 2, rtol=1e-5, atol=1e-7)


def test_safe_mean_loss_and_isolation_helpers() -> None:
    s = jnp.array([1.0, jnp.nan, 3.0, jnp.inf])
    assert float(safe_mean_loss(s)) == 2.0
    assert float(safe_mean_loss(jnp.array([jnp.nan]))) == 0.0
    g = jax.grad(lambda v: jnp.sum(isolate_nonfinite_grad(v) * jnp.array([1.0, jnp.inf])))(
        jnp.ones(2)
    )
    np.testing.assert_array_equal(g, np.zeros(2))
    g = jax.grad(lambda v: jnp.sum(isolate_nonfinite_grad(v) * 2.0))(jnp.ones(2))
    np.testing.assert_array_equal(g, np.full(2, 2.0))


# ----------------------------------------------------------------------------- contract


def test_codes_are_the_packed_program_and_sizes_are_checked() -> None:
    cells = [_cell(LSTM_LIKE), _cell(BLEND_LEAKY)]
    codes = cell_codes(cells, max_nodes=12, max_inputs=4, max_slots=12)
    np.testing.assert_array_equal(codes, Cell.program(cells, max_nodes=12, max_inputs=4).packed())
    assert codes.dtype == np.int32 and codes.shape == (2, 12, 6)
    with pytest.raises(ValueError, match="max_nodes"):
        cell_codes(cells, max_nodes=5, max_inputs=3, max_slots=36)
    with pytest.raises(ValueError, match="max_slots"):
        cell_codes(cells, max_nodes=12, max_inputs=3, max_slots=4)
    net = CellNet(max_nodes=6)
    with pytest.raises(ValueError, match="blueprint allows"):
        net.apply(net.init(jax.random.PRNGKey(0), 1.0), jnp.zeros((7, 5), jnp.int32), _data(net))


def test_blueprint_is_hashable_and_init_is_shared_and_deterministic() -> None:
    net = CellNet()
    assert hash(net) == hash(CellNet()) and net == CellNet()
    p1, p2 = net.init(jax.random.PRNGKey(0), 0.5), net.init(jax.random.PRNGKey(0), 0.5)
    shapes = {k: v.shape for k, v in p1.items()}
    assert shapes == {
        "w_x": (36, 10, 3),
        "w_h": (36, 3, 3),
        "b": (15, 3),
        "w_out": (3, 10),
        "b_out": (10,),
    }
    for k in p1:
        np.testing.assert_array_equal(p1[k], p2[k])
    with pytest.raises(ValueError):
        CellNet(hidden=0)
    with pytest.raises(ValueError):
        CellNet(node_loop="bad")  # type: ignore[arg-type]


@pytest.mark.slow  # non-default configurations; ~7 s of compiles
def test_unrolled_node_loop_and_remat_variants_agree() -> None:
    cell = _cell(BLEND_LEAKY)
    base = CellNet(max_nodes=cell.n_nodes)
    params = base.init(jax.random.PRNGKey(0), 1.0)
    x = _data(base, steps=3)
    code = jnp.asarray(base.codes([cell])[0])

    def grad(net: CellNet) -> jax.Array:
        return jax.jit(jax.grad(lambda xx: jnp.sum(net.apply(params, code, xx) ** 2)))(x)

    unrolled = CellNet(max_nodes=cell.n_nodes, node_loop="unroll")
    np.testing.assert_allclose(
        jax.jit(unrolled.apply)(params, code, x), jax.jit(base.apply)(params, code, x), 1e-5, 1e-5
    )
    # Remat changes what the backward pass stores, never the numbers.
    step_remat = CellNet(max_nodes=cell.n_nodes, remat="step")
    np.testing.assert_allclose(grad(step_remat), grad(base), rtol=1e-5, atol=1e-5)
