"""The strategy registry: name -> factory of a fresh strategy with default hyperparameters.

Each strategy module registers itself (``register_strategy("ga", GAStrategy)`` at its
bottom); ``petridish.search.strategies`` imports every built-in module, so the table is
full once the package is imported. A new strategy is a new module plus one import line
in the package ``__init__``. The CLI takes its ``--strategy`` choices and help from here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from petridish.search.strategies.base import Strategy

__all__ = [
    "StrategyInfo",
    "make_strategy",
    "register_strategy",
    "strategy_info",
    "strategy_names",
]


@dataclass(frozen=True)
class StrategyInfo:
    """One registered strategy: its name, a one-line summary and a factory (no arguments:
    the default hyperparameters) that returns a fresh ``Strategy`` named ``name``."""

    name: str
    summary: str
    factory: Callable[[], Strategy]


_STRATEGIES: dict[str, StrategyInfo] = {}


def register_strategy(name: str, factory: Callable[[], Strategy], summary: str = "") -> None:
    """Add ``name``; registering a name twice is a ``ValueError`` (two modules clash)."""
    if not isinstance(name, str) or not name or "+" in name or "," in name:
        raise ValueError(f"a strategy name must be a non-empty string without + or ,: {name!r}")
    if name in _STRATEGIES:
        raise ValueError(f"strategy {name!r} is registered twice")
    _STRATEGIES[name] = StrategyInfo(name, summary, factory)


def strategy_names() -> tuple[str, ...]:
    """The registered names, in registration order."""
    return tuple(_STRATEGIES)


def strategy_info(name: str) -> StrategyInfo:
    """The entry of ``name``; ``KeyError`` listing the known names if there is none."""
    try:
        return _STRATEGIES[name]
    except KeyError:
        raise KeyError(f"unknown strategy {name!r}; known: {', '.join(strategy_names())}") from None


def make_strategy(name: str) -> Strategy:
    """A fresh strategy ``name`` with its default hyperparameters (``KeyError`` if unknown)."""
    strategy = strategy_info(name).factory()
    if strategy.name != name:
        raise ValueError(f"strategy factory {name!r} built a strategy named {strategy.name!r}")
    return strategy
