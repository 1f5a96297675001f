"""The predictors a search can be filtered by: name -> factory, per space.

Contract
--------
``make_predictor(name, space, dish_config)`` returns a fresh, unfitted predictor following
``petridish.predictor.Predictor`` for the space named ``space`` (``"none"``: None, the
strategy alone picks), or raises ``ValueError`` naming the predictor when it cannot model
that space's motifs (e.g. the GP encodes cells only). ``dish_config`` is the search's
``DishConfig``; only the dish predictors (``DISH_PREDICTORS``) use it, so only their runs
carry it in their identity. A new predictor is one ``register_predictor`` line.

The names (``--predictor`` of ``petridish search``):

* ``dish``: the Synthetic Petri Dish, ``Dish(dish_config)``;
* ``random_dish``: the same dish without its outer loop (``random_data_dish``);
* ``nn_surrogate``: the paper's NN surrogate on the slope (``NNSurrogate``) or on a cell's
  fixed-width encoding (``EncodedNNSurrogate``);
* ``gp``: a Gaussian process on cell encodings (``SklearnPredictor``; needs scikit-learn).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from petridish.dish.config import DishConfig
    from petridish.predictor import Predictor

__all__ = [
    "DISH_PREDICTORS",
    "NO_PREDICTOR",
    "PredictorFactory",
    "make_predictor",
    "predictor_names",
    "register_predictor",
]

PredictorFactory = Callable[[str, "DishConfig"], "Predictor"]
"""``(space name, dish config) -> a fresh predictor``; ``ValueError`` if it cannot."""

NO_PREDICTOR = "none"
DISH_PREDICTORS: tuple[str, ...] = ("dish", "random_dish")

_PREDICTORS: dict[str, tuple[PredictorFactory, str]] = {}


def register_predictor(name: str, factory: PredictorFactory, summary: str = "") -> None:
    """Add ``name`` (a name registered twice, or ``"none"``, is a ``ValueError``)."""
    if not name or name == NO_PREDICTOR or name in _PREDICTORS or "+" in name:
        raise ValueError(f"predictor name {name!r} is empty, reserved or registered twice")
    _PREDICTORS[name] = (factory, summary)


def predictor_names() -> tuple[str, ...]:
    """The registered names and ``"none"`` last."""
    return (*_PREDICTORS, NO_PREDICTOR)


def predictor_summary(name: str) -> str:
    return "no predictor: the strategy alone" if name == NO_PREDICTOR else _PREDICTORS[name][1]


def make_predictor(name: str, space: str, dish_config: DishConfig) -> Predictor | None:
    """A fresh predictor ``name`` for ``space`` (None for ``"none"``); see the module doc."""
    if name == NO_PREDICTOR:
        return None
    if name not in _PREDICTORS:
        raise ValueError(f"unknown predictor {name!r}; known: {', '.join(predictor_names())}")
    return _PREDICTORS[name][0](space, dish_config)


def _dish(space: str, config: DishConfig) -> Predictor:
    from petridish.dish.core import Dish

    return Dish(config)


def _random_dish(space: str, config: DishConfig) -> Predictor:
    from petridish.baselines.random_dish import random_data_dish

    return random_data_dish(config)


def _check_cells(name: str, space: str, config: DishConfig) -> None:
    """Refuse a cell-encoding predictor on a space whose motifs are not cells (known from the
    motif-network the space's default dish runs), before any ground truth is spent."""
    from petridish.search.spaces import space_spec

    if not space_spec(space).runs_cells:
        raise ValueError(
            f"predictor {name!r} encodes recurrent cells; the {space} space's motifs are not "
            "cells: use dish, random_dish or none"
        )


def _nn_surrogate(space: str, config: DishConfig) -> Predictor:
    if space == "slope":
        from petridish.baselines.nn_surrogate import NNSurrogate

        return NNSurrogate()
    _check_cells("nn_surrogate", space, config)
    from petridish.baselines.nn_encoded import EncodedNNSurrogate

    return EncodedNNSurrogate()


def _gp(space: str, config: DishConfig) -> Predictor:
    if space == "slope":
        raise ValueError("predictor 'gp' encodes cells; on the slope space use nn_surrogate")
    _check_cells("gp", space, config)
    from petridish.baselines.sklearn_models import GaussianProcessConfig, SklearnPredictor

    return SklearnPredictor(GaussianProcessConfig())


register_predictor("dish", _dish, "the Synthetic Petri Dish (the default)")
register_predictor("random_dish", _random_dish, "the dish without its outer loop")
register_predictor("nn_surrogate", _nn_surrogate, "the paper's NN surrogate")
register_predictor("gp", _gp, "a Gaussian process on cell encodings (scikit-learn)")
