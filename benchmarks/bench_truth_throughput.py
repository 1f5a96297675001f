"""Throughput of the MNIST-MLP ground truth: K models batched vs. the same K one at a time.

Run: ``python benchmarks/bench_truth_throughput.py [--models K] [--n-train N] [--epochs E]``.

Both paths train the same K (slope, seed) models with the same protocol through
``petridish.truth.mnist_mlp.train_slopes``; "batched" uses one compiled program over all K
models (``chunk=K``), "one at a time" the same code with ``chunk=1``. Each path is run
twice: the first call includes compilation, the second is the steady state; compile time
is reported as the difference. Uses the real MNIST files when found (``--data-dir``,
``PETRIDISH_DATA_DIR`` or ``../shared/data``), else random images of the same shape (speed
does not depend on the pixel values). To pin it to one core, as in the README numbers:
``taskset -c 1 env XLA_FLAGS="--xla_cpu_multi_thread_eigen=false
intra_op_parallelism_threads=1" python benchmarks/bench_truth_throughput.py``.

A roofline line closes the report: the float32 rate of one large matrix product on this
machine (the most any batching can reach) against the rate a one-at-a-time model-step
already achieves (its matrix-product FLOPs over its measured time); their ratio bounds
the speed-up batching can possibly give here.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import optax

from petridish.truth.mnist_mlp import Protocol, forward, init_params, make_optimizer, train_slopes

Data = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]


def _data(data_dir: str | None, n_train: int, n_val: int) -> tuple[Data, str]:
    from petridish.data.mnist import MnistUnavailableError, load_mnist, paper_split

    shared = Path(__file__).resolve().parents[2] / "shared" / "data"
    candidates = [data_dir, os.environ.get("PETRIDISH_DATA_DIR"), str(shared)]
    for candidate in candidates:
        if candidate is None:
            continue
        try:
            return paper_split(load_mnist(candidate, download=False)), f"MNIST from {candidate}"
        except MnistUnavailableError:
            continue
    rng = np.random.default_rng(0)
    x = rng.random((n_train + n_val, 784), dtype=np.float32)  # (images, 784)
    y = rng.integers(0, 10, n_train + n_val).astype(np.int32)
    return (x[:n_train], y[:n_train], x[n_train:], y[n_train:]), "random images (no MNIST found)"


def _timed(slopes: list[float], protocol: Protocol, data: Data, chunk: int) -> float:
    start = time.perf_counter()
    results = train_slopes(slopes, protocol, data=data, seeds=[0], chunk=chunk)
    assert len(results) == len(slopes)
    return time.perf_counter() - start


def _gemm_gflops(n: int = 2048, repeats: int = 5) -> float:
    """Attainable float32 GFLOP/s: the best of ``repeats`` jitted ``(n, n) @ (n, n)``."""
    a = jnp.ones((n, n), jnp.float32)
    mm = jax.jit(lambda x: x @ x)
    jax.block_until_ready(mm(a))
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        jax.block_until_ready(mm(a))
        best = min(best, time.perf_counter() - start)
    return 2 * n**3 / best / 1e9


def _step_flops(batch: int, sizes: tuple[int, ...] = (784, 100, 100, 10)) -> float:
    """Matrix-product FLOPs of one training step of the MLP: forward, the weight gradients
    and the hidden-input gradients (not the first layer's input gradient)."""
    pairs = list(zip(sizes[:-1], sizes[1:], strict=True))
    forward = sum(2 * batch * a * b for a, b in pairs)
    weight_grads = forward
    input_grads = sum(2 * batch * a * b for a, b in pairs[1:])
    return float(forward + weight_grads + input_grads)


def _plain_single_step_ms(protocol: Protocol, data: Data, repeats: int = 3) -> float:
    """Per-step time of a plain jitted single-model epoch (no vmap), as a reference.

    This is what a hand-written one-model trainer costs; ``train_slopes(chunk=1)`` runs the
    batched program with a models axis of 1, which XLA on CPU executes more slowly.
    """
    opt = make_optimizer(protocol.lr, protocol.l2)
    steps, batch = protocol.steps_per_epoch, protocol.batch_size
    x = jnp.asarray(data[0][: protocol.n_train])  # (n_train, 784)
    y = jnp.asarray(data[1][: protocol.n_train])  # (n_train,)

    def loss(params: tuple[jax.Array, ...], xb: jax.Array, yb: jax.Array) -> jax.Array:
        logits = forward(params, jnp.float32(0.5), xb)  # (batch, 10)
        return optax.softmax_cross_entropy_with_integer_labels(logits, yb).mean()

    @jax.jit
    def epoch(params: tuple[jax.Array, ...], state: optax.OptState, key: jax.Array) -> jax.Array:
        order = jax.random.permutation(key, x.shape[0])[: steps * batch].reshape(steps, batch)

        def step(
            carry: tuple[tuple[jax.Array, ...], optax.OptState], idx: jax.Array
        ) -> tuple[tuple[tuple[jax.Array, ...], optax.OptState], jax.Array]:
            p, s = carry
            value, grads = jax.value_and_grad(loss)(p, x[idx], y[idx])
            updates, s = opt.update(grads, s, p)
            return (optax.apply_updates(p, updates), s), value

        _, values = jax.lax.scan(step, (params, state), order)
        return values.mean()

    params = init_params(jax.random.key(0), (784, *protocol.hidden, 10))
    state = opt.init(params)
    epoch(params, state, jax.random.key(0)).block_until_ready()  # compile
    start = time.perf_counter()
    for r in range(repeats):
        epoch(params, state, jax.random.key(r)).block_until_ready()
    return (time.perf_counter() - start) / (repeats * steps) * 1e3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=int, default=8, help="K, models trained (default 8)")
    parser.add_argument("--n-train", type=int, default=10_000, help="training images")
    parser.add_argument("--n-val", type=int, default=2_000, help="validation images")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--data-dir", default=None)
    args = parser.parse_args()

    data, source = _data(args.data_dir, args.n_train, args.n_val)
    protocol = Protocol(
        "bench",
        epochs=args.epochs,
        batch_size=50,
        seeds=1,
        n_train=args.n_train,
        n_val=args.n_val,
    )
    k = args.models
    slopes = np.linspace(0.1, 2.0, k).tolist()
    steps = protocol.epochs * protocol.steps_per_epoch
    print(f"jax {jax.__version__} on {jax.devices()[0].platform}, data: {source}")
    print(
        f"K={k} models, {protocol.epochs} epoch(s) x {protocol.steps_per_epoch} steps of batch "
        f"{protocol.batch_size} on {protocol.n_train} images, eval on {protocol.n_val}"
    )

    # First call compiles (one-at-a-time: compiles once, then reuses for every model).
    first_batched = _timed(slopes, protocol, data, chunk=k)
    batched = _timed(slopes, protocol, data, chunk=k)
    first_single = _timed(slopes[:1], protocol, data, chunk=1)
    single_one = _timed(slopes[:1], protocol, data, chunk=1)
    single = _timed(slopes, protocol, data, chunk=1)

    batched_rate = k / batched
    single_rate = k / single
    print(
        f"compile: batched {first_batched - batched:.1f} s, one-at-a-time "
        f"{first_single - single_one:.1f} s (excluded below)"
    )
    print(
        f"batched:       {batched:8.2f} s  {batched_rate:8.3f} models/s  "
        f"{batched / (k * steps) * 1e3:.3f} ms per model-step"
    )
    print(
        f"one at a time: {single:8.2f} s  {single_rate:8.3f} models/s  "
        f"{single / (k * steps) * 1e3:.3f} ms per model-step"
    )
    print(f"speed-up (batched / one at a time): {batched_rate / single_rate:.2f}x")
    plain = _plain_single_step_ms(protocol, data)
    per_step_batched = batched / (k * steps) * 1e3
    print(
        f"reference: plain single-model program (no vmap, training steps only) "
        f"{plain:.3f} ms per step; plain / batched per model-step: {plain / per_step_batched:.2f}x "
        "(batched figure includes evaluation)"
    )
    peak = _gemm_gflops()
    achieved = _step_flops(protocol.batch_size) / (plain * 1e-3) / 1e9
    print(
        f"roofline: one 2048^2 matmul runs at {peak:.0f} GFLOP/s here; a one-at-a-time "
        f"model-step already does {achieved:.0f} GFLOP/s of matrix products, so no batching "
        f"can be more than {peak / achieved:.1f}x faster on this machine"
    )


if __name__ == "__main__":
    main()
