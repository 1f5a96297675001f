"""Network-independent numerics of the inner loop: a stable BCE and NaN isolation.

Contract
--------
* ``bce_with_logits(logits, labels)``: mean binary cross-entropy of ``sigmoid(logits)``
  against ``{0, 1}`` labels of the same shape, computed without overflow.
* ``safe_mean_loss(scores)``: mean of the finite entries (0 if none); non-finite entries
  get no gradient from it.
* ``isolate_nonfinite_grad(x)``: identity whose backward pass zeroes a non-finite
  cotangent (reverse mode only).

They were defined in ``petridish.nets.cell`` and ``petridish.nets.mlp``, which re-export
them.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

__all__ = ["bce_with_logits", "isolate_nonfinite_grad", "safe_mean_loss"]


def bce_with_logits(logits: jax.Array, labels: jax.Array) -> jax.Array:
    """Mean binary cross-entropy of sigmoid(logits) against {0,1} labels, numerically stable."""
    return jnp.mean(jnp.maximum(logits, 0) - logits * labels + jnp.log1p(jnp.exp(-jnp.abs(logits))))


def safe_mean_loss(scores: jax.Array) -> jax.Array:
    """Mean of the finite entries of ``scores`` (0 if none); non-finite cells get no gradient
    from this mean. Pair it with ``isolate_nonfinite_grad`` (see there) for the gradient of
    anything the cells share."""
    ok = jnp.isfinite(scores)
    total = jnp.sum(jnp.where(ok, scores, 0.0))
    return total / jnp.maximum(jnp.sum(ok), 1).astype(scores.dtype)


@jax.custom_vjp
def isolate_nonfinite_grad(x: jax.Array) -> jax.Array:
    """Identity whose backward pass zeroes the cotangent when any entry of it is non-finite.

    Call it on a shared input INSIDE the per-cell function (under ``vmap``), e.g. on the
    synthetic data at the top of the per-motif score: a cell whose backward pass went
    NaN/inf then contributes zero to the shared gradient instead of poisoning the sum over
    cells. ``CellNet`` already keeps a diverged cell's forward table finite, so a zero
    cotangent from ``safe_mean_loss`` normally suffices; this guards against a backward pass
    that overflows by itself (``0 * inf`` there is NaN again). Reverse mode only (custom_vjp:
    no ``jax.jvp``/``jacfwd`` through it).
    """
    return x


def _isolate_fwd(x: jax.Array) -> tuple[jax.Array, None]:
    return x, None


def _isolate_bwd(_: None, ct: jax.Array) -> tuple[jax.Array]:
    return (jnp.where(jnp.all(jnp.isfinite(ct)), ct, jnp.zeros_like(ct)),)


isolate_nonfinite_grad.defvjp(_isolate_fwd, _isolate_bwd)
