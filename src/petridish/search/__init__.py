"""Architecture search with the dish (paper Algorithm 1): spaces, strategies, the loop.

Registries: ``strategies`` (name -> strategy factory, each strategy module registers
itself), ``spaces`` (name -> ``SpaceSpec``: how to build the space and its ground truth,
its default predictor and dish, one module per space) and ``predictors`` (the predictors
that can filter a search, ``run_search(predictor=...)``).
"""

from petridish.search.compare import (
    SCHEDULES,
    ComparisonResult,
    Schedule,
    StrategyEntry,
    compare_strategies,
    write_comparison,
)
from petridish.search.loop import (
    SearchConfig,
    SearchResult,
    default_dish_config,
    default_predictor,
    default_strategy,
    evals_to_hit,
    run_search,
)
from petridish.search.oracle import TabularOracle
from petridish.search.predictors import make_predictor, predictor_names, register_predictor
from petridish.search.space import CellPoolSpace, SearchSpace, SlopeSpace
from petridish.search.spaces import (
    GroundTruth,
    GroundTruthRequest,
    SpaceSpec,
    register_space,
    space_names,
    space_spec,
)
from petridish.search.strategies import (
    GAStrategy,
    NAOStrategy,
    RandomStrategy,
    Strategy,
    make_strategy,
    register_strategy,
    strategy_names,
)

__all__ = [
    "SCHEDULES",
    "CellPoolSpace",
    "ComparisonResult",
    "GAStrategy",
    "GroundTruth",
    "GroundTruthRequest",
    "NAOStrategy",
    "RandomStrategy",
    "Schedule",
    "SearchConfig",
    "SearchResult",
    "SearchSpace",
    "SlopeSpace",
    "SpaceSpec",
    "Strategy",
    "StrategyEntry",
    "TabularOracle",
    "compare_strategies",
    "default_dish_config",
    "default_predictor",
    "default_strategy",
    "evals_to_hit",
    "make_predictor",
    "make_strategy",
    "predictor_names",
    "register_predictor",
    "register_space",
    "register_strategy",
    "run_search",
    "space_names",
    "space_spec",
    "strategy_names",
    "write_comparison",
]
