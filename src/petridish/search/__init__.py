"""Architecture search with the dish (paper Algorithm 1): spaces, strategies, the loop."""

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
    evals_to_hit,
    run_search,
)
from petridish.search.oracle import TabularOracle
from petridish.search.space import CellPoolSpace, SearchSpace, SlopeSpace
from petridish.search.strategies import (
    GAStrategy,
    NAOStrategy,
    RandomStrategy,
    Strategy,
)

__all__ = [
    "SCHEDULES",
    "CellPoolSpace",
    "ComparisonResult",
    "GAStrategy",
    "NAOStrategy",
    "RandomStrategy",
    "Schedule",
    "SearchConfig",
    "SearchResult",
    "SearchSpace",
    "SlopeSpace",
    "Strategy",
    "StrategyEntry",
    "TabularOracle",
    "compare_strategies",
    "default_dish_config",
    "evals_to_hit",
    "run_search",
    "write_comparison",
]
