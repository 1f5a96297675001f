"""The strategy and space registries: the built-ins are there, a new entry is one call,
the loop's and the CLI's defaults come from the space specs."""

from __future__ import annotations

import pytest

from petridish.dish.config import DishConfig
from petridish.search.loop import (
    SEARCH_CELL_DISH,
    default_dish_config,
    default_predictor,
    default_strategy,
)
from petridish.search.space import SlopeSpace
from petridish.search.spaces import (
    GroundTruth,
    GroundTruthRequest,
    SpaceSpec,
    register_space,
    space_names,
    space_spec,
)
from petridish.search.spaces import registry as space_registry
from petridish.search.strategies import (
    GAStrategy,
    MixedStrategy,
    NAOStrategy,
    RandomStrategy,
    make_strategy,
    register_strategy,
    strategy_info,
    strategy_names,
)
from petridish.search.strategies import registry as strategy_registry


def test_builtin_strategies_are_registered_by_their_modules() -> None:
    assert set(strategy_names()) == {"random", "ga", "nao", "mixed"}
    assert isinstance(make_strategy("ga"), GAStrategy)
    assert isinstance(make_strategy("mixed"), MixedStrategy)
    assert isinstance(make_strategy("nao"), NAOStrategy)
    assert isinstance(make_strategy("random"), RandomStrategy)
    assert strategy_info("ga").summary
    with pytest.raises(KeyError, match="unknown strategy 'bo'; known: "):
        make_strategy("bo")


def test_a_new_strategy_is_one_registry_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(strategy_registry, "_STRATEGIES", dict(strategy_registry._STRATEGIES))
    register_strategy("random2", RandomStrategy, "a test double")
    assert "random2" in strategy_names()
    # Its factory must build a strategy of that name.
    with pytest.raises(ValueError, match="named 'random'"):
        make_strategy("random2")
    with pytest.raises(ValueError, match="twice"):
        register_strategy("ga", GAStrategy)
    with pytest.raises(ValueError, match="without"):
        register_strategy("ga+dish", GAStrategy)


def test_builtin_spaces_carry_their_defaults() -> None:
    assert set(space_names()) == {
        "slope",
        "nasbench_nlp",
        "activation",
        "nao",
        "nao_ptb",
        "recipes",
    }
    nao, table = space_spec("nao"), space_spec("nao_ptb")
    # The table holds nao's genotypes: the same dish, no protocols, a tabular oracle.
    assert table.default_dish() == nao.default_dish() == default_dish_config("nao_ptb")
    assert table.tabular and not table.protocols and not table.downloads
    assert table.evaluators == ("nao_ptb_table",)
    slope, cells = space_spec("slope"), space_spec("nasbench_nlp")
    assert slope.default_dish() == DishConfig.for_slopes() == default_dish_config("slope")
    assert cells.default_dish() == DishConfig.for_cells(**SEARCH_CELL_DISH)
    assert default_dish_config("nasbench_nlp") == cells.default_dish()
    assert slope.default_predictor == cells.default_predictor == default_predictor("slope")
    # The paper's GA unless another generator measured better on the space (issue 17).
    assert slope.default_strategy == table.default_strategy == nao.default_strategy == "ga"
    assert cells.default_strategy == default_strategy("nasbench_nlp") == "mixed"
    assert cells.tabular and cells.downloads and not cells.protocols
    assert not slope.tabular and not slope.downloads and "tiny" in slope.protocols
    assert slope.evaluators == ("mnist_mlp",) and cells.evaluators == ("nasbench_nlp_wt2",)
    with pytest.raises(ValueError, match="no default dish for space 'bowl'"):
        default_dish_config("bowl")
    with pytest.raises(ValueError, match="no protocols"):
        cells.load(GroundTruthRequest(protocol="tiny"))


def test_a_new_space_is_one_registry_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(space_registry, "_SPACES", dict(space_registry._SPACES))

    class Flat:
        name = "flat"
        protocol = "zero"

    spec = SpaceSpec(
        name="small_slope",
        summary="a test space",
        load=lambda request: GroundTruth(SlopeSpace(n_points=20), Flat()),  # type: ignore[arg-type]
        evaluators=("flat",),
        default_dish=lambda: DishConfig.for_slopes(outer_steps=1),
        default_predictor="none",
    )
    register_space(spec)
    assert space_spec("small_slope") is spec and "small_slope" in space_names()
    assert default_dish_config("small_slope") == DishConfig.for_slopes(outer_steps=1)
    assert default_predictor("small_slope") == "none"
    assert default_strategy("small_slope") == "ga" == default_strategy("unregistered")
    assert spec.load(GroundTruthRequest()).space.name == "slope"
    with pytest.raises(ValueError, match="twice"):
        register_space(spec)
    with pytest.raises(KeyError, match="unknown space 'nope'"):
        space_spec("nope")
