"""The ``petridish search`` and ``petridish compare`` subcommands now live in
``petridish.cli.search``; this module keeps the old import path working."""

from __future__ import annotations

from petridish.cli.common import DEFAULT_STORE
from petridish.cli.search import SPACES, STRATEGIES, add_commands

__all__ = ["DEFAULT_STORE", "SPACES", "STRATEGIES", "add_commands"]
