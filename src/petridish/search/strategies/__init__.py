"""Search strategies: random search, the paper's elitist GA, NAO and a GA-random mix
(see ``base.Strategy``).

Each strategy module registers itself in ``registry`` (name -> factory); importing this
package imports every built-in one. A new strategy: a new module here that calls
``register_strategy`` plus its import line below.
"""

from petridish.search.strategies.base import History, Strategy, history_arrays
from petridish.search.strategies.ga import GAStrategy
from petridish.search.strategies.mixed import MixedStrategy
from petridish.search.strategies.nao import NAOStrategy
from petridish.search.strategies.random_search import RandomStrategy
from petridish.search.strategies.registry import (
    StrategyInfo,
    make_strategy,
    register_strategy,
    strategy_info,
    strategy_names,
)

__all__ = [
    "GAStrategy",
    "MixedStrategy",
    "History",
    "NAOStrategy",
    "RandomStrategy",
    "Strategy",
    "StrategyInfo",
    "history_arrays",
    "make_strategy",
    "register_strategy",
    "strategy_info",
    "strategy_names",
]
