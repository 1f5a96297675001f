"""Fit attempts, retries and ensembles: a fit that fails is detected, retried and recorded;
attempts run side by side equal the same fits run one at a time."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest

from petridish import Dish, DishConfig, metrics
from petridish.dish import core
from petridish.dish.core import attempt_seed
from petridish.motifs import SigmoidSlope

# Small settings shared by every test here (one compiled program per attempt count); the
# slope default's outer-step noise is kept, so the parity test covers its streams too.
CFG = DishConfig.for_slopes(
    inner_steps=20, outer_steps=6, n_samples=6, restarts=1, ensemble=1, retries=0
)
SLOPES = [0.4, 0.55, 0.7, 0.9, 1.1, 1.3, 1.5]
LOSSES = [0.035, 0.040, 0.046, 0.052, 0.058, 0.066, 0.075]
PROBE = [SigmoidSlope(c) for c in (0.05, 0.3, 1.0, 1.9)]


def _motifs(xs: list[float]) -> list[SigmoidSlope]:
    return [SigmoidSlope(c) for c in xs]


@pytest.mark.parametrize("side_by_side", [True, False])
def test_side_by_side_attempts_equal_single_fits(
    side_by_side: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Parity: attempt k of a fit (vmapped, or looped) is the single fit from
    # attempt_seed(seed, k).
    monkeypatch.setattr(core, "attempts_side_by_side", lambda: side_by_side)
    cfg = CFG.replace(restarts=3, ensemble=3, min_train_spearman=-1.0)
    many = Dish(cfg).fit(_motifs(SLOPES), LOSSES, seed=4)
    assert many.record is not None and many.record.attempts == 3
    assert sorted(many.record.members) == [0, 1, 2]
    for member in many.members:
        single = Dish(CFG).fit(_motifs(SLOPES), LOSSES, seed=attempt_seed(4, member.attempt))
        assert single.synthetic is not None
        np.testing.assert_allclose(
            member.synthetic["x_train"], single.synthetic["x_train"], rtol=1e-3, atol=1e-3
        )
        np.testing.assert_allclose(
            many._member_scores(member, PROBE),
            single.raw_scores(PROBE),
            rtol=1e-3,
        )


def test_attempt_zero_is_the_plain_fit() -> None:
    # One attempt per round runs the plain outer step: bit for bit the paper's single fit.
    a = Dish(CFG).fit(_motifs(SLOPES), LOSSES, seed=7)
    b = Dish(CFG.replace(min_train_spearman=-1.0)).fit(_motifs(SLOPES), LOSSES, seed=7)
    np.testing.assert_array_equal(a.raw_scores(PROBE), b.raw_scores(PROBE))


def test_failed_fit_is_detected_retried_and_recorded(caplog: pytest.LogCaptureFixture) -> None:
    # One outer step cannot rank 7 motifs in a zigzag of their slopes perfectly: every
    # attempt fails the threshold.
    zigzag = [0.050, 0.035, 0.070, 0.040, 0.066, 0.046, 0.058]
    cfg = CFG.replace(outer_steps=1, restarts=2, retries=2, min_train_spearman=1.0)
    with caplog.at_level(logging.WARNING, logger="petridish"):
        dish = Dish(cfg).fit(_motifs(SLOPES), zigzag, seed=0)
    rec = dish.record
    assert rec is not None
    assert rec.rounds == 3 and rec.attempts == 6
    assert rec.failed_attempts == (0, 1, 2, 3, 4, 5)
    assert rec.fit_ok is False
    assert len(rec.notes) == 3 and "retrying from fresh draws" in rec.notes[0]
    assert "retrying" not in rec.notes[-1]
    assert any("dish fit failed" in r.getMessage() for r in caplog.records)
    # The dish still keeps its best attempt and can predict.
    assert dish.fitted and len(dish.predict(PROBE)) == 4


def test_a_retry_stops_at_the_first_passing_round() -> None:
    # Find the threshold that the first round's best attempt just misses: the fit must go
    # on to a second round, and stop there if an attempt of it passes.
    zigzag = [0.050, 0.035, 0.070, 0.040, 0.066, 0.046, 0.058]
    cfg = CFG.replace(restarts=2, retries=3, min_train_spearman=-1.0)
    first = Dish(cfg).fit(_motifs(SLOPES), zigzag, seed=1)
    assert first.record is not None and first.record.rounds == 1
    best_first = first.record.train_spearman
    assert best_first is not None and best_first < 1.0
    strict = cfg.replace(min_train_spearman=best_first + 1e-9)
    dish = Dish(strict).fit(_motifs(SLOPES), zigzag, seed=1)
    rec = dish.record
    assert rec is not None and rec.rounds >= 2 and rec.attempts == 2 * rec.rounds
    assert {0, 1} <= set(rec.failed_attempts)
    assert len(rec.notes) == rec.rounds - (1 if rec.fit_ok else 0)
    if rec.fit_ok:
        # Only the last round has a passing attempt, and the dish keeps it.
        last = {2 * rec.rounds - 2, 2 * rec.rounds - 1}
        assert set(range(2 * rec.rounds - 2)) <= set(rec.failed_attempts)
        assert not last <= set(rec.failed_attempts)
        assert rec.members[0] in last and rec.members[0] not in rec.failed_attempts


def test_record_states_the_training_ranking() -> None:
    cfg = CFG.replace(outer_steps=10)
    val = (_motifs([0.45, 0.8, 1.2, 1.45]), [0.037, 0.05, 0.062, 0.072])
    dish = Dish(cfg).fit(_motifs(SLOPES), LOSSES, seed=2, validation=val)
    rec = dish.record
    assert rec is not None
    scores = dish.raw_scores(_motifs(SLOPES))
    assert rec.train_spearman == pytest.approx(metrics.spearman(scores, LOSSES))
    assert rec.train_kendall == pytest.approx(metrics.kendall_tau_b(scores, LOSSES))
    assert rec.zmse_end == pytest.approx(metrics.zscored_mse(scores, np.asarray(LOSSES)), rel=1e-6)
    start = Dish(cfg).initialize(2, SigmoidSlope).raw_scores(_motifs(SLOPES))
    assert rec.zmse_start == pytest.approx(metrics.zscored_mse(start, np.asarray(LOSSES)), rel=1e-6)
    v = dish.raw_scores(val[0])
    assert rec.val_spearman == pytest.approx(metrics.spearman(v, val[1]))


def test_random_data_dish_is_never_retried() -> None:
    cfg = CFG.replace(outer_steps=0, restarts=1, retries=3, min_train_spearman=1.0)
    dish = Dish(cfg).fit(_motifs(SLOPES), LOSSES, seed=0)
    assert dish.record is not None
    assert dish.record.attempts == 1 and dish.record.fit_ok and dish.record.failed_attempts == ()


def test_ensemble_is_the_median_of_standardised_member_scores(tmp_path: Path) -> None:
    cfg = CFG.replace(restarts=3, ensemble=2, min_train_spearman=-1.0)
    dish = Dish(cfg).fit(_motifs(SLOPES), LOSSES, seed=3)
    assert len(dish.members) == 2 and dish.record is not None
    assert dish.record.members == tuple(m.attempt for m in dish.members)
    expected = np.median(
        [(dish._member_scores(m, PROBE) - m.center) / m.scale for m in dish.members], axis=0
    )
    np.testing.assert_allclose(dish.raw_scores(PROBE), expected, rtol=1e-5, atol=1e-4)
    # Each member's standardisation is its mean and std on the training motifs.
    for m in dish.members:
        train = dish._member_scores(m, _motifs(SLOPES))
        assert m.center == pytest.approx(train.mean(), rel=1e-6)
        assert m.scale == pytest.approx(train.std(), rel=1e-5)
    # The members are the attempts with the lowest training z-MSE.
    path = tmp_path / "ensemble.safetensors"
    dish.save(path)
    loaded = Dish.load(path)
    assert loaded.record == dish.record and len(loaded.members) == 2
    np.testing.assert_array_equal(loaded.raw_scores(PROBE), dish.raw_scores(PROBE))


def test_attempt_settings_are_checked() -> None:
    with pytest.raises(ValueError, match="retries must be an int >= 0, got -1"):
        DishConfig.for_slopes(retries=-1)
    with pytest.raises(ValueError, match="ensemble must be a positive int, got 0"):
        DishConfig.for_slopes(ensemble=0)
    with pytest.raises(ValueError, match="min_train_spearman must be in"):
        DishConfig.for_slopes(min_train_spearman=1.5)
