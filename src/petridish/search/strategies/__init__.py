"""Search strategies: random search, the paper's elitist GA and NAO (see ``base.Strategy``)."""

from petridish.search.strategies.base import History, Strategy, history_arrays
from petridish.search.strategies.ga import GAStrategy
from petridish.search.strategies.nao import NAOStrategy
from petridish.search.strategies.random_search import RandomStrategy

__all__ = [
    "GAStrategy",
    "History",
    "NAOStrategy",
    "RandomStrategy",
    "Strategy",
    "history_arrays",
]
