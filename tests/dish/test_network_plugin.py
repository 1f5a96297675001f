"""Networks and activation motif kinds are plug-ins: registered here, in a test file, they
fit and predict in a dish with no edit in ``petridish.dish`` (issue 18)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from petridish import Dish, DishConfig
from petridish.motifs import SigmoidSlope
from petridish.motifs.base import Motif
from petridish.nets import (
    NetBase,
    Params,
    mlp_network,
    network_names,
    register_network,
    unregister_network,
)
from petridish.nets.registry import NetworkConfig

TOY = "test_toy_linear"
TOY_MLP = "test_scaled_tanh_mlp"


@dataclass(frozen=True)
class ToyNet(NetBase):
    """Logits ``code * (x @ w) + b``: the smallest network a slope code can steer."""

    n_in: int
    n_out: int

    @property
    def input_shape(self) -> tuple[int, ...]:
        return (self.n_in,)

    @property
    def label_shape(self) -> tuple[int, ...]:
        return (self.n_out,)

    def init(self, key: jax.Array, scale: float) -> Params:
        kw, kb = jax.random.split(key)
        return {
            "w": scale * jax.random.normal(kw, (self.n_in, self.n_out)),
            "b": scale * jax.random.normal(kb, (self.n_out,)),
        }

    def apply(self, params: Params, code: jax.Array, x: jax.Array) -> jax.Array:
        return code * (x @ params["w"]) + params["b"]  # (batch, out)


def toy_network(config: NetworkConfig) -> ToyNet:
    if config.seq_len != 1:
        raise ValueError(f"the toy network has no time axis, got seq_len={config.seq_len}")
    return ToyNet(config.layer_sizes[0], config.layer_sizes[-1])


@dataclass(frozen=True)
class ScaledTanh(Motif):
    """A motif kind defined outside the package: the activation ``tanh(scale * x)``."""

    scale: float
    kind = "test_scaled_tanh"

    def payload(self) -> dict[str, Any]:
        return {"scale": self.scale}

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> ScaledTanh:
        return cls(float(payload["scale"]))

    @classmethod
    def encode_many(cls, motifs: Sequence[Motif]) -> np.ndarray:
        return np.asarray([m.scale for m in motifs if isinstance(m, ScaledTanh)], np.float32)

    @staticmethod
    def activation(code: jax.Array, x: jax.Array) -> jax.Array:
        return jnp.tanh(code * x)


@pytest.fixture(scope="module", autouse=True)
def _registered() -> Iterator[None]:
    register_network(TOY, toy_network)
    register_network(TOY_MLP, mlp_network(ScaledTanh))  # the one line a motif kind needs
    yield
    unregister_network(TOY)
    unregister_network(TOY_MLP)


SMALL = dict(
    layer_sizes=(3, 1, 2),
    n_samples=4,
    inner_steps=5,
    outer_steps=3,
    restarts=1,
    ensemble=1,
    retries=0,
    outer_noise=0.0,
)


def test_a_registered_network_fits_predicts_and_saves(tmp_path: Path) -> None:
    assert TOY in network_names()
    cfg = DishConfig(network=TOY, **SMALL)  # type: ignore[arg-type]
    assert cfg.input_shape == (3,) and cfg.label_shape == (2,)
    slopes = [SigmoidSlope(c) for c in (0.3, 0.6, 0.9, 1.2, 1.5)]
    dish = Dish(cfg).fit(slopes, [0.5, 0.4, 0.3, 0.35, 0.45], seed=0)
    assert dish.record is not None and len(dish.record.outer_losses) == 3
    assert np.all(np.isfinite(dish.record.outer_losses))
    assert dish.synthetic is not None and dish.synthetic["x_train"].shape == (4, 3)
    scores = dish.predict(slopes[:3]).scores
    assert scores.shape == (3,) and np.all(np.isfinite(scores))
    # Same seed, same dish; saved and loaded through the registry.
    again = Dish(cfg).fit(slopes, [0.5, 0.4, 0.3, 0.35, 0.45], seed=0)
    np.testing.assert_array_equal(again.predict(slopes[:3]).scores, scores)
    path = tmp_path / "toy.safetensors"
    dish.save(path)
    np.testing.assert_array_equal(Dish.load(path).predict(slopes[:3]).scores, scores)
    # The factory's own check, raised when the config is built.
    with pytest.raises(ValueError, match="toy network has no time axis"):
        cfg.replace(seq_len=2)
    assert cfg.describe() == "DishConfig() with network='test_toy_linear', " + (
        "layer_sizes=(3, 1, 2), n_samples=4, inner_steps=5, outer_steps=3, outer_noise=0.0, "
        "restarts=1, ensemble=1, retries=0"
    )


def test_an_activation_motif_kind_runs_on_the_mlp_blueprint() -> None:
    cfg = DishConfig(network=TOY_MLP, **SMALL)  # type: ignore[arg-type]
    motifs = [ScaledTanh(s) for s in (0.5, 1.0, 1.5, 2.0)]
    dish = Dish(cfg).fit(motifs, [0.4, 0.3, 0.35, 0.5], seed=0)
    assert dish.record is not None and np.all(np.isfinite(dish.record.outer_losses))
    assert dish.predict(motifs[:2]).scores.shape == (2,)
    # The blueprint applies the kind's hook: tanh(scale * h) on the hidden layer.
    from petridish.dish.core import build_net

    net = build_net(cfg)
    params = net.init(jax.random.PRNGKey(0), 1.0)
    x = jax.random.normal(jax.random.PRNGKey(1), (5, 3))
    (w1, b1), (w2, b2) = params
    expected = jnp.tanh(2.0 * (x @ w1 + b1)) @ w2 + b2
    np.testing.assert_allclose(net.apply(params, jnp.float32(2.0), x), expected, rtol=1e-6)
    # It runs its own kind only.
    with pytest.raises(ValueError, match="runs ScaledTanh motifs"):
        net.codes([SigmoidSlope(1.0)])


def test_registry_rejects_duplicates_and_unknown_names() -> None:
    with pytest.raises(ValueError, match="already registered"):
        register_network(TOY, mlp_network(ScaledTanh))
    from petridish.nets import build_network

    with pytest.raises(ValueError, match="unknown network 'nope'"):
        build_network("nope", DishConfig())
    with pytest.raises(ValueError, match="no activation"):
        mlp_network(Motif)(DishConfig())  # type: ignore[type-abstract]
