"""The inner loop as pure functions: train one motif-network on synthetic data, score it.

Everything here is a function of explicit arrays, so the whole inner training run can be
differentiated with respect to the synthetic data (second order: the gradient flows
through every Adam step). Batching over motifs is ``jax.vmap`` over the motif codes; the
shared initial parameters are broadcast, never mixed, so network i never sees network j.
"""

from __future__ import annotations

from dataclasses import dataclass

import jax
import jax.numpy as jnp
import optax

from petridish.dish.devices import spread
from petridish.dish.tasks import task_data
from petridish.nets.base import MotifNet, Params
from petridish.nets.numerics import bce_with_logits, isolate_nonfinite_grad


@dataclass(frozen=True)
class InnerSettings:
    """Static settings of the inner loop (hashable: part of the compile-cache key)."""

    net: MotifNet
    lr: float
    l2: float
    steps: int
    eps_root: float
    shards: int = 1  # devices the motif axis is split over (``petridish.dish.devices``)
    # What the network is trained and scored on (``DishConfig.task``, ``dish.tasks``).
    task: str = "labels"

    def optimizer(self) -> optax.GradientTransformation:
        """Adam with L2 added to the gradient (PyTorch ``weight_decay`` semantics)."""
        return optax.chain(
            optax.add_decayed_weights(self.l2),
            optax.scale_by_adam(b1=0.9, b2=0.999, eps=1e-8, eps_root=self.eps_root),
            optax.scale(-self.lr),
        )


def train_motif(
    settings: InnerSettings, params0: Params, code: jax.Array, x: jax.Array, y: jax.Array
) -> Params:
    """Full-batch Adam on BCE for ``settings.steps`` steps from ``params0``; ``x``: (n, in)."""
    opt = settings.optimizer()

    def loss(p: Params) -> jax.Array:
        return bce_with_logits(settings.net.apply(p, code, x), y)

    def step(
        carry: tuple[Params, optax.OptState], _: None
    ) -> tuple[tuple[Params, optax.OptState], None]:
        p, state = carry
        grads = jax.grad(loss)(p)
        updates, state = opt.update(grads, state, p)
        return (optax.apply_updates(p, updates), state), None

    # Not unrolled: on CPU unrolling made the program slower and the compile far longer.
    (params, _), _ = jax.lax.scan(step, (params0, opt.init(params0)), None, length=settings.steps)
    return params


def score_motif(
    settings: InnerSettings,
    params0: Params,
    code: jax.Array,
    x_train: jax.Array,
    x_val: jax.Array,
    labels: jax.Array,
) -> jax.Array:
    """One motif's dish score: BCE on the synthetic validation set after inner training.

    ``settings.task`` says what the network is trained and scored on (``tasks.task_data``):
    the fixed ``labels`` (the paper), or with ``"next_step"`` the next step of x_train in
    training and of x_val in scoring (of ``labels`` only the shape is read), so the score
    depends on the data through the targets too.

    The synthetic inputs pass through ``isolate_nonfinite_grad``: should this motif's
    backward pass overflow, it adds nothing to the shared meta-gradient instead of NaN.
    """
    x_train, x_val = isolate_nonfinite_grad(x_train), isolate_nonfinite_grad(x_val)
    params = train_motif(settings, params0, code, *task_data(settings.task, x_train, labels))
    inputs, targets = task_data(settings.task, x_val, labels)
    return bce_with_logits(settings.net.apply(params, code, inputs), targets)


def score_motifs(
    settings: InnerSettings,
    params0: Params,
    codes: jax.Array,
    x_train: jax.Array,
    x_val: jax.Array,
    labels: jax.Array,
) -> jax.Array:
    """Scores of many motifs at once: ``codes`` (motifs, ...) -> (motifs,).

    ``params0`` carries a leading axis of initial weights (inits, ...); each motif is
    trained from every one of them and its score is the mean over inits. With
    ``settings.shards > 1`` the motifs are split over that many devices (same scores up to
    float summation order).
    """

    # The synthetic inputs are broadcast to one copy per motif (and init) on purpose: under
    # ``vmap`` an UNbatched input would reach ``isolate_nonfinite_grad`` with its cotangent
    # already summed over motifs, so one motif's overflowing backward pass would zero the
    # whole meta-gradient instead of only its own share. Batched, each motif is isolated.
    per_init = jax.vmap(score_motif, in_axes=(None, None, 0, 0, 0, None))
    per_motif_init = jax.vmap(per_init, in_axes=(None, 0, None, 0, 0, None))

    def local(p0: Params, cs: jax.Array, xt: jax.Array, xv: jax.Array, y: jax.Array) -> jax.Array:
        shape = (jax.tree_util.tree_leaves(p0)[0].shape[0], cs.shape[0])  # (inits, motifs)
        xt, xv = (
            jnp.broadcast_to(xt, (*shape, *xt.shape)),
            jnp.broadcast_to(xv, (*shape, *xv.shape)),
        )
        return jnp.mean(per_motif_init(settings, p0, cs, xt, xv, y), axis=0)  # (motifs,)

    return spread(local, settings.shards, params0, codes, x_train, x_val, labels)


def zscore(x: jax.Array) -> jax.Array:
    """Z-normalise across motifs (population std; the epsilon guards constant input)."""
    return (x - jnp.mean(x)) / (jnp.std(x) + 1e-8)
