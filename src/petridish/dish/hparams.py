"""Hyperparameter selection for a dish (paper Appendix A.1).

Split the available ground truth in two halves (seeded), fit a dish on one half with each
setting of a small grid, and keep the setting whose dish has the smallest outer loss
(z-scored MSE) on the other half. Each setting is scored by the mean over ``seeds`` fits,
because a single dish fit is seed-sensitive.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from petridish._logging import logger
from petridish.dish.config import DishConfig
from petridish.dish.core import Dish, check_losses, selection_mse
from petridish.motifs.base import Motif

# A small grid over Table 2's searched quantities (synthetic data size, weight-init scale,
# inner steps); everything else stays at the base configuration.
DEFAULT_GRID: dict[str, tuple[Any, ...]] = {
    "n_samples": (5, 10, 20),
    "init_scale": (0.5, 1.0, 2.0),
    "inner_steps": (100, 250),
}


@dataclass(frozen=True)
class Trial:
    overrides: dict[str, Any]
    holdout_mse: float  # mean over seeds of the z-scored MSE on the held-out half
    holdout_mse_per_seed: tuple[float, ...]
    seconds: float


@dataclass(frozen=True)
class Selection:
    """The chosen configuration and every trial, best first."""

    config: DishConfig
    overrides: dict[str, Any]
    trials: tuple[Trial, ...]
    fit_half: tuple[int, ...]
    holdout_half: tuple[int, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "config": self.config.to_json(),
            "overrides": self.overrides,
            "fit_half": list(self.fit_half),
            "holdout_half": list(self.holdout_half),
            "trials": [
                {
                    "overrides": t.overrides,
                    "holdout_mse": t.holdout_mse,
                    "holdout_mse_per_seed": list(t.holdout_mse_per_seed),
                    "seconds": t.seconds,
                }
                for t in self.trials
            ],
        }


def expand_grid(grid: Mapping[str, Sequence[Any]]) -> list[dict[str, Any]]:
    """Every combination of ``grid``'s values, as override dicts (validated against DishConfig)."""
    names = list(grid)
    combos = [dict(zip(names, values, strict=True)) for values in itertools.product(*grid.values())]
    for c in combos:
        DishConfig.for_slopes().replace(**c)  # raises ValueError naming a bad field or value
    return combos


def select_hyperparameters(
    motifs: Sequence[Motif],
    losses: Sequence[float] | np.ndarray,
    *,
    base: DishConfig | None = None,
    grid: Mapping[str, Sequence[Any]] | None = None,
    seeds: Sequence[int] = (0, 1, 2),
    split_seed: int = 0,
    progress: Callable[[int, int], None] | None = None,
) -> Selection:
    """Appendix A.1 selection; see the module docstring. Needs at least 6 motifs."""
    base_cfg = base if base is not None else DishConfig.for_slopes()
    targets = check_losses(losses, len(motifs))
    if len(motifs) < 6:
        raise ValueError(f"need at least 6 motifs to split into halves of >= 3, got {len(motifs)}")
    if len(seeds) == 0:
        raise ValueError("need at least one seed")
    perm = np.random.default_rng(split_seed).permutation(len(motifs))
    half = len(motifs) // 2
    fit_idx, hold_idx = np.sort(perm[:half]), np.sort(perm[half:])
    fit_m = [motifs[i] for i in fit_idx]
    hold_m = [motifs[i] for i in hold_idx]
    combos = expand_grid(grid if grid is not None else DEFAULT_GRID)
    trials = []
    for done, overrides in enumerate(combos):
        cfg = base_cfg.replace(**overrides)
        t0 = time.perf_counter()
        per_seed = []
        for seed in seeds:
            dish = Dish(cfg).fit(fit_m, targets[fit_idx], seed=seed)
            per_seed.append(selection_mse(dish.raw_scores(hold_m), targets[hold_idx]))
        trial = Trial(
            overrides, float(np.mean(per_seed)), tuple(per_seed), time.perf_counter() - t0
        )
        logger.info("A.1 trial %s: held-out z-MSE %.4f", overrides, trial.holdout_mse)
        trials.append(trial)
        if progress is not None:
            progress(done + 1, len(combos))
    ranked = tuple(sorted(trials, key=lambda t: t.holdout_mse))
    best = ranked[0]
    return Selection(
        config=base_cfg.replace(**best.overrides),
        overrides=best.overrides,
        trials=ranked,
        fit_half=tuple(int(i) for i in fit_idx),
        holdout_half=tuple(int(i) for i in hold_idx),
    )
