"""The Ray executor against a real local Ray cluster (see conftest.py): same outcomes as in
process, a worker killed mid-evaluation, evaluator exceptions, an unreachable address."""

from __future__ import annotations

import os
import signal
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from _fakes import FakeEvaluator, free_port

from petridish.evaluators.base import GroundTruthUnavailable
from petridish.evaluators.mnist_slope import MnistSlopeEvaluator
from petridish.execution import (
    ExecutorUnavailable,
    InProcessExecutor,
    RayExecutor,
    evaluate_many,
    evaluate_seeds,
)
from petridish.motifs.slope import SigmoidSlope
from petridish.store import Store

SLOPES = [SigmoidSlope(s) for s in (0.25, 0.5, 1.0, 2.0)]


@pytest.fixture(scope="module")
def ray_executor(ray_address: str) -> Iterator[RayExecutor]:
    """One driver connection for the module (joining takes a second or two)."""
    with RayExecutor(address=ray_address, max_retries=2) as executor:
        yield executor


def test_ray_gives_the_in_process_outcomes(ray_executor: RayExecutor, tmp_path: Path) -> None:
    marks = tmp_path / "marks"
    marks.mkdir()
    with InProcessExecutor() as local:
        expected = [c.outcome for c in local.run(FakeEvaluator(), SLOPES, 3)]
    got = ray_executor.run(FakeEvaluator(marks=marks), SLOPES, 3)
    assert [c.outcome for c in got] == expected
    assert len(list(marks.iterdir())) == 2  # 4 jobs, one batch per task slot
    evaluator = FakeEvaluator()
    assert [c.job.motif for c in got] == SLOPES
    assert ray_executor.slots == 2 and ray_executor.pending == 0
    # Through the store: the same keys and losses, each stored once.
    with Store(tmp_path / "a.db") as a, Store(tmp_path / "b.db") as b:
        in_process = evaluate_many(a, SLOPES, evaluator, 3)
        on_ray = evaluate_many(b, SLOPES, evaluator, 3, executor=ray_executor)
        assert [(e.motif_hash, e.loss) for e in on_ray] == [
            (e.motif_hash, e.loss) for e in in_process
        ]
        assert len(b) == len(SLOPES)
        # Two seeds side by side on the workers: the same as each seed in process.
        both = evaluate_seeds(b, SLOPES, evaluator, [3, 4], executor=ray_executor)
        assert [[e.loss for e in column] for column in both] == [
            [e.loss for e in in_process],
            [e.loss for e in evaluate_many(a, SLOPES, evaluator, 4)],
        ]
        assert len(b) == 2 * len(SLOPES)


def test_batches_are_whole_chunks_of_a_chunked_evaluator(
    ray_executor: RayExecutor, tmp_path: Path
) -> None:
    """An evaluator whose trainer compiles ``chunk`` models at a time: 4 jobs over 2 slots
    are one batch of 4 (not two of 2, each padded to 4), and 6 are batches of 4 and 2."""
    marks = tmp_path / "marks"
    marks.mkdir()
    chunked = FakeEvaluator(marks=marks)
    chunked.chunk = 4  # type: ignore[attr-defined]
    slopes = [SigmoidSlope(0.1 * (i + 1)) for i in range(6)]
    assert [c.outcome for c in ray_executor.run(chunked, slopes[:4], 0)] == [
        c.outcome for c in InProcessExecutor().run(FakeEvaluator(), slopes[:4], 0)
    ]
    assert len(list(marks.iterdir())) == 1
    ray_executor.run(chunked, slopes, 1)
    assert len(list(marks.iterdir())) == 1 + 2


def test_a_killed_worker_is_retried_and_nothing_is_stored_twice(
    ray_executor: RayExecutor, ray_address: str, tmp_path: Path
) -> None:
    marks = tmp_path / "marks"
    marks.mkdir()
    evaluator = FakeEvaluator(sleep=1.5, marks=marks)
    killed: list[int] = []

    def kill_first_worker() -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            started = sorted(marks.iterdir(), key=lambda p: p.stat().st_mtime)
            if started:
                pid = int(started[0].name.split("-")[0])
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)
                return
            time.sleep(0.02)

    killer = threading.Thread(target=kill_first_worker)
    killer.start()
    # One task per motif; joins the Ray the module's executor already joined.
    with Store(tmp_path / "s.db") as store, RayExecutor(address=ray_address, batch_size=1) as one:
        try:
            evaluations = evaluate_many(store, SLOPES, evaluator, 0, executor=one)
        finally:
            killer.join()
        assert killed, "no worker started an evaluation"
        assert [e.status for e in evaluations] == ["ok"] * len(SLOPES)
        assert len(store) == len(SLOPES)
        assert store.failed_attempts() == []
        assert sorted(e.motif_hash for e in store.evaluations()) == sorted(m.digest for m in SLOPES)
    # The killed batch started again: one more start than there are motifs.
    assert len(list(marks.iterdir())) == len(SLOPES) + 1


def test_mnist_tiny_outcomes_do_not_depend_on_where_they_ran(ray_executor: RayExecutor) -> None:
    data_dir = os.environ.get("PETRIDISH_DATA_DIR")
    if not data_dir or not (Path(data_dir) / "mnist").is_dir():
        pytest.skip(f"no MNIST under PETRIDISH_DATA_DIR={data_dir!r} (optional resource)")
    evaluator = MnistSlopeEvaluator(data_dir, "tiny")
    slopes = [SigmoidSlope(0.5), SigmoidSlope(2.0)]
    # One motif per batch on both sides: the same compiled program trains each model.
    with InProcessExecutor(batch_size=1) as local:
        expected = [c.outcome for c in local.run(evaluator, slopes, 0)]
    got = [c.outcome for c in ray_executor.run(evaluator, slopes, 0)]
    assert [o.status for o in got] == ["ok", "ok"]
    assert got == expected


def test_evaluator_exceptions_are_failed_outcomes(
    ray_executor: RayExecutor, tmp_path: Path
) -> None:
    bad = FakeEvaluator(fail_on=[0.5])
    with Store(tmp_path / "s.db") as store:
        first = evaluate_many(store, SLOPES, bad, 0, executor=ray_executor)
        assert [e.status for e in first] == ["ok", "failed", "ok", "ok"]
        assert first[1].reason == "ValueError: bad slope 0.5"
        # Asked again with a mended evaluator: only the failed one runs; it is kept as history.
        second = evaluate_many(store, SLOPES, FakeEvaluator(), 0, executor=ray_executor)
        assert [e.status for e in second] == ["ok"] * 4
        assert [e.id for e in second][::2] == [e.id for e in first][::2]
        assert [e.reason for e in store.failed_attempts()] == ["ValueError: bad slope 0.5"]


def test_ground_truth_unavailable_on_a_worker_is_raised_and_nothing_stored(
    ray_executor: RayExecutor, tmp_path: Path
) -> None:
    with Store(tmp_path / "s.db") as store:
        with pytest.raises(GroundTruthUnavailable, match="fake data is missing") as info:
            evaluate_many(store, SLOPES, FakeEvaluator(unavailable=True), 0, executor=ray_executor)
        assert info.value.remedy == "there is none"
        assert len(store) == 0
    assert ray_executor.pending == 0


def test_an_unreachable_address_is_one_quick_error() -> None:
    pytest.importorskip("ray", reason="ray is not installed (optional extra petridish[ray])")
    address = f"127.0.0.1:{free_port()}"  # nothing listens there
    t0 = time.monotonic()
    with pytest.raises(ExecutorUnavailable, match=f"no Ray cluster at {address}") as info:
        RayExecutor(address=address, connect_timeout=1.0)
    assert time.monotonic() - t0 < 5
    assert info.value.address == address
    assert "\n" not in str(info.value)


def test_a_listener_that_is_not_ray_is_one_quick_error() -> None:
    pytest.importorskip("ray", reason="ray is not installed (optional extra petridish[ray])")
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(4)  # accepts connections (the kernel does) but never speaks gRPC
        address = f"127.0.0.1:{server.getsockname()[1]}"
        t0 = time.monotonic()
        with pytest.raises(ExecutorUnavailable, match=f"no Ray cluster at {address}"):
            RayExecutor(address=address, connect_timeout=1.0)
        assert time.monotonic() - t0 < 5


def test_options_are_checked_before_anything_starts(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ValueError, match="either workers"):
        RayExecutor(workers=2, address="127.0.0.1:1")
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    with pytest.raises(ValueError, match="needs workers, an address or RAY_ADDRESS"):
        RayExecutor()
    with pytest.raises(ValueError, match="workers must be a positive int"):
        RayExecutor(workers=0)
    pytest.importorskip("ray", reason="ray is not installed (optional extra petridish[ray])")
    address = f"127.0.0.1:{free_port()}"
    monkeypatch.setenv("RAY_ADDRESS", address)
    with pytest.raises(ExecutorUnavailable, match=f"no Ray cluster at {address}"):
        RayExecutor(connect_timeout=1.0)
    with pytest.raises(ExecutorUnavailable, match="is not HOST:PORT"):
        RayExecutor(address="nowhere")
