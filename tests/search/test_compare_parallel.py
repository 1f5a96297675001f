"""``compare_strategies`` with its searches in parallel threads sharing one executor and one
store: the same comparison as one search after another, each evaluation stored once."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from petridish.execution import InProcessExecutor
from petridish.search.compare import Schedule, StrategyEntry, compare_strategies
from petridish.search.oracle import TabularOracle
from petridish.search.strategies import GAStrategy, RandomStrategy
from petridish.store import Store
from shared_paths import SHARED_REFERENCE

REFERENCE = SHARED_REFERENCE


@pytest.fixture(scope="module")
def oracle() -> TabularOracle:
    if not (REFERENCE / "nasbench_nlp_wikitext2_logs.zip").is_file():
        pytest.skip(f"NAS-Bench-NLP logs not found in {REFERENCE} (optional resource)")
    return TabularOracle.load(REFERENCE)


def test_parallel_searches_equal_sequential_ones(oracle: TabularOracle, tmp_path: Path) -> None:
    space = oracle.space()
    schedule = Schedule("small", warmup=6, proposals=20, per_iteration=4, budget=18)
    entries = [
        StrategyEntry("random", RandomStrategy(), False),
        StrategyEntry("ga", GAStrategy(), False),
    ]
    seeds = [0, 1, 2]
    common = dict(space=space, evaluator=oracle, targets=oracle.best_digests(3))
    with Store(tmp_path / "seq.db") as store:
        sequential = compare_strategies(entries, seeds, schedule, store=store, **common)  # type: ignore[arg-type]
    calls: list[tuple[int, int]] = []
    with Store(tmp_path / "par.db") as store, InProcessExecutor(batch_size=2) as executor:
        parallel = compare_strategies(
            entries,
            seeds,
            schedule,
            store=store,
            executor=executor,
            progress=lambda d, t: calls.append((d, t)),
            **common,  # type: ignore[arg-type]
        )
        keys = [(e.motif_hash, e.seed) for e in store.evaluations()]
        assert executor.pending == 0
    assert sorted(calls) == [(d, 6) for d in range(1, 7)]
    # Runs share ground truth through the store: each (motif, seed) key once.
    assert len(keys) == len(set(keys)) > 0
    for seq, par in zip(sequential.entries, parallel.entries, strict=True):
        assert (par.label, par.run_ids, par.hits) == (seq.label, seq.run_ids, seq.hits)
        assert np.array_equal(par.curves, seq.curves)
    with pytest.raises(ValueError, match="parallel"):
        compare_strategies(entries, seeds, schedule, store=store, parallel=0, **common)  # type: ignore[arg-type]
