"""Dish fit/predict contract: determinism, no recompiles, validation, save/load, bad input."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from petridish import Dish, DishConfig
from petridish.dish.outer import STATS
from petridish.motifs import SigmoidSlope

# Small, fast settings; the shapes are shared by every test here so compiles are reused.
CFG = DishConfig.for_slopes(
    inner_steps=20, outer_steps=6, n_samples=6, restarts=1, ensemble=1, retries=0
)
SLOPES = [0.4, 0.55, 0.7, 0.9, 1.1, 1.3, 1.5]
LOSSES = [0.035, 0.040, 0.046, 0.052, 0.058, 0.066, 0.075]


def _motifs(xs: list[float]) -> list[SigmoidSlope]:
    return [SigmoidSlope(c) for c in xs]


def test_fit_predict_shapes_ranks_and_learning() -> None:
    dish = Dish(CFG).fit(_motifs(SLOPES), LOSSES, seed=0)
    assert dish.record is not None and len(dish.record.outer_losses) == CFG.outer_steps
    # The outer loss must go down on the training motifs.
    assert dish.record.outer_losses[-1] < dish.record.outer_losses[0]
    pred = dish.predict(_motifs([0.1, 0.3, 2.0]))
    assert pred.scores.shape == (3,) and pred.scores.dtype == np.float64
    assert sorted(pred.ranks.tolist()) == [1, 2, 3]
    assert pred.ranks[int(np.argmin(pred.scores))] == 1
    np.testing.assert_allclose(pred.zscores.mean(), 0.0, atol=1e-9)
    assert pred.best(1)[0] == pred.motifs[int(np.argmin(pred.scores))]
    assert not pred.flagged.any()


def test_same_seed_same_result_new_object_compiles_nothing() -> None:
    a = Dish(CFG).fit(_motifs(SLOPES), LOSSES, seed=3)
    compiles = STATS.compiles
    b = Dish(CFG).fit(_motifs(SLOPES), LOSSES, seed=3)
    assert STATS.compiles == compiles, "a second fit with the same shapes recompiled"
    assert b.record is not None and b.record.compile_seconds == 0.0
    probe = _motifs([0.2, 0.8, 1.9])
    np.testing.assert_array_equal(a.predict(probe).scores, b.predict(probe).scores)
    c = Dish(CFG).fit(_motifs(SLOPES), LOSSES, seed=4)
    assert not np.array_equal(a.predict(probe).scores, c.predict(probe).scores)


def test_predict_padding_does_not_change_scores() -> None:
    dish = Dish(CFG).fit(_motifs(SLOPES), LOSSES, seed=0)
    many = _motifs(list(np.linspace(0.05, 2.0, 11)))
    all_scores = dish.predict(many).scores
    for i in (0, 5, 10):
        np.testing.assert_allclose(dish.predict([many[i]] * 2).scores[0], all_scores[i], rtol=1e-6)


def _record_batches(monkeypatch: pytest.MonkeyPatch) -> list[tuple[np.ndarray, np.ndarray]]:
    """Spy on the outer steps of fits: the (codes, targets) batch each step was given."""
    from petridish.dish import core

    seen: list[tuple[np.ndarray, np.ndarray]] = []
    real = core._attempts_step

    def spy(*args: object) -> object:
        codes, targets = args[6], args[7]  # see core._attempts_step's signature
        seen.append((np.asarray(codes), np.asarray(targets)))
        return real(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(core, "_attempts_step", spy)
    return seen


def test_motif_batch_sampling_draws_seeded_subsets_with_their_own_losses(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    cfg = CFG.replace(motif_batch=4)
    seen = _record_batches(monkeypatch)
    dish = Dish(cfg).fit(_motifs(SLOPES), LOSSES, seed=0)
    assert dish.record is not None and np.all(np.isfinite(dish.record.outer_losses))
    first = list(seen)
    assert len(first) == cfg.outer_steps
    loss_of = dict(zip(SLOPES, LOSSES, strict=True))
    for codes, targets in first:
        # 4 distinct training motifs (no padding at 4), in training order, each with the
        # loss of that very motif: rows and labels stay paired.
        assert codes.shape == (4,) and targets.shape == (4,)
        slopes = [float(c) for c in codes]
        assert len(set(slopes)) == 4 and slopes == sorted(slopes)
        for c, t in zip(codes, targets, strict=True):
            match = [s for s in SLOPES if np.isclose(s, c)]
            assert len(match) == 1
            np.testing.assert_allclose(t, loss_of[match[0]], rtol=1e-6)
    # A fresh draw every step: not all steps see the same subset.
    assert len({tuple(c.tolist()) for c, _ in first}) > 1
    # The same seed repeats the draws exactly; another seed draws other subsets.
    seen.clear()
    Dish(cfg).fit(_motifs(SLOPES), LOSSES, seed=0)
    assert [c.tolist() for c, _ in seen] == [c.tolist() for c, _ in first]
    seen.clear()
    Dish(cfg).fit(_motifs(SLOPES), LOSSES, seed=1)
    assert [c.tolist() for c, _ in seen] != [c.tolist() for c, _ in first]


def test_small_training_sets_are_padded_with_left_out_rows(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # 7 motifs pad to 8 (a multiple of 8, at most motif_batch=40): the padding row repeats
    # the first motif with a NaN target, which the meta-loss leaves out.
    seen = _record_batches(monkeypatch)
    Dish(CFG).fit(_motifs(SLOPES), LOSSES, seed=0)
    codes, targets = seen[0]
    assert codes.shape == (8,) and targets.shape == (8,)
    np.testing.assert_allclose(codes[:7], SLOPES, rtol=1e-6)
    np.testing.assert_allclose(targets[:7], LOSSES, rtol=1e-6)
    assert codes[7] == codes[0] and np.isnan(targets[7])
    assert all(np.array_equal(c, codes) for c, _ in seen)  # all motifs, every step


def test_validation_keeps_best_step() -> None:
    val = (_motifs([0.45, 0.8, 1.2, 1.45]), [0.037, 0.05, 0.062, 0.072])
    dish = Dish(CFG).fit(_motifs(SLOPES), LOSSES, seed=0, validation=val)
    rec = dish.record
    assert rec is not None and len(rec.val_losses) == CFG.outer_steps + 1
    assert rec.best_step == int(np.argmin(rec.val_losses[::-1]) * -1 + len(rec.val_losses) - 1)
    from petridish.dish.core import selection_mse

    kept = selection_mse(dish.raw_scores(val[0]), np.asarray(val[1]))
    assert kept == pytest.approx(min(rec.val_losses), rel=1e-5)


@pytest.mark.parametrize(
    "losses,match",
    [
        ([0.1] * 7, "all equal"),
        ([0.1, np.nan, 0.2, 0.3, 0.4, 0.5, 0.6], "finite"),
        ([0.1, 0.2], "one loss per motif"),
    ],
)
def test_bad_losses(losses: list[float], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        Dish(CFG).fit(_motifs(SLOPES), losses, seed=0)


def test_predict_before_fit_is_clear() -> None:
    from petridish.predictor import NotFittedError

    with pytest.raises(RuntimeError, match="not fitted"):
        Dish(CFG).predict(_motifs([0.5]))
    with pytest.raises(NotFittedError, match="not fitted"):
        Dish(CFG).query(_motifs([0.5]))
    with pytest.raises(NotFittedError, match="unfitted"):
        Dish(CFG).save("never-written.safetensors")


def test_save_load_round_trip(tmp_path: Path) -> None:
    dish = Dish(CFG).fit(_motifs(SLOPES), LOSSES, seed=1)
    path = tmp_path / "dish.safetensors"
    dish.save(str(path))
    loaded = Dish.load(str(path))
    assert loaded.config == dish.config and loaded.record == dish.record
    probe = _motifs([0.2, 1.0, 1.8])
    np.testing.assert_array_equal(loaded.predict(probe).scores, dish.predict(probe).scores)


def test_load_rejects_foreign_and_damaged_files(tmp_path: Path) -> None:
    junk = tmp_path / "junk.safetensors"
    junk.write_bytes(b"not a safetensors file at all")
    with pytest.raises(ValueError, match="junk.safetensors"):
        Dish.load(str(junk))
    from safetensors.numpy import save_file

    foreign = tmp_path / "foreign.safetensors"
    save_file({"w": np.zeros(3, np.float32)}, str(foreign), metadata={"format": "other"})
    with pytest.raises(ValueError, match="not a petridish dish file"):
        Dish.load(str(foreign))
    with pytest.raises(FileNotFoundError):
        Dish.load(str(tmp_path / "missing.safetensors"))


def test_random_data_dish_runs_no_outer_steps() -> None:
    from petridish.baselines import random_data_dish

    rd = random_data_dish(CFG).fit(_motifs(SLOPES), LOSSES, seed=0)
    fitted = Dish(CFG).fit(_motifs(SLOPES), LOSSES, seed=0)
    assert rd.record is not None and rd.record.outer_losses == ()
    init = Dish(CFG).initialize(0, SigmoidSlope)
    assert init.synthetic is not None and rd.synthetic is not None
    np.testing.assert_array_equal(rd.synthetic["x_train"], init.synthetic["x_train"])
    assert fitted.synthetic is not None
    assert not np.array_equal(fitted.synthetic["x_train"], rd.synthetic["x_train"])


def test_restarts_keep_the_best_on_validation() -> None:
    val = (_motifs([0.45, 0.8, 1.2, 1.45]), [0.037, 0.05, 0.062, 0.072])
    one = Dish(CFG).fit(_motifs(SLOPES), LOSSES, seed=2, validation=val)
    three = Dish(CFG.replace(restarts=3)).fit(_motifs(SLOPES), LOSSES, seed=2, validation=val)
    assert one.record is not None and three.record is not None
    assert min(three.record.val_losses) <= min(one.record.val_losses)
    if three.record.restart == 0:  # restart 0 is the plain fit with the same seed
        np.testing.assert_array_equal(three.synthetic["x_train"], one.synthetic["x_train"])
    else:
        assert min(three.record.val_losses) < min(one.record.val_losses)
    probe = _motifs([0.3, 1.0])
    again = Dish(CFG.replace(restarts=3)).fit(_motifs(SLOPES), LOSSES, seed=2, validation=val)
    np.testing.assert_array_equal(again.predict(probe).scores, three.predict(probe).scores)


def test_growing_training_sets_share_one_compiled_step() -> None:
    # 9..16 training motifs all pad to 16: a search refitting each iteration compiles once.
    slopes = list(np.linspace(0.2, 1.8, 16))
    losses = [0.05 + 0.02 * (c - 0.9) ** 2 for c in slopes]
    Dish(CFG).fit(_motifs(slopes[:9]), losses[:9], seed=0)
    compiles = STATS.compiles
    for n in (11, 14, 16):
        Dish(CFG).fit(_motifs(slopes[:n]), losses[:n], seed=0)
    assert STATS.compiles == compiles


def test_selection_mse_is_zscored_mse_and_total() -> None:
    from petridish import metrics
    from petridish.dish.core import selection_mse

    scores, targets = np.array([0.3, 0.1, 0.7, 0.2]), np.array([1.0, 0.5, 2.0, 0.4])
    assert selection_mse(scores, targets) == metrics.zscored_mse(scores, targets)
    # A diverged motif counts as worst: the same as a finite score far above the rest.
    with_nan = selection_mse(np.array([0.3, 0.1, np.nan, 0.2]), targets)
    assert with_nan == selection_mse(np.array([0.3, 0.1, 1.3, 0.2]), targets)
    assert selection_mse(np.array([np.nan] * 4), targets) == float("inf")
    assert selection_mse(np.full(4, 0.5), targets) == float("inf")


def test_val_fraction_holds_out_seeded_validation_motifs() -> None:
    from petridish.dish.core import holdout_split

    slopes = list(np.linspace(0.3, 1.8, 12))
    losses = np.array([0.05 + 0.02 * (c - 0.9) ** 2 for c in slopes])
    train, t_losses, val = holdout_split(_motifs(slopes), losses, 0.25, seed=5)
    assert val is not None and len(val[0]) == 3 and len(train) == 9
    # A partition of the motifs, each with its own loss; training order kept.
    assert sorted(m.slope for m in [*train, *val[0]]) == sorted(slopes)
    assert [m.slope for m in train] == sorted(m.slope for m in train)
    for m, loss in zip([*train, *val[0]], [*t_losses, *val[1]], strict=True):
        assert loss == losses[slopes.index(m.slope)]
    again = holdout_split(_motifs(slopes), losses, 0.25, seed=5)
    assert again[2] is not None and again[2][0] == val[0]
    other = holdout_split(_motifs(slopes), losses, 0.25, seed=6)
    assert other[2] is not None and other[2][0] != val[0]
    # Too few motifs to leave 2 for training: no validation, all motifs train.
    few, few_losses, none = holdout_split(_motifs(slopes[:3]), losses[:3], 0.25, seed=0)
    assert none is None and len(few) == 3 and few_losses.tolist() == losses[:3].tolist()


def test_fit_with_val_fraction_records_held_out_selection() -> None:
    cfg = CFG.replace(val_fraction=0.3)
    dish = Dish(cfg).fit(_motifs(SLOPES), LOSSES, seed=0)
    rec = dish.record
    # 7 motifs: ceil(0.3 * 7) = 3 held out, 4 train; validation before and after every step.
    assert rec is not None and rec.n_validation == 3 and rec.n_motifs == 4
    assert len(rec.val_losses) == cfg.outer_steps + 1 and rec.best_step is not None
    assert rec.val_losses[rec.best_step] == min(rec.val_losses)
    # Without a fraction nothing is held out.
    plain = Dish(CFG).fit(_motifs(SLOPES), LOSSES, seed=0)
    assert plain.record is not None and plain.record.n_validation == 0
    assert plain.record.n_motifs == 7 and plain.record.val_losses == ()


@pytest.mark.parametrize("patience", [1, 2])
def test_patience_stops_exactly_patience_steps_after_the_best(patience: int) -> None:
    # Validation losses that disagree with the training trend: the fit soon stops helping.
    val = (_motifs([0.45, 0.8, 1.2, 1.45]), [0.072, 0.05, 0.062, 0.037])
    cfg = CFG.replace(patience=patience, outer_steps=12)
    full = Dish(CFG.replace(outer_steps=12)).fit(_motifs(SLOPES), LOSSES, seed=0, validation=val)
    calls: list[tuple[int, int]] = []
    dish = Dish(cfg).fit(
        _motifs(SLOPES),
        LOSSES,
        seed=0,
        validation=val,
        progress=lambda s, t, _: calls.append((s, t)),
    )
    rec, ref = dish.record, full.record
    assert rec is not None and ref is not None and rec.best_step is not None
    ran = len(rec.outer_losses)
    # Either every step ran, or it stopped exactly `patience` steps after the best one.
    assert ran == 12 or ran == rec.best_step + patience
    # The steps that ran are the full fit's steps.
    np.testing.assert_allclose(rec.val_losses, ref.val_losses[: ran + 1], rtol=1e-5)
    # The full run's validation curve says when the patient fit had to stop.
    curve = np.asarray(ref.val_losses)
    expected = next(
        (
            s
            for s in range(1, 13)
            if s - int(np.flatnonzero(curve[: s + 1] <= curve[: s + 1].min())[-1]) >= patience
        ),
        12,
    )
    assert ran == expected
    assert ran < 12, "this validation set should stop the fit early"
    # Progress: one call per step run, out of 12 until the stop, whose call ends the count.
    assert [s for s, _ in calls] == list(range(1, ran + 1))
    assert [t for _, t in calls] == [12] * (ran - 1) + [ran]


def test_bad_early_stopping_settings_are_named() -> None:
    with pytest.raises(ValueError, match="val_fraction must be in"):
        DishConfig.for_slopes(val_fraction=1.0)
    with pytest.raises(ValueError, match="patience must be an int >= 0, got -1"):
        DishConfig.for_slopes(patience=-1)
    with pytest.raises(ValueError, match="restarts must be a positive int, got 0"):
        DishConfig.for_slopes(restarts=0)
