"""The sigmoid-slope experiment (paper Section 4.1, Figures 1 and 4).

Per seed: draw ``n_train`` training and ``n_val`` validation slopes from the band
(0.37-1.50 by default), fit the dish, the random-data dish and the NN surrogate on the
training slopes, and score every slope that is neither training nor validation (the
test slopes). Metrics on the test slopes: Spearman, Kendall tau-b, precision@k,
z-scored MSE, and the slope each predictor ranks best. The validation slopes are used by
the dish to pick its best outer step (and by ``select`` for hyperparameters).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from petridish import metrics
from petridish._logging import logger
from petridish._validation import nonnegative_int, positive_int
from petridish.baselines.nn_surrogate import NNSurrogate, NNSurrogateConfig
from petridish.baselines.random_dish import random_data_dish
from petridish.dish.config import DishConfig
from petridish.dish.core import Dish
from petridish.motifs.slope import SigmoidSlope
from petridish.truth.table import SlopeTable

PREDICTORS = ("dish", "random_dish", "nn_surrogate")


def default_dish_config() -> DishConfig:
    """The experiment's dish: ``DishConfig.for_slopes()`` (6 noisy Table 2 attempts, the
    median of the passing ones, chosen on the validation slopes).

    Paper table, 10 seeds (README): Spearman median 0.933, worst 0.884; keeping only the
    best of 5 attempts on validation gave median 0.928, worst 0.754 (but the predicted best
    slope in 0.20-0.30 in 4 of 10 seeds, against 0).
    """
    return DishConfig.for_slopes()


@dataclass(frozen=True)
class SlopeExperiment:
    """Settings of one slope experiment run over several seeds."""

    dish: DishConfig = field(default_factory=default_dish_config)
    surrogate: NNSurrogateConfig = field(default_factory=NNSurrogateConfig)
    band: tuple[float, float] = (0.37, 1.50)
    n_train: int = 15
    n_val: int = 15
    seeds: tuple[int, ...] = tuple(range(10))
    top_k: int = 10
    # The paper's table peaks at ~0.23-0.25; the acceptance window for "predicted best".
    peak_window: tuple[float, float] = (0.20, 0.30)

    def __post_init__(self) -> None:
        lo, hi = self.band
        if not 0 < lo < hi:
            raise ValueError(f"band must satisfy 0 < low < high, got {self.band}")
        object.__setattr__(
            self, "n_train", positive_int(self.n_train, "SlopeExperiment.n_train", 3)
        )
        object.__setattr__(self, "n_val", nonnegative_int(self.n_val, "SlopeExperiment.n_val"))
        object.__setattr__(self, "top_k", positive_int(self.top_k, "SlopeExperiment.top_k"))
        if len(self.seeds) == 0:
            raise ValueError("need at least one seed")

    def to_json(self) -> dict[str, Any]:
        return {
            "dish": self.dish.to_json(),
            "surrogate": {
                k: getattr(self.surrogate, k) for k in self.surrogate.__dataclass_fields__
            },
            "band": list(self.band),
            "n_train": self.n_train,
            "n_val": self.n_val,
            "seeds": list(self.seeds),
            "top_k": self.top_k,
            "peak_window": list(self.peak_window),
        }


@dataclass(frozen=True)
class SeedResult:
    """One seed: the split, each predictor's scores on all slopes, metrics on test slopes."""

    seed: int
    train_idx: tuple[int, ...]
    val_idx: tuple[int, ...]
    test_idx: tuple[int, ...]
    scores: dict[str, tuple[float, ...]]  # predictor -> score per table slope (lower better)
    metrics: dict[str, dict[str, float]]  # predictor -> metric -> value
    fit_seconds: dict[str, float]


@dataclass(frozen=True)
class SlopeReport:
    experiment: SlopeExperiment
    table_source: str
    slopes: tuple[float, ...]
    losses: tuple[float, ...]
    seeds: tuple[SeedResult, ...]

    def aggregate(self) -> dict[str, dict[str, float]]:
        """Per predictor: median/mean/min Spearman and Kendall, peak-window hits, fit time."""
        out: dict[str, dict[str, float]] = {}
        lo, hi = self.experiment.peak_window
        for name in PREDICTORS:
            rho = np.array([s.metrics[name]["spearman"] for s in self.seeds])
            tau = np.array([s.metrics[name]["kendall"] for s in self.seeds])
            p_at_k = np.array([s.metrics[name]["precision_at_k"] for s in self.seeds])
            best = np.array([s.metrics[name]["best_slope"] for s in self.seeds])
            fit = np.array([s.fit_seconds[name] for s in self.seeds])
            out[name] = {
                "spearman_median": float(np.median(rho)),
                "spearman_mean": float(np.mean(rho)),
                "spearman_min": float(np.min(rho)),
                "kendall_median": float(np.median(tau)),
                "kendall_mean": float(np.mean(tau)),
                "kendall_min": float(np.min(tau)),
                "precision_at_k_mean": float(np.mean(p_at_k)),
                "best_slope_median": float(np.median(best)),
                "best_in_peak_window": int(np.sum((best >= lo) & (best <= hi))),
                "fit_seconds_median": float(np.median(fit)),
            }
        return out

    def to_json(self) -> dict[str, Any]:
        return {
            "experiment": self.experiment.to_json(),
            "table_source": self.table_source,
            "n_seeds": len(self.seeds),
            "aggregate": self.aggregate(),
            "per_seed": [
                {
                    "seed": s.seed,
                    "metrics": s.metrics,
                    "fit_seconds": s.fit_seconds,
                    "train_slopes": [self.slopes[i] for i in s.train_idx],
                    "val_slopes": [self.slopes[i] for i in s.val_idx],
                }
                for s in self.seeds
            ],
            "curves": {
                "slopes": list(self.slopes),
                "losses": list(self.losses),
                "scores": {name: [list(s.scores[name]) for s in self.seeds] for name in PREDICTORS},
            },
        }


def split_band(
    slopes: np.ndarray, band: tuple[float, float], n_train: int, n_val: int, seed: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Seeded (train, val, test) index arrays: train and val drawn from the band, test = rest.

    A band too small for ``n_train + n_val`` slopes keeps ``n_train`` and shrinks the
    validation draw (logged); fewer than ``n_train + 2`` (or ``n_train`` with ``n_val=0``)
    is an error naming the band.
    """
    lo, hi = band
    in_band = np.flatnonzero((slopes >= lo) & (slopes <= hi))
    if in_band.size < n_train + min(n_val, 2):
        raise ValueError(
            f"band {band} holds {in_band.size} slopes of the table, "
            f"need n_train + n_val = {n_train + n_val}"
        )
    if in_band.size < n_train + n_val:
        # A coarse table: keep every training slope, validate on what is left.
        logger.warning(
            "band %s holds %d slopes: using %d validation slopes instead of %d",
            band,
            in_band.size,
            in_band.size - n_train,
            n_val,
        )
        n_val = in_band.size - n_train
    pick = np.random.default_rng(seed).permutation(in_band)
    train, val = np.sort(pick[:n_train]), np.sort(pick[n_train : n_train + n_val])
    test = np.setdiff1d(np.arange(slopes.size), np.concatenate([train, val]))
    if test.size < 2:
        raise ValueError("no test slopes left outside the training and validation draws")
    return train, val, test


def _test_metrics(
    scores: np.ndarray, losses: np.ndarray, slopes: np.ndarray, test: np.ndarray, k: int
) -> dict[str, float]:
    pred, true = scores[test], losses[test]
    if np.ptp(pred) == 0 or not np.all(np.isfinite(pred)):
        # A constant or broken predictor has no ranking: report it as uninformative.
        rho = tau = 0.0
        zmse = float("nan")
    else:
        rho, tau = metrics.spearman(pred, true), metrics.kendall_tau_b(pred, true)
        zmse = metrics.zscored_mse(pred, true)
    return {
        "spearman": float(rho),
        "kendall": float(tau),
        "precision_at_k": float(metrics.precision_at_k(pred, true, min(k, test.size))),
        "zscored_mse": float(zmse),
        "best_slope": float(metrics.best_by(pred, slopes[test])),
    }


SeedProgress = Callable[[int, int], None]  # (seeds done, total)


def run_slope_experiment(
    table: SlopeTable,
    experiment: SlopeExperiment | None = None,
    *,
    progress: SeedProgress | None = None,
) -> SlopeReport:
    """Run the experiment over ``experiment.seeds``; deterministic for a given table and seeds."""
    exp = experiment if experiment is not None else SlopeExperiment()
    slopes, losses = np.asarray(table.slopes), np.asarray(table.losses)
    motifs = [SigmoidSlope(float(c)) for c in slopes]
    results = []
    for done, seed in enumerate(exp.seeds):
        train, val, test = split_band(slopes, exp.band, exp.n_train, exp.n_val, seed)
        tr_motifs = [motifs[i] for i in train]
        validation = ([motifs[i] for i in val], losses[val]) if val.size >= 2 else None
        scores: dict[str, np.ndarray] = {}
        fit_seconds: dict[str, float] = {}

        t0 = time.perf_counter()
        dish = Dish(exp.dish).fit(tr_motifs, losses[train], seed=seed, validation=validation)
        scores["dish"] = dish.query(motifs)
        fit_seconds["dish"] = time.perf_counter() - t0

        t0 = time.perf_counter()
        rdish = random_data_dish(exp.dish).fit(tr_motifs, losses[train], seed=seed)
        scores["random_dish"] = rdish.query(motifs)
        fit_seconds["random_dish"] = time.perf_counter() - t0

        t0 = time.perf_counter()
        nn = NNSurrogate(exp.surrogate).fit(tr_motifs, losses[train], seed=seed)
        scores["nn_surrogate"] = nn.query(motifs)
        fit_seconds["nn_surrogate"] = time.perf_counter() - t0

        seed_metrics = {
            name: _test_metrics(scores[name], losses, slopes, test, exp.top_k)
            for name in PREDICTORS
        }
        logger.info(
            "slope seed %d: dish spearman %.3f best %.3f; nn spearman %.3f best %.3f",
            seed,
            seed_metrics["dish"]["spearman"],
            seed_metrics["dish"]["best_slope"],
            seed_metrics["nn_surrogate"]["spearman"],
            seed_metrics["nn_surrogate"]["best_slope"],
        )
        results.append(
            SeedResult(
                seed=seed,
                train_idx=tuple(int(i) for i in train),
                val_idx=tuple(int(i) for i in val),
                test_idx=tuple(int(i) for i in test),
                scores={k: tuple(float(x) for x in v) for k, v in scores.items()},
                metrics=seed_metrics,
                fit_seconds=fit_seconds,
            )
        )
        if progress is not None:
            progress(done + 1, len(exp.seeds))
    return SlopeReport(
        experiment=exp,
        table_source=table.source,
        slopes=tuple(float(c) for c in slopes),
        losses=tuple(float(x) for x in losses),
        seeds=tuple(results),
    )
