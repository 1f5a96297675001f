"""The search filtered by any predictor: run ids, resolution, and a non-dish predictor
really choosing what gets ground truth."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest

from petridish.baselines.nn_surrogate import NNSurrogate
from petridish.evaluators import Outcome
from petridish.motifs import Motif, SigmoidSlope, motif_from_json
from petridish.search.loop import SearchConfig, run_search
from petridish.search.predictors import make_predictor, predictor_names
from petridish.search.space import SlopeSpace
from petridish.search.strategies import GAStrategy
from petridish.store import Store


@dataclass
class Bowl:
    """Fake ground truth: loss = (log slope - log 0.25)^2 + noise fixed per (slope, seed)."""

    name: str = "bowl"
    protocol: str = "log_sq"
    calls: list[str] = field(default_factory=list)

    def evaluate(self, motif: Motif, seed: int) -> Outcome:
        assert isinstance(motif, SigmoidSlope)
        self.calls.append(motif.digest)
        rng = np.random.default_rng([int(motif.digest, 16), seed])
        return Outcome("ok", loss=(math.log(motif.slope / 0.25)) ** 2 + 0.01 * rng.normal())


def _cfg(**kw: object) -> SearchConfig:
    base: dict[str, object] = dict(
        space="slope",
        strategy="ga",
        budget_evals=25,
        seed=3,
        warmup=10,
        proposals=30,
        per_iteration=5,
    )
    base.update(kw)
    return SearchConfig(**base)  # type: ignore[arg-type]


def test_dish_and_no_dish_run_ids_are_the_ones_stores_already_hold() -> None:
    # Pinned from the loop before predictors were pluggable: existing stores resume.
    assert _cfg(use_dish=False).run_id({"elite": 5}) == "slope-ga-s3-c268172d4d85"
    assert _cfg(use_dish=True).run_id({"elite": 5}) == "slope-ga+dish-s3-8f092ee76493"
    assert _cfg(predictor="none").run_id() == _cfg(use_dish=False).run_id()
    assert _cfg(predictor="dish").run_id() == _cfg(use_dish=True).run_id()


def test_another_predictor_is_another_run() -> None:
    ids = {_cfg(predictor=name).run_id() for name in ("dish", "none", "nn_surrogate", "gp")}
    assert len(ids) == 4
    assert _cfg(predictor="gp").run_id().startswith("slope-ga+gp-s3-")
    # Its hyperparameters are part of the identity too.
    assert _cfg(predictor="gp").run_id(None, {"a": 1}) != _cfg(predictor="gp").run_id(
        None, {"a": 2}
    )


def test_use_dish_and_predictor_must_agree() -> None:
    assert _cfg(predictor="nn_surrogate").use_dish is False
    assert _cfg(use_dish=True).predictor == "dish"
    with pytest.raises(ValueError, match="contradicts"):
        _cfg(use_dish=True, predictor="gp")
    with pytest.raises(ValueError, match="predictor"):
        _cfg(predictor="")


def test_registry_names_and_unsupported_space() -> None:
    assert {"dish", "random_dish", "nn_surrogate", "gp", "none"} <= set(predictor_names())
    from petridish.dish.config import DishConfig

    assert make_predictor("none", "slope", DishConfig.for_slopes()) is None
    assert isinstance(make_predictor("nn_surrogate", "slope", DishConfig.for_slopes()), NNSurrogate)
    with pytest.raises(ValueError, match="gp"):
        make_predictor("gp", "slope", DishConfig.for_slopes())
    with pytest.raises(ValueError, match="unknown predictor"):
        make_predictor("oracle", "slope", DishConfig.for_slopes())


def test_nn_surrogate_chooses_the_evaluated_candidates(tmp_path: Path) -> None:
    cfg = _cfg(predictor="nn_surrogate", budget_evals=20)
    bowl = Bowl()
    with Store(tmp_path / "s.db") as store:
        result = run_search(
            cfg,
            space=SlopeSpace(),
            strategy=GAStrategy(elite=5),
            evaluator=bowl,
            store=store,  # type: ignore[arg-type]
        )
        records = store.iterations(result.run_id)
        assert result.run_id.startswith("slope-ga+nn_surrogate-s3-")
        assert len(result) == 20 and len(records) == 3
        ok = {e.motif_hash: e.loss for e in result.evaluations}
        seen: list[str] = [motif_from_json(json.loads(t)).digest for t in records[0].evaluated]
        for rec in records[1:]:
            assert rec.extra["selector"] == "predictor"
            assert rec.extra["predictor"] == "nn_surrogate"
            proposed = [motif_from_json(json.loads(t)) for t in rec.proposed]
            # Refit the same predictor on the same history with the iteration's seed.
            seed = int(np.random.default_rng([cfg.seed, rec.iteration, 3]).integers(2**31 - 1))
            motifs = [m for m in result.motifs if m.digest in seen]
            losses = np.array([ok[m.digest] for m in motifs])
            scores = NNSurrogate().fit(motifs, losses, seed=seed).query(proposed)
            assert rec.predicted is not None
            np.testing.assert_allclose(rec.predicted, scores, rtol=1e-6)
            top = [proposed[i].digest for i in np.argsort(scores, kind="stable")[:5]]
            evaluated = [motif_from_json(json.loads(t)).digest for t in rec.evaluated]
            assert evaluated == top
            seen += evaluated
        calls = len(bowl.calls)
        # The same command resumes it: nothing is re-run.
        again = run_search(
            cfg,
            space=SlopeSpace(),
            strategy=GAStrategy(elite=5),
            evaluator=bowl,
            store=store,  # type: ignore[arg-type]
        )
    assert again.run_id == result.run_id and again.digests == result.digests
    assert len(bowl.calls) == calls


def test_a_predictor_object_is_used_as_given(tmp_path: Path) -> None:
    bowl = Bowl()
    with Store(tmp_path / "s.db") as store:
        result = run_search(
            _cfg(budget_evals=15),
            space=SlopeSpace(),
            strategy=GAStrategy(elite=5),
            evaluator=bowl,  # type: ignore[arg-type]
            store=store,
            predictor=NNSurrogate(),
        )
        extra = store.iterations(result.run_id)[1].extra
    assert result.config.predictor == "NNSurrogate" and extra["predictor"] == "NNSurrogate"
    none = _cfg(budget_evals=15)
    with Store(tmp_path / "t.db") as store:
        plain = run_search(
            none,
            space=SlopeSpace(),
            strategy=GAStrategy(elite=5),
            evaluator=Bowl(),
            store=store,  # type: ignore[arg-type]
            predictor=None,
        )
    assert plain.config.predictor == "none" and "+" not in plain.run_id


def test_a_predictor_that_contradicts_the_config_is_refused(tmp_path: Path) -> None:
    from petridish.dish.config import DishConfig
    from petridish.dish.core import Dish

    kwargs = {"space": SlopeSpace(), "strategy": GAStrategy(elite=5), "evaluator": Bowl()}
    with Store(tmp_path / "s.db") as store:
        with pytest.raises(ValueError, match="not a Dish"):
            run_search(_cfg(use_dish=True), store=store, predictor=NNSurrogate(), **kwargs)  # type: ignore[arg-type]
        with pytest.raises(ValueError, match="'none'"):
            run_search(_cfg(use_dish=False), store=store, predictor=NNSurrogate(), **kwargs)  # type: ignore[arg-type]
        with pytest.raises(ValueError, match="predictor=None"):
            run_search(_cfg(predictor="gp"), store=store, predictor=None, **kwargs)  # type: ignore[arg-type]
        other = DishConfig.for_slopes(outer_steps=2).to_json()
        with pytest.raises(ValueError, match="differs"):
            run_search(
                _cfg(use_dish=True, dish_config=other),
                store=store,
                predictor=Dish(DishConfig.for_slopes()),
                **kwargs,  # type: ignore[arg-type]
            )
        assert store.runs() == []
