"""The evaluator contract: ground truth for one motif, as a frozen ``Outcome``.

An evaluator is anything with a ``name`` (what is measured, e.g. ``"mnist_mlp"``), a
``protocol`` (how, e.g. ``"tiny"``) and ``evaluate(motif, seed) -> Outcome``. It may also
offer ``evaluate_many(motifs, seed) -> list[Outcome]`` (one outcome per motif, in input
order) when it can batch; ``has_evaluate_many`` tells callers whether it does.

An ``Outcome`` is one of:

- ``"ok"``: ``loss`` is a finite float, lower is better;
- ``"diverged"``: training ran but produced no usable number (NaN/inf); ``loss`` is None;
- ``"failed"``: the evaluation could not run; ``reason`` says why, ``loss`` is None. A
  failure is not a result: the store runs a failed evaluation again when it is asked for
  it again (keeping the failed attempt as history).

An evaluator that cannot evaluate anything at all (its data is missing and cannot be
downloaded) raises ``GroundTruthUnavailable`` instead of returning ``failed`` outcomes: the
store records nothing for it and lets it through, and a search stops at once.

Evaluators are pure with respect to ``(motif, seed)`` under a fixed ``protocol``: the same
inputs give the same outcome, which is what lets the store cache results by that key.
Timing metrics (e.g. ``seconds``) are the one exception: they record where and when a run
happened, and callers never compare them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol, runtime_checkable

from petridish._validation import number
from petridish.motifs.base import Motif

__all__ = [
    "STATUSES",
    "Evaluator",
    "GroundTruthUnavailable",
    "Outcome",
    "Status",
    "evaluate_batch",
    "has_evaluate_many",
]

Status = Literal["ok", "failed", "diverged"]
STATUSES: tuple[Status, ...] = ("ok", "failed", "diverged")


class GroundTruthUnavailable(RuntimeError):
    """No motif can be evaluated: the evaluator's data is missing and cannot be had (not on
    disk, download impossible). Not a property of any motif, so never stored as an outcome.

    The message says what is missing; ``remedy`` (may be empty) says how to provide it in
    library terms.
    """

    def __init__(self, message: str, *, remedy: str = "") -> None:
        super().__init__(message)
        self.remedy = remedy


@dataclass(frozen=True)
class Outcome:
    """The result of evaluating one motif under one protocol and seed.

    ``metrics`` values must be floats (NaN/inf allowed: a metric may be undefined).
    ``curve`` is the per-epoch validation loss, where the evaluator has one; entries may
    be NaN (a diverged epoch).
    """

    status: Status
    loss: float | None = None
    metrics: Mapping[str, float] = field(default_factory=dict)
    curve: tuple[float, ...] = ()
    reason: str = ""

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"outcome status must be one of {STATUSES}, got {self.status!r}")
        if self.status == "ok":
            if self.loss is None:
                raise ValueError("an 'ok' outcome needs a loss, got None")
            loss = number(self.loss, "loss")
            # NaN/inf is not a result: the evaluator should report status "diverged".
            if not math.isfinite(loss):
                raise ValueError(
                    f"an 'ok' outcome needs a finite loss, got {self.loss!r}; "
                    "report status 'diverged' instead"
                )
            object.__setattr__(self, "loss", loss)
        elif self.loss is not None:
            object.__setattr__(self, "loss", number(self.loss, "loss"))
        metrics = {}
        for key, value in dict(self.metrics).items():
            if not isinstance(key, str):
                raise ValueError(f"metric names must be strings, got {key!r}")
            metrics[key] = number(value, f"metric {key!r}")
        object.__setattr__(self, "metrics", metrics)
        object.__setattr__(self, "curve", tuple(number(v, "curve entry") for v in self.curve))
        if not isinstance(self.reason, str):
            raise ValueError(f"outcome reason must be a string, got {self.reason!r}")


@runtime_checkable
class Evaluator(Protocol):
    """Ground truth for motifs: ``evaluate(motif, seed) -> Outcome``.

    Implementations may add ``evaluate_many(motifs, seed) -> list[Outcome]`` to batch.
    """

    name: str
    protocol: str

    def evaluate(self, motif: Motif, seed: int) -> Outcome: ...


def has_evaluate_many(evaluator: Evaluator) -> bool:
    """Whether ``evaluator`` offers the optional batched ``evaluate_many``."""
    return callable(getattr(evaluator, "evaluate_many", None))


def evaluate_batch(evaluator: Evaluator, motifs: Sequence[Motif], seed: int) -> list[Outcome]:
    """Outcomes for ``motifs`` in order: batched when the evaluator can, else one by one.

    A batched answer is checked: ``ValueError`` when ``evaluate_many`` returned a different
    number of items than motifs, ``TypeError`` when one of them is not an ``Outcome``; both
    name the evaluator. One-by-one answers are returned as ``evaluate`` gave them (callers
    that record them turn a non-``Outcome`` into a ``failed`` outcome themselves).
    """
    if has_evaluate_many(evaluator):
        outcomes = list(evaluator.evaluate_many(motifs, seed))  # type: ignore[attr-defined]
        if len(outcomes) != len(motifs):
            raise ValueError(
                f"evaluator {evaluator.name!r} returned {len(outcomes)} outcomes "
                f"for {len(motifs)} motifs"
            )
        for i, outcome in enumerate(outcomes):
            if not isinstance(outcome, Outcome):
                raise TypeError(
                    f"evaluator {evaluator.name!r}: evaluate_many returned a "
                    f"{type(outcome).__name__} at index {i}, not an Outcome"
                )
        return outcomes
    return [evaluator.evaluate(m, seed) for m in motifs]
