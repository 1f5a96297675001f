"""Threads sharing one executor (``petridish compare`` runs its seeds' searches this way):
each thread gets exactly its own jobs back, and ``GroundTruthUnavailable`` reaches every
thread whose work it dropped."""

from __future__ import annotations

import threading

import pytest
from _fakes import FakeEvaluator

from petridish.evaluators.base import GroundTruthUnavailable
from petridish.execution import Completed, InProcessExecutor, Job
from petridish.motifs.slope import SigmoidSlope

SLOPES = [SigmoidSlope(s) for s in (0.25, 0.5, 1.0, 2.0)]


def test_threads_get_their_own_jobs_exactly_once() -> None:
    evaluator = FakeEvaluator(sleep=0.01)
    got: dict[int, list[Completed]] = {}
    errors: list[BaseException] = []
    with InProcessExecutor(batch_size=1) as executor:

        def work(seed: int) -> None:
            try:
                got[seed] = list(executor.as_completed(executor.submit(evaluator, SLOPES, seed)))
            except BaseException as exc:  # pragma: no cover - reported below
                errors.append(exc)

        threads = [threading.Thread(target=work, args=(seed,)) for seed in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert not errors and executor.pending == 0
    assert sorted(got) == list(range(6))
    for seed, completions in got.items():
        assert sorted(c.job.motif.slope for c in completions) == [0.25, 0.5, 1.0, 2.0]
        assert {c.job.seed for c in completions} == {seed}
        expected = FakeEvaluator().evaluate_many(SLOPES, seed)
        by_slope = {c.job.motif.slope: c.outcome for c in completions}
        assert [by_slope[m.slope] for m in SLOPES] == expected


def test_unavailable_reaches_every_waiting_thread() -> None:
    broken = FakeEvaluator(unavailable=True)
    outcomes: list[str] = []
    with InProcessExecutor() as executor:
        # Both threads' jobs are submitted before either waits: whichever thread runs the
        # first batch drops the other's too, and the other must hear of it, not hang.
        jobs = [executor.submit(broken, SLOPES, seed) for seed in (0, 1)]

        def work(mine: list[Job]) -> None:
            try:
                list(executor.as_completed(mine))
                outcomes.append("returned")
            except GroundTruthUnavailable:
                outcomes.append("unavailable")

        threads = [threading.Thread(target=work, args=(j,)) for j in jobs]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        assert not any(t.is_alive() for t in threads)
        assert outcomes == ["unavailable", "unavailable"]
        # The executor goes on working for new jobs.
        assert len(executor.run(FakeEvaluator(), SLOPES, 0)) == len(SLOPES)


def test_as_completed_refuses_unknown_jobs() -> None:
    with InProcessExecutor() as other, InProcessExecutor() as executor:
        jobs = other.submit(FakeEvaluator(), SLOPES, 0)
        with pytest.raises(ValueError, match="not pending"):
            list(executor.as_completed(jobs[1:]))
