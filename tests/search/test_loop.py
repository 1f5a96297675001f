"""The search loop: determinism, resuming, the dish and no-dish paths, budgets, bad input."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest

from petridish.dish.config import DishConfig
from petridish.evaluators import GroundTruthUnavailable, Outcome
from petridish.motifs import Motif, SigmoidSlope, motif_from_json
from petridish.search.loop import SearchConfig, SearchResult, evals_to_hit, run_search
from petridish.search.space import SlopeSpace
from petridish.search.strategies import GAStrategy, NAOStrategy, RandomStrategy
from petridish.store import Store, StoreError

TINY_DISH = DishConfig.for_slopes(outer_steps=3, inner_steps=20, restarts=1, ensemble=1, retries=0)


@dataclass
class Bowl:
    """Fake ground truth: loss = (log slope - log 0.25)^2 + noise fixed per (slope, seed).

    Slopes below ``fail_below`` fail; ``calls`` lists every motif evaluated.
    """

    name: str = "bowl"
    protocol: str = "log_sq"
    noise: float = 0.01
    fail_below: float = 0.0
    calls: list[str] = field(default_factory=list)

    def evaluate(self, motif: Motif, seed: int) -> Outcome:
        assert isinstance(motif, SigmoidSlope)
        self.calls.append(motif.digest)
        if motif.slope < self.fail_below:
            return Outcome("failed", reason=f"slope {motif.slope} too flat")
        rng = np.random.default_rng([int(motif.digest, 16), seed])
        loss = (math.log(motif.slope) - math.log(0.25)) ** 2 + self.noise * rng.normal()
        return Outcome("ok", loss=loss)


def _config(**kw: object) -> SearchConfig:
    base: dict[str, object] = dict(
        space="slope",
        strategy="ga",
        use_dish=False,
        budget_evals=40,
        seed=3,
        warmup=10,
        proposals=30,
        per_iteration=5,
    )
    base.update(kw)
    return SearchConfig(**base)  # type: ignore[arg-type]


def _run(
    path: Path, config: SearchConfig, evaluator: Bowl | None = None, strategy: object = None
) -> tuple[SearchResult, Bowl]:
    evaluator = evaluator or Bowl()
    strategy = strategy or {"ga": GAStrategy(elite=5), "random": RandomStrategy()}[config.strategy]
    with Store(path) as store:
        result = run_search(
            config,
            space=SlopeSpace(),
            strategy=strategy,
            evaluator=evaluator,  # type: ignore[arg-type]
            store=store,
        )
    return result, evaluator


@pytest.mark.parametrize("strategy", ["ga", "random"])
def test_same_seed_same_run_in_fresh_stores(tmp_path: Path, strategy: str) -> None:
    cfg = _config(strategy=strategy)
    a, _ = _run(tmp_path / "a.db", cfg)
    b, _ = _run(tmp_path / "b.db", cfg)
    assert len(a) == 40 and a.stop_reason == "budget_evals"
    assert a.digests == b.digests
    np.testing.assert_array_equal(a.losses, b.losses)
    assert a.run_id == b.run_id
    assert len(set(a.digests)) == 40  # never the same motif twice
    other, _ = _run(tmp_path / "c.db", cfg.replace(seed=4))
    assert other.digests != a.digests
    assert other.run_id != a.run_id


def test_result_curves_and_iterations(tmp_path: Path) -> None:
    res, _ = _run(tmp_path / "s.db", _config(budget_evals=27))
    assert res.iteration_of == (0,) * 10 + (1,) * 5 + (2,) * 5 + (3,) * 5 + (4,) * 2
    assert np.all(np.diff(res.best_so_far) <= 0)
    assert res.best_so_far[-1] == pytest.approx(np.nanmin(res.losses))
    assert res.best_loss == res.best_so_far[-1]
    assert isinstance(res.best_motif, SigmoidSlope)
    # The GA homes in on the bowl's bottom at 0.25 (warm-up alone is 10 random slopes).
    assert abs(math.log(res.best_motif.slope / 0.25)) < 0.3
    with Store(tmp_path / "s.db") as store:
        logged = store.iterations(res.run_id)
        run = store.get_run(res.run_id)
    # The budget-cut last iteration (2 of 5) is not logged: a resume redoes it.
    assert [r.iteration for r in logged] == [0, 1, 2, 3]
    assert run is not None and run.finished and run.summary["evaluations"] == 27
    evaluated = [d for r in logged for d in r.evaluated]
    assert [motif_from_json(json.loads(t)).digest for t in evaluated] == list(res.digests[:25])


def test_evals_to_hit_on_an_empty_result() -> None:
    res = SearchResult("r", _config(), (), (), "budget_evals", 0.0, 0.0, 0)
    assert evals_to_hit(res, {"x"}) is None
    assert res.best_loss == math.inf and res.best_motif is None
    with pytest.raises(ValueError, match="non-empty"):
        evals_to_hit(res, set())


def test_evals_to_hit_counts_from_one(tmp_path: Path) -> None:
    res, _ = _run(tmp_path / "h.db", _config(budget_evals=20))
    assert evals_to_hit(res, {res.digests[0]}) == 1
    assert evals_to_hit(res, {res.digests[12], res.digests[17]}) == 13
    assert evals_to_hit(res, {"0" * 16}) is None


def test_resume_equals_uninterrupted_and_repeats_nothing(tmp_path: Path) -> None:
    cfg = _config(budget_evals=60)
    straight, straight_bowl = _run(tmp_path / "straight.db", cfg)
    path = tmp_path / "resumed.db"
    bowl = Bowl()
    first, _ = _run(path, cfg.replace(budget_evals=32), bowl)
    assert len(first) == 32 and len(bowl.calls) == 32
    resumed, _ = _run(path, cfg, bowl)
    assert resumed.run_id == first.run_id == straight.run_id
    assert resumed.digests == straight.digests
    np.testing.assert_array_equal(resumed.losses, straight.losses)
    assert resumed.digests[:32] == first.digests
    # Every motif was evaluated exactly once across both calls.
    assert len(bowl.calls) == 60 == len(set(bowl.calls))
    assert len(straight_bowl.calls) == 60
    assert resumed.reused == 32
    # Re-running with a smaller budget gives the prefix, evaluating nothing.
    again, _ = _run(path, cfg.replace(budget_evals=25), bowl)
    assert again.digests == straight.digests[:25]
    assert len(bowl.calls) == 60


def test_finished_run_rerun_is_a_pure_read(tmp_path: Path) -> None:
    cfg = _config(budget_evals=30)
    a, bowl = _run(tmp_path / "x.db", cfg)
    b, _ = _run(tmp_path / "x.db", cfg, bowl)
    assert a.digests == b.digests and len(bowl.calls) == 30
    assert b.reused == 30


def test_store_shared_between_runs_reuses_evaluations(tmp_path: Path) -> None:
    path = tmp_path / "shared.db"
    bowl = Bowl()
    a, _ = _run(path, _config(seed=1), bowl)
    b, _ = _run(path, _config(seed=2), bowl)
    overlap = len(set(a.digests) & set(b.digests))
    assert overlap > 0  # both runs find the bowl's bottom
    assert len(bowl.calls) == 80 - overlap
    # Sharing does not change a run: the same seed in a fresh store gives the same motifs.
    fresh, _ = _run(tmp_path / "fresh.db", _config(seed=2))
    assert fresh.digests == b.digests


def test_failed_evaluations_count_and_are_not_learned(tmp_path: Path) -> None:
    bowl = Bowl(fail_below=0.6)  # the true optimum (0.25) fails: about 30% of the space
    res, _ = _run(tmp_path / "f.db", _config(budget_evals=40), bowl)
    assert len(res) == 40
    failed = [i for i, s in enumerate(res.statuses) if s == "failed"]
    assert failed, "expected some failed evaluations among the warm-up's random slopes"
    assert all(np.isnan(res.losses[i]) for i in failed)
    assert np.isfinite(res.best_loss)
    assert all(
        isinstance(m, SigmoidSlope) and (m.slope < 0.6) == (s == "failed")
        for m, s in zip(res.motifs, res.statuses, strict=True)
    )
    # Never proposed twice, even the failed ones.
    assert len(set(res.digests)) == 40


def test_guarded_dish_holds_out_results_and_logs_the_kept_step(tmp_path: Path) -> None:
    guarded = TINY_DISH.replace(val_fraction=0.25, patience=1)
    cfg = _config(use_dish=True, dish_config=guarded.to_json(), budget_evals=15, proposals=15)
    res, _ = _run(tmp_path / "g.db", cfg)
    with Store(tmp_path / "g.db") as store:
        (rec,) = store.iterations(res.run_id)[1:]
    fit = rec.extra["dish_fit"]
    # 10 warm-up results: ceil(0.25 * 10) = 3 held out, 7 trained on.
    assert fit["n_validation"] == 3 and fit["n_train"] == 7
    assert 0 <= fit["kept_step"] <= fit["outer_steps_run"] <= 3
    # patience=1: it stops at the first step that is not better than the kept one.
    assert fit["outer_steps_run"] in (3, fit["kept_step"] + 1)


def test_dish_path_chooses_lowest_scores(tmp_path: Path) -> None:
    # One dish iteration per run: every new training-set size costs a dish compile.
    cfg = _config(use_dish=True, dish_config=TINY_DISH.to_json(), budget_evals=15, proposals=15)
    res, _ = _run(tmp_path / "d.db", cfg)
    assert len(res) == 15 and res.dish_fit_seconds > 0
    with Store(tmp_path / "d.db") as store:
        logged = store.iterations(res.run_id)
    assert [r.iteration for r in logged] == [0, 1]
    assert logged[0].predicted is None
    for rec in logged[1:]:
        assert rec.extra["selector"] == "dish"
        assert rec.predicted is not None and len(rec.predicted) == len(rec.proposed)
        order = np.argsort(rec.predicted, kind="stable")[:5]
        assert list(rec.evaluated) == [rec.proposed[i] for i in order]
        # What the fit did is logged: all 3 outer steps on all ok results, nothing held out.
        fit = rec.extra["dish_fit"]
        assert fit["outer_steps_run"] == 3 and fit["n_validation"] == 0
        assert fit["kept_step"] is None and fit["seconds"] > 0
    # Deterministic with the dish too.
    again, _ = _run(tmp_path / "d2.db", cfg)
    assert again.digests == res.digests
    # The dish config is part of the run's identity, the budget is not.
    assert cfg.replace(budget_evals=99).run_id() == cfg.run_id()
    other = cfg.replace(dish_config=TINY_DISH.replace(outer_steps=4).to_json())
    assert other.run_id() != cfg.run_id()


def test_no_dish_ga_takes_random_subset_nao_its_own_ranking(tmp_path: Path) -> None:
    res, _ = _run(tmp_path / "g.db", _config(budget_evals=20))
    with Store(tmp_path / "g.db") as store:
        selectors = [r.extra.get("selector") for r in store.iterations(res.run_id)]
    assert selectors == ["warmup", "random", "random"]

    nao = NAOStrategy()
    cfg = _config(strategy=nao.name, budget_evals=15, proposals=10)
    res2, _ = _run(tmp_path / "n.db", cfg, strategy=nao)
    with Store(tmp_path / "n.db") as store:
        recs = store.iterations(res2.run_id)
    assert [r.extra["selector"] for r in recs] == ["warmup", "strategy"]
    scores = recs[1].extra["strategy_scores"]
    assert len(scores) == len(recs[1].proposed)
    order = np.argsort(scores, kind="stable")[:5]
    assert list(recs[1].evaluated) == [recs[1].proposed[i] for i in order]


def test_dish_falls_back_when_it_cannot_fit(tmp_path: Path) -> None:
    class Flat(Bowl):
        def evaluate(self, motif: Motif, seed: int) -> Outcome:
            self.calls.append(motif.digest)
            return Outcome("ok", loss=1.0)  # nothing to rank: the dish cannot fit

    cfg = _config(use_dish=True, dish_config=TINY_DISH.to_json(), budget_evals=15)
    res, _ = _run(tmp_path / "flat.db", cfg, Flat())
    with Store(tmp_path / "flat.db") as store:
        rec = store.iterations(res.run_id)[1]
    assert rec.predicted is None and rec.extra["selector"].startswith("random (the dish")
    assert res.dish_fit_seconds == 0.0


def test_budget_seconds_stops_between_iterations(tmp_path: Path) -> None:
    import time

    class Slow(Bowl):
        def evaluate(self, motif: Motif, seed: int) -> Outcome:
            time.sleep(0.01)
            return super().evaluate(motif, seed)

    res, _ = _run(tmp_path / "t.db", _config(budget_evals=200, budget_seconds=0.12), Slow())
    assert res.stop_reason == "budget_seconds"
    assert 10 <= len(res) < 200
    assert len(res) % 5 == 0  # whole iterations only


def test_exhausted_space_stops(tmp_path: Path) -> None:
    space = SlopeSpace(n_points=12)
    with Store(tmp_path / "e.db") as store:
        res = run_search(
            _config(budget_evals=50),
            space=space,
            strategy=GAStrategy(elite=5),
            evaluator=Bowl(),
            store=store,
        )
    assert res.stop_reason == "exhausted"
    assert sorted(res.digests) == sorted(m.digest for m in space.grid)


def test_bad_config_values_are_named() -> None:
    with pytest.raises(ValueError, match="budget_evals.*0"):
        _config(budget_evals=0)
    with pytest.raises(ValueError, match="per_iteration.*-1"):
        _config(per_iteration=-1)
    with pytest.raises(ValueError, match="budget_seconds.*nan"):
        _config(budget_seconds=float("nan"))
    with pytest.raises(ValueError, match="seed"):
        _config(seed=-2)
    with pytest.raises(ValueError, match="unknown DishConfig fields"):
        _config(dish_config={"no_such_field": 1})
    with pytest.raises(ValueError, match="unknown SearchConfig fields"):
        SearchConfig.from_json({**_config().to_json(), "bogus": 1})
    assert SearchConfig.from_json(_config().to_json()) == _config()


def test_mismatched_names_and_changed_config(tmp_path: Path) -> None:
    with Store(tmp_path / "m.db") as store:
        with pytest.raises(ValueError, match="strategy is 'random'.*'ga'"):
            run_search(
                _config(strategy="random"),
                space=SlopeSpace(),
                strategy=GAStrategy(),
                evaluator=Bowl(),
                store=store,
            )
        with pytest.raises(ValueError, match="protocol is 'other'"):
            run_search(
                _config(protocol="other"),
                space=SlopeSpace(),
                strategy=GAStrategy(),
                evaluator=Bowl(),
                store=store,
            )
        run_search(
            _config(budget_evals=10),
            space=SlopeSpace(),
            strategy=GAStrategy(),
            evaluator=Bowl(),
            store=store,
            run_id="mine",
        )
        with pytest.raises(StoreError, match="mine"):
            run_search(
                _config(budget_evals=10, warmup=5),
                space=SlopeSpace(),
                strategy=GAStrategy(),
                evaluator=Bowl(),
                store=store,
                run_id="mine",
            )
    # Strategy hyperparameters are part of the run id.
    cfg = _config()
    assert cfg.run_id({"elite": 5}) != cfg.run_id({"elite": 20})


def test_foreign_store_file_is_a_store_error(tmp_path: Path) -> None:
    bad = tmp_path / "junk.db"
    bad.write_bytes(b"this is not a database" * 100)
    with pytest.raises(StoreError, match="junk.db"):
        _run(bad, _config())


# -- failures are not results --------------------------------------------------------------


def test_failed_evaluations_are_retried_on_resume(tmp_path: Path) -> None:
    """A run whose every evaluation failed (ground truth broken, e.g. data missing under an
    older petridish) is redone when resumed with working ground truth: the warm-up's
    failures are evaluated again, the iterations chosen without results are redone, and
    the run equals one that never failed."""
    cfg = _config(budget_evals=25)
    path = tmp_path / "r.db"
    broken, broken_bowl = _run(path, cfg, Bowl(fail_below=100.0))
    assert len(broken) == 25 and set(broken.statuses) == {"failed"}
    # Still broken: the failures are retried, they fail again, nothing else changes.
    still, still_bowl = _run(path, cfg, Bowl(fail_below=100.0))
    assert still.digests == broken.digests and len(still_bowl.calls) == 25
    assert still.reused == 0
    fixed, bowl = _run(path, cfg, Bowl())
    fresh, _ = _run(tmp_path / "fresh.db", cfg)
    assert set(fixed.statuses) == {"ok"}
    assert fixed.digests == fresh.digests and fixed.run_id == broken.run_id
    np.testing.assert_array_equal(fixed.losses, fresh.losses)
    assert len(bowl.calls) == 25 == len(set(bowl.calls))  # every one evaluated, once
    with Store(path) as store:
        logged = store.iterations(fixed.run_id)
        history = store.failed_attempts()
        again = [store.get(m, "bowl", "log_sq", 0) for m in fixed.motifs]
    assert [r.iteration for r in logged] == [0, 1, 2, 3]
    assert all(ev is not None and ev.status == "ok" for ev in again)
    # The failures stay as history: two attempts per warm-up motif (first run, retry).
    warm = set(fixed.digests[:10])
    assert sum(ev.motif_hash in warm for ev in history) == 20
    # A finished run is now a pure read.
    reread, reread_bowl = _run(path, cfg, Bowl())
    assert reread.digests == fixed.digests and reread_bowl.calls == []


@dataclass
class NoData(Bowl):
    """Ground truth that cannot be had at all until ``available`` is set."""

    available: bool = False

    def evaluate(self, motif: Motif, seed: int) -> Outcome:
        if not self.available:
            self.calls.append("unavailable")
            raise GroundTruthUnavailable("the bowl's data is missing")
        return super().evaluate(motif, seed)


def test_unavailable_ground_truth_stops_at_the_first_failure(tmp_path: Path) -> None:
    cfg = _config(budget_evals=20)
    path = tmp_path / "u.db"
    evaluator = NoData()
    with pytest.raises(GroundTruthUnavailable, match="missing"):
        _run(path, cfg, evaluator)
    assert evaluator.calls == ["unavailable"]  # nothing more was tried
    with Store(path) as store:
        assert len(store) == 0 and store.failed_attempts() == []
        (run,) = store.runs()
        assert store.iterations(run.run_id) == [] and not run.finished
    evaluator.available = True
    resumed, _ = _run(path, cfg, evaluator)
    fresh, _ = _run(tmp_path / "fresh.db", cfg)
    assert resumed.digests == fresh.digests and resumed.run_id == run.run_id


def test_fit_progress_reports_outer_steps(tmp_path: Path) -> None:
    cfg = _config(use_dish=True, dish_config=TINY_DISH.to_json(), budget_evals=15, proposals=15)
    seen: list[tuple[int, int, int, float]] = []
    spent: list[tuple[int, float]] = []
    with Store(tmp_path / "p.db") as store:
        run_search(
            cfg,
            space=SlopeSpace(),
            strategy=GAStrategy(elite=5),
            evaluator=Bowl(),  # type: ignore[arg-type]
            store=store,
            progress=lambda n, budget, best: spent.append((n, best)),
            fit_progress=lambda it, step, total, loss: seen.append((it, step, total, loss)),
        )
    assert seen and {it for it, *_ in seen} == {1}
    steps = [step for _, step, _, _ in seen]
    assert steps == sorted(steps) and steps[-1] == seen[-1][2]  # ends full
    assert all(math.isfinite(loss) for *_, loss in seen)
    # Before the first result the best loss is inf (the CLI shows it as "best -").
    assert spent[0] == (0, math.inf) and spent[-1][0] == 15 and math.isfinite(spent[-1][1])
