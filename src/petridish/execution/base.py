"""The executor contract: where ground-truth evaluations run.

An ``Executor`` takes work as ``submit(evaluator, motifs, seed)`` (one evaluation per
motif, all under the same evaluator and run seed) and hands back one ``Completed`` per
submitted ``Job`` as each finishes, through ``as_completed(jobs)``. It never touches the
store: the driver records what comes back (``petridish.execution.evaluate_many``), so only
one process ever writes.

Contract, for every backend:

* ``submit`` returns one ``Job`` per motif, in input order, with ids unique within the
  executor. Jobs go to ``evaluator.evaluate_many`` in batches (a batch is one call, one
  program for a batched trainer); how work is split into batches is the backend's choice
  and never changes what a job's outcome is (evaluators are pure in (motif, seed)).
* ``as_completed(jobs)`` yields a ``Completed`` for each of ``jobs`` exactly once, in the
  order they finish, and returns when all of them have; completions of other jobs
  (submitted by another caller) are kept for the ``as_completed`` that asks for them.
* An exception raised by the evaluator is a ``failed`` outcome whose ``reason`` is
  ``"ExcType: message"`` (a batch that raises is run again one motif at a time, so one bad
  motif cannot fail the others); a returned value that is not an ``Outcome`` is a
  ``failed`` outcome too. ``GroundTruthUnavailable`` (nothing can be evaluated) is not an
  outcome: ``as_completed`` raises it, and the executor drops the work still pending.
* Backends with workers that can die retry a dead worker's batch (``max_retries``); a
  batch whose retries are spent gives ``failed`` outcomes naming the cause.
* Threads may share an executor: each submits its own jobs and asks for them with
  ``as_completed`` (one thread at a time waits on the backend and files what finished for
  whoever asked). ``GroundTruthUnavailable`` reaches every thread whose jobs it dropped.
  ``close`` (or leaving its ``with`` block) drops pending work and releases what it
  started; closing twice is harmless; it is called once no thread uses the executor.
"""

from __future__ import annotations

import abc
import itertools
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from types import TracebackType

from petridish._logging import logger
from petridish._validation import positive_int
from petridish.evaluators.base import Evaluator, GroundTruthUnavailable, Outcome
from petridish.motifs.base import Motif

__all__ = [
    "Completed",
    "Executor",
    "ExecutorUnavailable",
    "Job",
    "run_batch",
]


class ExecutorUnavailable(ValueError):
    """The execution backend cannot be reached or started (e.g. no Ray cluster at the
    address given). The message names what was asked for (the address); ``address`` holds
    it. A ``ValueError``: it is a bad option, not a property of any evaluation."""

    def __init__(self, message: str, *, address: str | None = None) -> None:
        super().__init__(message)
        self.address = address


@dataclass(frozen=True)
class Job:
    """One submitted evaluation: ``motif`` under evaluator ``evaluator``/``protocol`` with
    run seed ``seed``. ``id`` is unique within the executor that made it."""

    id: int
    motif: Motif
    evaluator: str
    protocol: str
    seed: int


@dataclass(frozen=True)
class Completed:
    """A finished job: its ``outcome``, the wall-clock seconds spent on it (a batch's time
    shared equally by its motifs, which trained side by side) and when its batch started
    (``time.time()`` on the machine that ran it)."""

    job: Job
    outcome: Outcome
    wall_seconds: float
    started_at: float


# (outcome, wall_seconds, started_at) for one motif of a batch, as a worker returns it.
Timed = tuple[Outcome, float, float]


def run_batch(evaluator: Evaluator, motifs: Sequence[Motif], seed: int) -> list[Timed]:
    """Evaluate ``motifs`` with run seed ``seed`` where this runs (the driver or a worker).

    One ``evaluate_many`` call when the evaluator has it, else ``evaluate`` one by one.
    Returns ``(outcome, wall_seconds, started_at)`` per motif, in input order. Exceptions
    become ``failed`` outcomes as the module docstring says; ``GroundTruthUnavailable``
    propagates.
    """
    motifs = list(motifs)
    if not motifs:
        return []
    if callable(getattr(evaluator, "evaluate_many", None)):
        started_at = time.time()
        t0 = time.perf_counter()
        try:
            outcomes = list(evaluator.evaluate_many(motifs, seed))  # type: ignore[attr-defined]
            if len(outcomes) != len(motifs) or not all(isinstance(o, Outcome) for o in outcomes):
                raise TypeError(
                    f"evaluate_many returned {len(outcomes)} items for {len(motifs)} motifs; "
                    "expected one Outcome per motif"
                )
        except GroundTruthUnavailable:
            raise
        except Exception as exc:
            logger.warning(
                "batched %s/%s failed (%s: %s); evaluating one at a time",
                evaluator.name,
                evaluator.protocol,
                type(exc).__name__,
                exc,
            )
        else:
            share = (time.perf_counter() - t0) / len(motifs)
            return [(outcome, share, started_at) for outcome in outcomes]
    return [_run_one(evaluator, motif, seed) for motif in motifs]


def _run_one(evaluator: Evaluator, motif: Motif, seed: int) -> Timed:
    started_at = time.time()
    t0 = time.perf_counter()
    try:
        outcome = evaluator.evaluate(motif, seed)
    except GroundTruthUnavailable:
        raise
    except Exception as exc:
        logger.warning(
            "evaluator %s/%s failed on %s (seed %d): %s: %s",
            evaluator.name,
            evaluator.protocol,
            motif.canonical(),
            seed,
            type(exc).__name__,
            exc,
        )
        outcome = Outcome("failed", reason=f"{type(exc).__name__}: {exc}")
    if not isinstance(outcome, Outcome):
        outcome = Outcome(
            "failed", reason=f"evaluator returned {type(outcome).__name__}, not an Outcome"
        )
    return outcome, time.perf_counter() - t0, started_at


class Executor(abc.ABC):
    """Runs evaluations and hands back their outcomes as they finish (see the module
    docstring for the contract).

    Subclasses implement ``_start(evaluator, jobs)`` (begin running a batch) and
    ``_wait()`` (block until at least one batch finished; return its completions) and
    ``_shutdown()``; this base class keeps the books: ids, batching and the hand-back of
    completions to the caller that asks for them.
    """

    def __init__(self, *, batch_size: int | None = None) -> None:
        if batch_size is not None:
            batch_size = positive_int(batch_size, "batch_size")
        self.batch_size = batch_size
        self._ids = itertools.count()
        self._pending: set[int] = set()  # submitted, not yet handed back by _wait
        self._finished: dict[int, Completed] = {}  # handed back by _wait, not yet yielded
        # Jobs dropped because the ground truth is unavailable -> the exception to raise.
        self._lost: dict[int, GroundTruthUnavailable] = {}
        self._closed = False
        # Guards the books above; one thread at a time is in _wait (``_waiting``).
        self._cond = threading.Condition()
        self._waiting = False

    # -- what a backend implements -------------------------------------------------------

    @abc.abstractmethod
    def _start(self, evaluator: Evaluator, jobs: Sequence[Job]) -> None:
        """Begin evaluating ``jobs`` (one batch, same evaluator and seed)."""

    @abc.abstractmethod
    def _wait(self) -> list[Completed]:
        """Block until at least one started batch finished; return its completions (or
        raise ``GroundTruthUnavailable``). Called only while batches are pending."""

    @abc.abstractmethod
    def _drop(self) -> None:
        """Forget (cancel where possible) every started batch that has not finished."""

    def _shutdown(self) -> None:
        """Release what the backend started (after ``_drop``); nothing by default."""
        return None

    def _split(self, n: int, evaluator: Evaluator) -> int:
        """The batch size for ``n`` jobs submitted together (``batch_size`` when set)."""
        return n if self.batch_size is None else self.batch_size

    # -- the public interface ------------------------------------------------------------

    def submit(self, evaluator: Evaluator, motifs: Sequence[Motif], seed: int) -> list[Job]:
        """Queue one evaluation per motif (same evaluator, same seed); returns the jobs in
        input order. Work may start before this returns."""
        if self._closed:
            raise RuntimeError(f"{type(self).__name__} is closed")
        if not callable(getattr(evaluator, "evaluate", None)):
            raise TypeError(f"evaluator {evaluator!r} has no evaluate(motif, seed) method")
        motifs = list(motifs)
        for motif in motifs:
            if not isinstance(motif, Motif):
                raise TypeError(f"expected a Motif, got {type(motif).__name__}: {motif!r}")
        with self._cond:
            jobs = [
                Job(next(self._ids), motif, evaluator.name, evaluator.protocol, seed)
                for motif in motifs
            ]
            if not jobs:
                return jobs
            step = max(1, self._split(len(jobs), evaluator))
            for lo in range(0, len(jobs), step):
                batch = jobs[lo : lo + step]
                self._pending.update(job.id for job in batch)
                self._start(evaluator, batch)
        return jobs

    def as_completed(self, jobs: Iterable[Job]) -> Iterator[Completed]:
        """Yield a ``Completed`` for each of ``jobs`` as it finishes (each exactly once)."""
        wanted = {job.id for job in jobs}
        with self._cond:
            unknown = wanted - self._pending - set(self._finished) - set(self._lost)
        if unknown:
            raise ValueError(f"jobs {sorted(unknown)[:5]} are not pending in this executor")
        while wanted:
            with self._cond:
                # Take what finished for us; else wait on the backend ourselves, or for the
                # thread that is waiting on it to file what it got.
                while True:
                    lost = [jid for jid in wanted if jid in self._lost]
                    if lost:
                        failure = self._lost[lost[0]]
                        for jid in wanted:
                            self._lost.pop(jid, None)
                        raise failure
                    ready = sorted(jid for jid in wanted if jid in self._finished)
                    if ready or not self._waiting:
                        break
                    self._cond.wait()
                taken = [self._finished.pop(jid) for jid in ready]
                wanted.difference_update(ready)
                if not taken:
                    self._waiting = True
            if taken:
                yield from taken
                continue
            completions: list[Completed] = []
            try:
                completions = self._wait()
            except GroundTruthUnavailable as exc:
                with self._cond:
                    self._drop()
                    for jid in self._pending:
                        self._lost[jid] = exc
                    self._pending.clear()
                    for jid in wanted:
                        self._lost.pop(jid, None)
                raise
            finally:
                with self._cond:
                    self._waiting = False
                    for done in completions:
                        self._pending.discard(done.job.id)
                        self._finished[done.job.id] = done
                    self._cond.notify_all()

    def run(self, evaluator: Evaluator, motifs: Sequence[Motif], seed: int) -> list[Completed]:
        """Submit ``motifs`` and wait for all of them; completions in input order."""
        jobs = self.submit(evaluator, motifs, seed)
        by_id = {done.job.id: done for done in self.as_completed(jobs)}
        return [by_id[job.id] for job in jobs]

    @property
    def pending(self) -> int:
        """How many submitted jobs have not finished yet."""
        with self._cond:
            return len(self._pending)

    def close(self) -> None:
        """Drop pending work and release the backend; closing twice is harmless."""
        if self._closed:
            return
        self._closed = True
        try:
            if self._pending:
                logger.info("%s: dropping %d pending jobs", type(self).__name__, self.pending)
                self._drop()
        finally:
            self._pending.clear()
            self._finished.clear()
            self._lost.clear()
            self._shutdown()

    def __enter__(self) -> Executor:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
