"""The store's contract, run twice: on a fresh store, and on one closed and reopened between
every write and the reads that check it (what a resumed search sees)."""

from __future__ import annotations

import math
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import pytest

from petridish.evaluators import GroundTruthUnavailable, Outcome
from petridish.motifs import Motif, SigmoidSlope
from petridish.motifs.cell import random_cell
from petridish.store import Evaluation, IterationRecord, RunRecord, Store, StoreError


class Handle:
    """A store under test; ``reopen()`` closes and reopens the file in the reopened mode."""

    def __init__(self, path: Path, reopen: bool) -> None:
        self.path = path
        self._reopen = reopen
        self.store = Store(path)

    def reopen(self) -> Store:
        if self._reopen:
            self.store.close()
            self.store = Store(self.path)
        return self.store


def _record_outcome(store: Store, slope: float, outcome: Outcome) -> Evaluation:
    return store.record(
        SigmoidSlope(slope), "fake", "unit", 0, outcome, wall_seconds=0, started_at=0
    )


@pytest.fixture(params=["fresh", "reopened"])
def handle(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Handle]:
    h = Handle(tmp_path / "store.db", reopen=request.param == "reopened")
    yield h
    h.store.close()


class CountingEvaluator:
    """A fake evaluator: loss = slope, counts calls; raises for slopes listed in ``fail``."""

    name = "fake"
    protocol = "unit"

    def __init__(self, fail: Sequence[float] = (), batched: bool = False) -> None:
        self.fail = set(fail)
        self.calls: list[tuple[float, int]] = []
        self.batches: list[int] = []
        if batched:
            self.evaluate_many = self._evaluate_many

    def evaluate(self, motif: Motif, seed: int) -> Outcome:
        assert isinstance(motif, SigmoidSlope)
        self.calls.append((motif.slope, seed))
        if motif.slope in self.fail:
            raise RuntimeError(f"boom at {motif.slope}")
        return Outcome("ok", loss=motif.slope, metrics={"accuracy": 1 - motif.slope / 10})

    def _evaluate_many(self, motifs: Sequence[Motif], seed: int) -> list[Outcome]:
        self.batches.append(len(motifs))
        return [self.evaluate(m, seed) for m in motifs]


_AT_ONCE: dict[str, float] = {"wall_seconds": 0.0, "started_at": 0.0}


def _record(store: Store, slope: float, seed: int = 0, loss: float | None = None) -> Evaluation:
    outcome = Outcome("ok", loss=slope if loss is None else loss)
    return store.record(
        SigmoidSlope(slope), "fake", "unit", seed, outcome, wall_seconds=0.5, started_at=100.0
    )


def test_record_round_trips_every_field(handle: Handle) -> None:
    motif = SigmoidSlope(0.25)
    outcome = Outcome(
        "ok",
        loss=0.125,
        metrics={"accuracy": 0.875, "nll": math.inf},
        curve=(0.5, math.nan, 0.125),
    )
    before = time.time()
    written = handle.store.record(
        motif, "fake", "unit", 7, outcome, wall_seconds=1.5, started_at=before - 2
    )
    got = handle.reopen().get(motif, "fake", "unit", 7)
    assert got is not None
    assert got.id == written.id
    assert got.motif == motif and got.motif_kind == "sigmoid_slope"
    assert got.motif_json == motif.canonical() and got.motif_hash == motif.digest
    assert (got.evaluator, got.protocol, got.seed, got.status) == ("fake", "unit", 7, "ok")
    assert got.loss == 0.125 and got.reason == ""
    assert got.metrics == {"accuracy": 0.875, "nll": math.inf}
    assert got.curve[0] == 0.5 and math.isnan(got.curve[1]) and got.curve[2] == 0.125
    assert got.wall_seconds == 1.5 and got.started_at == before - 2
    assert before <= got.finished_at <= time.time()


def test_get_misses_other_keys(handle: Handle) -> None:
    _record(handle.store, 0.5, seed=0)
    store = handle.reopen()
    assert store.get(SigmoidSlope(0.5), "fake", "unit", 1) is None
    assert store.get(SigmoidSlope(0.5), "fake", "other", 0) is None
    assert store.get(SigmoidSlope(0.5), "other", "unit", 0) is None
    assert store.get(SigmoidSlope(0.51), "fake", "unit", 0) is None
    assert store.get(SigmoidSlope(0.5), "fake", "unit", 0) is not None


def test_recording_a_stored_key_keeps_the_first_row(handle: Handle) -> None:
    first = _record(handle.store, 0.5, loss=0.1)
    again = _record(handle.reopen(), 0.5, loss=0.9)
    assert again == first and again.loss == 0.1
    store = handle.reopen()
    assert len(store) == 1
    assert [e.loss for e in store.evaluations()] == [0.1]


def test_failed_and_diverged_outcomes_are_stored(handle: Handle) -> None:
    store = handle.store
    store.record(
        SigmoidSlope(1.0),
        "fake",
        "unit",
        0,
        Outcome("diverged", reason="nan loss"),
        wall_seconds=0.0,
        started_at=0.0,
    )
    store.record(
        SigmoidSlope(2.0),
        "fake",
        "unit",
        0,
        Outcome("failed", reason="out of memory"),
        wall_seconds=0.0,
        started_at=0.0,
    )
    store = handle.reopen()
    diverged = store.evaluations(status="diverged")
    failed = store.evaluations(status="failed")
    assert [(e.motif, e.loss, e.reason) for e in diverged] == [
        (SigmoidSlope(1.0), None, "nan loss")
    ]
    assert [(e.motif, e.loss, e.reason) for e in failed] == [
        (SigmoidSlope(2.0), None, "out of memory")
    ]
    assert store.evaluations(status="ok") == []


def test_evaluate_runs_each_key_once(handle: Handle) -> None:
    evaluator = CountingEvaluator()
    first = handle.store.evaluate(SigmoidSlope(0.3), evaluator, seed=2)
    second = handle.reopen().evaluate(SigmoidSlope(0.3), evaluator, seed=2)
    assert evaluator.calls == [(0.3, 2)]
    assert second == first and first.loss == 0.3 and first.status == "ok"
    assert first.wall_seconds >= 0 and first.started_at <= first.finished_at
    handle.reopen().evaluate(SigmoidSlope(0.3), evaluator, seed=3)
    assert evaluator.calls == [(0.3, 2), (0.3, 3)]


def test_evaluator_exception_is_recorded_as_failed_and_retried(handle: Handle) -> None:
    evaluator = CountingEvaluator(fail=[0.7])
    ev = handle.store.evaluate(SigmoidSlope(0.7), evaluator, seed=0)
    assert ev.status == "failed" and ev.loss is None
    assert ev.reason == "RuntimeError: boom at 0.7"
    # A failure is not a result: asked again, the store runs the evaluation again.
    again = handle.reopen().evaluate(SigmoidSlope(0.7), evaluator, seed=0)
    assert again.status == "failed" and again.id != ev.id and len(evaluator.calls) == 2
    evaluator.fail.clear()  # the cause is gone (data provided, a bug fixed)
    ok = handle.reopen().evaluate(SigmoidSlope(0.7), evaluator, seed=0)
    assert ok.status == "ok" and ok.loss == 0.7 and len(evaluator.calls) == 3
    # A result is final: no more runs.
    assert handle.reopen().evaluate(SigmoidSlope(0.7), evaluator, seed=0) == ok
    assert len(evaluator.calls) == 3
    store = handle.reopen()
    assert store.get(SigmoidSlope(0.7), "fake", "unit", 0) == ok
    assert len(store) == 1 and store.evaluations(status="failed") == []
    # The failed attempts are kept as history, oldest first, with their own ids.
    history = store.history(SigmoidSlope(0.7), "fake", "unit", 0)
    assert [(e.status, e.id) for e in history] == [
        ("failed", ev.id),
        ("failed", again.id),
        ("ok", ok.id),
    ]
    assert history[0] == ev and history[1] == again
    assert store.failed_attempts() == [ev, again]
    assert store.failed_attempts(evaluator="other") == []


def test_diverged_is_final_and_failed_is_replaced_by_record(handle: Handle) -> None:
    diverged = handle.store.record(
        SigmoidSlope(1.0), "fake", "unit", 0, Outcome("diverged"), wall_seconds=0, started_at=0
    )
    evaluator = CountingEvaluator()
    assert handle.reopen().evaluate(SigmoidSlope(1.0), evaluator, seed=0) == diverged
    assert handle.reopen().evaluate_many([SigmoidSlope(1.0)], evaluator, 0) == [diverged]
    assert evaluator.calls == []
    failed = _record_outcome(handle.reopen(), 2.0, Outcome("failed", reason="no data"))
    # Recording over a failure replaces it; recording over a result keeps the result.
    ok = _record_outcome(handle.reopen(), 2.0, Outcome("ok", loss=0.5))
    assert ok.status == "ok" and ok.id > failed.id
    assert _record_outcome(handle.reopen(), 2.0, Outcome("failed", reason="late")) == ok
    store = handle.reopen()
    assert [e.reason for e in store.failed_attempts()] == ["no data"]
    assert len(store) == 2


@pytest.mark.parametrize("batched", [False, True])
def test_ground_truth_unavailable_is_not_recorded(handle: Handle, batched: bool) -> None:
    class NoData(CountingEvaluator):
        def evaluate(self, motif: Motif, seed: int) -> Outcome:
            self.calls.append((0.0, seed))
            raise GroundTruthUnavailable("MNIST is not available")

        def _evaluate_many(self, motifs: Sequence[Motif], seed: int) -> list[Outcome]:
            self.batches.append(len(motifs))
            raise GroundTruthUnavailable("MNIST is not available")

    evaluator = NoData(batched=batched)
    with pytest.raises(GroundTruthUnavailable, match="MNIST"):
        handle.store.evaluate_many([SigmoidSlope(s) for s in (0.1, 0.2, 0.3)], evaluator, 0)
    # Stopped at the first failure: one call (or one batch), no one-at-a-time fallback.
    assert len(evaluator.calls) + len(evaluator.batches) == 1
    assert len(handle.reopen()) == 0 and handle.reopen().failed_attempts() == []


def test_keyboard_interrupt_is_not_recorded(handle: Handle) -> None:
    class Interrupted(CountingEvaluator):
        def evaluate(self, motif: Motif, seed: int) -> Outcome:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        handle.store.evaluate(SigmoidSlope(0.7), Interrupted(), seed=0)
    assert len(handle.reopen()) == 0


@pytest.mark.parametrize("batched", [False, True])
def test_evaluate_many_runs_only_missing_in_input_order(handle: Handle, batched: bool) -> None:
    evaluator = CountingEvaluator(batched=batched)
    handle.store.evaluate(SigmoidSlope(0.2), evaluator, seed=0)
    store = handle.reopen()
    slopes = [0.4, 0.2, 0.1, 0.4, 0.3]  # one stored, one repeated
    seen: list[tuple[int, int]] = []
    result = store.evaluate_many(
        [SigmoidSlope(s) for s in slopes], evaluator, 0, lambda d, t: seen.append((d, t))
    )
    assert [e.motif.slope for e in result] == slopes  # type: ignore[attr-defined]
    assert [e.loss for e in result] == slopes
    assert result[0] == result[3]  # the repeated motif is one evaluation
    assert sorted(evaluator.calls) == [(0.1, 0), (0.2, 0), (0.3, 0), (0.4, 0)]
    assert evaluator.batches == ([3] if batched else [])
    done = [d for d, _ in seen]
    assert done == sorted(done) and seen[0] == (1, 5) and seen[-1] == (5, 5)
    assert {t for _, t in seen} == {5}
    again = handle.reopen().evaluate_many([SigmoidSlope(s) for s in slopes], evaluator, 0)
    assert again == result and len(evaluator.calls) == 4
    assert len(handle.reopen()) == 4


def test_evaluate_many_in_batches(handle: Handle) -> None:
    evaluator = CountingEvaluator(batched=True)
    result = handle.store.evaluate_many(
        [SigmoidSlope(s) for s in (0.1, 0.2, 0.3, 0.4, 0.5)], evaluator, 0, batch_size=2
    )
    assert evaluator.batches == [2, 2, 1]
    ids = [e.id for e in result]
    assert ids == sorted(ids) and len(set(ids)) == 5  # recorded in order, as each was known


def test_a_failing_batch_falls_back_to_one_at_a_time(handle: Handle) -> None:
    evaluator = CountingEvaluator(fail=[0.2], batched=True)
    result = handle.store.evaluate_many([SigmoidSlope(s) for s in (0.1, 0.2, 0.3)], evaluator, 0)
    assert [e.status for e in result] == ["ok", "failed", "ok"]
    assert result[1].reason == "RuntimeError: boom at 0.2"
    assert [e.loss for e in handle.reopen().evaluations(status="ok")] == [0.1, 0.3]


def test_unbatched_failures_are_recorded_without_a_rerun(handle: Handle) -> None:
    class Odd(CountingEvaluator):
        def evaluate(self, motif: Motif, seed: int) -> Outcome:
            if isinstance(motif, SigmoidSlope) and motif.slope == 0.3:
                self.calls.append((motif.slope, seed))
                return "ok"  # type: ignore[return-value]  # not an Outcome
            return super().evaluate(motif, seed)

    evaluator = Odd(fail=[0.2])
    slopes = (0.1, 0.2, 0.3, 0.4)
    result = handle.store.evaluate_many([SigmoidSlope(s) for s in slopes], evaluator, 0)
    assert [e.status for e in result] == ["ok", "failed", "failed", "ok"]
    assert result[1].reason == "RuntimeError: boom at 0.2"
    assert result[2].reason == "evaluator returned str, not an Outcome"
    assert [s for s, _ in evaluator.calls] == list(slopes)  # each ran once, in order
    ids = [e.id for e in result]
    assert ids == sorted(ids)  # recorded one by one, as each outcome was known
    # The failures are retried by the next call, the results are not.
    handle.reopen().evaluate_many([SigmoidSlope(s) for s in slopes], CountingEvaluator(), 0)
    assert len(handle.reopen().failed_attempts()) == 2


def test_unbatched_motif_stored_meanwhile_is_not_run(handle: Handle) -> None:
    class Racing(CountingEvaluator):
        def evaluate(self, motif: Motif, seed: int) -> Outcome:
            outcome = super().evaluate(motif, seed)
            if isinstance(motif, SigmoidSlope) and motif.slope == 0.1:
                with Store(handle.path) as other:  # another process finishes 0.2 meanwhile
                    ok = Outcome("ok", loss=9.0)
                    other.record(SigmoidSlope(0.2), "fake", "unit", seed, ok, **_AT_ONCE)
            return outcome

    evaluator = Racing()
    result = handle.store.evaluate_many([SigmoidSlope(s) for s in (0.1, 0.2, 0.3)], evaluator, 0)
    assert [s for s, _ in evaluator.calls] == [0.1, 0.3]
    assert [e.loss for e in result] == [0.1, 9.0, 0.3]


def test_a_batch_of_the_wrong_length_falls_back_to_one_at_a_time(handle: Handle) -> None:
    class Short(CountingEvaluator):
        def _evaluate_many(self, motifs: Sequence[Motif], seed: int) -> list[Outcome]:
            self.batches.append(len(motifs))
            return [Outcome("ok", loss=0.0)]  # one outcome, whatever the batch holds

    evaluator = Short(batched=True)
    result = handle.store.evaluate_many([SigmoidSlope(s) for s in (0.1, 0.2)], evaluator, 0)
    assert evaluator.batches == [2]
    assert [e.loss for e in result] == [0.1, 0.2]  # from evaluate, not the short batch
    assert len(handle.reopen()) == 2


def test_numpy_seeds_are_keys_and_bools_are_not(handle: Handle) -> None:
    evaluator = CountingEvaluator()
    got = handle.store.evaluate(SigmoidSlope(0.5), evaluator, seed=np.int64(3))  # type: ignore[arg-type]
    assert got.seed == 3 and type(got.seed) is int
    assert handle.reopen().get(SigmoidSlope(0.5), "fake", "unit", 3) == got
    assert handle.reopen().evaluations(seed=np.int32(3)) == [got]  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="seed must be an int, got True"):
        handle.reopen().get(SigmoidSlope(0.5), "fake", "unit", True)
    with pytest.raises(ValueError, match="seed filter must be an int, got False"):
        handle.reopen().evaluations(seed=False)
    with pytest.raises(ValueError, match="batch_size must be a positive int, got True"):
        handle.reopen().evaluate_many([SigmoidSlope(0.5)], evaluator, 0, batch_size=True)
    with pytest.raises(ValueError, match="batch_size must be a positive int, got 0"):
        handle.reopen().evaluate_many([SigmoidSlope(0.5)], evaluator, 0, batch_size=0)


def test_evaluations_filters_and_order(handle: Handle) -> None:
    store = handle.store
    cell = random_cell(np.random.default_rng(0))
    store.record(cell, "nlp", "final", 0, Outcome("ok", loss=4.5), wall_seconds=0, started_at=0)
    _record(store, 0.1, seed=0)
    _record(store, 0.2, seed=1)
    store.record(
        SigmoidSlope(0.3),
        "fake",
        "other",
        1,
        Outcome("failed", reason="x"),
        wall_seconds=0,
        started_at=0,
    )
    store = handle.reopen()
    everything = store.evaluations()
    assert [e.id for e in everything] == sorted(e.id for e in everything)
    assert len(everything) == 4
    (got_cell,) = store.evaluations(kind="cell")
    assert got_cell.motif == cell and got_cell.motif_json == cell.canonical()
    assert [e.loss for e in store.evaluations(kind="sigmoid_slope", status="ok")] == [0.1, 0.2]
    assert [e.seed for e in store.evaluations(evaluator="fake", seed=1)] == [1, 1]
    assert [e.protocol for e in store.evaluations(protocol="other")] == ["other"]
    assert store.evaluations(evaluator="fake", protocol="unit", seed=5) == []
    with pytest.raises(ValueError, match="'okay'"):
        store.evaluations(status="okay")


def test_runs_start_resume_conflict_finish(handle: Handle) -> None:
    config = {"strategy": "ga", "budget": 40, "k": (1, 2), "nested": {"x": math.inf}}
    run = handle.store.start_run("ga-0", config)
    assert isinstance(run, RunRecord) and not run.finished and run.summary == {}
    store = handle.reopen()
    assert store.start_run("ga-0", config) == run  # resuming the same search
    with pytest.raises(StoreError, match="'ga-0'.*different config") as err:
        store.start_run("ga-0", {**config, "budget": 41})
    assert str(handle.path) in str(err.value)
    store.start_run("random-0", {"strategy": "random"})
    store.finish_run("ga-0", {"best": 0.125})
    store = handle.reopen()
    got = store.get_run("ga-0")
    assert got is not None and got.finished and got.summary == {"best": 0.125}
    assert got.config == {"strategy": "ga", "budget": 40, "k": [1, 2], "nested": {"x": math.inf}}
    assert [r.run_id for r in store.runs()] == ["ga-0", "random-0"]
    assert store.get_run("nope") is None
    with pytest.raises(ValueError, match="'nope'"):
        store.finish_run("nope", {})


def test_iterations_log_idempotent_and_ordered(handle: Handle) -> None:
    store = handle.store
    store.start_run("r", {"seed": 0})
    a, b, c = SigmoidSlope(0.1), SigmoidSlope(0.2), SigmoidSlope(0.3)
    store.log_iteration("r", 1, proposed=[b, c], predicted=[0.5, math.nan], evaluated=[c])
    first = store.log_iteration(
        "r", 0, proposed=[a], predicted=None, evaluated=[a], extra={"warmup": True}
    )
    store = handle.reopen()
    again = store.log_iteration("r", 0, proposed=[b], predicted=[1.0], evaluated=[b])
    assert again == first
    assert isinstance(first, IterationRecord)
    assert first.proposed == (a.canonical(),) and first.predicted is None
    assert first.extra == {"warmup": True}
    its = handle.reopen().iterations("r")
    assert [i.iteration for i in its] == [0, 1]
    assert its[1].proposed == (b.canonical(), c.canonical())
    assert its[1].evaluated == (c.canonical(),)
    assert its[1].predicted is not None
    assert its[1].predicted[0] == 0.5 and math.isnan(its[1].predicted[1])
    assert handle.store.iterations("other") == []


def test_iteration_input_errors(handle: Handle) -> None:
    store = handle.store
    with pytest.raises(ValueError, match="'ghost'"):
        store.log_iteration("ghost", 0, proposed=[], predicted=None, evaluated=[])
    store.start_run("r", {})
    with pytest.raises(ValueError, match="2 predictions for 1 proposed"):
        store.log_iteration("r", 0, proposed=[SigmoidSlope(1.0)], predicted=[1, 2], evaluated=[])
    with pytest.raises(ValueError, match="-1"):
        store.log_iteration("r", -1, proposed=[], predicted=None, evaluated=[])
    assert handle.reopen().iterations("r") == []


def test_records_are_snapshots(handle: Handle) -> None:
    ev = _record(handle.store, 0.5)
    ev.metrics["accuracy"] = 2.0  # changing a returned dict changes nothing stored
    got = handle.reopen().get(SigmoidSlope(0.5), "fake", "unit", 0)
    assert got is not None and got.metrics == {}
    with pytest.raises(AttributeError):
        got.loss = 1.0  # type: ignore[misc]
