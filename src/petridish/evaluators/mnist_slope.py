"""Ground truth for sigmoid slopes: the MNIST MLP trainer behind the evaluator contract.

Contract:

* One evaluation is one trained model: ``evaluate(slope, seed)`` trains the protocol's MLP
  once, with run seed ``seed`` (``train_slopes(..., seeds=[seed])``), so the store's key
  ``(slope, "mnist_mlp", protocol, seed)`` names exactly one model. The protocol's
  ``seeds`` count is therefore not used here: a slope table averaged over runs is the mean
  over several store seeds (``measure_slopes_into_store`` with ``seeds=range(k)``, then
  ``slope_table_from_evaluations``), the same numbers ``train_slopes`` gives with
  ``seed=0`` and ``protocol.seeds == k`` (up to float rounding: models batch differently).
* ``loss = 1 - validation accuracy`` (lower is better, in [0, 1]); ``metrics`` holds
  ``accuracy`` (validation accuracy after the last epoch), ``val_nll`` (validation
  cross-entropy) and ``train_loss`` (mean training loss of the last epoch); ``curve`` is
  ``1 - validation accuracy`` after each epoch, on the same scale as ``loss``.
* A model whose validation or training loss is not finite has ``status = "diverged"``
  (its accuracy, if any, is still in ``metrics``): a network that produced NaN is not a
  measurement of the slope.
* ``evaluate_many`` trains all its motifs in one batched call (``train_slopes``, or
  ``train_motifs`` for other kinds), padded to a whole number of ``chunk`` models (copies of
  its first motif, dropped), so that every model is trained by the same compiled program: its
  results equal ``evaluate`` one by one, and do not depend on how a caller or an executor
  split the motifs into batches (a batch smaller than ``chunk`` costs as much as a full one).
* Any motif kind with the ``Motif.activation`` hook is evaluated the same way (the MLP's
  hidden activation is the motif); ``SigmoidSlope`` motifs go through ``train_slopes`` as
  before. Motifs without the hook, or of mixed kinds in one call, raise ``ValueError`` naming
  the type; seeds must be in ``[0, 2**32)``. MNIST is loaded on first use and kept
  (read-only) for the process, for the last data folder asked.
* MNIST that cannot be had (not on disk and not downloadable, or a corrupt file) raises
  ``GroundTruthUnavailable``: no slope can be evaluated, so nothing is a ``failed``
  outcome. The evaluator remembers the failure and raises it again at once on later calls
  (one download attempt per process; see ``petridish.data.mnist``).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar
from typing import Protocol as TypingProtocol

import numpy as np

from petridish._logging import logger
from petridish._validation import integer, positive_int
from petridish.evaluators.base import GroundTruthUnavailable, Outcome
from petridish.motifs.base import Motif, has_activation
from petridish.motifs.slope import SigmoidSlope
from petridish.truth.mnist_mlp import (
    PROTOCOLS,
    MotifResult,
    Protocol,
    SlopeResult,
    get_protocol,
    train_motifs,
    train_slopes,
)

if TYPE_CHECKING:
    from petridish.evaluators.base import Evaluator

__all__ = [
    "EVALUATOR_NAME",
    "MnistSlopeEvaluator",
    "measure_slopes_into_store",
    "outcome_from_result",
    "slope_table_from_evaluations",
]

EVALUATOR_NAME = "mnist_mlp"
Data = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]


class MnistSlopeEvaluator:
    """Sigmoid-slope ground truth: train the MNIST MLP of ``protocol`` once per (slope, seed).

    Args:
        data_dir: where MNIST lives (see ``petridish.data.load_mnist``); None: the
            environment variable or the cache.
        protocol: a registered protocol name (``"tiny"``, ``"cpu"``, ``"cpu_table"``,
            ``"paper"``) or a ``Protocol`` whose name is not a registered one (the store
            tells evaluations apart by the name only).
        chunk: models per compiled batch in ``train_slopes``; every ``evaluate_many``
            call trains a whole number of chunks (a partial one is padded), and the Ray
            executor splits work in whole chunks.
        data: ``(x_train, y_train, x_val, y_val)`` to train on instead of MNIST (tests use
            small synthetic sets). Only with a custom ``Protocol``: a registered protocol
            name means MNIST, and the store must never mix other data under it.
    """

    name: str = EVALUATOR_NAME

    def __init__(
        self,
        data_dir: str | Path | None,
        protocol: str | Protocol = "tiny",
        *,
        chunk: int = 8,
        data: Data | None = None,
    ) -> None:
        proto = get_protocol(protocol)
        if isinstance(protocol, Protocol) and PROTOCOLS.get(proto.name, proto) != proto:
            raise ValueError(
                f"protocol {proto.name!r} differs from the registered protocol of that name; "
                "give a custom protocol its own name"
            )
        if data is not None and proto.name in PROTOCOLS:
            raise ValueError(
                f"protocol {proto.name!r} is a registered MNIST protocol; data other than "
                "MNIST needs a Protocol with a name of its own"
            )
        positive_int(chunk, "chunk")
        self.data_dir = None if data_dir is None else Path(data_dir)
        self.protocol: str = proto.name
        self.chunk = chunk
        self._protocol = proto
        self._data: Data | None = data
        self._given = data is not None  # user data travels with the evaluator; MNIST does not
        self._unavailable: GroundTruthUnavailable | None = None

    def __getstate__(self) -> dict[str, object]:
        """What pickling keeps: everything but MNIST loaded from the data folder (188 MB,
        which a Ray worker reads from its own data folder on first use) and a remembered
        ``GroundTruthUnavailable`` (the data may be there where the copy lands). Data given
        as ``data=`` is kept: it exists nowhere else."""
        state = dict(self.__dict__)
        if not state.get("_given", False):
            state["_data"] = None
        state["_unavailable"] = None
        return state

    def __repr__(self) -> str:
        return f"MnistSlopeEvaluator(data_dir={self.data_dir!r}, protocol={self.protocol!r})"

    def _load(self) -> Data:
        if self._data is None:
            if self._unavailable is not None:
                raise self._unavailable
            from petridish.data.mnist import ChecksumError, MnistUnavailableError

            try:
                self._data = _mnist_split(None if self.data_dir is None else str(self.data_dir))
            except MnistUnavailableError as exc:
                self._unavailable = _unavailable(exc)
                raise self._unavailable from exc
            except ChecksumError as exc:
                self._unavailable = GroundTruthUnavailable(
                    f"MNIST is not usable: {exc}", remedy="replace the file named above"
                )
                raise self._unavailable from exc
        return self._data

    def evaluate(self, motif: Motif, seed: int) -> Outcome:
        """Train one model with run seed ``seed`` and score it."""
        return self.evaluate_many([motif], seed)[0]

    def evaluate_many(self, motifs: Sequence[Motif], seed: int) -> list[Outcome]:
        """Train one model per motif, all with run seed ``seed``, in one batched call."""
        # Every compiled program trains exactly ``chunk`` models: a batch that does not fill
        # its last chunk is padded with copies of its first motif (trained, then dropped).
        # A smaller program rounds differently (a batch of 1 can change a tiny-protocol
        # accuracy by 1.5 points), and how motifs are split into batches depends on the
        # caller (an iteration's size, an executor's workers): padded, an outcome depends
        # on (motif, seed, protocol) alone, wherever and with whatever it was trained.
        n = len(motifs)
        pad = -n % self.chunk
        if motifs and not isinstance(motifs[0], SigmoidSlope) and has_activation(type(motifs[0])):
            _check_seed(seed)
            padded_motifs = list(motifs) + [motifs[0]] * pad
            results: Sequence[SlopeResult | MotifResult] = train_motifs(
                padded_motifs, self._protocol, data=self._load(), seeds=[seed], chunk=self.chunk
            )
        else:
            slopes = [_slope_of(m) for m in motifs]
            _check_seed(seed)
            if not slopes:
                return []
            results = train_slopes(
                slopes + [slopes[0]] * pad,
                self._protocol,
                data=self._load(),
                seeds=[seed],
                chunk=self.chunk,
            )
        return [outcome_from_result(r) for r in results[:n]]


def _unavailable(exc: Exception) -> GroundTruthUnavailable:
    """``GroundTruthUnavailable`` for an ``MnistUnavailableError``, in a few words."""
    searched = getattr(exc, "searched", ())
    failures = getattr(exc, "failures", ())
    parts = []
    if searched:
        parts.append(f"not found in {', '.join(searched)}")
    if failures:
        parts.append(f"the download failed ({'; '.join(failures)})")
    elif searched:
        parts.append("downloading is off")
    what = " and ".join(parts) if parts else str(exc)
    return GroundTruthUnavailable(
        f"MNIST is not available: {what}",
        remedy="put the four MNIST files in a folder and pass it as data_dir or set "
        "PETRIDISH_DATA_DIR to it",
    )


def outcome_from_result(result: SlopeResult | MotifResult) -> Outcome:
    """The ``Outcome`` of one trained model (see the module docstring for the fields)."""
    accuracy = float(result.val_accuracy)
    train_loss = float(result.train_loss_curve[-1]) if result.train_loss_curve else math.nan
    metrics = {"accuracy": accuracy, "val_nll": float(result.val_loss), "train_loss": train_loss}
    curve = tuple(1.0 - float(a) for a in result.learning_curve)
    finite = (
        math.isfinite(accuracy)
        and math.isfinite(result.val_loss)
        and all(math.isfinite(v) for v in result.train_loss_curve)
    )
    if not finite:
        return Outcome(
            "diverged",
            metrics=metrics,
            curve=curve,
            reason=(
                f"non-finite training: accuracy {accuracy!r}, validation loss "
                f"{result.val_loss!r}, training losses {result.train_loss_curve!r}"
            ),
        )
    return Outcome("ok", loss=1.0 - accuracy, metrics=metrics, curve=curve)


class StoredEvaluation(TypingProtocol):
    """What ``petridish.store.Evaluation`` offers the functions below (the store imports
    this package, so it is described here rather than imported)."""

    @property
    def id(self) -> int: ...
    @property
    def motif(self) -> Motif: ...
    @property
    def motif_kind(self) -> str: ...
    @property
    def motif_json(self) -> str: ...
    @property
    def seed(self) -> int: ...
    @property
    def status(self) -> str: ...
    @property
    def reason(self) -> str: ...
    @property
    def metrics(self) -> dict[str, float]: ...


E = TypeVar("E", bound=StoredEvaluation, covariant=True)


class EvaluationStore(TypingProtocol[E]):
    """What ``measure_slopes_into_store`` needs of ``petridish.store.Store``."""

    def evaluate_many(
        self,
        motifs: Sequence[Motif],
        evaluator: Evaluator,
        seed: int,
        progress: Callable[[int, int], None] | None = None,
    ) -> Sequence[E]: ...


def measure_slopes_into_store(
    store: EvaluationStore[E],
    slopes: Iterable[float | SigmoidSlope],
    seeds: Iterable[int],
    protocol: str | Protocol,
    data_dir: str | Path | None,
    progress: Callable[[int, int], None] | None = None,
) -> list[E]:
    """Measure every (slope, seed) through ``store``; already stored ones are not retrained.

    Returns the evaluations slope-major (all seeds of the first slope, then the next), the
    order of ``train_slopes``. ``progress(done, total)`` counts (slope, seed) pairs, stored
    ones included. A store with ``evaluate_seeds(motifs, evaluator, seeds, progress)``
    (one list per seed, e.g. ``petridish.execution.ExecutingStore``) gets every seed in
    one call; any other store gets one ``evaluate_many`` call per seed.
    """
    motifs = [s if isinstance(s, SigmoidSlope) else SigmoidSlope(s) for s in slopes]
    run_seeds = list(seeds)
    if not motifs:
        raise ValueError("no slopes given")
    if not run_seeds:
        raise ValueError("no seeds given")
    for seed in run_seeds:
        _check_seed(seed)
    evaluator = MnistSlopeEvaluator(data_dir, protocol)
    total = len(motifs) * len(run_seeds)
    by_seed: list[list[E]] = []
    all_seeds = getattr(store, "evaluate_seeds", None)
    if callable(all_seeds):
        # A store that runs every (slope, seed) job at once (``ExecutingStore`` over
        # workers): no seed waits for the one before it.
        by_seed = [list(column) for column in all_seeds(motifs, evaluator, run_seeds, progress)]
    for i, seed in enumerate(run_seeds if not by_seed else ()):
        offset = i * len(motifs)

        def seed_progress(done: int, _: int, offset: int = offset) -> None:
            if progress is not None:
                progress(offset + done, total)

        by_seed.append(list(store.evaluate_many(motifs, evaluator, seed, seed_progress)))
    failed = [e for column in by_seed for e in column if e.status != "ok"]
    if failed:
        logger.warning(
            "%d of %d slope evaluations are not ok, e.g. slope %s seed %d: %s %s",
            len(failed),
            total,
            failed[0].motif_json,
            failed[0].seed,
            failed[0].status,
            failed[0].reason,
        )
    return [by_seed[j][i] for i in range(len(motifs)) for j in range(len(run_seeds))]


def slope_table_from_evaluations(
    evaluations: Iterable[StoredEvaluation],
) -> tuple[np.ndarray, np.ndarray]:
    """``(slopes, mean accuracy)`` over the ``ok`` evaluations, sorted by slope.

    The counterpart of ``slope_table_from_results`` for stored evaluations; evaluations
    that are not ok are left out (and logged).
    """
    by_slope: dict[float, list[float]] = {}
    skipped = 0
    for ev in evaluations:
        if not isinstance(ev.motif, SigmoidSlope):
            raise ValueError(f"not a sigmoid-slope evaluation: {ev.motif_kind} (id {ev.id})")
        if ev.status != "ok":
            skipped += 1
            continue
        by_slope.setdefault(ev.motif.slope, []).append(ev.metrics["accuracy"])
    if skipped:
        logger.warning("slope table: left out %d evaluations that are not ok", skipped)
    if not by_slope:
        raise ValueError("no ok slope evaluations to make a table from")
    slopes = np.asarray(sorted(by_slope), dtype=np.float64)
    accuracies = np.asarray([np.mean(by_slope[s]) for s in sorted(by_slope)], dtype=np.float64)
    return slopes, accuracies


@functools.lru_cache(maxsize=1)
def _mnist_split(data_dir: str | None) -> Data:
    """The paper's MNIST split, loaded and verified once per process for the last folder
    asked (loading takes seconds; evaluators made one after another share it)."""
    from petridish.data.mnist import load_mnist, paper_split

    arrays = paper_split(load_mnist(data_dir))
    for array in arrays:
        array.setflags(write=False)  # shared between evaluators: nobody may change it
    return arrays


def _slope_of(motif: object) -> float:
    if not isinstance(motif, SigmoidSlope):
        raise ValueError(
            "MnistSlopeEvaluator evaluates SigmoidSlope motifs or motifs with an "
            f"activation(code, x) hook, got {type(motif).__name__}: "
            f"{motif!r}"
        )
    return motif.slope


def _check_seed(seed: object) -> None:
    if not 0 <= integer(seed, "MNIST run seed") < 2**32:
        raise ValueError(f"MNIST run seeds must be ints in [0, 2**32), got {seed!r}")
