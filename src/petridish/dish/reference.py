"""A plain-loop reference of the outer step: one motif-network at a time.

Not used by ``Dish``; it exists to pin the batched engine (parity tests) and to measure
what batching buys (``benchmarks/bench_dish_fit.py``). Each motif's score and its
vector-Jacobian product are computed by one compiled single-network program, called once
per motif; the z-scored MSE and its gradient are then combined by the chain rule.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp

from petridish.dish.inner import InnerSettings, score_motif, zscore
from petridish.dish.outer import Synthetic
from petridish.nets.base import Params


@functools.partial(jax.jit, static_argnums=0)
def _score_and_grad_one(
    inner: InnerSettings,
    params0: Params,
    code: jax.Array,
    synthetic: Synthetic,
    labels: jax.Array,
) -> tuple[jax.Array, Synthetic]:
    # params0 here is ONE set of initial weights (no inits axis).
    def f(s: Synthetic) -> jax.Array:
        return score_motif(inner, params0, code, s["x_train"], s["x_val"], labels)

    return jax.value_and_grad(f)(synthetic)


def looped_meta_gradient(
    inner: InnerSettings,
    synthetic: Synthetic,
    params0: Params,
    codes: jax.Array,
    targets: jax.Array,
    labels: jax.Array,
) -> tuple[jax.Array, Synthetic]:
    """(meta-loss, gradient wrt synthetic) with a Python loop over motifs and inits."""
    n_inits = jax.tree_util.tree_leaves(params0)[0].shape[0]
    scores, grads = [], []
    for i in range(codes.shape[0]):
        per_init = [
            _score_and_grad_one(
                inner,
                jax.tree_util.tree_map(lambda a, e=e: a[e], params0),
                codes[i],
                synthetic,
                labels,
            )
            for e in range(n_inits)
        ]
        scores.append(sum(s for s, _ in per_init) / n_inits)
        grads.append(jax.tree_util.tree_map(lambda *g: sum(g) / n_inits, *[g for _, g in per_init]))
    score_vec = jnp.stack(scores)  # (motifs,)

    def loss_of_scores(s: jax.Array) -> jax.Array:
        return jnp.mean((zscore(s) - zscore(targets)) ** 2)

    loss, dl_ds = jax.value_and_grad(loss_of_scores)(score_vec)
    total = jax.tree_util.tree_map(lambda *g: sum(dl_ds[i] * g[i] for i in range(len(g))), *grads)
    return loss, total
