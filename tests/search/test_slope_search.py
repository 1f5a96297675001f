"""End to end: a short dish-filtered slope search with real MNIST training ('tiny' protocol).

The search writes its evaluations to a store; the same store then measures the protocol's
own slope table over the whole search grid (the search's evaluations are reused, not
retrained), and the search's best slope must be among the best 10% of that table.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from petridish.dish.config import DishConfig
from petridish.evaluators import MnistSlopeEvaluator
from petridish.search.loop import SearchConfig, run_search
from petridish.search.space import SlopeSpace
from petridish.search.strategies import GAStrategy
from petridish.store import Store
from shared_paths import SHARED_DATA

SHARED_MNIST = SHARED_DATA / "mnist"
# 0.01, 0.05, ..., 2.01: the slope tables' range on a grid small enough to tabulate here.
SPACE = SlopeSpace(low=0.01, step=0.04, n_points=51)


@pytest.mark.slow
def test_slope_search_finds_a_top_decile_slope(tmp_path: Path) -> None:
    if not (SHARED_MNIST / "train-images-idx3-ubyte.gz").is_file():
        pytest.skip(f"MNIST not found in {SHARED_MNIST} (optional resource)")
    evaluator = MnistSlopeEvaluator(SHARED_MNIST, "tiny")
    # Batches of 8 everywhere: the trainer compiles once per batch size.
    config = SearchConfig(
        space=SPACE.name,
        strategy="ga",
        use_dish=True,
        budget_evals=16,
        seed=0,
        warmup=8,
        proposals=24,
        per_iteration=8,
        dish_config=DishConfig.for_slopes(
            outer_steps=10, inner_steps=50, restarts=1, ensemble=1, retries=0
        ).to_json(),
    )
    with Store(tmp_path / "slopes.db") as store:
        result = run_search(
            config, space=SPACE, strategy=GAStrategy(elite=8), evaluator=evaluator, store=store
        )
        assert len(result) == 16 and result.stop_reason == "budget_evals"
        assert all(s == "ok" for s in result.statuses)
        with_search = len(store.evaluations())
        table = store.evaluate_many(list(SPACE.grid), evaluator, config.eval_seed)
        assert len(store.evaluations()) == with_search + len(SPACE.grid) - 16  # reused
        runs = store.iterations(result.run_id)
    assert runs[1].extra["selector"] == "dish"

    losses = np.array([e.loss for e in table], np.float64)  # (51,) 1 - val accuracy
    assert np.all(np.isfinite(losses))
    best = result.best_motif
    assert best is not None
    index = [m.digest for m in SPACE.grid].index(best.digest)
    rank = int(np.sum(losses < losses[index]))  # 0 = the table's best
    top = math.ceil(0.1 * len(losses))
    assert rank < top, (
        f"search best slope {best.canonical()} (loss {losses[index]:.4f}) ranks {rank + 1} of "
        f"{len(losses)}; table best {SPACE.grid[int(np.argmin(losses))].canonical()} "
        f"(loss {losses.min():.4f})"
    )
