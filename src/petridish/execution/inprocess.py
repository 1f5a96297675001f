"""The in-process executor: evaluations run in the calling process, one batch at a time.

Today's behaviour, and the default: no workers, no dependencies. Batches run lazily, in
the order they were submitted, when ``as_completed`` asks for their completions.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence

from petridish.evaluators.base import Evaluator
from petridish.execution.base import Completed, Executor, Job, run_batch

__all__ = ["InProcessExecutor"]


class InProcessExecutor(Executor):
    """Runs each batch in this process when its completions are asked for.

    Args:
        batch_size: motifs per ``evaluate_many`` call; None: everything submitted together
            is one batch (as ``Store.evaluate_many`` does).
    """

    def __init__(self, *, batch_size: int | None = None) -> None:
        super().__init__(batch_size=batch_size)
        self._queue: deque[tuple[Evaluator, list[Job]]] = deque()

    def __repr__(self) -> str:
        return f"InProcessExecutor(batch_size={self.batch_size!r})"

    def _start(self, evaluator: Evaluator, jobs: Sequence[Job]) -> None:
        self._queue.append((evaluator, list(jobs)))

    def _wait(self) -> list[Completed]:
        evaluator, jobs = self._queue.popleft()
        # The seed is the same for the whole batch (one submit call).
        timed = run_batch(evaluator, [job.motif for job in jobs], jobs[0].seed)
        return [
            Completed(job, outcome, wall, started)
            for job, (outcome, wall, started) in zip(jobs, timed, strict=True)
        ]

    def _drop(self) -> None:
        self._queue.clear()
