"""The ``petridish`` command line: one entry point, subcommands.

  petridish search      one architecture search (Algorithm 1), resumable, on the results store
  petridish compare     several strategies x seeds on a tabular space (NAS-Bench-NLP, or
                        nao_ptb: the paper's space): the Figure 3 analogue
  petridish predictors  benchmark performance predictors on NAS-Bench-NLP cells
  petridish slope       the sigmoid-slope experiment (default table: the bundled one)
  petridish select      Appendix A.1 hyperparameter selection on a slope table's band
  petridish truth       measure a slope table with the MNIST MLP trainer (through the store);
                        with --space (e.g. nao) a cell table of language-model losses

The CLI owns output: progress bars (tqdm, on stderr; ``--quiet`` silences them), log
level, and files. ``main(argv)`` returns an exit code, so tests call it directly. User
errors are one line on stderr and exit code 2.

Layout: ``petridish.cli.common`` holds the shared helpers (``CliError``, progress bars,
dish settings, the store); the command modules ``slope``, ``search``, ``predictors`` and
``tables`` (``truth --space``, dispatched from ``slope``) import it, never the reverse, and
this package imports them to build the parser.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from petridish._logging import logger
from petridish.cli import predictors as _predictors
from petridish.cli import search as _search
from petridish.cli import slope as _slope
from petridish.cli.common import (
    DEFAULT_STORE,
    CliError,
    LogHandler,
    bar,
    dish_config_from_args,
    parse_overrides,
    seed_count,
)
from petridish.dish.devices import use_cpu_cores

__all__ = ["DEFAULT_STORE", "CliError", "build_parser", "dish_config_from_args", "main"]

# The names this module had as one file (cli.py), kept for callers.
_bar = bar
_parse_overrides = parse_overrides
_seeds = seed_count
_load_table = _slope.load_table
_cmd_slope = _slope.cmd_slope
_cmd_select = _slope.cmd_select
_cmd_truth = _slope.cmd_truth


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="petridish",
        description="Cheap neural architecture search with the Synthetic Petri Dish.",
    )
    p.add_argument("-v", "--verbose", action="count", default=0, help="log more (-vv: debug)")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _search.add_commands(sub)
    _predictors.add_commands(sub)
    _slope.add_commands(sub)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    level = [logging.WARNING, logging.INFO, logging.DEBUG][min(args.verbose, 2)]
    if not logger.handlers or all(isinstance(h, logging.NullHandler) for h in logger.handlers):
        logger.addHandler(LogHandler())
    logger.setLevel(level)
    # One JAX device per core before JAX starts: the cell dish splits its motifs over them.
    use_cpu_cores()
    from petridish.store import StoreError

    try:
        return int(args.func(args))
    except (CliError, ValueError, FileNotFoundError, StoreError) as exc:
        message = " ".join(str(exc).split())  # one line, whatever the message held
        print(f"petridish {args.command}: error: {message}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
