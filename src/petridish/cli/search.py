"""The ``petridish search`` and ``petridish compare`` subcommands.

  petridish search   one search (Algorithm 1); the same command again resumes it
  petridish compare  several strategies over several seeds: Figure 3 analogue, JSON, Markdown

Handlers return exit codes and raise ``CliError`` for user errors (one line on stderr,
exit 2): a store file that is not a petridish store, a run id reused with another
configuration, a budget that leaves nothing after the warm-up, and ground truth that cannot
be had at all (``GroundTruthUnavailable``: the search stops at the first such failure,
before spending its budget; what was stored is kept and the same command resumes).
Progress bars go to stderr (``--quiet`` silences them): evaluations spent and the best loss,
and during a dish fit a second bar with the fit's outer steps.

Exit codes of ``search``: 0 when the run has a result, 1 when it finished without any ok
evaluation (every one failed or diverged; failed ones are retried by the same command),
2 for a user error or ground truth that cannot be had.

Ground truth per space: ``slope`` trains MNIST MLPs (``MnistSlopeEvaluator``, protocol
``--protocol``, default ``tiny``; ``--data-dir`` is the MNIST folder) over ``SlopeSpace``;
``nasbench_nlp`` looks cells up in the NAS-Bench-NLP WikiText-2 table (``TabularOracle``;
``--data-dir`` is a folder holding the logs zip, or the zip) over its pool; ``nao_ptb``
looks the paper's genotypes up in a measured cell table (``CellTableOracle``; the bundled
one, or ``--data-dir`` naming a table CSV or its folder, as ``petridish truth --space nao``
writes it).
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from petridish.cli.common import (
    MNIST_HINT,
    CliError,
    add_dish_options,
    add_executor_options,
    add_quiet,
    add_store_option,
    dish_config_from_args,
    drop_partial,
    executor_from_args,
    executor_request,
    new_bar,
    no_ground_truth,
    open_store,
    resolve_protocol,
    seed_count,
)
from petridish.search.predictors import predictor_names, predictor_summary
from petridish.search.spaces import space_names, space_spec, space_specs
from petridish.search.strategies import make_strategy, strategy_info, strategy_names

if TYPE_CHECKING:
    from petridish.dish.config import DishConfig
    from petridish.evaluators.base import Evaluator
    from petridish.execution import Executor
    from petridish.predictor import Predictor
    from petridish.search.compare import StrategyEntry
    from petridish.search.loop import SearchConfig, SearchResult
    from petridish.search.space import SearchSpace
    from petridish.search.strategies.base import Strategy

__all__ = ["PREDICTORS", "SPACES", "STRATEGIES", "add_commands", "parse_seed_range"]

SPACES = space_names()
# The old name of the shared parser (``petridish.cli.common.seed_count``), kept for callers.
parse_seed_range = seed_count
STRATEGIES = strategy_names()
PREDICTORS = predictor_names()
DEFAULT_BUDGET = 80

# The CLI's own wording for spaces whose spec hint it refines.
_DATA_HINT = {"slope": MNIST_HINT}


def _strategy(name: str) -> Strategy:
    try:
        return make_strategy(name)
    except KeyError as exc:
        raise CliError(str(exc.args[0])) from None


def _ground_truth(args: argparse.Namespace) -> tuple[SearchSpace, Evaluator, Any]:
    """``(space, evaluator, oracle or None)`` for ``args.space``, from its ``SpaceSpec``."""
    from petridish.search.spaces import GroundTruthRequest

    spec = space_spec(args.space)
    request = GroundTruthRequest(args.data_dir, args.protocol, bool(args.download))
    try:
        truth = spec.load(request)
    except ValueError as exc:
        if spec.protocols:
            raise CliError(f"--protocol: {exc}") from None
        raise CliError(f"cannot load the ground truth of {spec.name}: {exc}") from None
    except FileNotFoundError as exc:
        raise CliError(f"cannot load the ground truth of {spec.name}: {exc}") from None
    return truth.space, truth.evaluator, truth.oracle


def _data_hint(space: str) -> str:
    return _DATA_HINT.get(space) or space_spec(space).data_hint


def _dish(args: argparse.Namespace, space_name: str) -> DishConfig:
    from petridish.search.loop import default_dish_config

    try:
        default = default_dish_config(space_name)
    except ValueError as exc:
        raise CliError(str(exc)) from None
    return dish_config_from_args(args, default)


def _predictor_name(args: argparse.Namespace) -> str:
    """``--predictor``, with the old ``--dish/--no-dish`` as aliases (they must agree)."""
    if args.predictor is None:
        if args.dish is None:
            return space_spec(args.space).default_predictor
        return "dish" if args.dish else "none"
    if args.dish is not None and args.dish != (args.predictor == "dish"):
        raise CliError(
            f"--{'' if args.dish else 'no-'}dish contradicts --predictor {args.predictor}; "
            "give --predictor alone"
        )
    return str(args.predictor)


def _at_least(value: int, option: str, minimum: int) -> int:
    if value < minimum:
        raise CliError(f"{option} must be an integer >= {minimum}, got {value}")
    return value


def _budget(args: argparse.Namespace) -> int:
    """The evaluation budget; at or below the warm-up only with ``--warmup-only``."""
    warmup = _at_least(args.warmup, "--warmup", 0)
    if args.warmup_only:
        if args.budget is None:
            return max(warmup, 1)
        budget = _at_least(args.budget, "--budget", 1)
        if budget > warmup:
            raise CliError(
                f"--warmup-only runs the {warmup} warm-up evaluations only, but --budget is "
                f"{budget}; drop --warmup-only, or give --budget <= --warmup"
            )
        return budget
    budget = _at_least(DEFAULT_BUDGET if args.budget is None else args.budget, "--budget", 1)
    name = getattr(args, "predictor_name", "none")
    no_predictor = "" if name == "none" else f", no {name}"
    if budget <= warmup:
        raise CliError(
            f"--budget {budget} is at or below --warmup {warmup}: the run would evaluate "
            f"random warm-up motifs only (no {args.strategy} iteration"
            f"{no_predictor}); give --budget > {warmup}, a smaller "
            "--warmup, or --warmup-only for a warm-up-only run"
        )
    return budget


class _SearchBars:
    """The search's progress: one bar of evaluations spent (best loss so far; ``-`` before
    the first result) and, during a dish fit, a second bar of the fit's outer steps."""

    def __init__(self, label: str, budget: int, quiet: bool) -> None:
        self.quiet = quiet
        self.main = new_bar(budget, f"search {label}", quiet, unit="eval")
        self.main.set_postfix_str("best -", refresh=False)
        self.fit: Any = None

    def progress(self, spent: int, budget: int, best: float) -> None:
        self._close_fit()
        self.main.total = budget
        self.main.n = spent
        self.main.set_postfix_str(
            f"best {best:.4g}" if math.isfinite(best) else "best -", refresh=False
        )
        self.main.refresh()

    def fit_progress(self, iteration: int, step: int, total: int, loss: float) -> None:
        if self.fit is None:
            self.fit = new_bar(
                total, f"dish fit, iteration {iteration}", self.quiet, unit="step", position=1
            )
        # One bar per fit, kept open to the fit's end: a retry round extends ``total`` and
        # goes on counting (a new bar starting at the old count showed absurd step rates).
        self.fit.total = total
        self.fit.set_postfix_str(f"outer loss {loss:.4g}", refresh=False)
        self.fit.update(step - self.fit.n)

    def _close_fit(self) -> None:
        if self.fit is not None:
            self.fit.close()
            self.fit = None

    def close(self) -> None:
        self._close_fit()
        self.main.close()


def cmd_search(args: argparse.Namespace) -> int:
    from petridish.dish.config import DishConfig
    from petridish.search.loop import SearchConfig
    from petridish.search.predictors import DISH_PREDICTORS, make_predictor

    args.predictor_name = _predictor_name(args)
    if args.strategy is None:
        args.strategy = space_spec(args.space).default_strategy
    budget = _budget(args)
    proposals = _at_least(args.proposals, "--proposals", 1)
    per_iteration = _at_least(args.per_iteration, "--per-iteration", 1)
    seed = _at_least(args.seed, "--seed", 0)
    eval_seed = _at_least(args.eval_seed, "--eval-seed", 0)
    if args.budget_seconds is not None and not (
        math.isfinite(args.budget_seconds) and args.budget_seconds > 0
    ):
        raise CliError(f"--budget-seconds must be a number > 0, got {args.budget_seconds}")
    spec = space_spec(args.space)
    with_protocols = sorted(s.name for s in space_specs() if s.protocols)
    with_download = sorted(s.name for s in space_specs() if s.downloads)
    if not spec.protocols and args.protocol is not None:
        raise CliError(f"--protocol applies to --space {' or '.join(with_protocols)} only")
    if not spec.downloads and args.download:
        raise CliError(
            f"--download applies to --space {' or '.join(with_download)} only (the data of "
            f"{spec.name} downloads itself)"
        )
    args.protocol = resolve_protocol(
        spec, args.protocol, getattr(args, "truth", None), getattr(args, "corpus", None)
    )
    space, evaluator, _ = _ground_truth(args)
    strategy = _strategy(args.strategy)
    uses_dish = args.predictor_name in DISH_PREDICTORS
    dish = _dish(args, space.name) if uses_dish else None
    try:
        predictor = make_predictor(args.predictor_name, space.name, dish or DishConfig.for_slopes())
    except ValueError as exc:
        raise CliError(f"--predictor: {exc}") from None
    try:
        config = SearchConfig(
            space=space.name,
            strategy=strategy.name,
            predictor=args.predictor_name,
            budget_evals=budget,
            budget_seconds=args.budget_seconds,
            seed=seed,
            eval_seed=eval_seed,
            warmup=args.warmup,
            proposals=proposals,
            per_iteration=per_iteration,
            dish_config=None if dish is None else dish.to_json(),
        )
    except ValueError as exc:  # checked above in CLI terms; a safety net
        raise CliError(str(exc)) from None
    plus = "" if args.predictor_name == "none" else f"+{args.predictor_name}"
    label = args.strategy + plus
    if args.warmup_only:
        label += " (warm-up only)"
    # The executor first: a cluster that cannot be reached is an error before the store
    # (its file) is touched.
    with executor_from_args(args) as executor:
        bars = _SearchBars(label, config.budget_evals, getattr(args, "quiet", False))
        try:
            result = _search_into_store(
                args, config, space, strategy, evaluator, predictor, bars, executor
            )
        finally:
            bars.close()
    best = result.best_motif
    failed = sum(s == "failed" for s in result.statuses)
    print(
        f"run {result.run_id}: {len(result)} evaluations ({result.reused} already in the "
        f"store), stopped on {result.stop_reason}, {result.wall_seconds:.1f}s "
        f"({'dish' if args.predictor_name == 'dish' else 'predictor'} fits "
        f"{result.dish_fit_seconds:.1f}s)"
    )
    if failed:
        print(
            f"{failed} evaluations failed (not results: running the same command again "
            "retries them); see the warnings above"
        )
    if best is None:
        print("no evaluation succeeded")
    else:
        print(f"best loss {result.best_loss:.6g}: {best.canonical()}")
    print(f"store: {args.store} (run the same command again to resume or extend the budget)")
    return 0 if best is not None else 1


def _search_into_store(
    args: argparse.Namespace,
    config: SearchConfig,
    space: SearchSpace,
    strategy: Strategy,
    evaluator: Evaluator,
    predictor: Predictor | None,
    bars: _SearchBars,
    executor: Executor | None,
) -> SearchResult:
    """``run_search`` on the ``--store`` (opened here, after the executor exists)."""
    from petridish.evaluators import GroundTruthUnavailable
    from petridish.search.loop import run_search

    with open_store(args.store) as store:
        try:
            return run_search(
                config,
                space=space,
                strategy=strategy,
                evaluator=evaluator,
                store=store,
                predictor=predictor,
                run_id=args.run_id,
                progress=bars.progress,
                fit_progress=bars.fit_progress,
                executor=executor,
            )
        except GroundTruthUnavailable as exc:
            bars.close()
            raise no_ground_truth(exc, _data_hint(args.space)) from None


def _parse_entries(text: str) -> list[StrategyEntry]:
    """``random,ga,ga+dish,nao,nao+dish`` -> entries."""
    from petridish.search.compare import StrategyEntry

    entries: list[StrategyEntry] = []
    for label in (s.strip() for s in text.split(",")):
        name, plus, suffix = label.partition("+")
        if plus and suffix != "dish":
            raise CliError(f"--strategies entries are NAME or NAME+dish, got {label!r}")
        entries.append(StrategyEntry(label, _strategy(name), bool(plus)))
    labels = [e.label for e in entries]
    if len(set(labels)) != len(labels):
        raise CliError(f"--strategies lists an entry twice: {text!r}")
    return entries


def cmd_compare(args: argparse.Namespace) -> int:
    from petridish.search.compare import SCHEDULES, compare_strategies, write_comparison

    executor_request(args)  # bad executor options fail before the ground truth loads
    if args.parallel is not None and args.parallel < 1:
        raise CliError(f"--parallel must be >= 1, got {args.parallel}")
    entries = _parse_entries(args.strategies)
    seeds = seed_count(args.seeds)
    names = [s.strip() for s in args.schedule.split(",")]
    unknown = [n for n in names if n not in SCHEDULES]
    if unknown:
        raise CliError(f"unknown --schedule {unknown[0]!r}; known: {', '.join(SCHEDULES)}")
    if args.budget is not None:
        _at_least(args.budget, "--budget", 1)
        for name in names:
            if args.budget <= SCHEDULES[name].warmup:
                raise CliError(
                    f"--budget {args.budget} is at or below the warm-up of schedule {name} "
                    f"({SCHEDULES[name].warmup}): no strategy would run past its random "
                    "warm-up"
                )
    args.protocol = None
    if args.download and not space_spec(args.space).downloads:
        with_download = sorted(s.name for s in space_specs() if s.downloads and s.tabular)
        raise CliError(f"--download applies to --space {' or '.join(with_download)} only")
    space, evaluator, oracle = _ground_truth(args)
    if oracle is None:
        tabular = ", ".join(s.name for s in space_specs() if s.tabular)
        raise CliError(f"compare needs a tabular space with known best motifs: --space {tabular}")
    dish = _dish(args, space.name) if any(e.use_dish for e in entries) else None
    # A cell table ranks only its cells with a loss (``n_ok``); the NAS-Bench-NLP pool all.
    ranked = int(getattr(oracle, "n_ok", len(oracle)))
    if args.top < 1 or args.top > ranked:
        raise CliError(f"--top must be in [1, {ranked}], got {args.top}")
    targets = oracle.best_digests(args.top)
    target_losses = [oracle.loss(c) for c in oracle.best(args.top)]
    out = Path(args.out)
    partial = out / "partial"
    schedules = {}
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
        schedules[name] = schedule
    # Checked before any search runs, not after hours of them.
    bases = _extended(args.extend, schedules, space.name, evaluator, targets, dish, entries)
    with executor_from_args(args) as executor, open_store(args.store) as store:
        for name, schedule in schedules.items():
            bar = new_bar(
                len(entries) * len(seeds),
                f"compare ({name})",
                getattr(args, "quiet", False),
                unit="run",
            )

            def progress(done: int, total: int, bar: Any = bar) -> None:
                bar.total = total
                bar.n = done
                bar.refresh()

            # The searches finished so far, rewritten after each one: a run cut off (or
            # stopped) still leaves a report; the full one replaces it at the end.
            stem = f"compare_{name}"

            def keep_partial(part: Any, stem: str = stem) -> None:
                write_comparison(part, partial, stem)

            finished = False
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
                    executor=executor,
                    parallel=args.parallel,
                    on_partial=keep_partial,
                    done=bases.get(name),
                )
                finished = True
            finally:
                bar.close()
                if not finished and (partial / f"{stem}.json").is_file():
                    print(
                        f"compare ({name}): the searches finished so far are reported in "
                        f"{partial}/{stem}.md; rerun with the same --store to resume",
                        file=sys.stderr,
                    )
            paths = write_comparison(result, out)
            drop_partial(partial, (f"{stem}{suffix}" for suffix in (".json", ".md", ".png")))
            b = schedule.budget
            print(
                f"schedule {name}: {schedule.warmup} warm-up, {schedule.proposals} proposed, "
                f"{schedule.per_iteration} per iteration, budget {b}"
            )
            for e in result.entries:
                st = e.hit_stats(b)
                med = "> budget" if st["median"] is None else f"{st['median']:g}"
                print(
                    f"  {e.label:10s} evaluations to a top-{args.top} cell: median {med}, "
                    f"missed {e.misses}/{len(e.seeds)} seeds"
                )
            if result.random_check is not None:
                rc = result.random_check
                print(f"  exact random-search median: {rc.exact_median} (pool {rc.pool_size})")
            print(f"  wrote {', '.join(str(p) for p in paths.values())}")
    return 0


def _extended(
    extend: str | None,
    schedules: Mapping[str, Any],
    space: str,
    evaluator: Any,
    targets: frozenset[str] | set[str],
    dish: DishConfig | None,
    entries: Sequence[Any],
) -> dict[str, Any]:
    """The comparisons that ``--extend`` names, per schedule name, each checked to measure
    what this command measures (a CliError naming the file and the difference)."""
    from petridish.search.compare import extension_mismatch, read_json

    if extend is None:
        return {}
    where = Path(extend)
    if where.is_dir():
        files = {name: where / f"compare_{name}.json" for name in schedules}
        missing = [str(f) for f in files.values() if not f.is_file()]
        if missing:
            raise CliError(f"--extend {extend}: no {missing[0]} (the folder of an earlier --out)")
    elif where.is_file():
        files = {}
    else:
        raise CliError(f"--extend {extend}: no such file or folder")
    try:
        if not files:
            base = read_json(where)
            if base.schedule.name not in schedules:
                raise CliError(
                    f"--extend {extend} holds schedule {base.schedule.name!r}, not --schedule "
                    f"{','.join(schedules)}"
                )
            loaded = {base.schedule.name: base}
        else:
            loaded = {name: read_json(path) for name, path in files.items()}
    except ValueError as err:
        raise CliError(f"--extend: {err}") from None
    used = None
    if dish is not None and any(e.use_dish for e in entries):
        used = dish.to_json()
    for name, base in loaded.items():
        problem = extension_mismatch(
            base,
            schedule=schedules[name],
            space=space,
            evaluator=evaluator,
            targets=targets,
            dish_config=used,
        )
        if problem is not None:
            raise CliError(f"--extend {extend} cannot be extended by this command: {problem}")
    return loaded


def add_commands(
    sub: argparse._SubParsersAction[argparse.ArgumentParser],
    common: Callable[[argparse.ArgumentParser], None] | None = None,
) -> None:
    """Register ``search`` and ``compare`` on the CLI's subparsers (``common``: accepted for
    the old signature, not used; each command adds the options that apply to it)."""
    del common

    sp = sub.add_parser(
        "search",
        help="run (or resume) one architecture search (Algorithm 1)",
        description="One search (Algorithm 1): a random warm-up, then iterations in which "
        "the strategy proposes motifs and the predictor (--predictor; the dish by default) or "
        "the strategy picks the ones that get ground truth. The run's identity is its "
        "configuration without the budgets: "
        "the same command on the same --store resumes it, and a larger --budget extends it.",
    )
    sp.add_argument(
        "--space",
        choices=SPACES,
        default="slope",
        help="what is searched (default slope): "
        + "; ".join(f"{s.name}: {s.summary}" for s in space_specs()),
    )
    own = "".join(
        f"{s.default_strategy} on {s.name}, " for s in space_specs() if s.default_strategy != "ga"
    )
    sp.add_argument(
        "--strategy",
        choices=STRATEGIES,
        default=None,
        help=f"how motifs are proposed (default: the space's: {own}where it measured "
        "better, else ga, the paper's): "
        + "; ".join(f"{n}: {strategy_info(n).summary}" for n in STRATEGIES),
    )
    sp.add_argument(
        "--predictor",
        choices=PREDICTORS,
        default=None,
        help="what picks the proposals that get ground truth (default: the space's, the "
        "dish): " + "; ".join(f"{n}: {predictor_summary(n)}" for n in PREDICTORS),
    )
    sp.add_argument(
        "--dish",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="old aliases: --dish = --predictor dish, --no-dish = --predictor none",
    )
    add_dish_options(sp, "the space's default search dish")
    sp.add_argument(
        "--budget",
        type=int,
        default=None,
        metavar="N",
        help=f"ground-truth evaluations to spend, the run's total, above --warmup (default "
        f"{DEFAULT_BUDGET}; with --warmup-only: --warmup)",
    )
    sp.add_argument(
        "--warmup-only",
        action="store_true",
        help="evaluate the random warm-up only (no strategy, no dish); the same command "
        "without it later continues the run",
    )
    sp.add_argument(
        "--budget-seconds",
        type=float,
        default=None,
        metavar="S",
        help="also stop after this many seconds (checked between iterations)",
    )
    sp.add_argument(
        "--warmup", type=int, default=40, metavar="N", help="random warm-up motifs (default 40)"
    )
    sp.add_argument(
        "--proposals",
        type=int,
        default=100,
        metavar="N",
        help="proposals per iteration (default 100)",
    )
    sp.add_argument(
        "--per-iteration",
        type=int,
        default=20,
        metavar="N",
        help="ground-truth evaluations per iteration (default 20)",
    )
    sp.add_argument("--seed", type=int, default=0, metavar="SEED", help="search seed (default 0)")
    sp.add_argument(
        "--eval-seed",
        type=int,
        default=0,
        metavar="SEED",
        help="ground-truth training seed, shared by all runs (default 0)",
    )
    sp.add_argument(
        "--run-id",
        default=None,
        metavar="NAME",
        help="name of the run (default: derived from the configuration)",
    )
    add_store_option(sp)
    add_executor_options(sp)
    sp.add_argument(
        "--data-dir",
        metavar="DIR",
        help="slope, activation: the folder holding the four MNIST files (or its parent "
        "holding mnist/); nasbench_nlp: the NAS-Bench-NLP logs zip or its folder; nao: the "
        "folder holding ptb/ and wikitext-2/ (default: $PETRIDISH_DATA_DIR, else the cache); "
        "nao_ptb: a table CSV or its folder (default: the bundled table)",
    )
    sp.add_argument(
        "--download",
        action="store_true",
        help=" or ".join(s.name for s in space_specs() if s.downloads)
        + " only: download the space's data when not found (MNIST downloads itself)",
    )
    sp.add_argument(
        "--protocol",
        default=None,
        metavar="NAME",
        help="; ".join(
            f"{s.name}: {', '.join(s.protocols)} (default {s.default_protocol})"
            for s in space_specs()
            if s.protocols
        )
        + ": the ground-truth training protocol (other spaces take none)",
    )
    sp.add_argument(
        "--truth",
        default=None,
        metavar="KIND",
        help="the kind of ground truth, checked against --space: "
        + "; ".join(
            f"{kind}: {', '.join(sorted(s.name for s in space_specs() if s.truth == kind))}"
            for kind in sorted({s.truth for s in space_specs()})
        ),
    )
    sp.add_argument(
        "--corpus",
        default=None,
        metavar="NAME",
        help="language-model spaces ("
        + ", ".join(sorted(s.name for s in space_specs() if s.corpora))
        + "): ptb (default) or wikitext2; the same as --protocol wikitext2:PROTOCOL",
    )
    add_quiet(sp)
    sp.set_defaults(func=cmd_search)

    sp = sub.add_parser(
        "compare",
        help="compare strategies over seeds on a tabular space (Figure 3 analogue)",
        description="Several strategies over several seeds on a tabular space (the "
        "NAS-Bench-NLP cell pool, or nao_ptb: the paper's genotypes in a measured table): "
        "the evaluations each needs to find a top cell, as PNG, JSON and Markdown.",
    )
    tabular = tuple(s.name for s in space_specs() if s.tabular)
    sp.add_argument(
        "--space",
        choices=tabular,
        default="nasbench_nlp",
        help=f"the searched space, one with known best motifs: {', '.join(tabular)}",
    )
    sp.add_argument(
        "--strategies",
        default="random,ga,ga+dish,nao,nao+dish",
        metavar="LIST",
        help="comma list of NAME or NAME+dish (default random,ga,ga+dish,nao,nao+dish)",
    )
    add_dish_options(sp, "the cell search dish")
    sp.add_argument(
        "--seeds",
        default="0-9",
        metavar="SEEDS",
        help="0-9, a list 3,5,8, or a count (default 0-9)",
    )
    sp.add_argument(
        "--schedule",
        default="pool",
        metavar="NAMES",
        help="pool (10/50/5, budget 150), paper (40/100/20, budget 200), or both: pool,paper",
    )
    sp.add_argument(
        "--budget",
        type=int,
        default=None,
        metavar="N",
        help="replace the schedule's budget (must exceed its warm-up)",
    )
    sp.add_argument(
        "--top", type=int, default=3, metavar="N", help="target: the top-N cells (default 3)"
    )
    sp.add_argument(
        "--out", default="runs/compare", metavar="DIR", help="output folder (default runs/compare)"
    )
    add_store_option(sp)
    sp.add_argument(
        "--data-dir",
        metavar="DIR",
        help="nasbench_nlp: the NAS-Bench-NLP logs zip or its folder (default: "
        "$PETRIDISH_DATA_DIR, else the cache); nao_ptb: a table CSV or its folder (default: "
        "the bundled table)",
    )
    sp.add_argument(
        "--download", action="store_true", help="nasbench_nlp: download the logs when not found"
    )
    add_executor_options(sp)
    sp.add_argument(
        "--parallel",
        type=int,
        default=None,
        metavar="N",
        help="searches run at once, sharing the store and the workers (default: 1 in this "
        "process; one per seed with --workers or --ray-address)",
    )
    add_quiet(sp)
    sp.add_argument(
        "--extend",
        metavar="FILE|DIR",
        help="an earlier comparison (compare_<schedule>.json or its folder, e.g. OUT/partial): "
        "its runs are kept and only the strategy-seed pairs it lacks are run; the report holds "
        "both",
    )
    sp.set_defaults(func=cmd_compare)
