from __future__ import annotations

import numpy as np
import pytest

from petridish import DishConfig
from petridish.experiments import SlopeExperiment, run_slope_experiment, split_band
from petridish.truth import SlopeTable

SLOPES = np.round(np.linspace(0.01, 2.01, 101), 4)


def test_split_band_is_seeded_disjoint_and_in_band() -> None:
    tr, va, te = split_band(SLOPES, (0.37, 1.5), 15, 15, seed=3)
    tr2, va2, te2 = split_band(SLOPES, (0.37, 1.5), 15, 15, seed=3)
    assert np.array_equal(tr, tr2) and np.array_equal(va, va2) and np.array_equal(te, te2)
    assert len(tr) == 15 and len(va) == 15 and len(te) == 101 - 30
    assert not set(tr) & set(va) and not (set(tr) | set(va)) & set(te)
    assert np.all((SLOPES[tr] >= 0.37) & (SLOPES[tr] <= 1.5))
    assert not np.array_equal(tr, split_band(SLOPES, (0.37, 1.5), 15, 15, seed=4)[0])


def test_split_band_too_small_is_clear() -> None:
    with pytest.raises(ValueError, match="band"):
        split_band(SLOPES[:30], (0.37, 1.5), 15, 15, seed=0)


def test_coarse_table_shrinks_validation_only() -> None:
    coarse = np.linspace(0.01, 2.01, 51)  # 28 slopes in the band (0.37 rounds below it)
    in_band = int(np.sum((coarse >= 0.37) & (coarse <= 1.5)))
    assert in_band < 30
    tr, va, te = split_band(coarse, (0.37, 1.5), 15, 15, seed=0)
    assert len(tr) == 15 and len(va) == in_band - 15 and len(te) == 51 - in_band


def test_experiment_runs_and_is_deterministic() -> None:
    acc = 0.97 - 0.03 * (SLOPES - 0.25) ** 2
    table = SlopeTable(SLOPES, acc, source="synthetic")
    exp = SlopeExperiment(
        dish=DishConfig.for_slopes(
            inner_steps=20, outer_steps=6, n_samples=6, restarts=1, ensemble=1, retries=0
        ),
        seeds=(0, 1),
    )
    a = run_slope_experiment(table, exp)
    b = run_slope_experiment(table, exp)
    assert len(a.seeds) == 2
    for sa, sb in zip(a.seeds, b.seeds, strict=True):
        assert sa.metrics == sb.metrics and sa.scores == sb.scores
    agg = a.aggregate()
    for name in ("dish", "random_dish", "nn_surrogate"):
        assert -1.0 <= agg[name]["spearman_min"] <= agg[name]["spearman_median"] <= 1.0
        assert 0.0 <= agg[name]["precision_at_k_mean"] <= 1.0
    # The NN surrogate fits a smooth in-band trend: it ranks the band's remaining slopes well.
    s0 = a.seeds[0]
    in_band_test = [i for i in s0.test_idx if 0.37 <= SLOPES[i] <= 1.5]
    nn = np.asarray(s0.scores["nn_surrogate"])[in_band_test]
    from scipy.stats import spearmanr

    assert spearmanr(nn, 1 - acc[in_band_test])[0] > 0.9
