"""The motif axis split over two CPU devices gives the one-device scores and meta-gradient.

JAX creates extra CPU devices only before its first operation, so the two-device run is a
fresh subprocess (``use_cpu_cores(2)`` first thing)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from petridish.dish.devices import motif_shards, use_cpu_cores

_SCRIPT = textwrap.dedent(
    """
    import json, sys
    import petridish
    assert petridish.use_cpu_cores(2) == 2
    import jax, jax.numpy as jnp, numpy as np
    from dataclasses import replace
    from petridish import DishConfig, Dish
    from petridish.dish.core import encode, inner_settings
    from petridish.dish.inner import score_motifs
    from petridish.motifs import Cell
    from petridish.motifs.cell import random_cell

    rng = np.random.default_rng(3)
    cells = [random_cell(rng, n_nodes=int(rng.integers(3, 7))) for _ in range(5)]  # odd: padded
    cfg = DishConfig.for_cells(inner_steps=4, max_nodes=8, max_slots=24)
    dish = Dish(cfg).initialize(0, Cell)
    codes = jnp.asarray(encode(cfg, Cell, cells))
    # A fixed cotangent on the scores instead of the z-scored meta-loss: the z-scores of
    # nearly equal scores amplify float-order noise; the score VJP is what the split changes.
    u = jnp.asarray(rng.normal(size=5), jnp.float32)
    out = {}
    for shards in (1, 2):
        inner = replace(inner_settings(cfg), shards=shards)

        def weighted(xt, xv):
            s = score_motifs(inner, dish.theta_init, codes, xt, xv, dish.labels)
            return jnp.sum(jnp.where(jnp.isfinite(s), s, 0.0) * u), s

        (_, scores), (g_train, g_val) = jax.jit(
            jax.value_and_grad(weighted, argnums=(0, 1), has_aux=True)
        )(dish.synthetic["x_train"], dish.synthetic["x_val"])
        out[shards] = {"scores": np.asarray(scores).tolist(),
                       "grad": np.asarray(g_train).ravel().tolist(),
                       "grad_val": np.asarray(g_val).ravel().tolist()}
    out["default_shards"] = inner_settings(cfg).shards
    out["slope_shards"] = inner_settings(DishConfig.for_slopes()).shards
    json.dump(out, sys.stdout)
    """
)


def test_two_devices_give_the_one_device_scores_and_gradients() -> None:
    run = subprocess.run(
        [sys.executable, "-c", _SCRIPT], capture_output=True, text=True, timeout=600
    )
    assert run.returncode == 0, run.stderr[-3000:]
    out = json.loads(run.stdout)
    assert out["default_shards"] == 2  # the cell dish uses both devices by itself
    assert out["slope_shards"] == 1  # the slope dish stays on one
    one, two = out["1"], out["2"]
    assert len(two["scores"]) == 5
    np.testing.assert_allclose(two["scores"], one["scores"], rtol=1e-5)
    for key in ("grad", "grad_val"):
        ref = np.asarray(one[key])
        assert np.all(np.isfinite(ref)) and np.any(ref != 0)
        np.testing.assert_allclose(two[key], ref, rtol=1e-4, atol=1e-5 * np.abs(ref).max())


def test_in_process_counts_and_bad_counts() -> None:
    import jax

    # Whatever this process asked for first (a CLI test calls use_cpu_cores() itself), a
    # late call changes nothing and reports the count in effect; only cells are split.
    assert use_cpu_cores(1) == len(jax.devices("cpu"))
    from petridish.nets import CellNet, SlopeMLP

    assert motif_shards(CellNet()) == jax.local_device_count()
    assert motif_shards(SlopeMLP()) == 1
    with pytest.raises(ValueError, match="positive int, got 0"):
        use_cpu_cores(0)
