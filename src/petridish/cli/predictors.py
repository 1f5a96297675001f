"""``petridish predictors``: the predictor benchmark (issue 3) from the command line.

``add_commands(sub)`` registers the subcommand on the CLI's subparsers. Options:

  --sizes 10,20,40,80,160     train sizes
  --seeds 20                  a count (seeds 0..N-1), a list 3,5,8 or a range 0-9
  --predictors all            comma list of names and groups: all, baselines (all but
                              the two dishes), dishes (dish, random_dish)
  --dish-set KEY=VALUE        override one DishConfig.for_cells() field (repeatable)
  --dish-config FILE          start from a dish config JSON instead ({"config": ...} ok)
  --extend FILE|DIR           merge into an existing result (predictors.json): rows run
                              now replace rows of the same predictor, size and seed
  --resume                    with --extend: keep its splits that hold every requested
                              predictor and run only the rest
  --out DIR                   where predictors.json / .md / kendall_tau.png go
  --data-dir PATH             NAS-Bench-NLP logs (zip, or a folder holding it)
  --quiet                     no progress bar

The command prints the mean Kendall tau table to stdout; progress goes to stderr (tqdm).
After every finished split but the last it rewrites ``OUT/partial/`` with the splits
finished so far (merged into ``--extend``'s result), so a cut-off run leaves a report;
``--extend OUT/partial --resume`` then runs only what is missing.
The dish options are named ``--dish-*`` to say which config they change.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

from petridish.cli.common import CliError, bar, dish_config_from_args, drop_partial, seed_count
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


def _int_list(text: str, option: str) -> tuple[int, ...]:
    try:
        values = tuple(int(s) for s in text.split(",") if s.strip())
    except ValueError:
        raise CliError(f"{option} must be a comma list of ints, got {text!r}") from None
    if not values:
        raise CliError(f"{option} is empty")
    return values


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
            raise CliError(f"unknown predictor {item!r} in --predictors; known: {known}")
    if not names:
        raise CliError("--predictors is empty")
    return tuple(dict.fromkeys(names))


def _dish_config(args: argparse.Namespace) -> DishConfig:
    return dish_config_from_args(
        args,
        DishConfig.for_cells(),
        set_option="--dish-set",
        config_option="--dish-config",
    )


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
    config = PredictorBenchmarkConfig(
        sizes=_int_list(args.sizes, "--sizes"),
        seeds=seed_count(args.seeds),
        predictors=parse_predictors(args.predictors),
        dish=_dish_config(args),
    )
    bench = load_nasbench_nlp(args.data_dir)
    base = load_benchmark(args.extend) if args.extend else None
    if base is not None and build_pool(bench).info.digests != base.pool.digests:
        # Checked before the run, not after hours of fits.
        raise CliError(
            f"--extend {args.extend} was measured on another cell pool "
            f"({base.pool.source}, {base.pool.n_cells} cells) than {bench.source}"
        )
    if args.resume and base is None:
        raise CliError("--resume needs --extend: the earlier result whose splits are kept")
    skip = _finished_splits(base, config) if base is not None and args.resume else set()
    if base is not None and not args.resume:
        _say_replaced(base, config, args.extend)
    total = len(config.sizes) * len(config.seeds) - len(skip)
    # The splits finished so far, rewritten after each one: a run cut off (or stopped)
    # still leaves a report; the full one replaces it at the end.
    partial = Path(args.out) / "partial"

    def keep_partial(part: BenchmarkResult) -> None:
        write_benchmark(part if base is None else base.merge(part), partial)

    finished = False
    try:
        with bar(total, "predictor benchmark (splits)", args.quiet) as progress:
            result = run_predictor_benchmark(
                config, bench, progress=progress, skip=skip, on_partial=keep_partial
            )
        finished = True
    finally:
        if not finished and (partial / "predictors.json").is_file():
            print(
                f"petridish predictors: the splits finished so far are in {partial}; the same "
                f"command with --extend {partial} --resume runs only the rest",
                file=sys.stderr,
            )
    if base is not None:
        result = base.merge(result)
    paths = write_benchmark(result, args.out)
    drop_partial(partial, (path.name for path in paths.values()))
    p = result.pool
    print(
        f"pool: {p.n_cells} cells from {p.n_complete} complete logs "
        f"({p.n_diverged} diverged excluded); {p.source}"
    )
    print(format_kendall_table(result))
    print(f"wrote {', '.join(str(x) for x in paths.values())}")
    return 0


def _finished_splits(
    base: BenchmarkResult, config: PredictorBenchmarkConfig
) -> set[tuple[int, int]]:
    """(size, seed) splits of this run that ``base`` already holds a row of every requested
    predictor for (``--resume`` keeps them instead of running them again)."""
    have = {(r.predictor, r.size, r.seed) for r in base.records}
    return {
        (n, s)
        for n in config.sizes
        for s in config.seeds
        if all((p, n, s) in have for p in config.predictors)
    }


def _say_replaced(base: BenchmarkResult, config: PredictorBenchmarkConfig, where: str) -> None:
    """Warn before the run when ``--extend`` already holds rows this run will replace (a
    lone number after ``--seeds`` is a count, so ``--seeds 11`` reruns seeds 0-10)."""
    keys = {(p, n, s) for p in config.predictors for n in config.sizes for s in config.seeds}
    hit = sorted({r.seed for r in base.records if (r.predictor, r.size, r.seed) in keys})
    if hit:
        print(
            f"petridish predictors: note: --extend {where} already holds seeds "
            f"{','.join(str(s) for s in hit)} of these predictors and sizes; this run "
            "replaces them",
            file=sys.stderr,
        )


def add_commands(
    sub: argparse._SubParsersAction[argparse.ArgumentParser],
    common: Callable[[argparse.ArgumentParser], None] | None = None,
) -> None:
    """Register ``predictors`` on ``sub`` (see the module docstring). ``common`` is accepted
    for the old signature and not used."""
    del common
    sp = sub.add_parser("predictors", help="benchmark performance predictors on NAS-Bench-NLP")
    default_sizes = ",".join(str(n) for n in DEFAULT_SIZES)
    sp.add_argument(
        "--sizes",
        default=default_sizes,
        help=f"comma list of train sizes (default {default_sizes})",
    )
    sp.add_argument(
        "--seeds",
        default="20",
        help="a count N (seeds 0..N-1), a list 3,5,8 or a range 0-9 (default 20)",
    )
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
        help="override one dish setting (a DishConfig field) of DishConfig.for_cells(), e.g. "
        "--dish-set outer_steps=50; repeatable",
    )
    sp.add_argument(
        "--dish-config",
        metavar="FILE",
        help="dish settings JSON to start from instead of DishConfig.for_cells() (the paper's: "
        "DishConfig.for_cells_table4())",
    )
    sp.add_argument("--extend", help="existing predictors.json (or its folder) to merge into")
    sp.add_argument(
        "--resume",
        action="store_true",
        help="with --extend: splits it already holds for every requested predictor are kept, "
        "not run again (e.g. --extend OUT/partial after a cut-off run)",
    )
    sp.add_argument(
        "--out", default="runs/predictors", help="output folder (default runs/predictors)"
    )
    sp.add_argument(
        "--data-dir",
        metavar="DIR",
        help="the NAS-Bench-NLP logs zip or its folder (default: $PETRIDISH_DATA_DIR, else the "
        "cache)",
    )
    sp.add_argument("--quiet", action="store_true", help="no progress bar")
    sp.set_defaults(func=_cmd_predictors)
