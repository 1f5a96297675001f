"""Architecture search with the dish (paper Algorithm 1): spaces, strategies, the loop."""

from petridish.search.space import CellPoolSpace, SearchSpace, SlopeSpace
from petridish.search.strategies import (
    GAStrategy,
    NAOStrategy,
    RandomStrategy,
    Strategy,
)

__all__ = [
    "CellPoolSpace",
    "GAStrategy",
    "NAOStrategy",
    "RandomStrategy",
    "SearchSpace",
    "SlopeSpace",
    "Strategy",
]
