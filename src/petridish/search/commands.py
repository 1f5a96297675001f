"""The ``petridish search`` and ``petridish compare`` subcommands now live in
``petridish.cli.search``; this module keeps the old import path working."""

from __future__ import annotations

from petridish.cli.search import add_commands

__all__ = ["add_commands"]
