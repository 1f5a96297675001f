"""The driver's side: the store's ``evaluate_many`` with the evaluations run by an executor.

Only the driver (the process calling ``evaluate_many``) writes to the store: workers return
outcomes, and each is recorded here as soon as it arrives, in its own transaction. A driver
killed mid-run therefore keeps every outcome it recorded; a rerun reads those back and
submits only the rest (the ones in flight when it died, and the ones never started).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from petridish._logging import logger
from petridish.evaluators.base import Evaluator
from petridish.execution.base import Executor
from petridish.execution.inprocess import InProcessExecutor
from petridish.motifs.base import Motif
from petridish.store import Evaluation, Store

__all__ = ["evaluate_many"]

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
    if not callable(getattr(evaluator, "evaluate", None)):
        raise TypeError(f"evaluator {evaluator!r} has no evaluate(motif, seed) method")
    if executor is not None and batch_size is not None:
        raise ValueError("batch_size is for the default executor; set it on the executor given")
    motifs = list(motifs)
    name, protocol = evaluator.name, evaluator.protocol
    done: dict[str, Evaluation] = {}
    missing: dict[str, Motif] = {}  # canonical JSON -> motif; each distinct motif once
    for motif in motifs:
        if not isinstance(motif, Motif):
            raise TypeError(f"expected a Motif, got {type(motif).__name__}: {motif!r}")
        key = motif.canonical()
        if key in done or key in missing:
            continue
        stored = store.get(motif, name, protocol, seed)
        if stored is None or stored.status == "failed":
            missing[key] = motif
        else:
            done[key] = stored
    keys = [m.canonical() for m in motifs]

    def report() -> None:
        if progress is not None:
            progress(sum(key in done for key in keys), len(keys))

    report()
    if not missing:
        return [done[key] for key in keys]
    logger.info(
        "store %s: %d of %d evaluations to run (%s/%s, seed %d) on %r",
        store.path,
        len(missing),
        len(keys),
        name,
        protocol,
        seed,
        executor,
    )
    own = executor is None
    runner = InProcessExecutor(batch_size=batch_size) if executor is None else executor
    try:
        jobs = runner.submit(evaluator, list(missing.values()), seed)
        for completed in runner.as_completed(jobs):
            motif = completed.job.motif
            done[motif.canonical()] = store.record(
                motif,
                name,
                protocol,
                seed,
                completed.outcome,
                wall_seconds=completed.wall_seconds,
                started_at=completed.started_at,
            )
            report()
    finally:
        if own:
            runner.close()
    return [done[key] for key in keys]
