"""The NAS-Bench-NLP tabular oracle: pool size, merging, best cells, and the realize mapping."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from petridish.motifs import Cell, SigmoidSlope
from petridish.motifs.cell import random_cell
from petridish.search.loop import SearchConfig, evals_to_hit, run_search
from petridish.search.oracle import TabularOracle
from petridish.search.strategies import GAStrategy, RandomStrategy
from petridish.store import Store
from petridish.truth.nasbench_nlp import load_nasbench_nlp
from shared_paths import SHARED_REFERENCE

REFERENCE = SHARED_REFERENCE


@pytest.fixture(scope="module")
def oracle() -> TabularOracle:
    if not (REFERENCE / "nasbench_nlp_wikitext2_logs.zip").is_file():
        pytest.skip(f"NAS-Bench-NLP logs not found in {REFERENCE} (optional resource)")
    return TabularOracle.load(REFERENCE)


def test_pool_counts(oracle: TabularOracle) -> None:
    c = oracle.counts
    # 345 logs, 4 diverged (NaN) and left out; 289 distinct recipes are 263 distinct cells.
    assert (c.logs, c.complete, c.diverged, c.recipes, c.cells) == (345, 341, 4, 289, 263)
    assert len(oracle) == len(oracle.pool) == 263
    assert sum(e.runs for e in oracle.entries) == 341
    assert len({cell.digest for cell in oracle.pool}) == 263


def test_losses_are_means_of_the_cells_runs(oracle: TabularOracle) -> None:
    bench = load_nasbench_nlp(REFERENCE, download=False)
    by_name = {log.name: log for log in bench.complete()}
    merged = [e for e in oracle.entries if e.runs > 1]
    assert merged, "expected some cells with several runs"
    for entry in merged:
        runs = [by_name[n] for n in entry.names]
        assert entry.loss == pytest.approx(np.mean([r.final_val_loss for r in runs]))
        assert entry.curve == runs[0].val_losses
        assert all(Cell.from_recipe(r.recipe) == entry.cell for r in runs)
    assert all(len(e.curve) == 50 for e in oracle.entries)


def test_best_cells_and_evaluate(oracle: TabularOracle) -> None:
    best = oracle.best(3)
    losses = sorted(e.loss for e in oracle.entries)
    assert [oracle.loss(c) for c in best] == losses[:3]
    assert math.exp(losses[0]) == pytest.approx(96.4, abs=1.0)  # paper's best ppl ~96
    assert oracle.best_digests(3) == {c.digest for c in best}
    before = oracle.calls
    out = oracle.evaluate(best[0], seed=123)
    assert out.status == "ok" and out.loss == losses[0]
    assert out.metrics["val_perplexity"] == pytest.approx(math.exp(losses[0]))
    assert len(out.curve) == 50 and out.curve[-1] > 0
    assert oracle.calls == before + 1
    with pytest.raises(ValueError, match="k must be"):
        oracle.best(0)


def test_non_pool_motifs_are_refused_by_digest(oracle: TabularOracle) -> None:
    rng = np.random.default_rng(0)
    stranger = next(c for c in (random_cell(rng) for _ in range(100)) if c not in oracle)
    with pytest.raises(ValueError, match=stranger.digest):
        oracle.evaluate(stranger, 0)
    with pytest.raises(ValueError, match="SigmoidSlope"):
        oracle.evaluate(SigmoidSlope(0.5), 0)


def test_space_realizes_pool_cells(oracle: TabularOracle) -> None:
    space = oracle.space()
    assert space.pool == oracle.pool
    # A pool cell's own genes map to itself; once excluded, to its nearest other pool cell.
    genes = np.stack([space.encode(c) for c in oracle.pool[:5]])
    assert space.realize(genes, exclude=()) == list(oracle.pool[:5])
    first = oracle.pool[0]
    other = space.realize(genes[:1], exclude={first.digest})[0]
    assert other is not None and other in oracle and other != first
    dist = np.count_nonzero(space.genes != genes[0][None, :], axis=1)
    dist[0] = dist.max() + 1
    assert space.index_of(other) == int(np.argmin(dist))
    # Everything excluded: nothing left.
    assert space.realize(genes[:1], exclude={c.digest for c in oracle.pool}) == [None]


def test_search_on_the_pool_finds_only_pool_cells(oracle: TabularOracle, tmp_path: Path) -> None:
    space = oracle.space()
    cfg = SearchConfig(
        space=space.name,
        strategy="ga",
        use_dish=False,
        budget_evals=40,
        warmup=10,
        proposals=50,
        per_iteration=5,
        seed=0,
    )
    with Store(tmp_path / "pool.db") as store:
        res = run_search(cfg, space=space, strategy=GAStrategy(), evaluator=oracle, store=store)
    assert len(set(res.digests)) == 40 and all(m in oracle for m in res.motifs)
    assert res.config.evaluator == "nasbench_nlp_wt2"
    assert res.config.protocol == "final_val_loss"
    np.testing.assert_allclose(res.losses, [oracle.loss(m) for m in res.motifs])
    # Exhausting the pool visits every cell once, so a top-3 cell is always found.
    full = cfg.replace(strategy="random", budget_evals=400, proposals=300, per_iteration=60)
    with Store(tmp_path / "all.db") as store:
        everything = run_search(
            full, space=space, strategy=RandomStrategy(), evaluator=oracle, store=store
        )
    assert everything.stop_reason == "exhausted" and len(everything) == 263
    hit = evals_to_hit(everything, oracle.best_digests(3))
    assert hit is not None and 1 <= hit <= 261
