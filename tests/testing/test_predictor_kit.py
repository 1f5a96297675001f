"""The predictor kit over every predictor: each name of the search's predictor registry and
every predictor class (and model configuration) of ``petridish.baselines``, one line each
in CASES. Toy targets: the slope itself on slopes, the node count on random cells, the
final validation loss on NAS-Bench-NLP pool cells."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from _kit_data import (
    CELL_QUERY,
    CELL_TRAIN,
    SLOPE_QUERY,
    SLOPE_TRAIN,
    TINY_SLOPE_DISH,
    cell_set,
    nlp_bench,
    pool_set,
    slope_set,
)

import petridish.baselines
from petridish.baselines.early_stopping import EarlyStoppingPredictor
from petridish.baselines.nn_encoded import EncodedNNSurrogate
from petridish.baselines.nn_surrogate import NNSurrogate
from petridish.baselines.simple import ParamCountConfig, ParamCountPredictor
from petridish.baselines.sklearn_models import (
    GaussianProcessConfig,
    GradientBoostingConfig,
    RandomForestConfig,
    SklearnPredictor,
    gradient_boosting,
    random_forest,
)
from petridish.dish.core import Dish
from petridish.predictor import Predictor
from petridish.search.predictors import NO_PREDICTOR, make_predictor, predictor_names
from petridish.testing import PredictorKit
from petridish.testing.predictor import TrainingSet


@dataclass(frozen=True)
class PredictorCase:
    """A predictor factory with its toy data. ``registry``: the name of the search's
    predictor registry it stands for (None: a baseline only); ``covers``: the classes it
    exercises (the predictor's own first; then e.g. its model configuration)."""

    factory: Callable[[], Predictor]
    train: Callable[[], TrainingSet]
    query: Callable[[], TrainingSet]
    covers: tuple[type, ...]
    registry: str | None = None
    # Stricter than the kit's "better than chance" (0.0): every learner here measured a
    # held-out Spearman of 0.76 or more on its toy target (the dish 1.0).
    min_rank_correlation: float | None = 0.5


def _registered(name: str, space: str) -> Callable[[], Predictor]:
    def make() -> Predictor:
        predictor = make_predictor(name, space, TINY_SLOPE_DISH)
        assert predictor is not None
        return predictor

    return make


def _slopes(values: tuple[float, ...]) -> Callable[[], TrainingSet]:
    return lambda: slope_set(values)


def _cells(sizes: tuple[int, ...], seed: int) -> Callable[[], TrainingSet]:
    return lambda: cell_set(sizes, seed)


SLOPES = (_slopes(SLOPE_TRAIN), _slopes(SLOPE_QUERY))
CELLS = (_cells(CELL_TRAIN, 0), _cells(CELL_QUERY, 1))
POOL = (lambda: pool_set(0, 12), lambda: pool_set(12, 24))

CASES: dict[str, PredictorCase] = {
    "dish": PredictorCase(_registered("dish", "slope"), *SLOPES, (Dish,), "dish"),
    # Without its outer loop the dish never learns from the losses: only its motifs count.
    "random_dish": PredictorCase(
        _registered("random_dish", "slope"), *SLOPES, (Dish,), "random_dish", None
    ),
    "nn_surrogate": PredictorCase(
        _registered("nn_surrogate", "slope"), *SLOPES, (NNSurrogate,), "nn_surrogate"
    ),
    "nn_surrogate_cells": PredictorCase(
        _registered("nn_surrogate", "nasbench_nlp"), *CELLS, (EncodedNNSurrogate,), "nn_surrogate"
    ),
    "gp": PredictorCase(
        _registered("gp", "nasbench_nlp"), *CELLS, (SklearnPredictor, GaussianProcessConfig), "gp"
    ),
    "random_forest": PredictorCase(random_forest, *CELLS, (SklearnPredictor, RandomForestConfig)),
    "gradient_boosting": PredictorCase(
        gradient_boosting, *CELLS, (SklearnPredictor, GradientBoostingConfig)
    ),
    "param_count": PredictorCase(
        lambda: ParamCountPredictor(ParamCountConfig(direction="fit")),
        *CELLS,
        (ParamCountPredictor, ParamCountConfig),
    ),
    "early_stopping": PredictorCase(
        lambda: EarlyStoppingPredictor.from_logs(nlp_bench(), epochs=3),
        *POOL,
        (EarlyStoppingPredictor,),
    ),
}


def _kit_class(name: str, case: PredictorCase) -> type[PredictorKit]:
    class Kit(PredictorKit):
        min_rank_correlation = case.min_rank_correlation

        @pytest.fixture(scope="class")
        @classmethod
        def predictor_factory(cls) -> Callable[[], Predictor]:
            return case.factory

        @pytest.fixture(scope="class")
        @classmethod
        def training_set(cls) -> TrainingSet:
            return case.train()

        @pytest.fixture(scope="class")
        @classmethod
        def query_set(cls) -> TrainingSet:
            return case.query()

        def test_case_covers_what_it_says(self, predictor_factory: Callable[[], Predictor]) -> None:
            predictor = predictor_factory()
            assert type(predictor) is case.covers[0]
            for extra in case.covers[1:]:
                assert any(isinstance(v, extra) for v in vars(predictor).values())

    Kit.__name__ = Kit.__qualname__ = f"TestKit_{name}"
    return Kit


for _name, _case in CASES.items():
    globals()[f"TestKit_{_name}"] = _kit_class(_name, _case)


def test_every_registered_predictor_runs_the_kit() -> None:
    """A name of the search's predictor registry without a case fails here."""
    registered = set(predictor_names()) - {NO_PREDICTOR}
    covered = {c.registry for c in CASES.values()}
    assert registered <= covered, f"predictors without a PredictorKit run: {registered - covered}"


def _baseline_classes() -> set[type]:
    """The predictor classes (``fit`` and ``query``) and model configurations (``build``)
    defined in the modules of ``petridish.baselines``."""
    found: set[type] = set()
    for info in pkgutil.iter_modules(petridish.baselines.__path__):
        module = importlib.import_module(f"petridish.baselines.{info.name}")
        for _, obj in inspect.getmembers(module, inspect.isclass):
            if obj.__module__ != module.__name__:
                continue
            is_predictor = callable(getattr(obj, "fit", None)) and callable(
                getattr(obj, "query", None)
            )
            if is_predictor or callable(getattr(obj, "build", None)):
                found.add(obj)
    return found


def test_every_baseline_runs_the_kit() -> None:
    """A predictor class or model configuration of the baselines without a case fails here."""
    baselines = _baseline_classes()
    assert {NNSurrogate, SklearnPredictor, RandomForestConfig} <= baselines
    covered = {cls for c in CASES.values() for cls in c.covers}
    missing = sorted(cls.__name__ for cls in baselines - covered)
    assert not missing, f"baselines without a PredictorKit run: {missing}"
