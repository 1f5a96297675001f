"""The ``petridish predictors`` subcommand now lives in ``petridish.cli.predictors``; this
module keeps the old import path working."""

from __future__ import annotations

from petridish.cli.predictors import GROUPS, add_commands, format_kendall_table, parse_predictors

__all__ = ["GROUPS", "add_commands", "format_kendall_table", "parse_predictors"]
