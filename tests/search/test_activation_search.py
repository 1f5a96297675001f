"""The activation space: its gene template, searches by every strategy on a cheap fake
ground truth (default suite), and ``petridish search --space activation`` on real MNIST
training (slow suite)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from petridish.cli import main
from petridish.evaluators import Outcome
from petridish.motifs import Activation, Motif
from petridish.search.loop import SearchConfig, default_dish_config, run_search
from petridish.search.spaces import space_spec
from petridish.search.spaces.activation import ActivationSpace
from petridish.search.strategies import make_strategy
from petridish.store import Store
from shared_paths import SHARED_DATA

SHARED_MNIST = SHARED_DATA / "mnist"
GRID = np.linspace(-4.0, 4.0, 81)  # (81,)
SWISH = GRID / (1.0 + np.exp(-GRID))


class SwishDistance:
    """Fake ground truth: mean squared distance of the motif's function to swish on a grid."""

    name = "swish_distance"
    protocol = "grid81"

    def evaluate(self, motif: Motif, seed: int) -> Outcome:
        assert isinstance(motif, Activation)
        values = motif.numpy(GRID)
        return Outcome("ok", loss=float(np.minimum(np.mean((values - SWISH) ** 2), 1e6)))


def test_every_gene_string_is_a_valid_expression_and_encode_round_trips() -> None:
    space = ActivationSpace()
    rng = np.random.default_rng(0)
    high = np.asarray(space.alphabet)
    assert len(high) == 14
    for _ in range(200):
        motif = space.decode(rng.integers(0, high))
        assert space.decode(space.encode(motif)) == motif
    swish = Activation("mul(x, sigmoid(scale(1.5, x)))")
    assert space.decode(space.encode(swish)) == swish
    with pytest.raises(ValueError, match="constant 0.7 is not one of"):
        space.encode(Activation("sigmoid(scale(0.7, x))"))
    with pytest.raises(ValueError, match="does not fit"):
        space.encode(Activation("sin(sin(sin(sin(x))))"))


def test_random_genes_and_realize_give_free_distinct_motifs_deterministically() -> None:
    space = ActivationSpace()
    genes = space.random_genes(np.random.default_rng(1), 30)
    again = space.random_genes(np.random.default_rng(1), 30)
    np.testing.assert_array_equal(genes, again)
    motifs = space.realize(genes, ())
    assert None not in motifs and len({m.digest for m in motifs if m}) == 30
    excluded = [m.digest for m in motifs if m is not None]
    others = space.realize(genes, excluded)
    assert None not in others
    assert not {m.digest for m in others if m} & set(excluded)
    assert len({m.digest for m in others if m}) == 30
    assert [str(m) for m in space.realize(genes, excluded)] == [str(m) for m in others]


@pytest.mark.parametrize("strategy", ["random", "ga", "nao"])
def test_every_strategy_searches_the_space(strategy: str, tmp_path: Path) -> None:
    config = SearchConfig(
        space="activation",
        strategy=strategy,
        predictor="none",
        budget_evals=12,
        seed=0,
        warmup=6,
        proposals=12,
        per_iteration=3,
    )
    with Store(tmp_path / "act.db") as store:
        result = run_search(
            config,
            space=ActivationSpace(),
            strategy=make_strategy(strategy),
            evaluator=SwishDistance(),
            store=store,
        )
    assert len(result) == 12 and result.stop_reason == "budget_evals"
    assert len({e.motif.digest for e in result.evaluations}) == 12
    assert all(isinstance(e.motif, Activation) for e in result.evaluations)
    assert np.all(np.diff(result.best_so_far) <= 0)


def test_the_dish_filters_an_activation_search(tmp_path: Path) -> None:
    assert space_spec("activation").default_predictor == "dish"
    # The configuration of tests/nets/test_activation_mlp.py: one compiled program for both.
    dish = default_dish_config("activation").replace(
        n_samples=4,
        inner_steps=5,
        outer_steps=3,
        restarts=1,
        ensemble=1,
        retries=0,
        outer_noise=0.0,
    )
    assert dish.network == "activation_mlp"
    config = SearchConfig(
        space="activation",
        strategy="ga",
        predictor="dish",
        budget_evals=9,
        seed=0,
        warmup=6,
        proposals=9,
        per_iteration=3,
        dish_config=dish.to_json(),
    )
    with Store(tmp_path / "act.db") as store:
        result = run_search(
            config,
            space=ActivationSpace(),
            strategy=make_strategy("ga"),
            evaluator=SwishDistance(),
            store=store,
        )
        runs = store.iterations(result.run_id)
    assert len(result) == 9 and runs[1].extra["selector"] == "dish"


@pytest.mark.slow
def test_cli_search_space_activation_on_real_mnist(tmp_path: Path) -> None:
    if not (SHARED_MNIST / "train-images-idx3-ubyte.gz").is_file():
        pytest.skip(f"MNIST not found in {SHARED_MNIST} (optional resource)")
    db = tmp_path / "act.db"
    args = ["search", "--space", "activation", "--store", str(db), "--data-dir", str(SHARED_MNIST)]
    args += ["--warmup", "6", "--per-iteration", "3", "--proposals", "9", "--budget", "12"]
    args += ["--set", "outer_steps=3", "--set", "restarts=1", "--set", "ensemble=1"]
    assert main([*args, "--quiet"]) == 0
    with Store(db) as store:
        evaluations = store.evaluations()
    assert len(evaluations) == 12
    assert all(isinstance(e.motif, Activation) for e in evaluations)
    assert {e.evaluator for e in evaluations} == {"mnist_mlp"}
    assert {e.protocol for e in evaluations} == {"tiny"}
    ok = [e for e in evaluations if e.status == "ok"]
    assert ok and all(0.0 <= e.loss <= 1.0 for e in ok)
    assert min(e.loss for e in ok) < 0.5  # something trained: better than 50% error
