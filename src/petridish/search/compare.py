"""Compare search strategies over seeds (the paper's Figure 3 analogue).

Contract
--------
``compare_strategies(entries, seeds, schedule, ...)`` runs ``run_search`` once per
(strategy entry, seed) on one store (so runs resume and share ground truth) and measures,
per entry:

* the number of ground-truth evaluations until a motif whose digest is in ``targets``
  (e.g. the pool's 3 best cells) is first evaluated, per seed; ``None`` (a *miss*) when the
  budget ran out first. Quartiles over seeds count a miss as "more than the budget": a
  quantile that depends on a miss is reported as None ("> budget"), never as a number;
* the best ground truth so far after each evaluation, per seed (``curves``, padded with
  the last value when a run stopped early).

``random_search_hit_quantiles`` gives the exact law of random search without replacement
on a pool of ``N`` motifs with ``T`` targets: ``P(first hit > n) = C(N - T, n) / C(N, n)``.
``ComparisonResult.random_check`` sets the measured median of the no-dish random entry
beside that exact median; a gap says the space's random draw is not uniform over the pool.

``ComparisonResult.dish_config`` records the ``DishConfig.to_json()`` that the ``+dish``
entries used (the space's default when none was given; None when no entry uses the dish,
or in files written before it was recorded), so that a written comparison says which dish
made its numbers.

``read_json`` reads a written comparison back; ``merge_comparisons`` joins comparisons run
in pieces (other seeds, other strategies, other machines) under one schedule into one; parts
whose dish entries used different (or unrecorded against recorded) dish settings are not
merged.

Writers (in ``petridish.report.comparison``, re-exported here): ``write_json``,
``markdown`` / ``write_markdown`` (a table per entry: median,
quartiles and min-max of evaluations to a target, misses, median best loss at a few
budgets), ``write_figure`` (PNG: median best-so-far against evaluations with a 25-75%
band, one line per entry) and ``write_comparison`` (all three into one folder).
"""

from __future__ import annotations

import dataclasses
import json
import math
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from petridish._logging import logger
from petridish._validation import positive_int
from petridish.dish.config import DishConfig
from petridish.report.comparison import (
    dish_summary,
    markdown,
    write_comparison,
    write_figure,
    write_json,
    write_markdown,
)
from petridish.search.loop import (
    SearchConfig,
    SearchResult,
    default_dish_config,
    evals_to_hit,
    run_search,
)

if TYPE_CHECKING:
    from petridish.evaluators.base import Evaluator
    from petridish.execution import Executor
    from petridish.search.space import SearchSpace
    from petridish.search.strategies.base import Strategy
    from petridish.store import Store

__all__ = [
    "SCHEDULES",
    "ComparisonResult",
    "EntryResult",
    "RandomCheck",
    "Schedule",
    "StrategyEntry",
    "censored_hits",
    "compare_strategies",
    "extension_mismatch",
    "markdown",
    "merge_comparisons",
    "random_search_hit_quantiles",
    "read_json",
    "write_comparison",
    "write_figure",
    "write_json",
    "write_markdown",
]


@dataclass(frozen=True)
class Schedule:
    """Algorithm 1's counts: warm-up N0, proposals M, evaluated per iteration K, budget."""

    name: str
    warmup: int
    proposals: int
    per_iteration: int
    budget: int

    def __post_init__(self) -> None:
        for what in ("warmup", "proposals", "per_iteration", "budget"):
            value = getattr(self, what)
            low = 0 if what == "warmup" else 1
            positive_int(value, f"Schedule.{what}", low)


SCHEDULES: dict[str, Schedule] = {
    # Sized for a pool of ~260 cells: random search alone needs ~55 evaluations (median).
    "pool": Schedule("pool", warmup=10, proposals=50, per_iteration=5, budget=150),
    # The paper's Algorithm 1 counts (40 warm-up, 100 proposed, 20 evaluated).
    "paper": Schedule("paper", warmup=40, proposals=100, per_iteration=20, budget=200),
}


@dataclass(frozen=True)
class StrategyEntry:
    """One line of the comparison: a label, a strategy, dish filter on or off."""

    label: str
    strategy: Strategy
    use_dish: bool


@dataclass(frozen=True)
class EntryResult:
    """One entry's runs over the seeds."""

    label: str
    strategy: str
    use_dish: bool
    seeds: tuple[int, ...]
    run_ids: tuple[str, ...]
    hits: tuple[int | None, ...]  # evaluations to the first target, per seed (None: miss)
    curves: np.ndarray = field(compare=False, repr=False)  # (seeds, budget) best so far
    wall_seconds: tuple[float, ...] = ()
    dish_fit_seconds: tuple[float, ...] = ()

    @property
    def misses(self) -> int:
        return sum(h is None for h in self.hits)

    def hit_stats(self, budget: int) -> dict[str, float | None]:
        """Median, quartiles, min and max of evaluations to a target (None: > budget)."""
        return _censored_stats(self.hits, budget)

    def best_at(self, n: int) -> float:
        """Median over seeds of the best loss within the first ``n`` evaluations."""
        col = self.curves[:, min(n, self.curves.shape[1]) - 1]
        return float(np.median(col))


@dataclass(frozen=True)
class RandomCheck:
    """Measured random search against the exact law of sampling without replacement."""

    pool_size: int
    targets: int
    exact_median: int
    exact_q25: int
    exact_q75: int
    exact_mean: float
    measured_median: float | None
    seeds: int


@dataclass(frozen=True)
class ComparisonResult:
    """Every entry's runs under one schedule, space and evaluator."""

    schedule: Schedule
    space: str
    evaluator: str
    protocol: str
    targets: tuple[str, ...]
    target_losses: tuple[float, ...]
    entries: tuple[EntryResult, ...]
    random_check: RandomCheck | None
    pool_size: int | None
    wall_seconds: float
    # DishConfig.to_json() of the +dish entries (None: no dish entry, or not recorded).
    dish_config: Mapping[str, Any] | None = None

    @property
    def uses_dish(self) -> bool:
        return any(e.use_dish for e in self.entries)

    def entry(self, label: str) -> EntryResult:
        for e in self.entries:
            if e.label == label:
                return e
        raise KeyError(f"no entry {label!r}; have {[e.label for e in self.entries]}")

    def checkpoints(self) -> tuple[int, ...]:
        """Budgets at which the tables report the best loss found."""
        b = self.schedule.budget
        marks = {self.schedule.warmup, 25, 50, 100, b}
        return tuple(sorted(m for m in marks if 0 < m <= b))

    def to_json(self) -> dict[str, Any]:
        b = self.schedule.budget
        return {
            "schedule": {
                "name": self.schedule.name,
                "warmup": self.schedule.warmup,
                "proposals": self.schedule.proposals,
                "per_iteration": self.schedule.per_iteration,
                "budget": b,
            },
            "space": self.space,
            "evaluator": self.evaluator,
            "protocol": self.protocol,
            "pool_size": self.pool_size,
            "targets": list(self.targets),
            "target_losses": list(self.target_losses),
            "wall_seconds": self.wall_seconds,
            "entries": [
                {
                    "label": e.label,
                    "strategy": e.strategy,
                    "use_dish": e.use_dish,
                    "seeds": list(e.seeds),
                    "run_ids": list(e.run_ids),
                    "evals_to_target": list(e.hits),
                    "misses": e.misses,
                    "stats": e.hit_stats(b),
                    "best_at": {str(n): _finite_or_none(e.best_at(n)) for n in self.checkpoints()},
                    "best_so_far": [[_finite_or_none(v) for v in row] for row in e.curves],
                    "wall_seconds": list(e.wall_seconds),
                    "dish_fit_seconds": list(e.dish_fit_seconds),
                }
                for e in self.entries
            ],
            "random_check": None if self.random_check is None else dict(self.random_check.__dict__),
            "dish_config": None if self.dish_config is None else dict(self.dish_config),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ComparisonResult:
        """The inverse of ``to_json`` (derived fields such as ``stats`` are recomputed)."""
        sched = data["schedule"]
        entries = tuple(
            EntryResult(
                label=e["label"],
                strategy=e["strategy"],
                use_dish=bool(e["use_dish"]),
                seeds=tuple(int(v) for v in e["seeds"]),
                run_ids=tuple(e["run_ids"]),
                hits=tuple(None if h is None else int(h) for h in e["evals_to_target"]),
                curves=np.array(
                    [[math.inf if v is None else v for v in row] for row in e["best_so_far"]],
                    np.float64,
                ).reshape(len(e["seeds"]), -1),
                wall_seconds=tuple(e.get("wall_seconds", ())),
                dish_fit_seconds=tuple(e.get("dish_fit_seconds", ())),
            )
            for e in data["entries"]
        )
        rc = data.get("random_check")
        return cls(
            schedule=Schedule(
                sched["name"],
                sched["warmup"],
                sched["proposals"],
                sched["per_iteration"],
                sched["budget"],
            ),
            space=data["space"],
            evaluator=data["evaluator"],
            protocol=data["protocol"],
            targets=tuple(data["targets"]),
            target_losses=tuple(data["target_losses"]),
            entries=entries,
            random_check=None if rc is None else RandomCheck(**rc),
            pool_size=data.get("pool_size"),
            wall_seconds=float(data["wall_seconds"]),
            dish_config=data.get("dish_config"),
        )


def _finite_or_none(v: float) -> float | None:
    return float(v) if math.isfinite(v) else None


def censored_hits(hits: Sequence[int | None], budget: int) -> np.ndarray:
    """Evaluations to the first target per seed with a miss (None) counted as ``budget + 1``:
    float64 ``(seeds,)``. The one censoring rule behind every hit table."""
    return np.array([budget + 1 if h is None else h for h in hits], np.float64)


def _censored_stats(hits: Sequence[int | None], budget: int) -> dict[str, float | None]:
    """Quantiles with misses counted as ``budget + 1``; a value above the budget is None."""
    if not hits:
        return {k: None for k in ("median", "q25", "q75", "min", "max")}
    values = censored_hits(hits, budget)
    out: dict[str, float | None] = {}
    for key, q in (("median", 50), ("q25", 25), ("q75", 75), ("min", 0), ("max", 100)):
        v = float(np.percentile(values, q))
        out[key] = v if v <= budget else None
    return out


def random_search_hit_quantiles(
    pool_size: int, targets: int, quantiles: Sequence[float] = (0.25, 0.5, 0.75)
) -> tuple[list[int], float]:
    """Exact quantiles and mean of the draw at which uniform sampling without replacement
    from ``pool_size`` motifs first hits one of ``targets`` special ones.

    ``P(first hit > n) = prod_{i < n} (N - T - i) / (N - i)``; the q-quantile is the smallest
    ``n`` with ``P(first hit <= n) >= q``; the mean is ``(N + 1) / (T + 1)``.
    """
    n_pool, n_t = int(pool_size), int(targets)
    if not 1 <= n_t <= n_pool:
        raise ValueError(
            f"need 1 <= targets <= pool_size, got targets={targets}, pool_size={pool_size}"
        )
    for q in quantiles:
        if not 0 < q < 1:
            raise ValueError(f"quantiles must be in (0, 1), got {q!r}")
    survive = np.ones(n_pool - n_t + 2)  # survive[n] = P(no hit in the first n draws)
    for n in range(1, len(survive)):
        survive[n] = survive[n - 1] * max(n_pool - n_t - (n - 1), 0) / (n_pool - (n - 1))
    cdf = 1.0 - survive
    # Tiny float slack: P(hit <= n) >= q exactly at the boundary must count.
    out = [int(np.argmax(cdf >= q - 1e-12)) for q in quantiles]
    return out, (n_pool + 1) / (n_t + 1)


def compare_strategies(
    entries: Sequence[StrategyEntry],
    seeds: Sequence[int],
    schedule: Schedule,
    *,
    space: SearchSpace,
    evaluator: Evaluator,
    store: Store,
    targets: set[str] | frozenset[str],
    dish_config: DishConfig | None = None,
    pool_size: int | None = None,
    target_losses: Sequence[float] = (),
    progress: Callable[[int, int], None] | None = None,
    executor: Executor | None = None,
    parallel: int | None = None,
    on_partial: Callable[[ComparisonResult], None] | None = None,
    done: ComparisonResult | None = None,
) -> ComparisonResult:
    """Run every entry on every seed (resuming runs already in ``store``) and measure them.

    ``pool_size`` (default: ``len(space.pool)`` when the space has a pool) enables the
    random-search check against the exact law.

    ``executor`` runs the ground truth (``run_search(executor=...)``; None: in process).
    ``parallel`` searches run at once, each in its own thread sharing the store and the
    executor (None: 1 without an executor, one per seed with one). The
    result does not depend on either: every search is a function of its configuration
    and its ground truth. ``progress(done, total)`` counts finished searches.

    ``on_partial(result)`` is called after every finished search but the last with the
    comparison of the searches finished so far (each entry with the seeds it has finished,
    in seed order; entries with none left out), so that a caller can keep a report that a
    cut-off run does not lose. It is called from the searching thread, one call at a time.

    ``done``: an earlier comparison of the same measurement (e.g. a partial report read back
    with ``read_json``, when its store is gone). Its (entry label, seed) runs are kept, not
    run again; the result and every partial report are ``merge_comparisons([done, new])``.
    A ``done`` that measured something else (``extension_mismatch``) is a ``ValueError``
    raised before any search runs.
    """
    if not entries:
        raise ValueError("compare_strategies needs at least one strategy entry")
    labels = [e.label for e in entries]
    if len(set(labels)) != len(labels):
        raise ValueError(f"strategy entry labels must be distinct, got {labels}")
    if not seeds:
        raise ValueError("compare_strategies needs at least one seed")
    if not targets:
        raise ValueError("compare_strategies needs a non-empty set of target digests")
    if pool_size is None and hasattr(space, "pool"):
        pool_size = len(space.pool)
    used_dish: dict[str, Any] | None = None
    if any(e.use_dish for e in entries):
        # What run_search will use: the given config, else the space's default.
        used_dish = (dish_config or default_dish_config(space.name)).to_json()
    if done is not None:
        problem = extension_mismatch(
            done,
            schedule=schedule,
            space=space.name,
            evaluator=evaluator,
            targets=targets,
            dish_config=used_dish,
        )
        if problem is not None:
            raise ValueError(problem)
    kept = set() if done is None else {(e.label, s) for e in done.entries for s in e.seeds}
    if parallel is None:
        parallel = 1 if executor is None else len(seeds)
    positive_int(parallel, "parallel")
    t0 = time.perf_counter()
    pairs = [
        (i, int(seed))
        for i, entry in enumerate(entries)
        for seed in seeds
        if (entry.label, int(seed)) not in kept
    ]
    total = len(pairs)
    finished: dict[tuple[int, int], SearchResult] = {}  # (entry index, seed) -> its run
    lock = threading.Lock()  # guards ``finished`` and the progress and partial calls

    def collect() -> ComparisonResult:
        new = _collect(
            entries,
            seeds,
            finished,
            schedule,
            space=space.name,
            evaluator=evaluator,
            targets=targets,
            target_losses=target_losses,
            pool_size=pool_size,
            wall_seconds=time.perf_counter() - t0,
            dish_config=used_dish,
        )
        return new if done is None else merge_comparisons([done, new])

    def one(i: int, seed: int) -> SearchResult:
        entry = entries[i]
        config = SearchConfig(
            space=space.name,
            strategy=entry.strategy.name,
            use_dish=entry.use_dish,
            budget_evals=schedule.budget,
            seed=int(seed),
            warmup=schedule.warmup,
            proposals=schedule.proposals,
            per_iteration=schedule.per_iteration,
            dish_config=None if dish_config is None else dish_config.to_json(),
        )
        res = run_search(
            config,
            space=space,
            strategy=entry.strategy,
            evaluator=evaluator,
            store=store,
            executor=executor,
        )
        logger.info(
            "compare: %s seed %d: first target after %s evaluations",
            entry.label,
            seed,
            evals_to_hit(res, targets),
        )
        with lock:
            finished[(i, int(seed))] = res
            if progress is not None:
                progress(len(finished), total)
            if on_partial is not None and len(finished) < total:
                on_partial(collect())
        return res

    if parallel == 1 or len(pairs) < 2:
        for i, seed in pairs:
            one(i, seed)
    else:
        # Each search is one thread; they share the store (thread-safe, one connection
        # under a lock: still one writer process) and the executor, whose workers then run
        # several searches' evaluations side by side.
        with ThreadPoolExecutor(max_workers=min(parallel, len(pairs))) as pool:
            futures = [pool.submit(one, i, seed) for i, seed in pairs]
            for future in futures:
                future.result()
    return collect()


def extension_mismatch(
    done: ComparisonResult,
    *,
    schedule: Schedule,
    space: str,
    evaluator: Evaluator,
    targets: set[str] | frozenset[str],
    dish_config: Mapping[str, Any] | None,
) -> str | None:
    """Why ``done`` cannot be extended by a comparison with these settings (a sentence
    naming the first difference), or None when it can. ``dish_config`` is the
    ``DishConfig.to_json()`` the new ``+dish`` entries will use (None: no dish entry); it
    must equal ``done``'s when both use a dish."""
    mine: dict[str, Any] = {
        "schedule": schedule,
        "space": space,
        "evaluator": evaluator.name,
        "protocol": evaluator.protocol,
        "targets": tuple(sorted(targets)),
    }
    for what, value in mine.items():
        theirs = getattr(done, what)
        if theirs == value:
            continue
        if what == "targets":  # digests say nothing to a reader; their number does
            return f"it was measured with other target cells ({len(theirs)}, not {len(value)})"
        return f"it was measured with another {what}: {theirs!r}, not {value!r}"
    if done.uses_dish and dish_config is not None and done.dish_config != dish_config:
        return (
            "its dish entries used other dish settings: "
            f"{dish_summary(done.dish_config)}, not {dish_summary(dish_config)}"
        )
    return None


def _collect(
    entries: Sequence[StrategyEntry],
    seeds: Sequence[int],
    finished: Mapping[tuple[int, int], SearchResult],
    schedule: Schedule,
    *,
    space: str,
    evaluator: Evaluator,
    targets: set[str] | frozenset[str],
    target_losses: Sequence[float],
    pool_size: int | None,
    wall_seconds: float,
    dish_config: Mapping[str, Any] | None,
) -> ComparisonResult:
    """The comparison of the finished runs: each entry over its finished seeds (in the
    order of ``seeds``); entries with no finished seed are left out."""
    results: list[EntryResult] = []
    for i, entry in enumerate(entries):
        done = [int(s) for s in seeds if (i, int(s)) in finished]
        if not done:
            continue
        hits: list[int | None] = []
        curves, run_ids, walls, dish_s = [], [], [], []
        for seed in done:
            res = finished[(i, seed)]
            hits.append(evals_to_hit(res, targets))
            curve = np.full(schedule.budget, np.inf)
            if len(res):
                curve[: len(res)] = res.best_so_far
                curve[len(res) :] = res.best_so_far[-1]
            curves.append(curve)
            run_ids.append(res.run_id)
            walls.append(res.wall_seconds)
            dish_s.append(res.dish_fit_seconds)
        results.append(
            EntryResult(
                label=entry.label,
                strategy=entry.strategy.name,
                use_dish=entry.use_dish,
                seeds=tuple(done),
                run_ids=tuple(run_ids),
                hits=tuple(hits),
                curves=np.stack(curves),
                wall_seconds=tuple(walls),
                dish_fit_seconds=tuple(dish_s),
            )
        )
    check = None
    random_entries = [r for r in results if r.strategy == "random" and not r.use_dish]
    if pool_size is not None and random_entries:
        (q25, q50, q75), mean = random_search_hit_quantiles(pool_size, len(targets))
        measured = random_entries[0].hit_stats(schedule.budget)["median"]
        seen = len(random_entries[0].seeds)
        check = RandomCheck(pool_size, len(targets), q50, q25, q75, mean, measured, seen)
    return ComparisonResult(
        schedule=schedule,
        space=space,
        evaluator=evaluator.name,
        protocol=evaluator.protocol,
        targets=tuple(sorted(targets)),
        target_losses=tuple(float(v) for v in target_losses),
        entries=tuple(results),
        random_check=check,
        pool_size=pool_size,
        wall_seconds=wall_seconds,
        dish_config=dish_config,
    )


# -- writers ---------------------------------------------------------------------------


def read_json(path: str | Path) -> ComparisonResult:
    """A comparison written by ``write_json``, read back (``ValueError`` names a file that is
    not one)."""
    path = Path(path)
    try:
        return ComparisonResult.from_json(json.loads(path.read_text()))
    except (OSError, json.JSONDecodeError, KeyError, TypeError, ValueError) as err:
        raise ValueError(f"{path}: not a comparison written by petridish compare ({err})") from err


def merge_comparisons(parts: Sequence[ComparisonResult]) -> ComparisonResult:
    """One comparison from several run under the same schedule, space, evaluator and
    targets: entries with the same label pool their seeds (in seed order), other entries
    are appended; wall seconds add up. A seed that two parts both ran for one label, or
    parts that differ in what they measured, is a ``ValueError`` naming the difference."""
    if not parts:
        raise ValueError("merge_comparisons needs at least one comparison")
    first = parts[0]
    for other in parts[1:]:
        for what in ("schedule", "space", "evaluator", "protocol", "targets"):
            if getattr(other, what) != getattr(first, what):
                raise ValueError(
                    f"cannot merge comparisons with different {what}: "
                    f"{getattr(first, what)!r} vs {getattr(other, what)!r}"
                )
    with_dish = [p for p in parts if p.uses_dish]
    for other in with_dish[1:]:
        if other.dish_config != with_dish[0].dish_config:
            raise ValueError(
                "cannot merge comparisons whose dish entries used different dish settings: "
                f"{dish_summary(with_dish[0].dish_config)} vs {dish_summary(other.dish_config)}"
            )
    merged: dict[str, list[EntryResult]] = {}
    for part in parts:
        for e in part.entries:
            merged.setdefault(e.label, []).append(e)
    entries = []
    for label, group in merged.items():
        if len({(e.strategy, e.use_dish) for e in group}) > 1:
            raise ValueError(f"entries labelled {label!r} differ in strategy or dish filter")
        seeds = [s for e in group for s in e.seeds]
        repeated = sorted({s for s in seeds if seeds.count(s) > 1})
        if repeated:
            raise ValueError(f"entry {label!r}: seeds {repeated} appear in more than one part")
        order = np.argsort(seeds, kind="stable")

        def pooled(values: Sequence[Any], order: np.ndarray = order) -> tuple[Any, ...]:
            return tuple(values[i] for i in order)

        # Per-seed timings are kept only when every part has them (older files may not).
        timed = all(len(e.wall_seconds) == len(e.seeds) for e in group)
        fit_timed = all(len(e.dish_fit_seconds) == len(e.seeds) for e in group)
        entries.append(
            EntryResult(
                label=label,
                strategy=group[0].strategy,
                use_dish=group[0].use_dish,
                seeds=pooled(seeds),
                run_ids=pooled([r for e in group for r in e.run_ids]),
                hits=pooled([h for e in group for h in e.hits]),
                curves=np.concatenate([e.curves for e in group])[order],
                wall_seconds=pooled([v for e in group for v in e.wall_seconds]) if timed else (),
                dish_fit_seconds=(
                    pooled([v for e in group for v in e.dish_fit_seconds]) if fit_timed else ()
                ),
            )
        )
    check = next((p.random_check for p in parts if p.random_check is not None), None)
    random_entries = [e for e in entries if e.strategy == "random" and not e.use_dish]
    if check is not None and random_entries:  # re-measured on the pooled seeds
        check = dataclasses.replace(
            check,
            measured_median=random_entries[0].hit_stats(first.schedule.budget)["median"],
            seeds=len(random_entries[0].seeds),
        )
    return dataclasses.replace(
        first,
        entries=tuple(entries),
        random_check=check,
        wall_seconds=sum(p.wall_seconds for p in parts),
        dish_config=with_dish[0].dish_config if with_dish else None,
    )
