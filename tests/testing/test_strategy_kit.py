"""The strategy kit over every registered strategy, on the slope space and on a small pool
of NAS-Bench-NLP cells (a space of long, mixed-alphabet gene strings)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
from _kit_data import cell_set

from petridish.search.space import CellPoolSpace, SearchSpace, SlopeSpace
from petridish.search.strategies import Strategy
from petridish.search.strategies.registry import make_strategy, strategy_names
from petridish.testing import StrategyKit


def _cell_pool() -> SearchSpace:
    cells, _ = cell_set(tuple(range(2, 9)) * 3, seed=3)  # 21 random cells of 2..8 nodes
    return CellPoolSpace.from_cells(cells, max_nodes=8)


SPACES: dict[str, Callable[[], SearchSpace]] = {"slope": SlopeSpace, "cells": _cell_pool}

# Every registered strategy runs on every space above; a new strategy needs no line here.
CASES: tuple[tuple[str, str], ...] = tuple(
    (strategy, space) for strategy in strategy_names() for space in SPACES
)


def _kit_class(strategy_name: str, space_name: str) -> type[StrategyKit]:
    class Kit(StrategyKit):
        @pytest.fixture(scope="class")
        @classmethod
        def strategy(cls) -> Strategy:
            return make_strategy(strategy_name)

        @pytest.fixture(scope="class")
        @classmethod
        def space(cls) -> SearchSpace:
            return SPACES[space_name]()

        def test_case_is_named_after_the_strategy(self, strategy: Strategy) -> None:
            assert strategy.name == strategy_name

    Kit.__name__ = Kit.__qualname__ = f"TestKit_{strategy_name}_on_{space_name}"
    return Kit


for _strategy, _space in CASES:
    globals()[f"TestKit_{_strategy}_on_{_space}"] = _kit_class(_strategy, _space)


def test_every_registered_strategy_runs_the_kit() -> None:
    registered = set(strategy_names())
    assert {"random", "ga", "nao"} <= registered
    covered = {s for s, _ in CASES if f"TestKit_{s}_on_slope" in globals()}
    assert covered == registered, f"strategies without a StrategyKit run: {registered - covered}"
    assert np.all([f"TestKit_{s}_on_{p}" in globals() for s, p in CASES])
