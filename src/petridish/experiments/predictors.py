"""The predictor benchmark on NAS-Bench-NLP (issue 3, "The benchmark").

Contract:

* Pool. The complete NAS-Bench-NLP logs (``CellLog.ok``) grouped by canonical cell
  (``Cell`` equality: recipes that differ only in node names are one cell); a cell's target
  is the mean final validation loss of its complete runs. Diverged logs are excluded and
  counted (``PoolInfo.n_diverged``). Pool order is the order of each cell's first run.
* Splits. For each train size ``n`` and seed ``s``: ``perm = default_rng(s).permutation``
  of the pool, train = the first ``n`` cells of ``perm``, test = every other pool cell (both
  kept in pool order). So splits of one seed are nested across sizes, and every predictor
  sees exactly the same split (recorded in ``BenchmarkResult.splits``). A size must leave at
  least ``max(top_k, 2)`` test cells.
* Fits. Each predictor is built fresh per split by its factory (``PREDICTORS``, extendable
  through ``factories=``), fit with ``seed=s`` on the training cells and their targets, and
  queried once on all test cells. Exceptions propagate: a broken predictor stops the run.
* Metrics on the test cells (``ranking_metrics``), all with "lower is better" scores:
  Kendall tau-b and Spearman (ties averaged) between predicted scores and true losses;
  precision@k (k = ``top_k``, default 10) = |P & T| / k where T is the k test cells with the
  lowest true loss and P the k with the lowest predicted score, ties broken by pool order
  (stable sort). Non-finite scores rank worst (replaced by ``max finite + 1``, counted). A
  prediction constant over the test cells carries no ranking: tau = rho = 0, flagged.
* Aggregates over seeds per (predictor, size): mean and sample std (ddof=1; NaN for one
  seed) of each metric. Costs: fit wall seconds (mean and median: the median hides the
  one-off JIT compile of the first fit at a size) and query wall seconds per test cell,
  measured on this machine (shared CPUs inflate them); plus ``training_seconds_per_cell``,
  the real training a predictor needs per queried cell (early stopping only, from the logs).
* Results merge (``BenchmarkResult.merge``): predictor rows run separately (e.g. the dish
  later, on another machine) join a result when the pool and ``top_k`` are equal; a record
  for the same (predictor, size, seed) is replaced by the newer one; every run's config and
  environment are kept in ``runs``.
* Output (``write_benchmark``, in ``petridish.report.predictor_benchmark``, re-exported
  here): ``predictors.json`` (``to_json``/``from_json`` round-trip),
  ``predictors.md`` (tables) and ``kendall_tau.png`` (mean +- std Kendall tau against train
  size per predictor, log-x axis).
* Deterministic for given data, config and seeds, up to the timings.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import platform
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from petridish import metrics
from petridish._logging import logger
from petridish._validation import positive_int
from petridish.baselines.early_stopping import EarlyStoppingPredictor
from petridish.baselines.encodings import (
    DEFAULT_MAX_NODES,
    ENCODINGS,
    TARGETS,
    EncodingKind,
    TargetKind,
)
from petridish.baselines.nn_encoded import EncodedNNSurrogate, EncodedNNSurrogateConfig
from petridish.baselines.nn_surrogate import NNSurrogateConfig
from petridish.baselines.random_dish import random_data_dish
from petridish.baselines.simple import ParamCountConfig, ParamCountPredictor
from petridish.baselines.sklearn_models import (
    GaussianProcessConfig,
    GradientBoostingConfig,
    RandomForestConfig,
    SklearnPredictor,
)
from petridish.dish.config import DishConfig
from petridish.dish.core import Dish
from petridish.evaluators.tabular import nasbench_nlp_pool
from petridish.motifs import Cell
from petridish.predictor import Predictor
from petridish.report.predictor_benchmark import (
    JSON_NAME,
    plot_kendall,
    predictor_markdown,
    write_benchmark,
)
from petridish.truth.nasbench_nlp import CellLog, NasBenchNLP, load_nasbench_nlp

__all__ = [
    "ALL_PREDICTORS",
    "BASELINE_PREDICTORS",
    "DEFAULT_SIZES",
    "DISH_PREDICTORS",
    "PREDICTORS",
    "BenchmarkContext",
    "BenchmarkResult",
    "CellPool",
    "PoolInfo",
    "PredictorBenchmarkConfig",
    "PredictorFactory",
    "RunInfo",
    "PredictorRunRecord",
    "RunRecord",
    "Split",
    "Summary",
    "build_pool",
    "fit_info",
    "load_benchmark",
    "plot_kendall",
    "predictor_markdown",
    "ranking_metrics",
    "run_predictor_benchmark",
    "split_pool",
    "write_benchmark",
]

DEFAULT_SIZES: tuple[int, ...] = (10, 20, 40, 80, 160)


# ------------------------------------------------------------------------------ config


def _int_tuple(name: str, values: object, *, minimum: int) -> tuple[int, ...]:
    if not isinstance(values, tuple | list) or not values:
        raise ValueError(f"{name} must be a non-empty tuple of ints, got {values!r}")
    out: list[int] = []
    for v in values:
        try:
            out.append(positive_int(v, name, minimum))
        except ValueError:
            raise ValueError(
                f"{name} must hold ints >= {minimum}, got {v!r} in {values!r}"
            ) from None
    if len(set(out)) != len(out):
        raise ValueError(f"{name} has duplicates: {values!r}")
    return tuple(out)


@dataclass(frozen=True)
class PredictorBenchmarkConfig:
    """What one benchmark run measures. Predictor names index ``PREDICTORS``."""

    sizes: tuple[int, ...] = DEFAULT_SIZES
    seeds: tuple[int, ...] = tuple(range(20))
    predictors: tuple[str, ...] = ()  # () = every registered predictor (ALL_PREDICTORS)
    dish: DishConfig = field(default_factory=DishConfig.for_cells)
    surrogate: NNSurrogateConfig = field(default_factory=NNSurrogateConfig)
    encoding: EncodingKind = "op_counts"  # of the NN, tree and GP baselines (encodings doc)
    target: TargetKind = "rank_normal"  # regression targets of NN, trees and GP
    max_nodes: int = DEFAULT_MAX_NODES
    top_k: int = 10

    def __post_init__(self) -> None:
        object.__setattr__(self, "sizes", _int_tuple("sizes", self.sizes, minimum=2))
        object.__setattr__(self, "seeds", _int_tuple("seeds", self.seeds, minimum=0))
        names = tuple(self.predictors) if self.predictors else ALL_PREDICTORS
        if not all(isinstance(n, str) and n for n in names) or len(set(names)) != len(names):
            raise ValueError(f"predictors must be distinct non-empty names, got {names!r}")
        object.__setattr__(self, "predictors", names)
        if self.encoding not in ENCODINGS:
            raise ValueError(f"encoding must be one of {ENCODINGS}, got {self.encoding!r}")
        if self.target not in TARGETS:
            raise ValueError(f"target must be one of {TARGETS}, got {self.target!r}")
        object.__setattr__(self, "top_k", positive_int(self.top_k, "top_k"))
        object.__setattr__(self, "max_nodes", positive_int(self.max_nodes, "max_nodes"))

    def to_json(self) -> dict[str, Any]:
        return {
            "sizes": list(self.sizes),
            "seeds": list(self.seeds),
            "predictors": list(self.predictors),
            "dish": self.dish.to_json(),
            "surrogate": {
                k: getattr(self.surrogate, k) for k in self.surrogate.__dataclass_fields__
            }
            | {"hidden": list(self.surrogate.hidden)},
            "encoding": self.encoding,
            "target": self.target,
            "max_nodes": self.max_nodes,
            "top_k": self.top_k,
        }

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> PredictorBenchmarkConfig:
        surrogate = dict(d["surrogate"])
        surrogate["hidden"] = tuple(surrogate["hidden"])
        return cls(
            sizes=tuple(d["sizes"]),
            seeds=tuple(d["seeds"]),
            predictors=tuple(d["predictors"]),
            dish=DishConfig.from_json(dict(d["dish"])),
            surrogate=NNSurrogateConfig(**surrogate),
            encoding=d["encoding"],
            target=d["target"],
            max_nodes=int(d["max_nodes"]),
            top_k=int(d["top_k"]),
        )


# ---------------------------------------------------------------------------- registry


@dataclass(frozen=True)
class BenchmarkContext:
    """What a predictor factory may use: the run's config and the complete logs by cell."""

    config: PredictorBenchmarkConfig
    groups: Mapping[Cell, tuple[CellLog, ...]]


PredictorFactory = Callable[[BenchmarkContext], Predictor]


def _early_stop(epochs: int) -> PredictorFactory:
    return lambda ctx: EarlyStoppingPredictor(ctx.groups, epochs)


def _encoded(ctx: BenchmarkContext) -> dict[str, Any]:
    cfg = ctx.config
    return {"encoding": cfg.encoding, "max_nodes": cfg.max_nodes, "target": cfg.target}


PREDICTORS: dict[str, PredictorFactory] = {
    "dish": lambda ctx: Dish(ctx.config.dish),
    "random_dish": lambda ctx: random_data_dish(ctx.config.dish),
    "nn_surrogate": lambda ctx: EncodedNNSurrogate(
        EncodedNNSurrogateConfig(network=ctx.config.surrogate, **_encoded(ctx))
    ),
    "random_forest": lambda ctx: SklearnPredictor(RandomForestConfig(**_encoded(ctx))),
    "gradient_boosting": lambda ctx: SklearnPredictor(GradientBoostingConfig(**_encoded(ctx))),
    "gaussian_process": lambda ctx: SklearnPredictor(GaussianProcessConfig(**_encoded(ctx))),
    "num_params": lambda ctx: ParamCountPredictor(ParamCountConfig(direction="more_is_better")),
    "num_params_fit": lambda ctx: ParamCountPredictor(ParamCountConfig(direction="fit")),
    "early_stop_1": _early_stop(1),
    "early_stop_3": _early_stop(3),
    "early_stop_5": _early_stop(5),
}
"""Name -> factory of a fresh, unfitted predictor. Early stopping is the costed reference."""

ALL_PREDICTORS: tuple[str, ...] = tuple(PREDICTORS)
DISH_PREDICTORS: tuple[str, ...] = ("dish", "random_dish")
BASELINE_PREDICTORS: tuple[str, ...] = tuple(n for n in PREDICTORS if n not in DISH_PREDICTORS)


# -------------------------------------------------------------------------------- pool


@dataclass(frozen=True)
class PoolInfo:
    """The pool's provenance and counts; ``digests``/``losses`` identify it in JSON."""

    source: str
    n_logs: int
    n_complete: int
    n_diverged: int  # excluded logs (not ``CellLog.ok``)
    n_cells: int  # distinct canonical cells among the complete logs
    n_merged_runs: int  # complete runs folded into another run of the same cell
    digests: tuple[str, ...]  # Cell.digest in pool order
    losses: tuple[float, ...]  # targets in pool order (nats)

    def to_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "n_logs": self.n_logs,
            "n_complete": self.n_complete,
            "n_diverged": self.n_diverged,
            "n_cells": self.n_cells,
            "n_merged_runs": self.n_merged_runs,
            "digests": list(self.digests),
            "losses": list(self.losses),
        }

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> PoolInfo:
        return cls(
            source=str(d["source"]),
            n_logs=int(d["n_logs"]),
            n_complete=int(d["n_complete"]),
            n_diverged=int(d["n_diverged"]),
            n_cells=int(d["n_cells"]),
            n_merged_runs=int(d["n_merged_runs"]),
            digests=tuple(d["digests"]),
            losses=tuple(float(x) for x in d["losses"]),
        )


@dataclass(frozen=True)
class CellPool:
    """Distinct complete cells, their targets ``(n,)`` and their complete runs."""

    cells: tuple[Cell, ...]
    losses: np.ndarray  # (n,) float64, mean final validation loss per cell
    groups: Mapping[Cell, tuple[CellLog, ...]]
    info: PoolInfo


def build_pool(logs: NasBenchNLP | Iterable[CellLog], source: str = "") -> CellPool:
    """Group complete logs by canonical cell (see module docstring); diverged ones counted.

    The pool is ``evaluators.tabular.nasbench_nlp_pool``'s, the one the search's oracle
    uses; this adds its provenance record and needs at least 3 cells.
    """
    pool = nasbench_nlp_pool(logs, source)
    if len(pool.entries) < 3:
        raise ValueError(f"the logs hold {len(pool.entries)} distinct complete cells; need >= 3")
    counts = pool.counts
    info = PoolInfo(
        source=pool.source,
        n_logs=counts.logs,
        n_complete=counts.complete,
        n_diverged=counts.diverged,
        n_cells=counts.cells,
        n_merged_runs=counts.merged_runs,
        digests=tuple(c.digest for c in pool.cells),
        losses=tuple(e.loss for e in pool.entries),
    )
    return CellPool(cells=pool.cells, losses=pool.losses, groups=pool.groups, info=info)


def split_pool(n_pool: int, size: int, seed: int, min_test: int = 2) -> tuple[np.ndarray, ...]:
    """``(train, test)`` index arrays, each sorted; see the module docstring."""
    if size < 2 or size > n_pool - min_test:
        raise ValueError(
            f"train size {size} must be in [2, {n_pool - min_test}] for a pool of {n_pool} "
            f"cells (at least {min_test} test cells)"
        )
    perm = np.random.default_rng(seed).permutation(n_pool)
    return np.sort(perm[:size]), np.sort(perm[size:])


# ----------------------------------------------------------------------------- metrics


def ranking_metrics(pred: np.ndarray, true: np.ndarray, top_k: int) -> dict[str, float]:
    """Kendall tau-b, Spearman and precision@k of ``pred`` against ``true`` (module doc).

    Returns ``kendall``, ``spearman``, ``precision_at_k``, ``constant`` (1.0 if ``pred``
    is constant) and ``n_nonfinite``.
    """
    p = np.array(pred, dtype=np.float64)  # (n,) copy: non-finite entries are overwritten
    t = np.asarray(true, dtype=np.float64)
    if p.shape != t.shape or p.ndim != 1:
        raise ValueError(f"pred and true must be 1-D of equal length, got {p.shape}, {t.shape}")
    bad = ~np.isfinite(p)
    if bad.any():
        finite = p[~bad]
        p[bad] = (finite.max() + 1.0) if finite.size else 0.0  # non-finite ranks worst
    constant = bool(np.all(p == p[0]))
    tau = 0.0 if constant else metrics.kendall_tau_b(p, t)
    rho = 0.0 if constant else metrics.spearman(p, t)
    return {
        "kendall": float(tau),
        "spearman": float(rho),
        "precision_at_k": float(metrics.precision_at_k(p, t, min(top_k, p.shape[0]))),
        "constant": float(constant),
        "n_nonfinite": float(bad.sum()),
    }


# ----------------------------------------------------------------------------- records


@dataclass(frozen=True)
class Split:
    """One (size, seed) split: training cells as pool indices (test = the rest)."""

    size: int
    seed: int
    train: tuple[int, ...]


@dataclass(frozen=True)
class PredictorRunRecord:
    """One predictor on one split (``RunRecord`` is its old name, kept as an alias; the
    store's ``petridish.store.RunRecord`` is a search run, another thing)."""

    predictor: str
    size: int
    seed: int
    kendall: float
    spearman: float
    precision_at_k: float
    fit_seconds: float
    query_seconds_per_cell: float
    n_test: int
    constant: bool = False
    n_nonfinite: int = 0
    # A learned dish's fit, from its ``FitRecord`` (``fit_info``; empty for other predictors):
    # the outer step kept (``best_step``: 0 = the initial random data, None = the last step),
    # outer steps run, and how far the kept data moved from its start (relative L2).
    fit_info: Mapping[str, Any] = field(default_factory=dict, hash=False)


RunRecord = PredictorRunRecord  # the old name


def fit_info(predictor: object) -> dict[str, Any]:
    """What a fitted predictor's ``record`` (a dish's ``FitRecord``) says about its fit:
    ``best_step``, ``outer_steps`` run, ``moved_train`` / ``moved_val``, ``train_spearman``
    and ``kept_learned`` (whether the kept data is a learned step, not the initial draw);
    ``{}`` for a predictor without one."""
    record = getattr(predictor, "record", None)
    if record is None or not hasattr(record, "outer_losses"):
        return {}
    steps = len(record.outer_losses)
    info = {
        "best_step": record.best_step,
        "outer_steps": steps,
        "moved_train": record.moved_train,
        "moved_val": record.moved_val,
        "train_spearman": record.train_spearman,
    }
    info["kept_learned"] = steps > 0 and record.best_step != 0
    return info


@dataclass(frozen=True)
class RunInfo:
    """One invocation: its config (as JSON, so that a stored result stays readable when
    ``DishConfig`` gains or loses fields), the machine, and real training per cell."""

    config: Mapping[str, Any]  # PredictorBenchmarkConfig.to_json()
    environment: Mapping[str, Any]
    training_seconds_per_cell: Mapping[str, float]

    def to_json(self) -> dict[str, Any]:
        return {
            "config": dict(self.config),
            "environment": dict(self.environment),
            "training_seconds_per_cell": dict(self.training_seconds_per_cell),
        }

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> RunInfo:
        return cls(
            config=dict(d["config"]),
            environment=dict(d["environment"]),
            training_seconds_per_cell={
                k: float(v) for k, v in d["training_seconds_per_cell"].items()
            },
        )


@dataclass(frozen=True)
class Summary:
    """Aggregate of one predictor at one train size over its seeds."""

    predictor: str
    size: int
    n_seeds: int
    kendall_mean: float
    kendall_std: float
    spearman_mean: float
    spearman_std: float
    precision_at_k_mean: float
    precision_at_k_std: float
    fit_seconds_mean: float
    fit_seconds_median: float
    query_seconds_per_cell_mean: float
    training_seconds_per_cell: float
    n_constant: int
    # Learned dishes only (None otherwise): fits that kept a learned outer step, and the mean
    # relative distance the kept training / validation inputs moved from their start.
    n_kept_learned: int | None = None
    moved_train_mean: float | None = None
    moved_val_mean: float | None = None


def _fit_summary(rs: Sequence[PredictorRunRecord]) -> dict[str, Any]:
    """``Summary``'s learned-dish fields over records with ``fit_info`` (none: no fields)."""
    infos = [r.fit_info for r in rs if r.fit_info]
    if not infos:
        return {}

    def mean(key: str) -> float | None:
        vals = [float(i[key]) for i in infos if i.get(key) is not None]
        return float(np.mean(vals)) if vals else None

    return {
        "n_kept_learned": sum(bool(i.get("kept_learned")) for i in infos),
        "moved_train_mean": mean("moved_train"),
        "moved_val_mean": mean("moved_val"),
    }


def _mean_std(values: Sequence[float]) -> tuple[float, float]:
    arr = np.asarray(values, dtype=np.float64)
    std = float(arr.std(ddof=1)) if arr.size > 1 else math.nan
    return float(arr.mean()), std


def _nan_to_none(x: Any) -> Any:
    """JSON has no NaN: write it as null (read back as NaN by ``_none_to_nan``)."""
    if isinstance(x, float) and not math.isfinite(x):
        return None
    if isinstance(x, dict):
        return {k: _nan_to_none(v) for k, v in x.items()}
    if isinstance(x, list):
        return [_nan_to_none(v) for v in x]
    return x


def _none_to_nan(x: Any) -> float:
    return math.nan if x is None else float(x)


@dataclass(frozen=True)
class BenchmarkResult:
    """Everything measured: the pool, the splits, one record per (predictor, size, seed)."""

    pool: PoolInfo
    splits: tuple[Split, ...]
    records: tuple[PredictorRunRecord, ...]
    runs: tuple[RunInfo, ...]

    @property
    def top_k(self) -> int:
        return int(self.runs[0].config["top_k"])

    @property
    def predictors(self) -> tuple[str, ...]:
        """Predictor names in order of first appearance."""
        return tuple(dict.fromkeys(r.predictor for r in self.records))

    @property
    def sizes(self) -> tuple[int, ...]:
        return tuple(sorted({r.size for r in self.records}))

    def training_seconds_per_cell(self, predictor: str) -> float:
        """Real training per queried cell (0 for all but early stopping); latest run wins."""
        value = 0.0
        for run in self.runs:
            value = run.training_seconds_per_cell.get(predictor, value)
        return value

    def summaries(self) -> tuple[Summary, ...]:
        """One ``Summary`` per (predictor, size), predictors in order, sizes ascending."""
        out: list[Summary] = []
        for name in self.predictors:
            for size in self.sizes:
                rs = [r for r in self.records if r.predictor == name and r.size == size]
                if not rs:
                    continue
                tau = _mean_std([r.kendall for r in rs])
                rho = _mean_std([r.spearman for r in rs])
                prec = _mean_std([r.precision_at_k for r in rs])
                fit = [r.fit_seconds for r in rs]
                out.append(
                    Summary(
                        predictor=name,
                        size=size,
                        n_seeds=len(rs),
                        kendall_mean=tau[0],
                        kendall_std=tau[1],
                        spearman_mean=rho[0],
                        spearman_std=rho[1],
                        precision_at_k_mean=prec[0],
                        precision_at_k_std=prec[1],
                        fit_seconds_mean=float(np.mean(fit)),
                        fit_seconds_median=float(np.median(fit)),
                        query_seconds_per_cell_mean=float(
                            np.mean([r.query_seconds_per_cell for r in rs])
                        ),
                        training_seconds_per_cell=self.training_seconds_per_cell(name),
                        n_constant=sum(r.constant for r in rs),
                        **_fit_summary(rs),
                    )
                )
        return tuple(out)

    def merge(self, other: BenchmarkResult) -> BenchmarkResult:
        """This result plus ``other``'s records (``other`` wins on the same key)."""
        if other.pool.digests != self.pool.digests or other.pool.losses != self.pool.losses:
            raise ValueError(
                f"cannot merge results over different cell pools ({self.pool.source!r}: "
                f"{self.pool.n_cells} cells, {other.pool.source!r}: {other.pool.n_cells} cells)"
            )
        if other.top_k != self.top_k:
            raise ValueError(f"cannot merge results with top_k {self.top_k} and {other.top_k}")
        splits = {(s.size, s.seed): s for s in self.splits}
        for s in other.splits:
            mine = splits.get((s.size, s.seed))
            if mine is not None and mine.train != s.train:
                raise ValueError(f"split (size {s.size}, seed {s.seed}) differs between results")
            splits[(s.size, s.seed)] = s
        records = {(r.predictor, r.size, r.seed): r for r in self.records}
        records.update({(r.predictor, r.size, r.seed): r for r in other.records})
        return BenchmarkResult(
            pool=self.pool,
            splits=tuple(sorted(splits.values(), key=lambda s: (s.size, s.seed))),
            records=tuple(records.values()),
            runs=self.runs + other.runs,
        )

    def to_json(self) -> dict[str, Any]:
        return _nan_to_none(
            {
                "format": "petridish.predictor_benchmark/1",
                "pool": self.pool.to_json(),
                "summary": [dataclasses.asdict(s) for s in self.summaries()],
                "runs": [r.to_json() for r in self.runs],
                "splits": [
                    {"size": s.size, "seed": s.seed, "train": list(s.train)} for s in self.splits
                ],
                "records": [dataclasses.asdict(r) for r in self.records],
            }
        )

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> BenchmarkResult:
        if d.get("format") != "petridish.predictor_benchmark/1":
            raise ValueError(f"not a predictor benchmark result (format {d.get('format')!r})")
        records = []
        for r in d["records"]:
            values = dict(r)
            for key in ("kendall", "spearman", "precision_at_k"):
                values[key] = _none_to_nan(values[key])
            records.append(PredictorRunRecord(**values))
        return cls(
            pool=PoolInfo.from_json(d["pool"]),
            splits=tuple(
                Split(int(s["size"]), int(s["seed"]), tuple(s["train"])) for s in d["splits"]
            ),
            records=tuple(records),
            runs=tuple(RunInfo.from_json(r) for r in d["runs"]),
        )


# ------------------------------------------------------------------------------- run

Progress = Callable[[int, int], None]  # (splits done, total splits)


def _environment() -> dict[str, Any]:
    import jax

    env: dict[str, Any] = {
        "started_utc": datetime.now(UTC).isoformat(timespec="seconds"),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpu_count": os.cpu_count(),
        "jax": jax.__version__,
        "jax_backend": jax.default_backend(),
    }
    if hasattr(os, "getloadavg"):
        # A loaded (shared) machine inflates every timing: record how loaded it was.
        env["load_average_1m_at_start"] = round(os.getloadavg()[0], 2)
    return env


def _load(data: str | os.PathLike[str] | NasBenchNLP | None) -> NasBenchNLP:
    return data if isinstance(data, NasBenchNLP) else load_nasbench_nlp(data)


def run_predictor_benchmark(
    config: PredictorBenchmarkConfig | None = None,
    data_dir: str | os.PathLike[str] | NasBenchNLP | None = None,
    progress: Progress | None = None,
    *,
    factories: Mapping[str, PredictorFactory] | None = None,
    skip: Iterable[tuple[int, int]] = (),
    on_partial: Callable[[BenchmarkResult], None] | None = None,
) -> BenchmarkResult:
    """Run the benchmark (module docstring). ``data_dir`` goes to ``load_nasbench_nlp``
    (or pass loaded logs); ``factories`` add or replace predictors by name.

    ``skip``: (size, seed) splits not to run (e.g. ones an earlier, cut-off run finished);
    they are left out of the result and of ``progress``'s total. ``on_partial(result)`` is
    called after every finished split but the last with the result of the splits finished
    so far, so that a caller can keep a report that a cut-off run does not lose."""
    cfg = config if config is not None else PredictorBenchmarkConfig()
    registry = {**PREDICTORS, **(factories or {})}
    unknown = [n for n in cfg.predictors if n not in registry]
    if unknown:
        raise ValueError(f"unknown predictor(s) {unknown}; known: {', '.join(registry)}")
    bench = _load(data_dir)
    pool = build_pool(bench)
    min_test = max(cfg.top_k, 2)
    for size in cfg.sizes:  # fail before any work on a size the pool cannot hold
        split_pool(pool.info.n_cells, size, 0, min_test)
    logger.info(
        "predictor benchmark: %d cells (%d complete logs, %d diverged excluded), sizes %s, "
        "%d seeds, predictors %s",
        pool.info.n_cells, pool.info.n_complete, pool.info.n_diverged, cfg.sizes,
        len(cfg.seeds), ", ".join(cfg.predictors),
    )  # fmt: skip
    env = _environment()
    ctx = BenchmarkContext(config=cfg, groups=pool.groups)
    costs: dict[str, float] = {}
    splits: list[Split] = []
    records: list[PredictorRunRecord] = []
    skipped = {(int(n), int(s)) for n, s in skip}
    todo = [(n, s) for n in cfg.sizes for s in cfg.seeds if (n, s) not in skipped]
    total, t_run = len(todo), time.perf_counter()

    def result() -> BenchmarkResult:
        env["wall_seconds"] = round(time.perf_counter() - t_run, 3)
        run = RunInfo(config=cfg.to_json(), environment=dict(env), training_seconds_per_cell=costs)
        return BenchmarkResult(
            pool=pool.info, splits=tuple(splits), records=tuple(records), runs=(run,)
        )

    for done, (size, seed) in enumerate(todo, start=1):
        train, test = split_pool(pool.info.n_cells, size, seed, min_test)
        splits.append(Split(size, seed, tuple(int(i) for i in train)))
        tr_cells = [pool.cells[i] for i in train]
        te_cells = [pool.cells[i] for i in test]
        for name in cfg.predictors:
            predictor = registry[name](ctx)
            t0 = time.perf_counter()
            predictor.fit(tr_cells, pool.losses[train], seed=seed)
            t1 = time.perf_counter()
            scores = np.asarray(predictor.query(te_cells), dtype=np.float64)
            t2 = time.perf_counter()
            if scores.shape != (len(te_cells),):
                raise ValueError(
                    f"predictor {name!r} returned scores of shape {scores.shape} for "
                    f"{len(te_cells)} cells"
                )
            m = ranking_metrics(scores, pool.losses[test], cfg.top_k)
            costs[name] = float(getattr(predictor, "training_seconds_per_cell", 0.0))
            records.append(
                PredictorRunRecord(
                    predictor=name,
                    size=size,
                    seed=seed,
                    kendall=m["kendall"],
                    spearman=m["spearman"],
                    precision_at_k=m["precision_at_k"],
                    fit_seconds=t1 - t0,
                    query_seconds_per_cell=(t2 - t1) / len(te_cells),
                    n_test=len(te_cells),
                    constant=bool(m["constant"]),
                    n_nonfinite=int(m["n_nonfinite"]),
                    fit_info=fit_info(predictor),
                )
            )
        logger.debug("predictor benchmark: split size %d seed %d done", size, seed)
        if progress is not None:
            progress(done, total)
        if on_partial is not None and done < total:
            on_partial(result())
    return result()


def load_benchmark(path: str | Path) -> BenchmarkResult:
    """Read a result written by ``write_benchmark`` (the JSON file, or its folder)."""
    p = Path(path)
    if p.is_dir():
        p = p / JSON_NAME
    try:
        data = json.loads(p.read_text())
    except (OSError, json.JSONDecodeError) as err:
        raise ValueError(f"cannot read predictor benchmark result {p}: {err}") from None
    return BenchmarkResult.from_json(data)
