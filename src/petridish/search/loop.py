"""The search loop (paper Algorithm 1): spend a ground-truth budget where it pays.

Contract
--------
``run_search(config, space=..., strategy=..., evaluator=..., store=...)`` runs one search:

1. *Warm-up* (iteration 0): ``config.warmup`` random motifs (``space.random_genes`` with
   ``exclude`` = the motifs evaluated in this run, then ``space.realize``: uniform sampling
   without replacement) are evaluated for ground truth.
2. *Iterations* ``i = 1, 2, ...``: the strategy proposes ``config.proposals`` gene strings
   from the history; ``space.realize`` maps them to motifs not yet evaluated in this run
   (the candidates, one documented mapping shared by all strategies); ``per_iteration``
   of them are chosen and evaluated. Every strategy's ``propose`` is given ``exclude``,
   the digests of every motif evaluated in this run, failed and diverged ones included
   (the history holds only ok results); a strategy may use it (``RandomStrategy`` proposes
   unevaluated motifs only, so random search is exactly uniform sampling without
   replacement, never shifted by ``realize``'s nearest-free mapping) or leave duplicates
   to ``realize``. Before any ok result exists the proposals are ``space.random_genes``
   with that ``exclude``, whatever the strategy. Then:

   * with a predictor (``run_search(predictor=...)``, by default the one
     ``config.predictor`` names, else the space's ``SpaceSpec.default_predictor``: the
     dish): it is fitted from scratch (``Predictor.fit``) on all ``ok`` ground truth of the
     run so far and the candidates it scores lowest (``query``; a ``Dish``: its
     ``predict`` scores) are chosen, once two distinct ok losses exist;
   * without one (``"none"``), or before it can fit: the strategy's own predictor
     (``strategy.rank``, e.g. NAO) when it has one, otherwise a uniformly random subset
     (random search, the GA: as in the original methods).
3. The loop stops when ``budget_evals`` evaluations are spent (the last iteration takes
   only what is left), when ``budget_seconds`` of this call's wall time have passed
   (checked between iterations: an iteration that started is finished), or when the space
   has no unevaluated motif left.

Ground truth goes through the ``Store``: a motif with a stored result (``ok`` or
``diverged``, by this run or any other, same evaluator, protocol and ``eval_seed``) is read
back, never re-run; a stored ``failed`` evaluation is not a result and is run again.
Within one call, evaluations that are ``failed`` or ``diverged`` count toward the budget
and are never proposed again (``realize`` and the ``exclude`` above see them), but they
are left out of what the dish and the strategy learn from (the history): they carry no
loss to rank by. An evaluator that raises ``GroundTruthUnavailable`` (no motif can be
evaluated at all, e.g. its data is missing) stops the search at once: the exception
propagates, the interrupted iteration is not logged, and the same search resumes later.

Determinism and resuming
------------------------
All randomness of iteration ``i`` comes from ``np.random.default_rng([seed, i, stream])``
(stream 0: warm-up draw, 1: proposals, 2: selection, 3: the predictor's seed), and the strategy
is stateless (rebuilt from the history), so a run is a function of its configuration and
of the ground truth. Its ``run_id`` is derived from a hash of the configuration *without*
the budgets (``SearchConfig.identity``; the dish and no-predictor runs hash exactly as
before predictors became pluggable, other predictors add their name and hyperparameters),
so re-running the same search on the same store,
with the same or a larger budget, continues it: the logged iterations are read back with
their evaluations (no dish refit, no re-evaluation), the history is rebuilt, and the loop
goes on from the first iteration not logged. An iteration is logged only once complete; an
iteration interrupted half-way (a crash, a kill) or cut short by the budget is redone from
its own random streams, so it makes the same choices, and its finished evaluations come
from the store. A resumed run therefore equals an uninterrupted one with the final budget,
and one re-run with a smaller budget returns the prefix of the longer run.

Failed evaluations are retried on resume: replaying a logged iteration whose evaluations
include ``failed`` ones evaluates those again (its choices stand: they were made before
it). If a retry now succeeds, the later logged iterations chose from a history without
that result: they are discarded (``Store.discard_iterations``) and redone, so the resumed
run equals one in which the evaluation had succeeded the first time. Retries that fail
again change nothing, and the replay goes on.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from petridish._logging import logger
from petridish._validation import positive_float, positive_int
from petridish.dish.config import DishConfig
from petridish.execution import Executor
from petridish.execution import evaluate_many as execution_evaluate_many
from petridish.motifs.base import Motif, motif_from_json
from petridish.predictor import Predictor
from petridish.search.predictors import DISH_PREDICTORS, NO_PREDICTOR, make_predictor
from petridish.search.spaces.nasbench_nlp import SEARCH_CELL_DISH

if TYPE_CHECKING:
    from petridish.evaluators.base import Evaluator
    from petridish.search.space import SearchSpace
    from petridish.search.strategies.base import Strategy
    from petridish.store import Evaluation, IterationRecord, Store

__all__ = [
    "FitProgressFn",
    "ProgressFn",
    "SearchConfig",
    "SearchResult",
    "SEARCH_CELL_DISH",
    "default_dish_config",
    "default_predictor",
    "default_strategy",
    "evals_to_hit",
    "run_search",
]

ProgressFn = Callable[[int, int, float], None]
"""``progress(evaluations spent, evaluation budget, best ok loss so far or inf)``."""

FitProgressFn = Callable[[int, int, int, float], None]
"""``fit_progress(iteration, outer step, outer steps, outer loss)`` during a dish fit (the
dish's own ``progress``, with the iteration it is fitted for)."""

# Random streams of one iteration: np.random.default_rng([seed, iteration, stream]).
_WARMUP, _PROPOSE, _SELECT, _DISH = 0, 1, 2, 3
# The dish needs at least this many ok results (with distinct losses) to fit a ranking.
_MIN_DISH_TRAIN = 2


@dataclass(frozen=True, kw_only=True)
class SearchConfig:
    """One search: what is searched, how, and with what budget.

    ``space``, ``strategy``, ``evaluator`` and ``protocol`` name the objects handed to
    ``run_search`` (checked against their ``name``/``protocol``; an empty ``evaluator`` or
    ``protocol`` is filled in from the evaluator). ``predictor`` names the predictor that
    filters the search (``petridish.search.predictors``: ``"dish"``, ``"none"``, ...);
    ``use_dish`` is its old boolean form (True = ``"dish"``, False = ``"none"``): give
    either (they must agree if both are given); neither = the space's default predictor,
    resolved by ``run_search``. ``dish_config`` is a ``DishConfig.to_json()`` dict (None:
    the space's default, see ``default_dish_config``; ignored without a dish predictor).
    All fields are keyword-only. ``eval_seed`` is the ground-truth seed, shared by all
    searches so that their evaluations are shared through the store.
    """

    space: str
    strategy: str
    use_dish: bool | None = None
    budget_evals: int
    seed: int = 0
    warmup: int = 40
    proposals: int = 100
    per_iteration: int = 20
    budget_seconds: float | None = None
    dish_config: Mapping[str, Any] | None = None
    evaluator: str = ""
    protocol: str = ""
    eval_seed: int = 0
    predictor: str | None = None

    def __post_init__(self) -> None:
        for name in ("space", "strategy"):
            value = getattr(self, name)
            if not isinstance(value, str) or not value:
                raise ValueError(f"SearchConfig.{name} must be a non-empty string, got {value!r}")
        if self.use_dish is not None and not isinstance(self.use_dish, bool):
            raise ValueError(f"SearchConfig.use_dish must be a bool, got {self.use_dish!r}")
        if self.predictor is not None and (
            not isinstance(self.predictor, str) or not self.predictor
        ):
            raise ValueError(
                f"SearchConfig.predictor must be a non-empty string, got {self.predictor!r}"
            )
        if self.predictor is None and self.use_dish is not None:
            object.__setattr__(self, "predictor", "dish" if self.use_dish else NO_PREDICTOR)
        elif self.predictor is not None and self.use_dish is None:
            object.__setattr__(self, "use_dish", self.predictor == "dish")
        elif self.predictor is not None and self.use_dish != (self.predictor == "dish"):
            raise ValueError(
                f"SearchConfig.use_dish={self.use_dish!r} contradicts "
                f"predictor={self.predictor!r}; give predictor alone"
            )
        positive_int(self.budget_evals, "SearchConfig.budget_evals", 1)
        positive_int(self.seed, "SearchConfig.seed", 0)
        positive_int(self.eval_seed, "SearchConfig.eval_seed", 0)
        positive_int(self.warmup, "SearchConfig.warmup", 0)
        positive_int(self.proposals, "SearchConfig.proposals", 1)
        positive_int(self.per_iteration, "SearchConfig.per_iteration", 1)
        if self.budget_seconds is not None:
            positive_float(self.budget_seconds, "SearchConfig.budget_seconds")
        for name in ("evaluator", "protocol"):
            if not isinstance(getattr(self, name), str):
                raise ValueError(
                    f"SearchConfig.{name} must be a string, got {getattr(self, name)!r}"
                )
        if self.dish_config is not None:
            if not isinstance(self.dish_config, Mapping):
                raise ValueError(
                    f"SearchConfig.dish_config must be a DishConfig JSON dict or None, got "
                    f"{type(self.dish_config).__name__}"
                )
            # Validate now (a bad field is a ValueError naming it) and keep a plain copy.
            DishConfig.from_json(dict(self.dish_config))
            object.__setattr__(self, "dish_config", json.loads(json.dumps(self.dish_config)))

    def replace(self, **changes: Any) -> SearchConfig:
        return dataclasses.replace(self, **changes)

    def dish(self) -> DishConfig | None:
        """The dish configuration, or None when none is set."""
        return None if self.dish_config is None else DishConfig.from_json(dict(self.dish_config))

    def to_json(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        out["dish_config"] = None if self.dish_config is None else dict(self.dish_config)
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> SearchConfig:
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown SearchConfig fields: {unknown}")
        return cls(**dict(data))

    def identity(self) -> dict[str, Any]:
        """What makes two runs the same run: everything but the budgets.

        Without a dish predictor the dish configuration plays no part and is left out too.
        The dish and no-predictor runs leave ``predictor`` out (``use_dish`` says it), so
        their identity, hence their run id, is what it was before predictors were pluggable.
        """
        out = self.to_json()
        del out["budget_evals"], out["budget_seconds"]
        if self.predictor not in DISH_PREDICTORS:
            out["dish_config"] = None
        if self.predictor in ("dish", NO_PREDICTOR):
            del out["predictor"]
        return out

    def run_id(
        self,
        strategy_params: Mapping[str, Any] | None = None,
        predictor_params: Mapping[str, Any] | None = None,
    ) -> str:
        """``{space}-{strategy}[+{predictor}]-s{seed}-{hash}``, stable across processes.

        ``predictor_params`` (a non-dish predictor's hyperparameters) join the hash only
        when given, so the dish and no-predictor ids stay as they were.
        """
        identity: dict[str, Any] = {
            "config": self.identity(),
            "strategy_params": dict(strategy_params or {}),
        }
        if predictor_params:
            identity["predictor_params"] = dict(predictor_params)
        text = json.dumps(identity, sort_keys=True, separators=(",", ":"), default=repr)
        digest = hashlib.sha256(text.encode()).hexdigest()[:12]
        name = self.predictor or NO_PREDICTOR
        plus = "" if name == NO_PREDICTOR else f"+{name}"
        return f"{self.space}-{self.strategy}{plus}-s{self.seed}-{digest}"


@dataclass(frozen=True)
class SearchResult:
    """What one search evaluated, in order, and how well it did.

    ``losses`` holds NaN for evaluations that are not ``ok``; ``best_so_far[i]`` is the best
    ok loss among the first ``i + 1`` evaluations (inf before the first ok one).
    ``wall_seconds`` and ``dish_fit_seconds`` are this call's (a resumed run does not
    redo the logged iterations' fits; ``dish_fit_seconds`` counts whatever predictor
    filters the search); ``reused`` counts the evaluations this call
    found already in the store (resumed or shared with other runs).
    """

    run_id: str
    config: SearchConfig
    evaluations: tuple[Evaluation, ...]
    iteration_of: tuple[int, ...]  # the iteration that chose each evaluation
    stop_reason: str  # "budget_evals", "budget_seconds" or "exhausted"
    wall_seconds: float
    dish_fit_seconds: float
    reused: int
    losses: np.ndarray = field(init=False, repr=False, compare=False)  # (n,) float64
    best_so_far: np.ndarray = field(init=False, repr=False, compare=False)  # (n,) float64

    def __post_init__(self) -> None:
        losses = np.array(
            [
                e.loss if e.status == "ok" and e.loss is not None else np.nan
                for e in self.evaluations
            ],
            dtype=np.float64,
        )
        best = np.minimum.accumulate(np.where(np.isnan(losses), np.inf, losses))
        losses.setflags(write=False)
        best.setflags(write=False)
        object.__setattr__(self, "losses", losses)
        object.__setattr__(self, "best_so_far", best)

    @property
    def motifs(self) -> tuple[Motif, ...]:
        return tuple(e.motif for e in self.evaluations)

    @property
    def digests(self) -> tuple[str, ...]:
        return tuple(e.motif_hash for e in self.evaluations)

    @property
    def statuses(self) -> tuple[str, ...]:
        return tuple(e.status for e in self.evaluations)

    def __len__(self) -> int:
        return len(self.evaluations)

    @property
    def best_loss(self) -> float:
        """The best ok loss found (inf if none)."""
        return float(self.best_so_far[-1]) if len(self.best_so_far) else math.inf

    @property
    def best_motif(self) -> Motif | None:
        """The motif of ``best_loss`` (the first one found, on ties), or None."""
        if not len(self.losses) or not np.isfinite(self.best_loss):
            return None
        return self.evaluations[int(np.nanargmin(self.losses))].motif


def evals_to_hit(result: SearchResult, targets: set[str] | frozenset[str]) -> int | None:
    """How many evaluations ``result`` spent until it first evaluated a motif whose digest is
    in ``targets`` (1-based, that evaluation included); None if it never did."""
    if not targets:
        raise ValueError("evals_to_hit needs a non-empty set of target digests")
    for i, digest in enumerate(result.digests):
        if digest in targets:
            return i + 1
    return None


def default_dish_config(space_name: str) -> DishConfig:
    """The dish a space's motifs need: its ``SpaceSpec.default_dish()`` (``for_slopes()``
    for slopes; for cells ``for_cells(**SEARCH_CELL_DISH)``, see there)."""
    from petridish.search.spaces.registry import space_spec

    try:
        spec = space_spec(space_name)
    except KeyError:
        raise ValueError(
            f"no default dish for space {space_name!r}; pass SearchConfig.dish_config"
        ) from None
    return spec.default_dish()


def default_predictor(space_name: str) -> str:
    """The predictor name a space is searched with by default (``"dish"`` when the space is
    not registered, e.g. a test's own space)."""
    from petridish.search.spaces.registry import space_spec

    try:
        return space_spec(space_name).default_predictor
    except KeyError:
        return "dish"


def default_strategy(space_name: str) -> str:
    """The strategy name a space is searched with by default (``"ga"``, the paper's, when
    the space is not registered)."""
    from petridish.search.spaces.registry import space_spec

    try:
        return space_spec(space_name).default_strategy
    except KeyError:
        return "ga"


def _predictor_params(predictor: object) -> dict[str, Any]:
    """A predictor's hyperparameters: its ``config`` (or ``model``) dataclass's fields."""
    for attr in ("config", "model"):
        cfg = getattr(predictor, attr, None)
        if dataclasses.is_dataclass(cfg) and not isinstance(cfg, type):
            return {"type": type(predictor).__name__, **dataclasses.asdict(cfg)}
    return {"type": type(predictor).__name__}


def _strategy_params(strategy: object) -> dict[str, Any]:
    """A dataclass strategy's fields: its hyperparameters belong to the run's identity."""
    if dataclasses.is_dataclass(strategy) and not isinstance(strategy, type):
        return {
            f.name: getattr(strategy, f.name)
            for f in dataclasses.fields(strategy)
            if not f.name.startswith("_")
        }
    return {}


def _rng(seed: int, iteration: int, stream: int) -> np.random.Generator:
    return np.random.default_rng([seed, iteration, stream])


def _motifs_from_json(texts: Sequence[str]) -> list[Motif]:
    return [motif_from_json(json.loads(t)) for t in texts]


class _Run:
    """The mutable state of one ``run_search`` call (kept out of the public API)."""

    def __init__(
        self,
        config: SearchConfig,
        run_id: str,
        space: SearchSpace,
        strategy: Strategy,
        evaluator: Evaluator,
        store: Store,
        predictor: Predictor | None,
        progress: ProgressFn | None,
        fit_progress: FitProgressFn | None = None,
        executor: Executor | None = None,
    ) -> None:
        self.config = config
        self.executor = executor
        self.run_id = run_id
        self.space = space
        self.strategy = strategy
        self.evaluator = evaluator
        self.store = store
        self.predictor = predictor
        self.predictor_name = config.predictor or NO_PREDICTOR
        self.progress = progress
        self.fit_progress = fit_progress
        self.evaluations: list[Evaluation] = []
        self.iteration_of: list[int] = []
        self.digests: set[str] = set()  # every motif evaluated, failed ones included
        self.history: list[tuple[np.ndarray, float]] = []  # ok results only
        self.ok_motifs: list[Motif] = []
        self.best = math.inf
        self.dish_seconds = 0.0
        self.reused = 0

    @property
    def left(self) -> int:
        return self.config.budget_evals - len(self.evaluations)

    def add(self, evaluations: Sequence[Evaluation], iteration: int) -> None:
        for ev in evaluations:
            if ev.motif_hash in self.digests:
                # realize never repeats a motif, so this means a foreign or damaged log.
                raise ValueError(
                    f"run {self.run_id!r}: motif {ev.motif_hash} evaluated twice (iteration "
                    f"{iteration}); the run's iteration log is inconsistent"
                )
            self.evaluations.append(ev)
            self.iteration_of.append(iteration)
            self.digests.add(ev.motif_hash)
            if ev.status == "ok" and ev.loss is not None:
                self.history.append((self.space.encode(ev.motif), float(ev.loss)))
                self.ok_motifs.append(ev.motif)
                self.best = min(self.best, float(ev.loss))
        self.report()

    def report(self) -> None:
        if self.progress is not None:
            self.progress(len(self.evaluations), self.config.budget_evals, self.best)

    def evaluate(self, motifs: Sequence[Motif]) -> list[Evaluation]:
        name, protocol, seed = self.evaluator.name, self.evaluator.protocol, self.config.eval_seed
        stored = [self.store.get(m, name, protocol, seed) for m in motifs]
        self.reused += sum(ev is not None and ev.status != "failed" for ev in stored)
        base = len(self.evaluations)

        def step(done: int, _total: int) -> None:
            if self.progress is not None:
                self.progress(base + done, self.config.budget_evals, self.best)

        if self.executor is None:
            return self.store.evaluate_many(list(motifs), self.evaluator, seed, progress=step)
        # Same semantics as Store.evaluate_many: stored results read back, the rest
        # submitted together and each recorded by this process as it completes.
        return execution_evaluate_many(
            self.store, list(motifs), self.evaluator, seed, progress=step, executor=self.executor
        )

    # -- replay ---------------------------------------------------------------------------
    def replay(self, records: Sequence[IterationRecord]) -> int:
        """Take back the logged iterations; returns the first iteration to run."""
        name, protocol, seed = self.evaluator.name, self.evaluator.protocol, self.config.eval_seed
        for expected, record in enumerate(records):
            if record.iteration != expected:
                logger.warning(
                    "run %s: iteration log jumps from %d to %d; redoing from %d",
                    self.run_id,
                    expected - 1,
                    record.iteration,
                    expected,
                )
                return expected
            motifs = _motifs_from_json(record.evaluated)
            stored = [self.store.get(m, name, protocol, seed) for m in motifs]
            if any(ev is None for ev in stored):
                logger.warning(
                    "run %s: iteration %d is logged but some of its evaluations are not in "
                    "the store; redoing it",
                    self.run_id,
                    record.iteration,
                )
                return expected
            taken = [ev for ev in stored if ev is not None][: self.left]
            failed = [ev for ev in taken if ev.status == "failed"]
            if not failed:
                self.reused += len(taken)
                self.add(taken, record.iteration)
                if self.left <= 0:
                    return expected + 1
                continue
            # Failures are not results: evaluate them again (the store reruns only those).
            logger.info(
                "run %s: iteration %d has %d failed evaluations; retrying them",
                self.run_id,
                record.iteration,
                len(failed),
            )
            retried = self.evaluate([ev.motif for ev in taken])
            self.add(retried, record.iteration)
            now_ok = sum(
                new.status == "ok"
                for old, new in zip(taken, retried, strict=True)
                if old.status == "failed"
            )
            if now_ok and expected + 1 < len(records):
                # The later iterations chose without these results: redo them.
                dropped = self.store.discard_iterations(self.run_id, record.iteration)
                logger.info(
                    "run %s: %d retried evaluations of iteration %d succeeded; redoing the "
                    "%d iterations after it",
                    self.run_id,
                    now_ok,
                    record.iteration,
                    dropped,
                )
                return expected + 1
            if self.left <= 0:
                return expected + 1
        return len(records)

    # -- one iteration --------------------------------------------------------------------
    def warmup(self) -> bool:
        """Iteration 0; returns False when the space is exhausted."""
        n = min(self.config.warmup, self.left)
        if self.config.warmup == 0:
            self.log(0, [], None, [], {"selector": "warmup", "k": 0})
            return True
        genes = self.space.random_genes(
            _rng(self.config.seed, 0, _WARMUP), self.config.warmup, exclude=self.digests
        )
        candidates = [m for m in self.space.realize(genes, exclude=self.digests) if m is not None]
        chosen = candidates[:n]
        if not chosen:
            return False
        self.add(self.evaluate(chosen), 0)
        complete = len(chosen) == min(self.config.warmup, len(candidates))
        if complete:
            self.log(0, candidates, None, chosen, {"selector": "warmup", "k": len(chosen)})
        return True

    def iterate(self, iteration: int) -> bool:
        """One search iteration; returns False when the space is exhausted."""
        cfg = self.config
        history = list(self.history)
        rng = _rng(cfg.seed, iteration, _PROPOSE)
        if not history:
            # Nothing to learn from yet (every result so far failed): propose at random.
            genes = self.space.random_genes(rng, cfg.proposals, exclude=self.digests)
        else:
            genes = self.strategy.propose(
                self.space, history, cfg.proposals, rng, exclude=self.digests
            )
        candidates = [m for m in self.space.realize(genes, exclude=self.digests) if m is not None]
        if not candidates:
            return False
        k_full = min(cfg.per_iteration, len(candidates))
        k = min(k_full, self.left)
        predicted: list[float] | None = None
        extra: dict[str, Any] = {"candidates": len(candidates), "k": k_full}
        if self.predictor is not None and self.dish_can_fit():
            scores, fit = self.predictor_scores(iteration, candidates)
            predicted = [float(s) for s in scores]
            order = np.argsort(scores, kind="stable")
            if self.predictor_name == "dish":
                extra["selector"] = "dish"
                extra["dish_fit"] = fit
            else:
                extra["selector"] = "predictor"
                extra["predictor"] = self.predictor_name
                extra["predictor_fit"] = fit
        else:
            select_rng = _rng(cfg.seed, iteration, _SELECT)
            own = None
            if history:
                cand_genes = np.stack([self.space.encode(m) for m in candidates])
                own = self.strategy.rank(self.space, history, cand_genes, select_rng)
            if own is not None:
                own = np.asarray(own, np.float64)
                if own.shape != (len(candidates),):
                    raise ValueError(
                        f"strategy {self.strategy.name!r} ranked {len(candidates)} candidates "
                        f"with an array of shape {own.shape}"
                    )
                order = np.argsort(np.where(np.isfinite(own), own, np.inf), kind="stable")
                extra["selector"] = "strategy"
                extra["strategy_scores"] = [float(s) for s in own]
            else:
                # A permutation's prefix: a budget-cut iteration takes a prefix of the full one.
                order = select_rng.permutation(len(candidates))
                extra["selector"] = "random"
            if self.predictor is not None:
                what = "dish" if self.predictor_name == "dish" else "predictor"
                extra["selector"] += f" (the {what} cannot fit: under 2 distinct ok losses)"
        chosen = [candidates[int(i)] for i in order[:k]]
        self.add(self.evaluate(chosen), iteration)
        if k == k_full:
            self.log(iteration, candidates, predicted, chosen, extra)
        return True

    def dish_can_fit(self) -> bool:
        """A predictor ranks by (z-scored) losses: it needs two ok results that differ."""
        losses = [loss for _, loss in self.history]
        return len(losses) >= _MIN_DISH_TRAIN and max(losses) > min(losses)

    def fit_reporter(self, iteration: int) -> Callable[[int, int, float], None] | None:
        """The dish fit's ``progress`` for ``iteration``, passing on to ``fit_progress``."""
        fit_progress = self.fit_progress
        if fit_progress is None:
            return None

        def report(step: int, total: int, loss: float) -> None:
            fit_progress(iteration, step, total, float(loss))

        return report

    def predictor_scores(
        self, iteration: int, candidates: Sequence[Motif]
    ) -> tuple[np.ndarray, dict[str, Any]]:
        """Scores of ``candidates`` ``(candidates,)`` from the predictor fitted from scratch
        on all ok results so far, and what the fit did (for the iteration log).

        A ``Dish`` is fitted as a fresh ``Dish`` of its config (with the fit's progress)
        and scored by ``predict`` (non-finite scores stay so and sort last); any other
        predictor by ``fit`` and ``query``.
        """
        from petridish.dish.core import Dish

        assert self.predictor is not None
        seed = int(_rng(self.config.seed, iteration, _DISH).integers(2**31 - 1))
        losses = np.array([loss for _, loss in self.history], np.float64)  # (ok results,)
        t0 = time.perf_counter()
        if isinstance(self.predictor, Dish):
            dish = Dish(self.predictor.config).fit(
                self.ok_motifs, losses, seed=seed, progress=self.fit_reporter(iteration)
            )
            scores = np.asarray(dish.predict(list(candidates)).scores, np.float64)
        else:
            fitted = self.predictor.fit(self.ok_motifs, losses, seed=seed)
            scores = np.asarray(fitted.query(list(candidates)), np.float64)
        if scores.shape != (len(candidates),):
            raise ValueError(
                f"predictor {self.predictor_name!r} scored {len(candidates)} candidates with "
                f"an array of shape {scores.shape}"
            )
        seconds = time.perf_counter() - t0
        self.dish_seconds += seconds
        fit: dict[str, Any] = {"seconds": round(seconds, 3)}
        if isinstance(self.predictor, Dish):
            rec = dish.record
            assert rec is not None
            fit.update(
                outer_steps_run=len(rec.outer_losses),
                n_train=rec.n_motifs,
                n_validation=rec.n_validation,
                kept_step=rec.best_step,
            )
        else:
            fit["n_train"] = len(losses)
        return scores, fit

    def log(
        self,
        iteration: int,
        proposed: Sequence[Motif],
        predicted: Sequence[float] | None,
        evaluated: Sequence[Motif],
        extra: Mapping[str, Any],
    ) -> None:
        self.store.log_iteration(
            self.run_id,
            iteration,
            proposed=proposed,
            predicted=predicted,
            evaluated=evaluated,
            extra=extra,
        )


def _check_names(
    config: SearchConfig, space: SearchSpace, strategy: Strategy, evaluator: Evaluator
) -> SearchConfig:
    for what, given, actual in (
        ("space", config.space, space.name),
        ("strategy", config.strategy, strategy.name),
    ):
        if given != actual:
            raise ValueError(f"SearchConfig.{what} is {given!r} but the {what} given is {actual!r}")
    changes: dict[str, Any] = {}
    for what in ("evaluator", "protocol"):
        given = getattr(config, what)
        actual = evaluator.name if what == "evaluator" else evaluator.protocol
        if not given:
            changes[what] = actual
        elif given != actual:
            raise ValueError(
                f"SearchConfig.{what} is {given!r} but the evaluator's {what} is {actual!r}"
            )
    return config.replace(**changes) if changes else config


def _resolve_predictor(
    config: SearchConfig, space_name: str, predictor: Predictor | None | str
) -> tuple[SearchConfig, Predictor | None]:
    """The config with ``predictor`` (and a dish predictor's ``dish_config``) filled in, and
    the predictor object to use (None: the strategy alone)."""
    from petridish.dish.core import Dish

    if isinstance(predictor, str):
        if predictor != "config":
            raise ValueError(
                f"run_search(predictor=...) takes a Predictor, None or 'config', got {predictor!r}"
            )
        name = config.predictor or default_predictor(space_name)
    elif predictor is None:
        name = config.predictor or NO_PREDICTOR
        if name != NO_PREDICTOR:
            raise ValueError(
                f"SearchConfig.predictor is {name!r} but run_search got predictor=None"
            )
    else:
        if not isinstance(predictor, Predictor):
            raise ValueError(
                "predictor must follow petridish.predictor.Predictor (fit/query), got "
                f"{type(predictor).__name__}"
            )
        default = "dish" if isinstance(predictor, Dish) else type(predictor).__name__
        name = config.predictor or default
        if name == NO_PREDICTOR:
            raise ValueError("SearchConfig.predictor is 'none' but run_search got a predictor")
        if name in DISH_PREDICTORS and not isinstance(predictor, Dish):
            # The run id would be a dish run's: resuming it with another predictor is wrong.
            raise ValueError(
                f"SearchConfig.predictor is {name!r} but run_search got a "
                f"{type(predictor).__name__}, not a Dish"
            )
        given = config.dish()
        if isinstance(predictor, Dish) and name == "dish" and given not in (None, predictor.config):
            raise ValueError(
                "SearchConfig.dish_config differs from the config of the Dish given; give one"
            )
    changes: dict[str, Any] = {"predictor": name, "use_dish": name == "dish"}
    dish_config: DishConfig | None = None
    if name in DISH_PREDICTORS:
        own = predictor.config if isinstance(predictor, Dish) and name == "dish" else None
        dish_config = config.dish() or own or default_dish_config(space_name)
        changes["dish_config"] = dish_config.to_json()
    config = config.replace(**changes)
    if isinstance(predictor, str):
        chosen = make_predictor(name, space_name, dish_config or DishConfig.for_slopes())
    else:
        chosen = predictor
    return config, chosen


def run_search(
    config: SearchConfig,
    *,
    space: SearchSpace,
    strategy: Strategy,
    evaluator: Evaluator,
    store: Store,
    predictor: Predictor | None | str = "config",
    run_id: str | None = None,
    progress: ProgressFn | None = None,
    fit_progress: FitProgressFn | None = None,
    executor: Executor | None = None,
) -> SearchResult:
    """Run (or resume) the search ``config`` describes; see the module docstring.

    ``predictor`` filters the candidates: ``"config"`` (the default) builds the one
    ``config.predictor`` names (``search.predictors.make_predictor``; unset: the space's
    default, the dish), None searches with the strategy alone, and any object following
    ``petridish.predictor.Predictor`` is used as given (``config.predictor`` then names it;
    unset: ``"dish"`` for a ``Dish``, else ``type(predictor).__name__``; a ``Dish`` given
    with no ``config.dish_config`` lends its own config to the run's identity).

    ``run_id`` defaults to ``config.run_id(...)``, a hash of the configuration without its
    budgets, of the strategy's hyperparameters and of a non-dish predictor's; the same
    search on the same store resumes. A different configuration under an existing
    ``run_id`` is a ``StoreError``.
    ``progress`` is called after every evaluation, ``fit_progress`` after every outer step
    of a dish fit. ``GroundTruthUnavailable`` from the evaluator propagates (see above).

    ``executor`` (``petridish.execution``) runs the ground truth: None evaluates in this
    process through ``store.evaluate_many`` (the default); an ``InProcessExecutor`` or a
    ``RayExecutor`` gets each iteration's (and the warm-up's) missing evaluations submitted
    together, and this process records each outcome as it arrives. The executor never
    changes what is chosen or stored (evaluators are pure in (motif, seed)), nor how the
    run resumes; it is not closed here.
    """
    t0 = time.perf_counter()
    config = _check_names(config, space, strategy, evaluator)
    config, chosen = _resolve_predictor(config, space.name, predictor)
    params = _strategy_params(strategy)
    predictor_params = (
        None if chosen is None or config.predictor in DISH_PREDICTORS else _predictor_params(chosen)
    )
    run_id = run_id or config.run_id(params, predictor_params)
    started: dict[str, Any] = {"search": config.identity(), "strategy_params": params}
    if predictor_params:
        started["predictor_params"] = predictor_params
    store.start_run(run_id, started)
    run = _Run(
        config,
        run_id,
        space,
        strategy,
        evaluator,
        store,
        chosen,
        progress,
        fit_progress,
        executor,
    )

    start = run.replay(store.iterations(run_id))
    if start > 0:
        logger.info(
            "run %s: resumed after iteration %d with %d evaluations",
            run_id,
            start - 1,
            len(run.evaluations),
        )
    run.report()
    stop = "budget_evals"
    iteration = start
    while run.left > 0:
        if config.budget_seconds is not None and time.perf_counter() - t0 > config.budget_seconds:
            stop = "budget_seconds"
            break
        more = run.warmup() if iteration == 0 else run.iterate(iteration)
        if not more:
            stop = "exhausted"
            break
        iteration += 1
    wall = time.perf_counter() - t0
    result = SearchResult(
        run_id=run_id,
        config=config,
        evaluations=tuple(run.evaluations),
        iteration_of=tuple(run.iteration_of),
        stop_reason=stop,
        wall_seconds=wall,
        dish_fit_seconds=run.dish_seconds,
        reused=run.reused,
    )
    store.finish_run(
        run_id,
        {
            "budget_evals": config.budget_evals,
            "budget_seconds": config.budget_seconds,
            "evaluations": len(result),
            "best_loss": result.best_loss if math.isfinite(result.best_loss) else None,
            "best_motif": None if result.best_motif is None else result.best_motif.to_json(),
            "stop_reason": stop,
            "wall_seconds": wall,
            "dish_fit_seconds": run.dish_seconds,
        },
    )
    logger.info(
        "run %s: %d evaluations (%d from the store), best loss %.4g, stopped on %s, %.1fs "
        "(dish fits %.1fs)",
        run_id,
        len(result),
        run.reused,
        result.best_loss,
        stop,
        wall,
        run.dish_seconds,
    )
    return result
