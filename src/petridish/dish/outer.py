"""The outer (meta) step: z-scored MSE between dish scores and ground truth, differentiated
through the whole unrolled inner loop into the synthetic inputs.

What is learned (``DishConfig``): both input tensors (the paper), the validation inputs only
(``learn_train=False``: first order, the inner loop is run but not differentiated), and
either as free numbers or as k coordinates in a fixed random ``Frame`` around the initial
draw (``data_rank``); or the weights of the teacher RNN whose sequences both tensors are
(``data_param="teacher"``, ``TeacherFrame``).

``outer_step`` is one pure function of explicit arrays; ``compiled`` turns it into an
ahead-of-time compiled executable cached by (static settings, argument shapes), so a second
fit with the same shapes, by any ``Dish`` object, compiles nothing.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import jax
import jax.numpy as jnp
import optax

from petridish._logging import logger
from petridish.dish.inner import InnerSettings, score_motifs
from petridish.dish.tasks import teacher_run
from petridish.nets.base import Params

Synthetic = dict[str, jax.Array]  # {"x_train": (n, in), "x_val": (n, in)}
# What the outer optimiser learns, keyed like ``Synthetic``: the synthetic inputs themselves
# (``DishConfig.data_rank == 0``), or the (k,) coordinates ``a`` of each tensor in its
# ``Frame`` (data_rank k).
Learned = dict[str, jax.Array]


@dataclass(frozen=True)
class Frame:
    """The fixed part of a low-dimensional parameterisation of the synthetic data
    (``DishConfig.data_rank`` k > 0): tensor ``name`` is ``x0[name] + reshape(basis[name] @
    a[name])``, ``x0[name]`` (n, ...) its initial random draw, ``basis[name]`` (numel, k).
    A pytree (its arrays are leaves), so it can carry a leading (attempts,) axis and pass
    through ``jax.vmap`` and the compile cache like any argument."""

    x0: Synthetic
    basis: Synthetic

    def materialise(self, learned: Learned) -> Synthetic:
        """``x0 + reshape(basis @ a)`` per tensor (one attempt: no leading axis)."""
        return {
            name: self.x0[name] + jnp.reshape(self.basis[name] @ a, self.x0[name].shape)
            for name, a in learned.items()
        }


jax.tree_util.register_dataclass(Frame, data_fields=["x0", "basis"], meta_fields=[])


def draw_frame(key: jax.Array, x0: Synthetic, rank: int) -> tuple[Frame, Learned]:
    """A ``Frame`` of rank ``rank`` around ``x0`` and its starting coordinates (zeros, so
    the start is exactly ``x0``).

    The basis entries are N(0, 1/rank): a coordinate vector with entries of size 1 (what a
    few Adam steps of lr 1 give) moves every input by about 1, the std of the N(0, 1)
    initial draw, whatever the rank; and an outer step of Adam at ``outer_lr`` moves each
    input by about ``outer_lr``, as it does on the free inputs. One basis per tensor, from
    ``key``.
    """
    keys = jax.random.split(key, len(x0))
    basis = {
        name: jax.random.normal(k, (x.size, rank), x.dtype) / jnp.sqrt(jnp.asarray(rank, x.dtype))
        for k, (name, x) in zip(keys, sorted(x0.items()), strict=True)
    }
    start = {name: jnp.zeros((rank,), x.dtype) for name, x in x0.items()}
    return Frame(x0=dict(x0), basis=basis), start


@dataclass(frozen=True)
class TeacherFrame:
    """The fixed part of the teacher parameterisation (``DishConfig.data_param ==
    "teacher"``): the driving noise ``eps`` (steps, 2 n, H) of ``tasks.teacher_draw``. What
    is learned is the teacher's weights ``{"w", "readout"}``; x_train and x_val are the two
    sets of sequences ``tasks.teacher_run`` makes of them. A pytree like ``Frame``."""

    eps: jax.Array

    def materialise(self, learned: Learned) -> Synthetic:
        """The two sets of sequences of the teacher with weights ``learned``."""
        x_train, x_val = teacher_run(learned, self.eps, sets=2)
        return {"x_train": x_train, "x_val": x_val}


jax.tree_util.register_dataclass(TeacherFrame, data_fields=["eps"], meta_fields=[])

# A fixed part of a parameterisation of the synthetic data: the one place that knows how
# the learned numbers become the synthetic inputs (``materialise``).
AnyFrame = Frame | TeacherFrame


def materialise(learned: Learned, frame: AnyFrame | None) -> Synthetic:
    """The synthetic inputs that ``learned`` stands for: itself without a frame, else what
    the frame makes of it (one attempt: no leading axis)."""
    if frame is None:
        return learned
    return frame.materialise(learned)


@dataclass(frozen=True)
class OuterSettings:
    """Static settings of the outer optimiser (hashable)."""

    lr: float
    decay: float
    decay_first: int
    decay_every: int
    l2: float
    learn_validation: bool
    loss: str = "zmse"
    # False: x_train is not learned and gets no gradient (first order, see ``outer_step``).
    learn_train: bool = True

    def learning_rate(self, count: jax.Array) -> jax.Array:
        """Step decay: ``lr * decay**k``, k = 0 before ``decay_first``, +1 every ``decay_every``."""
        k = jnp.where(
            count < self.decay_first, 0, 1 + (count - self.decay_first) // self.decay_every
        )
        return self.lr * self.decay**k

    def optimizer(self) -> optax.GradientTransformation:
        return optax.chain(
            optax.add_decayed_weights(self.l2),
            optax.scale_by_adam(),
            optax.scale_by_learning_rate(self.learning_rate),
        )


def _masked_zscore(x: jax.Array, ok: jax.Array) -> jax.Array:
    """Z-scores of ``x`` over the entries where ``ok`` (population std); 0 elsewhere."""
    count = jnp.maximum(jnp.sum(ok), 1).astype(x.dtype)
    x = jnp.where(ok, x, 0.0)
    mean = jnp.sum(x) / count
    var = jnp.sum(jnp.where(ok, (x - mean) ** 2, 0.0)) / count
    return jnp.where(ok, (x - mean) / (jnp.sqrt(var) + 1e-8), 0.0)


def _pairwise_logistic(z_s: jax.Array, targets: jax.Array, ok: jax.Array) -> jax.Array:
    """Mean over ordered pairs (i better than j by ground truth) of
    ``log(1 + exp(-(z_j - z_i)))`` on z-scored dish scores: a rank loss that only asks the
    dish to order pairs, so a few extreme ground-truth losses cannot dominate it."""
    better = (targets[:, None] < targets[None, :]) & ok[:, None] & ok[None, :]  # (i, j)
    margin = z_s[None, :] - z_s[:, None]  # z_j - z_i, positive when ordered right
    pair_loss = jax.nn.softplus(-margin)
    n_pairs = jnp.maximum(jnp.sum(better), 1).astype(z_s.dtype)
    return jnp.sum(jnp.where(better, pair_loss, 0.0)) / n_pairs


def _masked_ranks(x: jax.Array, ok: jax.Array) -> jax.Array:
    """Rank of each entry among the ``ok`` ones (0-based, ties averaged); 0 elsewhere."""
    less = (x[None, :] < x[:, None]) & ok[None, :]
    equal = (x[None, :] == x[:, None]) & ok[None, :]
    ranks = jnp.sum(less, axis=1) + 0.5 * (jnp.sum(equal, axis=1) - 1)
    return jnp.where(ok, ranks.astype(x.dtype), 0.0)


OUTER_LOSSES = ("zmse", "zmse_rank", "pairwise")


def meta_loss(
    synthetic: Synthetic,
    inner: InnerSettings,
    params0: Params,
    codes: jax.Array,
    targets: jax.Array,
    labels: jax.Array,
    loss: str = "zmse",
) -> jax.Array:
    """How badly the dish scores of ``codes`` (motifs,) disagree with ground-truth ``targets``.

    ``loss="zmse"`` (the paper): MSE between the z-scored dish scores and the z-scored
    targets. ``"zmse_rank"``: the same against z-scored RANKS of the targets (robust to
    heavy-tailed ground truth). ``"pairwise"``: a logistic loss on every pair of motifs
    ordered by the targets (see ``_pairwise_logistic``).

    A motif whose dish score is not finite (a cell that diverged in the inner loop), or
    whose target is NaN (padding of the motif batch), is left out of the z-scores, ranks,
    pairs and means, so it passes no gradient and cannot poison the others'. With every
    entry finite, ``"zmse"`` is exactly ``mean((z(scores) - z(targets))**2)``.
    """
    if loss not in OUTER_LOSSES:
        raise ValueError(f"unknown outer loss {loss!r}; known: {list(OUTER_LOSSES)}")
    scores = score_motifs(inner, params0, codes, synthetic["x_train"], synthetic["x_val"], labels)
    ok = jnp.isfinite(scores) & jnp.isfinite(targets)  # (motifs,)
    targets = jnp.where(ok, targets, 0.0)
    z_s = _masked_zscore(scores, ok)
    if loss == "pairwise":
        return _pairwise_logistic(z_s, targets, ok)
    if loss == "zmse_rank":
        targets = _masked_ranks(targets, ok)
    z_t = _masked_zscore(targets, ok)
    count = jnp.maximum(jnp.sum(ok), 1).astype(scores.dtype)
    return jnp.sum(jnp.where(ok, (z_s - z_t) ** 2, 0.0)) / count


def meta_grad(
    inner: InnerSettings,
    outer: OuterSettings,
    synthetic: Learned,
    params0: Params,
    codes: jax.Array,
    targets: jax.Array,
    labels: jax.Array,
    noise: Synthetic | None = None,
    frame: AnyFrame | None = None,
) -> tuple[jax.Array, Learned]:
    """The outer loss and its gradient with respect to the learned state ``synthetic``.

    ``synthetic`` is the synthetic inputs themselves, or with a ``frame``
    (``DishConfig.data_rank`` > 0) their (k,) coordinates in it (``materialise``). With
    ``noise`` (arrays shaped like the synthetic inputs), both are taken at the inputs plus
    ``noise``: the data must rank the motifs under small perturbations, a regulariser
    (``DishConfig.outer_noise``).

    With ``outer.learn_train`` False the training inputs enter the loss behind
    ``stop_gradient``: no tangent reaches the inner loop, so JAX differentiates only the
    scoring forward pass on x_val (first order: the x_val gradient is the second-order one,
    since x_val enters only there too) and the x_train gradient is zero.
    """

    def loss_at(learned: Learned) -> jax.Array:
        syn = materialise(learned, frame)
        if noise is not None:
            syn = {k: syn[k] + noise[k] for k in syn}
        if not outer.learn_train:
            syn = {**syn, "x_train": jax.lax.stop_gradient(syn["x_train"])}
        return meta_loss(syn, inner, params0, codes, targets, labels, outer.loss)

    return jax.value_and_grad(loss_at)(synthetic)


def outer_step(
    inner: InnerSettings,
    outer: OuterSettings,
    synthetic: Learned,
    opt_state: optax.OptState,
    params0: Params,
    codes: jax.Array,
    targets: jax.Array,
    labels: jax.Array,
    noise: Synthetic | None = None,
    frame: AnyFrame | None = None,
) -> tuple[Learned, optax.OptState, jax.Array]:
    """One meta-gradient step (``meta_grad``, then the outer optimiser); returns (new learned
    state, new optimiser state, loss before the step). With ``learn_train`` False x_train
    keeps its value. With ``learn_validation`` False x_val gets a zero gradient but, as
    measured before ``learn_train`` existed, still the outer L2 step (it shrinks; kept so
    those fits stay reproducible)."""
    loss, grads = meta_grad(inner, outer, synthetic, params0, codes, targets, labels, noise, frame)
    if not outer.learn_validation:
        grads = {**grads, "x_val": jnp.zeros_like(grads["x_val"])}
    updates, opt_state = outer.optimizer().update(grads, opt_state, synthetic)
    if not outer.learn_train:
        # Zero gradients alone would still move x_train: the outer L2 term is added to the
        # gradient before Adam, which turns even a tiny l2 * x into steps of about lr.
        updates = {**updates, "x_train": jnp.zeros_like(updates["x_train"])}
    return optax.apply_updates(synthetic, updates), opt_state, loss


def outer_steps(
    inner: InnerSettings,
    outer: OuterSettings,
    synthetic: Learned,
    opt_state: optax.OptState,
    params0: Params,
    codes: jax.Array,
    targets: jax.Array,
    labels: jax.Array,
    noise: Synthetic | None = None,
    frame: AnyFrame | None = None,
) -> tuple[Learned, optax.OptState, jax.Array]:
    """``outer_step`` for several independent fit attempts at once: ``synthetic``,
    ``opt_state``, ``params0``, ``labels`` (and ``noise``, ``frame``) carry a leading
    (attempts,) axis; the motif batch is shared. Returns the stacked new state and the loss
    per attempt."""

    def one(
        syn: Learned,
        state: optax.OptState,
        p0: Params,
        y: jax.Array,
        eps: Synthetic | None,
        fr: AnyFrame | None,
    ) -> tuple[Learned, optax.OptState, jax.Array]:
        return outer_step(inner, outer, syn, state, p0, codes, targets, y, eps, fr)

    return jax.vmap(one)(synthetic, opt_state, params0, labels, noise, frame)


# --- compile cache -----------------------------------------------------------------------

_CACHE: dict[Any, Any] = {}
_LOCK = threading.Lock()


@dataclass
class CompileStats:
    """Counters of the process-wide compile cache (for benchmarks and tests)."""

    compiles: int = 0
    hits: int = 0
    compile_seconds: float = 0.0


STATS = CompileStats()


def _signature(args: tuple[Any, ...]) -> tuple[Any, ...]:
    leaves, treedef = jax.tree_util.tree_flatten(args)
    return (treedef, tuple((jnp.shape(x), jnp.result_type(x)) for x in leaves))


def compiled(name: str, fn: Callable[..., Any], static: tuple[Any, ...], *args: Any) -> Any:
    """Call ``fn(*static, *args)`` through an AOT-compiled executable cached process-wide.

    ``static`` must be hashable; the cache key is (name, static, tree structure, shapes,
    dtypes). Compile seconds are counted in ``STATS``.
    """
    key = (name, static, _signature(args))
    with _LOCK:
        exe = _CACHE.get(key)
    if exe is None:
        t0 = time.perf_counter()
        n_static = len(static)
        jitted = jax.jit(fn, static_argnums=tuple(range(n_static)))
        exe = jitted.lower(*static, *args).compile()
        dt = time.perf_counter() - t0
        with _LOCK:
            _CACHE[key] = exe
            STATS.compiles += 1
            STATS.compile_seconds += dt
        logger.debug("compiled %s in %.2fs", name, dt)
    else:
        with _LOCK:
            STATS.hits += 1
    return exe(*args)
