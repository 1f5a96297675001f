"""The ``petridish search`` and ``petridish compare`` subcommands.

  petridish search   one search (Algorithm 1); the same command again resumes it
  petridish compare  several strategies over several seeds: Figure 3 analogue, JSON, Markdown

``add_commands(sub, common)`` registers both on the CLI's subparsers; handlers return exit
codes and raise ``petridish.cli.CliError`` for user errors (one line on stderr, exit 2).
A store file that is not a petridish store, or a run id reused with another
configuration, is such a user error. Progress bars go to stderr (``--quiet`` silences).

Ground truth per space: ``slope`` trains MNIST MLPs (``MnistSlopeEvaluator``, protocol
``--protocol``, default ``tiny``; ``--data-dir`` is the MNIST folder) over ``SlopeSpace``;
``nasbench_nlp`` looks cells up in the NAS-Bench-NLP WikiText-2 table (``TabularOracle``;
``--data-dir`` is a folder holding the logs zip, or the zip) over its pool.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from petridish.dish.config import DishConfig
    from petridish.evaluators.base import Evaluator
    from petridish.search.compare import StrategyEntry
    from petridish.search.space import SearchSpace
    from petridish.search.strategies.base import Strategy
    from petridish.store import Store

__all__ = ["add_commands"]

SPACES = ("slope", "nasbench_nlp")
STRATEGIES = ("random", "ga", "nao")
DEFAULT_STORE = "runs/petridish.db"


def _error(message: str) -> Exception:
    from petridish.cli import CliError  # lazily: cli.py imports this module

    return CliError(message)


def _strategy(name: str) -> Strategy:
    from petridish.search.strategies import GAStrategy, NAOStrategy, RandomStrategy

    factories: dict[str, Callable[[], Strategy]] = {
        "random": RandomStrategy,
        "ga": GAStrategy,
        "nao": NAOStrategy,
    }
    if name not in factories:
        raise _error(f"unknown strategy {name!r}; known: {', '.join(STRATEGIES)}")
    return factories[name]()


def _ground_truth(args: argparse.Namespace) -> tuple[SearchSpace, Evaluator, Any]:
    """``(space, evaluator, oracle or None)`` for ``args.space``."""
    if args.space == "slope":
        from petridish.evaluators import MnistSlopeEvaluator
        from petridish.search.space import SlopeSpace

        try:
            evaluator = MnistSlopeEvaluator(args.data_dir, args.protocol)
        except ValueError as exc:
            raise _error(str(exc)) from None
        return SlopeSpace(), evaluator, None
    from petridish.search.oracle import TabularOracle

    try:
        oracle = TabularOracle.load(args.data_dir, download=args.download)
    except (FileNotFoundError, ValueError) as exc:
        raise _error(f"cannot load the NAS-Bench-NLP logs: {exc}") from None
    return oracle.space(), oracle, oracle


def _dish(args: argparse.Namespace, space_name: str) -> DishConfig:
    from petridish.dish.config import DishConfig
    from petridish.search.loop import default_dish_config

    try:
        default = default_dish_config(space_name)
    except ValueError as exc:
        raise _error(str(exc)) from None
    if getattr(args, "config", None) is None and not getattr(args, "set", None):
        return default
    from petridish.cli import dish_config_from_args  # --config / --set handling

    config = dish_config_from_args(args, default)
    assert isinstance(config, DishConfig)
    return config


@contextmanager
def _open_store(path: str) -> Iterator[Store]:
    from petridish.store import Store, StoreError

    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        with Store(target) as store:
            yield store
    except StoreError as exc:
        # A foreign or damaged file, or a run id reused with another configuration.
        raise _error(str(exc)) from None


def _cmd_search(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from petridish.search.loop import SearchConfig, run_search

    space, evaluator, _ = _ground_truth(args)
    strategy = _strategy(args.strategy)
    dish = _dish(args, space.name) if args.dish else None
    try:
        config = SearchConfig(
            space=space.name,
            strategy=strategy.name,
            use_dish=args.dish,
            budget_evals=args.budget,
            budget_seconds=args.budget_seconds,
            seed=args.seed,
            eval_seed=args.eval_seed,
            warmup=args.warmup,
            proposals=args.proposals,
            per_iteration=args.per_iteration,
            dish_config=None if dish is None else dish.to_json(),
        )
    except ValueError as exc:
        raise _error(str(exc)) from None
    label = args.strategy + ("+dish" if args.dish else "")
    bar = tqdm(
        total=config.budget_evals,
        desc=f"search {label}",
        unit="eval",
        disable=getattr(args, "quiet", False),
        file=sys.stderr,
        leave=False,
    )

    def progress(spent: int, budget: int, best: float) -> None:
        bar.total = budget
        bar.n = spent
        bar.set_postfix_str(f"best {best:.4g}", refresh=False)
        bar.refresh()

    try:
        with _open_store(args.store) as store:
            result = run_search(
                config,
                space=space,
                strategy=strategy,
                evaluator=evaluator,
                store=store,
                run_id=args.run_id,
                progress=progress,
            )
    finally:
        bar.close()
    best = result.best_motif
    print(
        f"run {result.run_id}: {len(result)} evaluations ({result.reused} already in the "
        f"store), stopped on {result.stop_reason}, {result.wall_seconds:.1f}s "
        f"(dish fits {result.dish_fit_seconds:.1f}s)"
    )
    if best is None:
        print("no evaluation succeeded")
    else:
        print(f"best loss {result.best_loss:.6g}: {best.canonical()}")
    print(f"store: {args.store} (run the same command again to resume or extend the budget)")
    return 0


def _parse_seeds(text: str) -> tuple[int, ...]:
    """``0-9`` (inclusive range), ``3,5,8`` (a list) or ``10`` (a count: 0..9)."""
    try:
        if "," in text:
            seeds = tuple(int(s) for s in text.split(","))
        elif "-" in text.strip("-"):
            lo, hi = (int(s) for s in text.split("-", 1))
            if hi < lo:
                raise ValueError
            seeds = tuple(range(lo, hi + 1))
        else:
            seeds = tuple(range(int(text)))
    except ValueError:
        raise _error(
            f"--seeds must be a range like 0-9, a list like 3,5,8 or a count, got {text!r}"
        ) from None
    if text.strip() == "0":
        raise _error(
            "--seeds 0 asks for no seeds (a lone number is a count); for seed 0 alone "
            "write --seeds 0-0"
        )
    if not seeds or min(seeds) < 0 or len(set(seeds)) != len(seeds):
        raise _error(f"--seeds must give distinct seeds >= 0, got {text!r}")
    return seeds


def _parse_entries(text: str) -> list[StrategyEntry]:
    """``random,ga,ga+dish,nao,nao+dish`` -> entries."""
    from petridish.search.compare import StrategyEntry

    entries: list[StrategyEntry] = []
    for label in (s.strip() for s in text.split(",")):
        name, plus, suffix = label.partition("+")
        if plus and suffix != "dish":
            raise _error(f"--strategies entries are NAME or NAME+dish, got {label!r}")
        entries.append(StrategyEntry(label, _strategy(name), bool(plus)))
    labels = [e.label for e in entries]
    if len(set(labels)) != len(labels):
        raise _error(f"--strategies lists an entry twice: {text!r}")
    return entries


def _cmd_compare(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from petridish.search.compare import SCHEDULES, compare_strategies, write_comparison

    entries = _parse_entries(args.strategies)
    seeds = _parse_seeds(args.seeds)
    names = [s.strip() for s in args.schedule.split(",")]
    unknown = [n for n in names if n not in SCHEDULES]
    if unknown:
        raise _error(f"unknown --schedule {unknown[0]!r}; known: {', '.join(SCHEDULES)}")
    space, evaluator, oracle = _ground_truth(args)
    if oracle is None:
        raise _error("compare needs a tabular space with known best motifs: --space nasbench_nlp")
    dish = _dish(args, space.name) if any(e.use_dish for e in entries) else None
    if args.top < 1 or args.top > len(oracle):
        raise _error(f"--top must be in [1, {len(oracle)}], got {args.top}")
    targets = oracle.best_digests(args.top)
    target_losses = [oracle.loss(c) for c in oracle.best(args.top)]
    out = Path(args.out)
    with _open_store(args.store) as store:
        for name in names:
            schedule = SCHEDULES[name]
            if args.budget is not None:
                schedule = type(schedule)(
                    schedule.name,
                    schedule.warmup,
                    schedule.proposals,
                    schedule.per_iteration,
                    args.budget,
                )
            bar = tqdm(
                total=len(entries) * len(seeds),
                desc=f"compare ({name})",
                unit="run",
                disable=getattr(args, "quiet", False),
                file=sys.stderr,
                leave=False,
            )

            def progress(done: int, total: int, bar: Any = bar) -> None:
                bar.total = total
                bar.n = done
                bar.refresh()

            try:
                result = compare_strategies(
                    entries,
                    seeds,
                    schedule,
                    space=space,
                    evaluator=evaluator,
                    store=store,
                    targets=targets,
                    dish_config=dish,
                    target_losses=target_losses,
                    progress=progress,
                )
            finally:
                bar.close()
            paths = write_comparison(result, out)
            b = schedule.budget
            print(
                f"schedule {name}: {schedule.warmup} warm-up, {schedule.proposals} proposed, "
                f"{schedule.per_iteration} per iteration, budget {b}; seeds {len(seeds)}"
            )
            for e in result.entries:
                st = e.hit_stats(b)
                med = "> budget" if st["median"] is None else f"{st['median']:g}"
                print(
                    f"  {e.label:10s} evaluations to a top-{args.top} cell: median {med}, "
                    f"missed {e.misses}/{len(seeds)}"
                )
            if result.random_check is not None:
                rc = result.random_check
                print(f"  exact random-search median: {rc.exact_median} (pool {rc.pool_size})")
            print(f"  wrote {', '.join(str(p) for p in paths.values())}")
    return 0


def add_commands(
    sub: argparse._SubParsersAction[argparse.ArgumentParser],
    common: Callable[[argparse.ArgumentParser], None],
) -> None:
    """Register ``search`` and ``compare`` on the CLI's subparsers.

    ``common`` adds the options every subcommand shares (``--quiet``, dish ``--config`` and
    ``--set`` overrides, ...).
    """

    def ground_truth_options(sp: argparse.ArgumentParser) -> None:
        sp.add_argument(
            "--store",
            default=DEFAULT_STORE,
            help=f"results database (SQLite; default {DEFAULT_STORE})",
        )
        sp.add_argument(
            "--data-dir",
            help="slope: the MNIST folder; nasbench_nlp: a folder "
            "holding the NAS-Bench-NLP logs zip (default: $PETRIDISH_DATA_DIR or "
            "the cache)",
        )
        sp.add_argument(
            "--download", action="store_true", help="nasbench_nlp: download the logs when not found"
        )
        sp.add_argument(
            "--protocol", default="tiny", help="slope: MNIST training protocol (default tiny)"
        )

    sp = sub.add_parser("search", help="run (or resume) one architecture search (Algorithm 1)")
    common(sp)
    sp.add_argument(
        "--space",
        choices=SPACES,
        default="slope",
        help="slope (real MNIST training, the default) or nasbench_nlp (tabular)",
    )
    sp.add_argument("--strategy", choices=STRATEGIES, default="ga")
    sp.add_argument(
        "--dish",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="filter proposals with the Synthetic Petri Dish (default: on)",
    )
    sp.add_argument(
        "--budget",
        type=int,
        default=80,
        help="ground-truth evaluations to spend (the run's total; default 80)",
    )
    sp.add_argument(
        "--budget-seconds",
        type=float,
        default=None,
        help="also stop after this many seconds (checked between iterations)",
    )
    sp.add_argument("--warmup", type=int, default=40, help="random warm-up motifs (default 40)")
    sp.add_argument(
        "--proposals", type=int, default=100, help="proposals per iteration (default 100)"
    )
    sp.add_argument(
        "--per-iteration",
        type=int,
        default=20,
        help="ground-truth evaluations per iteration (default 20)",
    )
    sp.add_argument("--seed", type=int, default=0, help="search seed (default 0)")
    sp.add_argument(
        "--eval-seed",
        type=int,
        default=0,
        help="ground-truth training seed, shared by all runs (default 0)",
    )
    sp.add_argument(
        "--run-id", default=None, help="name of the run (default: derived from the configuration)"
    )
    ground_truth_options(sp)
    sp.set_defaults(func=_cmd_search)

    sp = sub.add_parser("compare", help="compare strategies over seeds (Figure 3 analogue)")
    common(sp)
    sp.add_argument("--space", choices=("nasbench_nlp",), default="nasbench_nlp")
    sp.add_argument(
        "--strategies",
        default="random,ga,ga+dish,nao,nao+dish",
        help="comma list of NAME or NAME+dish (default random,ga,ga+dish,nao,nao+dish)",
    )
    sp.add_argument("--seeds", default="0-9", help="0-9, a list 3,5,8, or a count (default 0-9)")
    sp.add_argument(
        "--schedule",
        default="pool",
        help="pool (10/50/5, budget 150), paper (40/100/20, budget 200), or both: pool,paper",
    )
    sp.add_argument("--budget", type=int, default=None, help="replace the schedule's budget")
    sp.add_argument("--top", type=int, default=3, help="target: the top-N cells (default 3)")
    sp.add_argument("--out", default="runs/compare", help="output folder (default runs/compare)")
    ground_truth_options(sp)
    sp.set_defaults(func=_cmd_compare)
