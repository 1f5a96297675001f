"""The NAS-Bench-NLP pool is built once (evaluators.tabular): the search's oracle and the
predictor benchmark see the same cells, losses and counts."""

from __future__ import annotations

import numpy as np
import pytest

from petridish.evaluators.tabular import OracleCounts, PoolCounts, TabularEvaluator
from petridish.experiments.predictors import build_pool
from petridish.search.oracle import TabularOracle
from petridish.truth.nasbench_nlp import NasBenchNLP, load_nasbench_nlp
from shared_paths import SHARED_REFERENCE

REFERENCE = SHARED_REFERENCE


@pytest.fixture(scope="module")
def bench() -> NasBenchNLP:
    if not (REFERENCE / "nasbench_nlp_wikitext2_logs.zip").is_file():
        pytest.skip(f"NAS-Bench-NLP logs not found in {REFERENCE} (optional resource)")
    return load_nasbench_nlp(REFERENCE, download=False)


def test_one_pool_for_the_search_and_the_benchmark(bench: NasBenchNLP) -> None:
    oracle = TabularOracle.from_benchmark(bench)
    pool = build_pool(bench)
    assert isinstance(oracle, TabularEvaluator) and OracleCounts is PoolCounts
    assert [c.digest for c in oracle.pool] == list(pool.info.digests)
    np.testing.assert_array_equal([e.loss for e in oracle.entries], pool.losses)
    c = oracle.counts
    assert (c.logs, c.complete, c.diverged, c.cells) == (
        pool.info.n_logs,
        pool.info.n_complete,
        pool.info.n_diverged,
        pool.info.n_cells,
    )
    assert c.merged_runs == pool.info.n_merged_runs == c.complete - c.cells
    # Every complete run of a cell is in both: the benchmark's groups and the oracle's runs.
    assert [len(pool.groups[cell]) for cell in pool.cells] == [e.runs for e in oracle.entries]


def test_the_evaluator_has_no_search_space_but_the_oracle_has(bench: NasBenchNLP) -> None:
    plain = TabularEvaluator.from_benchmark(bench)
    assert not hasattr(plain, "space")
    space = TabularOracle.from_benchmark(bench).space()
    assert space.name == "nasbench_nlp"
