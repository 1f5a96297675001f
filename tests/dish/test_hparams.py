from __future__ import annotations

import numpy as np
import pytest

from petridish import DishConfig
from petridish.dish.hparams import expand_grid, select_hyperparameters
from petridish.motifs import SigmoidSlope

BASE = DishConfig.for_slopes(inner_steps=20, outer_steps=4, restarts=1, ensemble=1, retries=0)


def test_expand_grid_validates_fields() -> None:
    assert len(expand_grid({"n_samples": (4, 6), "init_scale": (0.5, 1.0, 2.0)})) == 6
    with pytest.raises(ValueError, match="n_samples"):
        expand_grid({"n_samples": (0,)})


def test_select_picks_lowest_holdout_mse_and_splits_in_halves() -> None:
    slopes = np.linspace(0.4, 1.5, 12)
    losses = 0.03 + 0.03 * slopes
    sel = select_hyperparameters(
        [SigmoidSlope(c) for c in slopes],
        losses,
        base=BASE,
        grid={"n_samples": (4, 6), "init_scale": (1.0,)},
        seeds=(0,),
    )
    mses = [t.holdout_mse for t in sel.trials]
    assert mses == sorted(mses) and len(mses) == 2
    assert sel.overrides == sel.trials[0].overrides
    assert sel.config == BASE.replace(**sel.overrides)
    assert len(sel.fit_half) == 6 and len(sel.holdout_half) == 6
    assert not set(sel.fit_half) & set(sel.holdout_half)


def test_select_needs_enough_motifs() -> None:
    with pytest.raises(ValueError, match="at least 6"):
        select_hyperparameters(
            [SigmoidSlope(c) for c in (0.5, 1.0, 1.5)], [0.1, 0.2, 0.3], base=BASE
        )
