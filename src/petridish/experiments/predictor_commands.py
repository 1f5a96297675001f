"""``petridish predictors``: the predictor benchmark (issue 3) from the command line.

``add_commands(sub, common)`` registers the subcommand on the CLI's subparsers. Options:

  --sizes 10,20,40,80,160     train sizes
  --seeds 20                  a count (seeds 0..N-1) or a comma list
  --predictors all            comma list of names and groups: ``all``, ``baselines`` (all but
                              the two dishes), ``dishes`` (``dish``, ``random_dish``)
  --dish-set KEY=VALUE        override one ``DishConfig.for_cells()`` field (repeatable)
  --dish-config FILE          start from a dish config JSON instead (``{"config": ...}`` ok)
  --extend FILE|DIR           merge into an existing result (``predictors.json``): rows run
                              now replace rows of the same predictor, size and seed
  --out DIR                   where predictors.json / .md / kendall_tau.png go
  --data-dir PATH             NAS-Bench-NLP logs (zip, or a folder holding it)
  --quiet                     no progress bar

The command prints the mean Kendall tau table to stdout; progress goes to stderr (tqdm).
``common`` (the CLI's shared-option adder) is accepted for a uniform signature but not
applied: its ``--table``/``--set``/``--config`` options belong to the slope experiment,
and the dish options here are named ``--dish-*`` to say which config they change.
"""

from __future__ import annotations

import argparse
import ast
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from petridish.dish.config import DishConfig
from petridish.experiments.predictors import (
    ALL_PREDICTORS,
    BASELINE_PREDICTORS,
    DEFAULT_SIZES,
    DISH_PREDICTORS,
    BenchmarkResult,
    PredictorBenchmarkConfig,
    build_pool,
    load_benchmark,
    run_predictor_benchmark,
    write_benchmark,
)
from petridish.truth.nasbench_nlp import load_nasbench_nlp

__all__ = ["add_commands", "format_kendall_table", "parse_predictors"]

GROUPS: dict[str, tuple[str, ...]] = {
    "all": ALL_PREDICTORS,
    "baselines": BASELINE_PREDICTORS,
    "dishes": DISH_PREDICTORS,
}


def _error(message: str) -> Exception:
    from petridish.cli import CliError  # lazy: cli imports this module

    return CliError(message)


def _int_list(text: str, option: str) -> tuple[int, ...]:
    try:
        values = tuple(int(s) for s in text.split(",") if s.strip())
    except ValueError:
        raise _error(f"{option} must be a comma list of ints, got {text!r}") from None
    if not values:
        raise _error(f"{option} is empty")
    return values


def _seeds(text: str) -> tuple[int, ...]:
    if "," in text:
        return _int_list(text, "--seeds")
    try:
        n = int(text)
    except ValueError:
        raise _error(f"--seeds must be a count or a comma list of ints, got {text!r}") from None
    if n < 1:
        raise _error(f"--seeds must be >= 1, got {n}")
    return tuple(range(n))


def parse_predictors(text: str) -> tuple[str, ...]:
    """Expand a comma list of predictor names and groups; unknown names are an error."""
    names: list[str] = []
    for item in (s.strip() for s in text.split(",")):
        if not item:
            continue
        if item in GROUPS:
            names.extend(GROUPS[item])
        elif item in ALL_PREDICTORS:
            names.append(item)
        else:
            known = ", ".join([*GROUPS, *ALL_PREDICTORS])
            raise _error(f"unknown predictor {item!r} in --predictors; known: {known}")
    if not names:
        raise _error("--predictors is empty")
    return tuple(dict.fromkeys(names))


def _dish_config(args: argparse.Namespace) -> DishConfig:
    overrides: dict[str, Any] = {}
    for item in args.dish_set or []:
        key, sep, raw = item.partition("=")
        if not sep or not key:
            raise _error(f"--dish-set expects KEY=VALUE, got {item!r}")
        try:
            overrides[key] = ast.literal_eval(raw)
        except (ValueError, SyntaxError):
            overrides[key] = raw  # a plain string, e.g. network=cell
    if args.dish_config:
        try:
            data = json.loads(Path(args.dish_config).read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise _error(f"cannot read dish config {args.dish_config}: {exc}") from None
        base = DishConfig.from_json(data.get("config", data))
    else:
        base = DishConfig.for_cells()
    try:
        return base.replace(**overrides)
    except TypeError as exc:
        raise _error(f"unknown dish setting in --dish-set: {exc}") from None


def format_kendall_table(result: BenchmarkResult) -> str:
    """Plain-text table of mean Kendall tau: one row per predictor, one column per size."""
    by_key = {(s.predictor, s.size): s.kendall_mean for s in result.summaries()}
    title = "mean Kendall tau"
    width = max(len(title), *(len(n) for n in result.predictors)) + 1
    head = f"{title:{width}s}" + "".join(f"{f'n={n}':>9s}" for n in result.sizes)
    rows = [head]
    for name in result.predictors:
        cells = "".join(
            f"{by_key[(name, n)]:9.3f}" if (name, n) in by_key else f"{'':9s}" for n in result.sizes
        )
        rows.append(f"{name:{width}s}{cells}")
    return "\n".join(rows)


def _cmd_predictors(args: argparse.Namespace) -> int:
    from petridish.cli import _bar  # lazy: cli imports this module

    config = PredictorBenchmarkConfig(
        sizes=_int_list(args.sizes, "--sizes"),
        seeds=_seeds(args.seeds),
        predictors=parse_predictors(args.predictors),
        dish=_dish_config(args),
    )
    bench = load_nasbench_nlp(args.data_dir)
    base = load_benchmark(args.extend) if args.extend else None
    if base is not None and build_pool(bench).info.digests != base.pool.digests:
        # Checked before the run, not after hours of fits.
        raise _error(
            f"--extend {args.extend} was measured on another cell pool "
            f"({base.pool.source}, {base.pool.n_cells} cells) than {bench.source}"
        )
    total = len(config.sizes) * len(config.seeds)
    with _bar(total, "predictor benchmark (splits)", args.quiet) as progress:
        result = run_predictor_benchmark(config, bench, progress=progress)
    if base is not None:
        result = base.merge(result)
    paths = write_benchmark(result, args.out)
    p = result.pool
    print(
        f"pool: {p.n_cells} cells from {p.n_complete} complete logs "
        f"({p.n_diverged} diverged excluded); {p.source}"
    )
    print(format_kendall_table(result))
    print(f"wrote {', '.join(str(x) for x in paths.values())}")
    return 0


def add_commands(
    sub: argparse._SubParsersAction[argparse.ArgumentParser],
    common: Callable[[argparse.ArgumentParser], None] | None = None,
) -> None:
    """Register ``predictors`` on ``sub`` (see the module docstring; ``common`` unused)."""
    del common  # slope-experiment options; see the module docstring
    sp = sub.add_parser("predictors", help="benchmark performance predictors on NAS-Bench-NLP")
    default_sizes = ",".join(str(n) for n in DEFAULT_SIZES)
    sp.add_argument("--sizes", default=default_sizes, help=f"train sizes ({default_sizes})")
    sp.add_argument("--seeds", default="20", help="count (0..N-1) or comma list (default 20)")
    sp.add_argument(
        "--predictors",
        default="all",
        help="comma list of names or groups all, baselines, dishes (default all); names: "
        + ", ".join(ALL_PREDICTORS),
    )
    sp.add_argument(
        "--dish-set",
        action="append",
        metavar="KEY=VALUE",
        help="override one DishConfig.for_cells() field, e.g. --dish-set outer_steps=50",
    )
    sp.add_argument("--dish-config", help="dish config JSON to start from instead of Table 4")
    sp.add_argument("--extend", help="existing predictors.json (or its folder) to merge into")
    sp.add_argument("--out", default="runs/predictors", help="output folder")
    sp.add_argument("--data-dir", help="NAS-Bench-NLP logs zip or folder (default: search)")
    sp.add_argument("--quiet", action="store_true", help="no progress bar")
    sp.set_defaults(func=_cmd_predictors)
