"""``petridish truth``'s path through an executor: ``measure_slopes_into_store`` given an
``ExecutingStore`` submits every (slope, seed) job before it waits for any, and stores what
the plain store path stores, slope-major."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

from petridish.evaluators import Outcome, measure_slopes_into_store
from petridish.evaluators.mnist_slope import MnistSlopeEvaluator
from petridish.execution import ExecutingStore, InProcessExecutor
from petridish.motifs.base import Motif
from petridish.motifs.slope import SigmoidSlope
from petridish.store import Store


class Recording(InProcessExecutor):
    """Notes each submit (its seed) and each wait on the backend."""

    def __init__(self) -> None:
        super().__init__()
        self.events: list[str] = []

    def submit(self, evaluator, motifs, seed):  # type: ignore[no-untyped-def]
        self.events.append(f"submit {seed}")
        return super().submit(evaluator, motifs, seed)

    def _wait(self):  # type: ignore[no-untyped-def]
        self.events.append("wait")
        return super()._wait()


def _fake_training(self: MnistSlopeEvaluator, motifs: Sequence[Motif], seed: int) -> list[Outcome]:
    return [Outcome("ok", loss=abs(m.slope - 1.0) + seed / 100) for m in motifs]  # type: ignore[attr-defined]


def test_every_seed_is_submitted_before_any_wait(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(MnistSlopeEvaluator, "evaluate_many", _fake_training)
    slopes = [0.5, 1.0, 1.5]
    with Store(tmp_path / "plain.db") as plain:
        expected = measure_slopes_into_store(plain, slopes, [0, 1, 2], "tiny", tmp_path)
    executor = Recording()
    seen: list[tuple[int, int]] = []
    with Store(tmp_path / "exec.db") as store, executor:
        got = measure_slopes_into_store(
            ExecutingStore(store, executor),
            slopes,
            [0, 1, 2],
            "tiny",
            tmp_path,
            progress=lambda d, t: seen.append((d, t)),
        )
        assert len(store) == 9
    assert executor.events[:3] == ["submit 0", "submit 1", "submit 2"]
    assert seen[-1] == (9, 9)
    assert [(e.motif_hash, e.seed, e.loss) for e in got] == [
        (e.motif_hash, e.seed, e.loss) for e in expected
    ]
    assert [e.seed for e in got] == [0, 1, 2] * 3  # slope-major
    assert [e.motif for e in got][::3] == [SigmoidSlope(s) for s in slopes]
