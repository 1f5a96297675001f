"""The driver's side: the store's ``evaluate_many`` with the evaluations run by an executor.

Only the driver (the process calling ``evaluate_many``) writes to the store: workers return
outcomes, and each is recorded here as soon as it arrives, in its own transaction. A driver
killed mid-run therefore keeps every outcome it recorded; a rerun reads those back and
submits only the rest (the ones in flight when it died, and the ones never started).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from petridish._logging import logger
from petridish.evaluators.base import Evaluator
from petridish.execution.base import Executor
from petridish.execution.inprocess import InProcessExecutor
from petridish.motifs.base import Motif
from petridish.store import Evaluation, Store

__all__ = ["ExecutingStore", "evaluate_many", "evaluate_seeds"]

ProgressFn = Callable[[int, int], None]


def evaluate_many(
    store: Store,
    motifs: Sequence[Motif],
    evaluator: Evaluator,
    seed: int,
    progress: ProgressFn | None = None,
    *,
    executor: Executor | None = None,
    batch_size: int | None = None,
) -> list[Evaluation]:
    """Evaluations of ``motifs`` in input order, as ``store.evaluate_many`` gives them, with
    the missing ones run by ``executor``.

    Same semantics as ``Store.evaluate_many``: a motif whose result is stored (``ok`` or
    ``diverged``) is read back and not run; one not stored, or stored as ``failed``, is run
    (each distinct motif once) and recorded as soon as its outcome arrives (a failed
    attempt it replaces is kept as history). Evaluator exceptions are ``failed`` outcomes;
    ``GroundTruthUnavailable`` propagates, with nothing recorded for the jobs still pending.
    ``progress(done, total)`` counts motifs, stored ones included.

    ``executor`` None: an ``InProcessExecutor(batch_size=batch_size)`` (today's behaviour);
    ``batch_size`` is only for that default (an executor given has its own).
    """
    return evaluate_seeds(
        store, motifs, evaluator, [seed], progress, executor=executor, batch_size=batch_size
    )[0]


def evaluate_seeds(
    store: Store,
    motifs: Sequence[Motif],
    evaluator: Evaluator,
    seeds: Sequence[int],
    progress: ProgressFn | None = None,
    *,
    executor: Executor | None = None,
    batch_size: int | None = None,
) -> list[list[Evaluation]]:
    """``evaluate_many`` for every seed in ``seeds`` at once: all missing (motif, seed) jobs
    are submitted together, so an executor with workers runs the seeds side by side.

    Returns one list per seed (in ``seeds`` order), each in ``motifs`` order.
    ``progress(done, total)`` counts (motif, seed) pairs, stored ones included.
    """
    if not callable(getattr(evaluator, "evaluate", None)):
        raise TypeError(f"evaluator {evaluator!r} has no evaluate(motif, seed) method")
    if executor is not None and batch_size is not None:
        raise ValueError("batch_size is for the default executor; set it on the executor given")
    motifs = list(motifs)
    seeds = list(seeds)
    if len(set(seeds)) != len(seeds):
        raise ValueError(f"seeds must be distinct, got {seeds!r}")
    name, protocol = evaluator.name, evaluator.protocol
    keys = []
    for motif in motifs:
        if not isinstance(motif, Motif):
            raise TypeError(f"expected a Motif, got {type(motif).__name__}: {motif!r}")
        keys.append(motif.canonical())
    done: dict[tuple[int, str], Evaluation] = {}
    # seed -> canonical JSON -> motif: each distinct motif once per seed.
    missing: dict[int, dict[str, Motif]] = {seed: {} for seed in seeds}
    for seed in seeds:
        for motif, key in zip(motifs, keys, strict=True):
            if (seed, key) in done or key in missing[seed]:
                continue
            stored = store.get(motif, name, protocol, seed)
            if stored is None or stored.status == "failed":
                missing[seed][key] = motif
            else:
                done[seed, key] = stored
    total = len(keys) * len(seeds)

    def report() -> None:
        if progress is not None:
            progress(sum((seed, key) in done for seed in seeds for key in keys), total)

    def collected() -> list[list[Evaluation]]:
        return [[done[seed, key] for key in keys] for seed in seeds]

    report()
    n_missing = sum(len(group) for group in missing.values())
    if n_missing == 0:
        return collected()
    logger.info(
        "store %s: %d of %d evaluations to run (%s/%s, seeds %s) on %r",
        store.path,
        n_missing,
        total,
        name,
        protocol,
        seeds,
        executor,
    )
    own = executor is None
    runner = InProcessExecutor(batch_size=batch_size) if executor is None else executor
    try:
        jobs = []
        for seed in seeds:
            jobs += runner.submit(evaluator, list(missing[seed].values()), seed)
        for completed in runner.as_completed(jobs):
            job = completed.job
            done[job.seed, job.motif.canonical()] = store.record(
                job.motif,
                name,
                protocol,
                job.seed,
                completed.outcome,
                wall_seconds=completed.wall_seconds,
                started_at=completed.started_at,
            )
            report()
    finally:
        if own:
            runner.close()
    return collected()


class ExecutingStore:
    """A store whose ``evaluate_many`` runs through ``executor``: for code written against
    ``Store.evaluate_many`` (e.g. ``measure_slopes_into_store``, which also uses its
    ``evaluate_seeds`` to submit all seeds' jobs together), which can then be given this
    instead of the store. Every other attribute is the store's."""

    def __init__(self, store: Store, executor: Executor) -> None:
        self.store = store
        self.executor = executor

    def evaluate_many(
        self,
        motifs: Sequence[Motif],
        evaluator: Evaluator,
        seed: int,
        progress: ProgressFn | None = None,
    ) -> list[Evaluation]:
        return evaluate_many(self.store, motifs, evaluator, seed, progress, executor=self.executor)

    def evaluate_seeds(
        self,
        motifs: Sequence[Motif],
        evaluator: Evaluator,
        seeds: Sequence[int],
        progress: ProgressFn | None = None,
    ) -> list[list[Evaluation]]:
        """``evaluate_seeds`` through the executor: every (motif, seed) job at once."""
        return evaluate_seeds(
            self.store, motifs, evaluator, seeds, progress, executor=self.executor
        )

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)

    def __repr__(self) -> str:
        return f"ExecutingStore({self.store!r}, {self.executor!r})"
