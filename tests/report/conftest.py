"""Tiny synthetic slope reports (no dish fits) and search comparisons for the report tests."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from petridish.experiments.slope import PREDICTORS, SeedResult, SlopeExperiment, SlopeReport
from petridish.search.compare import ComparisonResult, EntryResult, Schedule

METRICS = {"spearman": 0.8, "kendall": 0.6, "precision_at_k": 0.5, "zscored_mse": 0.3}


def make_report(n_seeds: int = 3, outlier: bool = True, n_slopes: int = 41) -> SlopeReport:
    """A peaked MNIST-like table on 0.01-2.01 whose first slope is at chance (loss 0.9)."""
    slopes = np.linspace(0.01, 2.01, n_slopes)
    losses = 0.03 + 0.01 * (slopes - 0.25) ** 2
    if outlier:
        losses[0] = 0.9
    seeds = []
    for seed in range(n_seeds):
        rng = np.random.default_rng(seed)
        scores = {
            "dish": losses + 0.002 * rng.standard_normal(n_slopes),
            "random_dish": -slopes + 0.1 * rng.standard_normal(n_slopes),
            "nn_surrogate": slopes + 0.1 * rng.standard_normal(n_slopes),
        }
        seeds.append(
            SeedResult(
                seed=seed,
                train_idx=(10, 11, 12),
                val_idx=(13, 14),
                test_idx=tuple(i for i in range(n_slopes) if not 10 <= i <= 14),
                scores={k: tuple(float(x) for x in scores[k]) for k in PREDICTORS},
                metrics={k: {**METRICS, "best_slope": 0.25} for k in PREDICTORS},
                fit_seconds=dict.fromkeys(PREDICTORS, 0.1),
            )
        )
    return SlopeReport(
        experiment=SlopeExperiment(seeds=tuple(range(n_seeds))),
        table_source="synthetic",
        slopes=tuple(float(c) for c in slopes),
        losses=tuple(float(x) for x in losses),
        seeds=tuple(seeds),
    )


def make_comparison(budget: int = 40) -> ComparisonResult:
    """One entry over 3 seeds whose first evaluation (loss 9) is far above the rest."""
    rng = np.random.default_rng(0)
    curves = np.minimum.accumulate(rng.uniform(4.5, 5.0, size=(3, budget)), axis=1)
    curves[:, 0] = 9.0  # every seed's first evaluation is terrible: cut off the axis
    entry = EntryResult(
        label="ga",
        strategy="ga",
        use_dish=False,
        seeds=(0, 1, 2),
        run_ids=("a", "b", "c"),
        hits=(5, None, 12),
        curves=curves,
    )
    return ComparisonResult(
        schedule=Schedule("tiny", warmup=5, proposals=10, per_iteration=5, budget=budget),
        space="nasbench_nlp",
        evaluator="tabular",
        protocol="final_val_loss",
        targets=("x",),
        target_losses=(4.5,),
        entries=(entry,),
        random_check=None,
        pool_size=50,
        wall_seconds=1.0,
    )


@pytest.fixture
def comparison() -> ComparisonResult:
    return make_comparison()


@pytest.fixture
def report() -> SlopeReport:
    return make_report()


@pytest.fixture(name="make_report")
def make_report_fixture() -> Callable[..., SlopeReport]:
    return make_report
