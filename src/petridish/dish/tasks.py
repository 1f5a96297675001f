"""What the synthetic data asks of a motif-network, and where it starts (issue 17).

``DishConfig.task`` says what each motif-network is trained and scored on:

* ``"labels"`` (the paper): fixed random binary labels, one per sample (and step), drawn
  once per fit; the synthetic inputs are learned, the labels never change.
* ``"next_step"``: next-step prediction on the synthetic sequences themselves. The network
  reads steps ``0..T-2`` of each sequence and at step t is trained towards
  ``sigmoid(x[:, t+1, :out] / NEXT_STEP_TAU)``; the last step is an input only (it has no
  successor; wrapping around to step 0 would ask for a memory of the whole sequence, another
  task). The training targets come from x_train and the validation targets from x_val, so
  the meta-gradient reaches the data through the targets too: the learned data defines the
  task instead of fitting inputs to labels that mean nothing.

Why ``sigmoid(x / 1)``: binary cross-entropy against a soft target ``sigmoid(z)`` is
minimised at the logit ``z`` (its gradient in the logit is ``sigmoid(logit) - sigmoid(z)``),
so with tau 1 the best prediction is the next input value itself, in the units of the
unit-variance data: a regression on the next step, kept in the BCE family of the paper's
score. A smaller tau sharpens the targets towards ``sign(x)`` (binary labels that happen to
be predictable) and makes the target's derivative in x, ``sigmoid' / tau``, large near 0.
The BCE of soft targets has a floor (their entropy) that depends on the data but not on
the network, so it shifts every network's score by the same amount and leaves the ranking
and the z-scored outer loss as they are.

``DishConfig.data_init`` says where the synthetic sequences start:

* ``"normal"`` (the paper): i.i.d. N(0, 1) numbers; x_train and x_val start equal.
* ``"teacher"``: sequences of a small random recurrent network (``teacher_sequences``), so
  the data starts with structure across time for a recurrent cell to model; x_train and
  x_val are two independent sets of sequences of the same teacher (independent noise), so
  with ``"next_step"`` the validation score measures prediction on new sequences of the
  process the network was trained on.

``DishConfig.data_param`` says what the outer loop learns: the synthetic inputs
(``"inputs"``, the paper) or, with a teacher start, the teacher's weights (``"teacher"``:
``teacher_run`` of the learned weights and the fixed noise of ``teacher_draw``; 16 x 16 + 16
x features numbers instead of every input, and every sequence stays a sample of one
recurrent process).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

__all__ = [
    "DATA_INITS",
    "DATA_PARAMS",
    "NEXT_STEP_TAU",
    "TASKS",
    "check_time_axis",
    "next_step_targets",
    "task_data",
    "teacher_draw",
    "teacher_run",
    "teacher_sequences",
]

TASKS = ("labels", "next_step")
DATA_INITS = ("normal", "teacher")
# What the outer loop learns: the synthetic inputs ("inputs", free numbers or with
# ``data_rank`` coordinates in a frame) or the teacher's weights ("teacher").
DATA_PARAMS = ("inputs", "teacher")

# Temperature of the next-step targets (see the module docstring for the choice).
NEXT_STEP_TAU = 1.0

# The teacher: a leaky echo-state network h_t = (1 - LEAK) h_{t-1} + LEAK tanh(W h_{t-1} +
# NOISE eps_t), W (HIDDEN, HIDDEN) Gaussian scaled to spectral radius RADIUS. Without the
# leak such a W has eigenvalues all around the disk and the sequences have no lag-1
# correlation on average (measured in a prototype: -0.05); with leak 0.2 the dynamics'
# eigenvalues lie in a disk around 0.8 of radius 0.19, up to 0.99 (time scales of 1 to
# about 100 steps). Measured (``teacher_sequences`` with keys 0-4, 20 sequences of 10 steps,
# 10 features): lag-1 autocorrelation 0.87, lag-5 0.49, lag-9 0.34 (i.i.d. N(0, 1): 0.00);
# a third of the variance lies within a sequence. The prototype's other leaks: 0.3 gave
# lag-1/5/9 0.78/0.27/0.04, 0.1 gave 0.93/0.68/0.51 with only a fifth of the variance within
# a sequence. The noise is small: tanh's input (W h + noise) has a std of about 0.3, near
# its linear range.
TEACHER_HIDDEN = 16
TEACHER_RADIUS = 0.97
TEACHER_LEAK = 0.2
TEACHER_NOISE = 0.3
# Steps run and dropped before the sequences start, so they start in the teacher's
# stationary regime, not at its zero state (the slowest mode decays by 0.99 a step).
TEACHER_BURN_IN = 100


def check_time_axis(
    what: str,
    network: str,
    input_shape: tuple[int, ...],
    label_shape: tuple[int, ...],
    *,
    targets_from_inputs: bool,
) -> None:
    """``ValueError`` naming ``what`` unless the network reads sequences of >= 2 steps,
    ``(T, in)``; with ``targets_from_inputs`` (``"next_step"``) also labels ``(T, out)``
    with ``out <= in``, so the targets can be read off the next step's inputs."""
    ok = len(input_shape) == 2 and input_shape[0] >= 2
    need = "a time axis of >= 2 steps (seq_len > 1)"
    if targets_from_inputs:
        ok = ok and len(label_shape) == 2 and label_shape[1] <= input_shape[1]
        need += " and no more outputs than input features"
    if not ok:
        raise ValueError(
            f"{what} needs a network with {need}; the {network} network has input shape "
            f"{input_shape} and label shape {label_shape}"
        )


def next_step_targets(x: jax.Array, out_dim: int, tau: float = NEXT_STEP_TAU) -> jax.Array:
    """Soft binary next-step targets ``sigmoid(x[:, t+1, :out_dim] / tau)`` for steps
    ``t = 0..T-2``: ``x`` (n, T, in) -> (n, T-1, out_dim)."""
    return jax.nn.sigmoid(x[:, 1:, :out_dim] / tau)


def task_data(task: str, x: jax.Array, labels: jax.Array) -> tuple[jax.Array, jax.Array]:
    """``(inputs, targets)`` a network is trained or scored on for ``task``.

    ``"labels"``: ``(x, labels)`` as they are. ``"next_step"``: steps 0..T-2 of ``x``
    (n, T-1, in) and ``next_step_targets(x)`` (n, T-1, out); of ``labels`` (n, T, out) only
    the shape is read (out).
    """
    if task == "labels":
        return x, labels
    if task == "next_step":
        return x[:, :-1], next_step_targets(x, labels.shape[-1])
    raise ValueError(f"unknown dish task {task!r}; known: {list(TASKS)}")


def teacher_sequences(
    key: jax.Array, n: int, seq_len: int, features: int, sets: int = 2
) -> tuple[jax.Array, ...]:
    """``sets`` independent sets of ``n`` sequences ``(n, seq_len, features)`` of one random
    teacher RNN (constants ``TEACHER_*``), drawn from ``key`` alone.

    The teacher's weights, its readout (``features`` random directions of its state) and
    every set's driving noise come from ``key``. The sequences are standardised per feature
    to mean 0 and variance 1 over all sets and steps together (one transformation, so the
    sets stay samples of the same process, in the units of the paper's N(0, 1) data).
    ``teacher_run(*teacher_draw(...))``: the two halves are what ``data_param="teacher"``
    learns (the weights) and keeps fixed (the noise).
    """
    weights, eps = teacher_draw(key, n, seq_len, features, sets)
    return teacher_run(weights, eps, sets)


def teacher_draw(
    key: jax.Array, n: int, seq_len: int, features: int, sets: int = 2
) -> tuple[dict[str, jax.Array], jax.Array]:
    """The random teacher of ``teacher_sequences``: its weights ``{"w": (H, H), "readout":
    (H, features)}`` (w scaled to spectral radius ``TEACHER_RADIUS``) and the driving noise
    ``(TEACHER_BURN_IN + seq_len, sets * n, H)`` of all its sequences, from ``key``."""
    k_w, k_out, k_noise = jax.random.split(key, 3)
    hidden = TEACHER_HIDDEN
    w = jax.random.normal(k_w, (hidden, hidden)) / np.sqrt(hidden)
    # Eigenvalues on the host (JAX has them on CPU only); a deterministic function of w.
    radius = float(np.max(np.abs(np.linalg.eigvals(np.asarray(w, np.float64)))))
    w = w * (TEACHER_RADIUS / radius)
    readout = jax.random.normal(k_out, (hidden, features)) / np.sqrt(hidden)
    eps = TEACHER_NOISE * jax.random.normal(k_noise, (TEACHER_BURN_IN + seq_len, sets * n, hidden))
    return {"w": w, "readout": readout}, eps


def teacher_run(
    weights: dict[str, jax.Array], eps: jax.Array, sets: int = 2
) -> tuple[jax.Array, ...]:
    """The teacher with ``weights`` driven by ``eps`` (``teacher_draw``): ``sets`` sets of
    ``n = eps.shape[1] // sets`` sequences ``(n, T, features)``, T = steps after the burn-in,
    standardised together (see ``teacher_sequences``). Differentiable in ``weights``."""
    w, readout = weights["w"], weights["readout"]

    def step(h: jax.Array, e: jax.Array) -> tuple[jax.Array, jax.Array]:
        h = (1.0 - TEACHER_LEAK) * h + TEACHER_LEAK * jnp.tanh(h @ w.T + e)  # (sets * n, hidden)
        return h, h

    h0 = jnp.zeros((eps.shape[1], w.shape[0]), eps.dtype)
    _, states = jax.lax.scan(step, h0, eps)  # (steps, sets * n, hidden)
    x = jnp.einsum("tbh,hf->btf", states[TEACHER_BURN_IN:], readout)  # (sets * n, T, features)
    x = (x - jnp.mean(x, axis=(0, 1))) / jnp.std(x, axis=(0, 1))
    n = eps.shape[1] // sets
    return tuple(x[i * n : (i + 1) * n] for i in range(sets))
