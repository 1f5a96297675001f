"""The executor contract's bookkeeping (in process, no Ray): jobs, hand-back, batching,
exceptions as failed outcomes."""

from __future__ import annotations

import subprocess
import sys

import pytest
from _fakes import FakeEvaluator

from petridish.evaluators.base import GroundTruthUnavailable, Outcome
from petridish.execution import InProcessExecutor, run_batch
from petridish.motifs.slope import SigmoidSlope

SLOPES = [SigmoidSlope(s) for s in (0.25, 0.5, 1.0, 2.0, 4.0)]


class Counting(FakeEvaluator):
    """Records the size of every evaluate_many call."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.calls: list[int] = []

    def evaluate_many(self, motifs, seed):  # type: ignore[no-untyped-def]
        self.calls.append(len(motifs))
        return super().evaluate_many(motifs, seed)


def test_jobs_come_back_once_each_and_batches_follow_batch_size() -> None:
    evaluator = Counting()
    with InProcessExecutor(batch_size=2) as executor:
        jobs = executor.submit(evaluator, SLOPES, 7)
        assert [j.motif for j in jobs] == SLOPES
        assert len({j.id for j in jobs}) == len(jobs)
        assert {(j.evaluator, j.protocol, j.seed) for j in jobs} == {("fake", "v1", 7)}
        assert executor.pending == 5
        done = list(executor.as_completed(jobs))
        assert sorted(c.job.id for c in done) == sorted(j.id for j in jobs)
        assert executor.pending == 0
    assert evaluator.calls == [2, 2, 1]
    for completed in done:
        assert completed.outcome == FakeEvaluator().evaluate(completed.job.motif, 7)
        assert completed.wall_seconds >= 0 and completed.started_at > 0


def test_completions_of_other_callers_are_kept_for_them() -> None:
    evaluator = FakeEvaluator()
    with InProcessExecutor() as executor:
        first = executor.submit(evaluator, SLOPES[:2], 0)
        second = executor.submit(evaluator, SLOPES[2:], 1)
        # Waiting for the second group runs the first one on the way; its results wait.
        assert [c.job for c in executor.as_completed(second)] == second
        assert [c.job for c in executor.as_completed(first)] == first
        with pytest.raises(ValueError, match="not pending"):
            list(executor.as_completed(first))


def test_exceptions_are_failed_outcomes_and_only_the_bad_motif_fails() -> None:
    timed = run_batch(FakeEvaluator(fail_on=[1.0]), SLOPES, 0)
    statuses = [outcome.status for outcome, _, _ in timed]
    assert statuses == ["ok", "ok", "failed", "ok", "ok"]
    assert timed[2][0].reason == "ValueError: bad slope 1.0"


def test_a_value_that_is_not_an_outcome_is_a_failed_outcome() -> None:
    class Sloppy:
        name, protocol = "sloppy", "v1"

        def evaluate(self, motif: object, seed: int) -> object:
            return 0.5

    ((outcome, _, _),) = run_batch(Sloppy(), SLOPES[:1], 0)  # type: ignore[arg-type]
    assert outcome == Outcome("failed", reason="evaluator returned float, not an Outcome")


def test_ground_truth_unavailable_propagates_and_drops_pending_work() -> None:
    with InProcessExecutor(batch_size=1) as executor:
        jobs = executor.submit(FakeEvaluator(unavailable=True), SLOPES, 0)
        with pytest.raises(GroundTruthUnavailable, match="fake data is missing"):
            list(executor.as_completed(jobs))
        assert executor.pending == 0


def test_closed_executors_and_bad_options_are_refused() -> None:
    with pytest.raises(ValueError, match="batch_size must be a positive int"):
        InProcessExecutor(batch_size=0)
    executor = InProcessExecutor()
    executor.submit(FakeEvaluator(), SLOPES, 0)
    executor.close()
    executor.close()
    assert executor.pending == 0
    with pytest.raises(RuntimeError, match="closed"):
        executor.submit(FakeEvaluator(), SLOPES, 0)
    with pytest.raises(TypeError, match="expected a Motif"):
        InProcessExecutor().submit(FakeEvaluator(), [0.5], 0)  # type: ignore[list-item]


def test_importing_the_package_does_not_import_ray() -> None:
    code = "import sys, petridish.execution; print('ray' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
