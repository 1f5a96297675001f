"""The ``petridish`` command line: one entry point, subcommands.

  petridish slope     the sigmoid-slope experiment (default table: the bundled one)
  petridish select    Appendix A.1 hyperparameter selection on a slope table's band
  petridish truth     measure a slope table with the MNIST MLP trainer (through the store)
  petridish predictors  benchmark performance predictors on NAS-Bench-NLP cells
  petridish search    one architecture search (Algorithm 1), resumable, on the results store
  petridish compare   several strategies x seeds: the Figure 3 analogue

The CLI owns output: progress bars (tqdm, on stderr; ``--quiet`` silences them), log
level, and files. ``main(argv)`` returns an exit code, so tests call it directly.
"""

from __future__ import annotations

import argparse
import ast
import json
import logging
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from petridish._logging import logger
from petridish.dish.config import DishConfig
from petridish.dish.devices import use_cpu_cores


class CliError(Exception):
    """A user error reported as one line on stderr, exit code 2."""


@contextmanager
def _bar(total: int, desc: str, quiet: bool) -> Iterator[Callable[[int, int], None]]:
    bar = tqdm(total=total, desc=desc, disable=quiet, file=sys.stderr, leave=False)

    def update(done: int, _total: int) -> None:
        bar.total = _total
        bar.n = done
        bar.refresh()

    try:
        yield update
    finally:
        bar.close()


def _parse_overrides(items: Sequence[str]) -> dict[str, Any]:
    """``key=value`` pairs; values are Python literals (numbers, tuples) or plain strings."""
    out: dict[str, Any] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        if not sep or not key:
            raise CliError(f"--set expects key=value, got {item!r}")
        try:
            out[key] = ast.literal_eval(raw)
        except (ValueError, SyntaxError):
            out[key] = raw
    return out


def dish_config_from_args(args: argparse.Namespace, default: DishConfig) -> DishConfig:
    overrides = _parse_overrides(args.set or [])
    if args.config:
        try:
            data = json.loads(Path(args.config).read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise CliError(f"cannot read dish config {args.config}: {exc}") from None
        data = data.get("config", data)  # accept a `petridish select` output file
        base = DishConfig.from_json(data)
    else:
        base = default
    try:
        return base.replace(**overrides)
    except TypeError as exc:
        raise CliError(f"unknown dish setting in --set: {exc}") from None


def _load_table(path: str | None) -> Any:
    from petridish.truth import bundled_table, read_slope_csv

    return bundled_table() if path is None else read_slope_csv(path)


def _seeds(text: str) -> tuple[int, ...]:
    """``10`` means seeds 0..9; ``3,5,8`` lists them."""
    try:
        if "," in text:
            return tuple(int(s) for s in text.split(","))
        n = int(text)
    except ValueError:
        raise CliError(f"--seeds must be a count or a comma list of ints, got {text!r}") from None
    if n < 1:
        raise CliError(f"--seeds must be >= 1, got {n}")
    return tuple(range(n))


def _cmd_slope(args: argparse.Namespace) -> int:
    from petridish.experiments.slope import (
        SlopeExperiment,
        default_dish_config,
        run_slope_experiment,
    )
    from petridish.report import write_slope_report

    table = _load_table(args.table)
    dish = dish_config_from_args(args, default_dish_config())
    exp = SlopeExperiment(dish=dish, seeds=_seeds(args.seeds))
    with _bar(len(exp.seeds), "slope experiment (seeds)", args.quiet) as progress:
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


def _cmd_select(args: argparse.Namespace) -> int:
    from petridish.dish.hparams import DEFAULT_GRID, select_hyperparameters
    from petridish.experiments.slope import split_band
    from petridish.motifs import SigmoidSlope

    table = _load_table(args.table)
    grid: dict[str, tuple[Any, ...]] = dict(DEFAULT_GRID)
    for item in args.grid or []:
        key, sep, raw = item.partition("=")
        if not sep:
            raise CliError(f"--grid expects key=v1,v2,..., got {item!r}")
        grid[key] = tuple(ast.literal_eval(f"[{raw}]"))
    slopes, losses = np.asarray(table.slopes), np.asarray(table.losses)
    train, val, _ = split_band(slopes, (0.37, 1.50), 15, 15, args.split_seed)
    seen = np.concatenate([train, val])  # only the ground truth the experiment may see
    with _bar(1, "A.1 grid", args.quiet) as progress:
        sel = select_hyperparameters(
            [SigmoidSlope(float(c)) for c in slopes[seen]],
            losses[seen],
            base=dish_config_from_args(args, DishConfig.for_slopes()),
            grid=grid,
            seeds=_seeds(args.seeds),
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


def _cmd_truth(args: argparse.Namespace) -> int:
    from petridish.evaluators import measure_slopes_into_store, slope_table_from_evaluations
    from petridish.store import Store
    from petridish.truth.mnist_mlp import get_protocol

    try:
        protocol = get_protocol(args.protocol)
    except ValueError as exc:
        raise CliError(str(exc)) from None
    lo, hi, n = args.low, args.high, args.n
    if not (0 < lo < hi) or n < 2:
        raise CliError(f"need 0 < --low < --high and --n >= 2, got {lo}, {hi}, {n}")
    slopes = [float(c) for c in np.linspace(lo, hi, n)]
    # Every model goes through the results store: a rerun (or a crashed run restarted)
    # trains only what is not stored yet.
    store_path = Path(args.store)
    store_path.parent.mkdir(parents=True, exist_ok=True)
    total = len(slopes) * protocol.seeds
    with Store(store_path) as store, _bar(total, f"training ({protocol.name})", args.quiet) as bar:
        evals = measure_slopes_into_store(
            store, slopes, range(protocol.seeds), protocol, args.data_dir, progress=bar
        )
    s, acc = slope_table_from_evaluations(evals)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    rows = ["slope,val_accuracy"] + [
        f"{float(a)!r},{float(b)!r}" for a, b in zip(s, acc, strict=True)
    ]
    out.write_text("\n".join(rows) + "\n")
    print(
        f"wrote {out}: {len(s)} slopes x {protocol.seeds} seeds, protocol {protocol.name}; "
        f"peak at slope {s[int(np.argmax(acc))]:.3f} (accuracy {acc.max():.4f}); "
        f"evaluations in {store_path}"
    )
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="petridish", description=__doc__.split("\n\n")[0])
    p.add_argument("-v", "--verbose", action="count", default=0, help="log more (-vv: debug)")
    sub = p.add_subparsers(dest="command", required=True)

    def common(sp: argparse.ArgumentParser) -> None:
        sp.add_argument("--table", help="slope,accuracy CSV (default: the bundled table)")
        sp.add_argument("--config", help="dish config JSON (e.g. written by `petridish select`)")
        sp.add_argument(
            "--set",
            action="append",
            metavar="KEY=VALUE",
            help="override one DishConfig field, e.g. --set n_samples=20",
        )
        sp.add_argument("--quiet", action="store_true", help="no progress bars")

    sp = sub.add_parser("slope", help="run the sigmoid-slope experiment")
    common(sp)
    sp.add_argument("--seeds", default="10", help="count (0..N-1) or comma list (default 10)")
    sp.add_argument("--out", default="runs/slope", help="output folder (default runs/slope)")
    sp.set_defaults(func=_cmd_slope)

    sp = sub.add_parser("select", help="Appendix A.1 hyperparameter selection")
    common(sp)
    sp.add_argument(
        "--grid",
        action="append",
        metavar="KEY=V1,V2",
        help="replace one grid axis, e.g. --grid n_samples=5,10",
    )
    sp.add_argument("--seeds", default="3", help="fits per setting (default 3)")
    sp.add_argument("--split-seed", type=int, default=0)
    sp.add_argument("--out", default="runs/select.json")
    sp.set_defaults(func=_cmd_select)

    sp = sub.add_parser("truth", help="measure a slope table by training MNIST MLPs")
    sp.add_argument("--protocol", default="tiny", help="named protocol (paper, cpu, tiny, ...)")
    sp.add_argument("--low", type=float, default=0.01)
    sp.add_argument("--high", type=float, default=2.01)
    sp.add_argument("--n", type=int, default=51, help="number of slopes (default 51)")
    sp.add_argument("--data-dir", help="MNIST folder (default: $PETRIDISH_DATA_DIR or cache)")
    sp.add_argument("--out", default="runs/slope_table.csv")
    sp.add_argument(
        "--store", default="runs/results.db", help="results database (default runs/results.db)"
    )
    sp.add_argument("--quiet", action="store_true")
    sp.set_defaults(func=_cmd_truth)

    # Commands that live next to the code they drive register themselves.
    from petridish.experiments.predictor_commands import add_commands as add_predictor_commands
    from petridish.search.commands import add_commands as add_search_commands

    add_predictor_commands(sub, common)
    add_search_commands(sub, common)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    level = [logging.WARNING, logging.INFO, logging.DEBUG][min(args.verbose, 2)]
    if not logger.handlers or all(isinstance(h, logging.NullHandler) for h in logger.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        logger.addHandler(handler)
    logger.setLevel(level)
    # One JAX device per core before JAX starts: the cell dish splits its motifs over them.
    use_cpu_cores()
    from petridish.store import StoreError

    try:
        return int(args.func(args))
    except (CliError, ValueError, FileNotFoundError, StoreError) as exc:
        print(f"petridish {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
