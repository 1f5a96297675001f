"""The batched MNIST-MLP ground-truth trainer: parity, independence, determinism, Adam."""

from __future__ import annotations

import json
import math
import re

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from petridish.truth import mnist_mlp
from petridish.truth.mnist_mlp import (
    PROTOCOLS,
    Protocol,
    SlopeResult,
    get_protocol,
    init_params,
    make_optimizer,
    slope_table_from_results,
    train_one,
    train_slopes,
)
from shared_paths import SHARED_DATA

Data = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]
SHARED_MNIST = SHARED_DATA / "mnist"

# A small synthetic problem: 4 classes told apart by the sign pattern of 2 of 12 features.
SMALL = Protocol("small", epochs=2, batch_size=10, seeds=2, n_train=120, n_val=40, hidden=(8, 8))


@pytest.fixture(scope="module")
def data() -> Data:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(160, 12)).astype(np.float32)  # (images, features)
    y = ((x[:, 0] > 0).astype(np.int32) * 2 + (x[:, 1] > 0)).astype(np.int32)  # (images,)
    return x[:120], y[:120], x[120:], y[120:]


def _close(a: SlopeResult, b: SlopeResult, tol: float = 1e-5) -> None:
    assert (a.slope, a.seed) == (b.slope, b.seed)
    assert a.val_accuracy == pytest.approx(b.val_accuracy, abs=tol)
    assert a.val_loss == pytest.approx(b.val_loss, abs=tol, rel=tol)
    np.testing.assert_allclose(a.learning_curve, b.learning_curve, atol=tol)
    np.testing.assert_allclose(a.train_loss_curve, b.train_loss_curve, atol=tol, rtol=tol)


def test_batched_equals_one_at_a_time(data: Data) -> None:
    slopes = [0.3, 1.7]
    batched = train_slopes(slopes, SMALL, data=data, chunk=4)
    assert [(r.slope, r.seed) for r in batched] == [(0.3, 0), (0.3, 1), (1.7, 0), (1.7, 1)]
    for result in batched:
        single = train_one(result.slope, SMALL, seed=result.seed, data=data)
        _close(result, single)
    assert len(batched[0].learning_curve) == SMALL.epochs


def test_batched_params_equal_single_params(data: Data) -> None:
    x, y = jnp.asarray(data[0]), jnp.asarray(data[1])
    programs = mnist_mlp._programs(mnist_mlp._static_for(SMALL, 12, 4))
    slopes = jnp.asarray([0.2, 0.9, 1.5], jnp.float32)
    keys = jax.vmap(jax.random.key)(jnp.asarray([5, 6, 7], jnp.uint32))
    params, state = programs.init(keys)
    for epoch in range(2):
        params, state, _ = programs.epoch(params, state, slopes, keys, jnp.uint32(epoch), x, y)
    for i in range(3):
        p1, s1 = programs.init(keys[i : i + 1])
        for epoch in range(2):
            p1, s1, _ = programs.epoch(
                p1, s1, slopes[i : i + 1], keys[i : i + 1], jnp.uint32(epoch), x, y
            )
        for batched_leaf, single_leaf in zip(params, p1, strict=True):
            np.testing.assert_allclose(batched_leaf[i], single_leaf[0], atol=1e-5)


def test_result_independent_of_batch_mates(data: Data) -> None:
    # Same chunk size, so the same compiled program: alone (padded) vs with a neighbour.
    alone = train_slopes([0.5], SMALL, data=data, seeds=[3], chunk=2)
    paired = train_slopes([0.5, 1.9], SMALL, data=data, seeds=[3], chunk=2)
    _close(alone[0], paired[0])
    # A different neighbour with a different seed does not matter either.
    other = train_slopes([0.5], SMALL, data=data, seeds=[3, 11], chunk=2)
    _close(alone[0], other[0])


def test_deterministic_per_seed(data: Data) -> None:
    first = train_slopes([0.8], SMALL, data=data, seeds=[0, 1], chunk=2)
    again = train_slopes([0.8], SMALL, data=data, seeds=[0, 1], chunk=2)
    assert first[0].learning_curve == again[0].learning_curve
    assert first[0].val_loss == again[0].val_loss
    # Different seeds: different init and data order, so different losses.
    assert first[0].val_loss != first[1].val_loss
    # The default seeds are seed .. seed + protocol.seeds - 1.
    default = train_slopes([0.8], SMALL, data=data, seed=0, chunk=2)
    assert [r.seed for r in default] == [0, 1]
    assert default[1].val_loss == first[1].val_loss


def test_second_call_does_not_recompile(data: Data) -> None:
    train_slopes([0.4], SMALL, data=data, seeds=[0], chunk=3)
    programs = mnist_mlp._programs(mnist_mlp._static_for(SMALL, 12, 4))
    sizes = (programs.epoch._cache_size(), programs.evaluate._cache_size())  # type: ignore[attr-defined]
    hits = mnist_mlp._programs.cache_info().hits
    train_slopes([0.6], SMALL, data=data, seeds=[1], chunk=3)
    assert mnist_mlp._programs.cache_info().hits > hits
    assert (programs.epoch._cache_size(), programs.evaluate._cache_size()) == sizes  # type: ignore[attr-defined]


def test_adam_step_matches_numpy() -> None:
    lr, l2, b1, b2, eps = 0.01, 1e-5, 0.9, 0.999, 1e-8
    rng = np.random.default_rng(1)
    p = rng.normal(size=(5, 3))
    grads = [rng.normal(size=(5, 3)) for _ in range(2)]
    opt = make_optimizer(lr, l2)
    p_jax = jnp.asarray(p, jnp.float32)
    state = opt.init(p_jax)
    m = np.zeros_like(p)
    v = np.zeros_like(p)
    for t, g in enumerate(grads, start=1):
        updates, state = opt.update(jnp.asarray(g, jnp.float32), state, p_jax)
        p_jax = p_jax + updates
        # PyTorch Adam with weight_decay: L2 enters the gradient before the moments.
        g = g + l2 * p
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g**2
        p = p - lr * (m / (1 - b1**t)) / (np.sqrt(v / (1 - b2**t)) + eps)
        np.testing.assert_allclose(np.asarray(p_jax), p, rtol=1e-5, atol=1e-6)


def test_init_like_pytorch_linear() -> None:
    params = init_params(jax.random.key(0), (784, 100, 100, 10))
    assert [p.shape for p in params] == [(784, 100), (100,), (100, 100), (100,), (100, 10), (10,)]
    for w, fan_in in ((params[0], 784), (params[1], 784), (params[2], 100), (params[4], 100)):
        bound = 1 / math.sqrt(fan_in)
        assert float(jnp.max(jnp.abs(w))) <= bound
        assert float(jnp.max(jnp.abs(w))) > 0.9 * bound  # actually spans the range


def test_unknown_protocol() -> None:
    with pytest.raises(ValueError, match="'nope'.*paper"):
        get_protocol("nope")
    with pytest.raises(ValueError, match="nope"):
        train_slopes([0.5], "nope")
    assert get_protocol("paper") is PROTOCOLS["paper"]
    paper = PROTOCOLS["paper"]
    assert (paper.epochs, paper.batch_size, paper.seeds, paper.n_train, paper.n_val) == (
        50,
        50,
        20,
        50_000,
        10_000,
    )
    assert (paper.lr, paper.l2, paper.hidden) == (0.01, 1e-5, (100, 100))


@pytest.mark.parametrize("bad", [0.0, -0.5, float("nan"), float("inf"), "x", "0.5", True])
def test_bad_slope(bad: object, data: Data) -> None:
    with pytest.raises(ValueError, match="slope"):
        train_slopes([0.5, bad], SMALL, data=data)  # type: ignore[list-item]


def test_bad_seed_and_chunk(data: Data) -> None:
    with pytest.raises(ValueError, match=r"seeds.*-1"):
        train_slopes([0.5], SMALL, data=data, seeds=[-1])
    with pytest.raises(ValueError, match="chunk"):
        train_slopes([0.5], SMALL, data=data, chunk=0)
    with pytest.raises(ValueError, match="seed must be an int, got 1.5"):
        train_slopes([0.5], SMALL, data=data, seeds=[1.5])  # type: ignore[list-item]
    with pytest.raises(ValueError, match="seed must be an int, got True"):
        train_slopes([0.5], SMALL, data=data, seed=True)


def test_training_protocol_is_the_old_protocol_and_stores_plain_numbers() -> None:
    import typing

    from petridish import truth

    assert Protocol is mnist_mlp.TrainingProtocol is truth.TrainingProtocol is truth.Protocol
    assert Protocol is not typing.Protocol
    p = mnist_mlp.TrainingProtocol(
        "np",
        epochs=np.int64(2),
        batch_size=10,
        seeds=1,
        lr=np.float32(0.5),
        hidden=[8],  # type: ignore[arg-type]
    )
    assert type(p.epochs) is int and type(p.lr) is float and p.hidden == (8,)
    assert json.loads(json.dumps(p.as_dict()))["epochs"] == 2 and hash(p) == hash(p)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"epochs": True}, "'bad': epochs must be a positive int, got True"),
        ({"seeds": 1.0}, "'bad': seeds must be a positive int, got 1.0"),
        ({"lr": math.nan}, "'bad': lr must be finite and > 0, got nan"),
        ({"l2": -1e-3}, "'bad': l2 must be finite and >= 0, got -0.001"),
        ({"input_mean": math.inf}, "'bad': input_mean must be finite, got inf"),
        ({"input_std": 0.0}, "'bad': input_std must be finite and > 0, got 0.0"),
        ({"hidden": (8, 0)}, "'bad': hidden size must be a positive int, got 0"),
        ({"hidden": ()}, "'bad': hidden must be a non-empty tuple"),
    ],
)
def test_protocol_field_messages(fields: dict[str, object], message: str) -> None:
    args: dict[str, object] = {"epochs": 1, "batch_size": 10, "seeds": 1}
    args.update(fields)
    with pytest.raises(ValueError, match=re.escape(message)):
        Protocol("bad", **args)  # type: ignore[arg-type]


def test_bad_protocol_fields() -> None:
    with pytest.raises(ValueError, match="epochs"):
        Protocol("bad", epochs=0, batch_size=10, seeds=1)
    with pytest.raises(ValueError, match="batch_size"):
        Protocol("bad", epochs=1, batch_size=100, seeds=1, n_train=50)


def test_slope_table_from_results() -> None:
    results = [
        SlopeResult(0.5, 0, 0.8, 0.1, (0.8,)),
        SlopeResult(0.1, 0, 0.6, 0.1, (0.6,)),
        SlopeResult(0.5, 1, 0.9, 0.1, (0.9,)),
    ]
    slopes, acc = slope_table_from_results(results)
    np.testing.assert_allclose(slopes, [0.1, 0.5])
    np.testing.assert_allclose(acc, [0.6, 0.85])


def test_progress_callback(data: Data) -> None:
    calls: list[tuple[int, int]] = []
    train_slopes(
        [0.5, 1.0, 1.5],
        SMALL,
        data=data,
        seeds=[0],
        chunk=2,
        progress=lambda done, total: calls.append((done, total)),
    )
    # model-epochs: 2 models x 2 epochs, then 1 model x 2 epochs
    assert calls == [(2, 6), (4, 6), (5, 6), (6, 6)]


@pytest.mark.slow
def test_tiny_protocol_on_real_mnist() -> None:
    if not SHARED_MNIST.is_dir():
        pytest.skip(f"MNIST files not found in {SHARED_MNIST} (shared test data absent)")
    results = train_slopes([0.25, 1.0], "tiny", data_dir=str(SHARED_MNIST))
    assert len(results) == 2 * PROTOCOLS["tiny"].seeds
    for r in results:
        assert r.val_accuracy > 0.5, r
        assert 0.0 < r.val_loss < 2.0
