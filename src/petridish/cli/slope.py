"""The sigmoid-slope subcommands: ``slope`` (the experiment), ``select`` (Appendix A.1)
and ``truth`` (measure a slope table by training MNIST MLPs, through the results store;
with ``--space``, a cell table instead: ``petridish.cli.tables``).
"""

from __future__ import annotations

import argparse
import ast
import json
from pathlib import Path
from typing import Any

import numpy as np

from petridish.cli.common import (
    MNIST_HINT,
    CliError,
    add_dish_options,
    add_executor_options,
    add_quiet,
    add_store_option,
    bar,
    dish_config_from_args,
    dish_keys,
    executor_from_args,
    no_ground_truth,
    open_store,
    seed_count,
)
from petridish.dish.config import DishConfig

__all__ = ["add_commands", "load_table"]


def load_table(path: str | None) -> Any:
    """The slope table at ``path`` (a CSV), or the bundled one when None."""
    from petridish.truth import bundled_table, read_slope_csv

    return bundled_table() if path is None else read_slope_csv(path)


def cmd_slope(args: argparse.Namespace) -> int:
    from petridish.experiments.slope import (
        SlopeExperiment,
        default_dish_config,
        run_slope_experiment,
    )
    from petridish.report import write_slope_report

    table = load_table(args.table)
    dish = dish_config_from_args(args, default_dish_config())
    exp = SlopeExperiment(dish=dish, seeds=seed_count(args.seeds))
    with bar(len(exp.seeds), "slope experiment (seeds)", args.quiet) as progress:
        report = run_slope_experiment(table, exp, progress=progress)
    paths = write_slope_report(report, args.out)
    agg = report.aggregate()
    n = len(report.seeds)
    print(f"table: {table.source} ({len(table)} slopes), seeds: {n}")
    for name in ("dish", "nn_surrogate", "random_dish"):
        a = agg[name]
        print(
            f"{name:13s} Spearman median {a['spearman_median']:.3f} min {a['spearman_min']:.3f}"
            f"  Kendall median {a['kendall_median']:.3f}  best slope median "
            f"{a['best_slope_median']:.3f} (in window {a['best_in_peak_window']}/{n})"
        )
    print(f"wrote {', '.join(str(p) for p in paths.values())}")
    return 0


def _grid(items: list[str] | None) -> dict[str, tuple[Any, ...]]:
    from petridish.dish.hparams import DEFAULT_GRID

    grid: dict[str, tuple[Any, ...]] = dict(DEFAULT_GRID)
    keys = dish_keys()
    for item in items or []:
        key, sep, raw = item.partition("=")
        key = key.strip()
        if not sep or not key or not raw.strip():
            raise CliError(f"--grid expects KEY=V1,V2,..., got {item!r}")
        if key not in keys:
            raise CliError(
                f"unknown dish setting {key!r} in --grid {item}; valid keys: {', '.join(keys)}"
            )
        try:
            values = ast.literal_eval(f"[{raw}]")
        except (ValueError, SyntaxError):
            values = [v.strip() for v in raw.split(",")]
        grid[key] = tuple(values)
    return grid


def cmd_select(args: argparse.Namespace) -> int:
    from petridish.dish.hparams import select_hyperparameters
    from petridish.experiments.slope import split_band
    from petridish.motifs import SigmoidSlope

    table = load_table(args.table)
    grid = _grid(args.grid)
    base = dish_config_from_args(args, DishConfig.for_slopes())
    for key, values in grid.items():
        for value in values:
            try:
                base.replace(**{key: value})
            except (TypeError, ValueError) as exc:
                raise CliError(f"bad value in --grid {key}=...: {exc}") from None
    slopes, losses = np.asarray(table.slopes), np.asarray(table.losses)
    train, val, _ = split_band(slopes, (0.37, 1.50), 15, 15, args.split_seed)
    seen = np.concatenate([train, val])  # only the ground truth the experiment may see
    with bar(1, "A.1 grid", args.quiet) as progress:
        sel = select_hyperparameters(
            [SigmoidSlope(float(c)) for c in slopes[seen]],
            losses[seen],
            base=base,
            grid=grid,
            seeds=seed_count(args.seeds),
            split_seed=args.split_seed,
            progress=progress,
        )
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(sel.to_json(), indent=2))
    for t in sel.trials[:5]:
        print(f"held-out z-MSE {t.holdout_mse:.4f}  {t.overrides}")
    print(
        f"selected {sel.overrides}; wrote {args.out} "
        f"(use it with: petridish slope --config {args.out})"
    )
    return 0


def cmd_truth(args: argparse.Namespace) -> int:
    """The slope table, or with ``--space`` a cell table (``tables.cmd_truth_table``)."""
    from petridish.cli import tables

    if getattr(args, "space", None) is not None:
        return tables.cmd_truth_table(args)
    tables.check_slope_args(args)
    return _truth_slopes(args)


def _truth_slopes(args: argparse.Namespace) -> int:
    from petridish.evaluators import (
        GroundTruthUnavailable,
        measure_slopes_into_store,
        slope_table_from_evaluations,
    )
    from petridish.execution import ExecutingStore
    from petridish.truth.mnist_mlp import get_protocol

    try:
        protocol = get_protocol(args.protocol or "tiny")
    except ValueError as exc:
        raise CliError(f"--protocol: {exc}") from None
    lo = 0.01 if args.low is None else args.low
    hi = 2.01 if args.high is None else args.high
    n = 51 if args.n is None else args.n
    if not (0 < lo < hi) or n < 2:
        raise CliError(f"need 0 < --low < --high and --n >= 2, got {lo}, {hi}, {n}")
    slopes = [float(c) for c in np.linspace(lo, hi, n)]
    # Every model goes through the results store: a rerun (or a crashed run restarted)
    # trains only what is not stored yet.
    total = len(slopes) * protocol.seeds
    # The executor before the store: a cluster that cannot be reached writes nothing.
    with (
        executor_from_args(args) as executor,
        open_store(args.store) as store,
        bar(total, f"training ({protocol.name})", args.quiet) as progress,
    ):
        # Through an executor every (slope, seed) job is submitted at once; only this
        # process writes to the store.
        target: Any = store if executor is None else ExecutingStore(store, executor)
        try:
            evals = measure_slopes_into_store(
                target, slopes, range(protocol.seeds), protocol, args.data_dir, progress=progress
            )
        except GroundTruthUnavailable as exc:
            raise no_ground_truth(exc, MNIST_HINT) from None
    s, acc = slope_table_from_evaluations(evals)
    out = Path(args.out or "runs/slope_table.csv")
    out.parent.mkdir(parents=True, exist_ok=True)
    rows = ["slope,val_accuracy"] + [
        f"{float(a)!r},{float(b)!r}" for a, b in zip(s, acc, strict=True)
    ]
    out.write_text("\n".join(rows) + "\n")
    print(
        f"wrote {out}: {len(s)} slopes x {protocol.seeds} seeds, protocol {protocol.name}; "
        f"peak at slope {s[int(np.argmax(acc))]:.3f} (accuracy {acc.max():.4f}); "
        f"evaluations in {args.store}"
    )
    return 0


def add_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``slope``, ``select`` and ``truth`` on the CLI's subparsers."""

    def table_option(sp: argparse.ArgumentParser) -> None:
        sp.add_argument(
            "--table",
            metavar="CSV",
            help="slope table: a CSV with a slope column and an accuracy (or val_accuracy) "
            "column (default: the bundled table)",
        )

    sp = sub.add_parser(
        "slope",
        help="run the sigmoid-slope experiment (paper Section 4.1)",
        description="The sigmoid-slope experiment: per seed, fit every predictor on 15 "
        "training slopes of the band 0.37-1.50 and score all other slopes.",
    )
    table_option(sp)
    add_dish_options(sp, "the experiment's default dish")
    sp.add_argument(
        "--seeds",
        default="10",
        help="a count N (seeds 0..N-1), a list 3,5,8 or a range 0-9 (default 10)",
    )
    sp.add_argument("--out", default="runs/slope", help="output folder (default runs/slope)")
    add_quiet(sp)
    sp.set_defaults(func=cmd_slope)

    sp = sub.add_parser(
        "select",
        help="Appendix A.1 hyperparameter selection on a slope table's band",
        description="Appendix A.1: fit a dish per grid setting on one half of the band's "
        "slopes and keep the setting with the smallest z-scored MSE on the other half.",
    )
    table_option(sp)
    add_dish_options(sp, "DishConfig.for_slopes() (Table 2)")
    sp.add_argument(
        "--grid",
        action="append",
        metavar="KEY=V1,V2",
        help="replace one grid axis, e.g. --grid n_samples=5,10 (repeatable; default grid "
        "n_samples 5,10,20 x init_scale 0.5,1,2 x inner_steps 100,250)",
    )
    sp.add_argument("--seeds", default="3", help="fits per grid setting: a count (default 3)")
    sp.add_argument(
        "--split-seed",
        type=int,
        default=0,
        help="seed of the band's split into fit and held-out halves (default 0)",
    )
    sp.add_argument(
        "--out",
        default="runs/select.json",
        help="where the selection is written, as JSON that slope --config reads "
        "(default runs/select.json)",
    )
    add_quiet(sp)
    sp.set_defaults(func=cmd_select)

    sp = sub.add_parser(
        "truth",
        help="measure a slope table by training MNIST MLPs, or with --space a cell table "
        "(through the results store)",
        description="Without --space: train the 784-100-100-10 MNIST MLP for every (slope, "
        "seed) pair and write the mean validation accuracy per slope. With --space (e.g. "
        "nao): draw --n random cells of the space and train each with the space's "
        "evaluator, writing a cell table (CSV + JSON record) that petridish.truth."
        "read_cell_table reads. Either way a rerun trains only what the store lacks.",
    )
    sp.add_argument(
        "--space",
        default=None,
        metavar="SPACE",
        help="measure a cell table of this trained cell space (e.g. nao: NAO/ENAS genotypes "
        "as language models) instead of the slope table",
    )
    sp.add_argument(
        "--protocol",
        default=None,
        help="named training protocol. Slope table: paper (Table 1), cpu, cpu_table or tiny "
        "(default tiny). --space nao: PROTOCOL on PTB or CORPUS:PROTOCOL, e.g. cpu or "
        "wikitext2:cpu (default cpu), as petridish search --space nao takes it",
    )
    sp.add_argument(
        "--corpus",
        default=None,
        metavar="NAME",
        help="--space only: ptb (default) or wikitext2; the same as --protocol "
        "wikitext2:PROTOCOL, as petridish search takes it",
    )
    sp.add_argument(
        "--low", type=float, default=None, help="slope table: smallest slope (default 0.01)"
    )
    sp.add_argument(
        "--high", type=float, default=None, help="slope table: largest slope (default 2.01)"
    )
    sp.add_argument(
        "--n",
        type=int,
        default=None,
        help="slope table: number of evenly spaced slopes (default 51); --space: number of "
        "random cells (default 200; the first cells of a larger --n are the same cells)",
    )
    sp.add_argument(
        "--space-seed",
        type=int,
        default=None,
        metavar="SEED",
        help="--space only: seed of the random cells drawn (default 0)",
    )
    sp.add_argument(
        "--seed",
        type=int,
        default=None,
        metavar="SEED",
        help="--space only: training seed of every cell (default 0)",
    )
    sp.add_argument(
        "--data-dir",
        metavar="DIR",
        help="slope table: folder holding the four MNIST files (or its parent holding "
        "mnist/); --space nao: the folder holding ptb/ and wikitext-2/; default: "
        "$PETRIDISH_DATA_DIR, else the cache, else (MNIST) a download",
    )
    sp.add_argument(
        "--download",
        action="store_true",
        help="--space only: download the space's data when not found",
    )
    sp.add_argument(
        "--out",
        default=None,
        help="where the table is written: slope,val_accuracy CSV (default "
        "runs/slope_table.csv), or with --space the cell table CSV and its .json record "
        "(default runs/<space>_<corpus>.csv, e.g. runs/nao_ptb.csv)",
    )
    add_store_option(sp)
    add_executor_options(sp)
    add_quiet(sp)
    sp.set_defaults(func=cmd_truth)
