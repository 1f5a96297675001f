"""The ``petridish search`` and ``petridish compare`` subcommands now live in
``petridish.cli.search``; this module keeps the old import path working. The names are
read from the registries (``search.spaces``, ``search.strategies``, ``search.predictors``)."""

from __future__ import annotations

from petridish.cli.common import DEFAULT_STORE
from petridish.cli.search import PREDICTORS, SPACES, STRATEGIES, add_commands

__all__ = ["DEFAULT_STORE", "PREDICTORS", "SPACES", "STRATEGIES", "add_commands"]
