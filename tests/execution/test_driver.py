"""``petridish.execution.evaluate_many`` keeps ``Store.evaluate_many``'s semantics."""

from __future__ import annotations

from pathlib import Path

import pytest
from _fakes import FakeEvaluator

from petridish.evaluators.base import GroundTruthUnavailable
from petridish.execution import ExecutingStore, InProcessExecutor, evaluate_many, evaluate_seeds
from petridish.motifs.slope import SigmoidSlope
from petridish.store import Store

SLOPES = [SigmoidSlope(s) for s in (0.25, 0.5, 1.0, 0.5, 2.0)]  # 0.5 twice


def test_same_evaluations_as_the_store_and_cache_hits_are_not_rerun(tmp_path: Path) -> None:
    bad = FakeEvaluator(fail_on=[1.0])
    with Store(tmp_path / "a.db") as a, Store(tmp_path / "b.db") as b:
        reference = a.evaluate_many(SLOPES, bad, 0)
        seen: list[tuple[int, int]] = []
        with InProcessExecutor(batch_size=2) as executor:
            got = evaluate_many(
                b, SLOPES, bad, 0, lambda d, t: seen.append((d, t)), executor=executor
            )
        assert [(e.motif_hash, e.status, e.loss, e.reason) for e in got] == [
            (e.motif_hash, e.status, e.loss, e.reason) for e in reference
        ]
        assert got[1] == got[3]  # one evaluation for the repeated motif
        assert len(b) == 4
        assert seen[0] == (0, 5) and seen[-1] == (5, 5)
        # Again: stored results are read back; only the failed one runs, and is kept.
        marks = tmp_path / "marks"
        marks.mkdir()
        again = evaluate_many(b, SLOPES, FakeEvaluator(marks=marks), 0)
        assert len(list(marks.iterdir())) == 1
        assert [e.status for e in again] == ["ok"] * 5
        assert [e.id for e in again][:2] == [e.id for e in got][:2]
        assert [e.reason for e in b.failed_attempts()] == ["ValueError: bad slope 1.0"]
        assert len(b) == 4


def test_ground_truth_unavailable_records_nothing(tmp_path: Path) -> None:
    with Store(tmp_path / "s.db") as store:
        with pytest.raises(GroundTruthUnavailable):
            evaluate_many(store, SLOPES, FakeEvaluator(unavailable=True), 0)
        assert len(store) == 0


def test_batch_size_is_for_the_default_executor_only(tmp_path: Path) -> None:
    with (
        Store(tmp_path / "s.db") as store,
        InProcessExecutor() as executor,
        pytest.raises(ValueError, match="batch_size is for the default executor"),
    ):
        evaluate_many(store, SLOPES, FakeEvaluator(), 0, executor=executor, batch_size=2)


def test_seeds_together_equal_each_seed_alone(tmp_path: Path) -> None:
    evaluator = FakeEvaluator()
    with Store(tmp_path / "a.db") as a, Store(tmp_path / "b.db") as b:
        a.evaluate_many(SLOPES[:2], evaluator, 5)  # some stored already
        seen: list[tuple[int, int]] = []
        got = evaluate_seeds(a, SLOPES, evaluator, [5, 6], lambda d, t: seen.append((d, t)))
        expected = [b.evaluate_many(SLOPES, evaluator, seed) for seed in (5, 6)]
        assert [[(e.motif_hash, e.seed, e.loss) for e in column] for column in got] == [
            [(e.motif_hash, e.seed, e.loss) for e in column] for column in expected
        ]
        # Seed 5 has 0.25 and 0.5 (listed twice) stored: 3 of the 10 pairs are done.
        assert seen[0] == (3, 10) and seen[-1] == (10, 10)
        assert len(a) == len(b) == 8
        with pytest.raises(ValueError, match="distinct"):
            evaluate_seeds(a, SLOPES, evaluator, [1, 1])


def test_executing_store_stands_in_for_the_store(tmp_path: Path) -> None:
    with Store(tmp_path / "s.db") as store, InProcessExecutor(batch_size=1) as executor:
        wrapped = ExecutingStore(store, executor)
        evaluations = wrapped.evaluate_many(SLOPES, FakeEvaluator(), 0)
        assert [e.motif for e in evaluations] == SLOPES
        assert len(wrapped.evaluations()) == 4 and wrapped.path == store.path
