"""The evaluator contract: ``Outcome`` checks its numbers, ``evaluate_batch`` checks answers."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest

from petridish.evaluators.base import Outcome, evaluate_batch, has_evaluate_many
from petridish.motifs import Motif, SigmoidSlope

SLOPES = [SigmoidSlope(s) for s in (0.5, 1.0, 2.0)]


class OneByOne:
    """Loss = slope; ``evaluate`` may be told to return something that is not an Outcome."""

    name = "toy"
    protocol = "p"

    def __init__(self, bad: object = None) -> None:
        self.bad = bad

    def evaluate(self, motif: Motif, seed: int) -> Outcome:
        assert isinstance(motif, SigmoidSlope)
        if self.bad is not None and motif.slope == 1.0:
            return self.bad  # type: ignore[return-value]
        return Outcome("ok", loss=motif.slope + seed)


class Batched(OneByOne):
    def __init__(self, answer: list[object]) -> None:
        super().__init__()
        self.answer = answer

    def evaluate_many(self, motifs: Sequence[Motif], seed: int) -> list[object]:
        return self.answer


def test_outcome_numbers_are_plain_floats_and_bools_are_refused() -> None:
    out = Outcome("ok", loss=np.float32(0.5), metrics={"acc": np.int64(1)}, curve=(1, 0.5))
    assert type(out.loss) is float and out.loss == 0.5
    assert out.metrics == {"acc": 1.0} and type(out.metrics["acc"]) is float
    assert out.curve == (1.0, 0.5)
    with pytest.raises(ValueError, match="loss must be a number, got True"):
        Outcome("ok", loss=True)
    with pytest.raises(ValueError, match="metric 'acc' must be a number, got False"):
        Outcome("ok", loss=0.1, metrics={"acc": False})
    with pytest.raises(ValueError, match="curve entry must be a number, got '0.3'"):
        Outcome("ok", loss=0.1, curve=("0.3",))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="finite loss"):
        Outcome("ok", loss=float("nan"))


def test_evaluate_batch_one_by_one_keeps_order_and_passes_answers_through() -> None:
    ev = OneByOne()
    assert not has_evaluate_many(ev)
    assert [o.loss for o in evaluate_batch(ev, SLOPES, seed=1)] == [1.5, 2.0, 3.0]
    # Unbatched answers are the caller's to check (the store records them as failed).
    assert evaluate_batch(OneByOne(bad="ok"), SLOPES, seed=0)[1] == "ok"


def test_evaluate_batch_checks_what_evaluate_many_returned() -> None:
    good = [Outcome("ok", loss=1.0), Outcome("diverged"), Outcome("failed", reason="x")]
    ev = Batched(list(good))
    assert has_evaluate_many(ev)
    assert evaluate_batch(ev, SLOPES, seed=0) == good
    with pytest.raises(ValueError, match="evaluator 'toy' returned 2 outcomes for 3 motifs"):
        evaluate_batch(Batched(good[:2]), SLOPES, seed=0)
    bad = Batched([good[0], 0.25, good[2]])
    with pytest.raises(
        TypeError, match="evaluator 'toy': evaluate_many returned a float at index 1, not an"
    ):
        evaluate_batch(bad, SLOPES, seed=0)
