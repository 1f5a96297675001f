"""Frozen records read from the results database, and the store's one error type.

Every record is a snapshot: the store never mutates a record it has returned, and the
``dict`` fields are fresh copies decoded from the file, so changing them changes nothing
stored. Times are unix seconds (``time.time()``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from petridish.motifs.base import Motif


class StoreError(Exception):
    """The store cannot be used as asked: a corrupted, foreign or unreadable file, a
    newer format version, or a run started again with a different configuration.

    The message names the file (and the run, where there is one).
    """


@dataclass(frozen=True)
class Evaluation:
    """One ground-truth evaluation, unique per ``(motif_hash, evaluator, protocol, seed)``.

    ``motif_json`` is the motif's canonical JSON and ``motif_hash`` its ``digest``;
    ``motif`` is rebuilt from ``motif_json``. ``loss`` is finite when ``status == "ok"``
    and None otherwise. ``wall_seconds`` is the evaluator's time for this motif (a share
    of the batch time when the motif was evaluated in a batch).
    """

    id: int
    motif: Motif
    motif_kind: str
    motif_json: str
    motif_hash: str
    evaluator: str
    protocol: str
    seed: int
    status: str
    loss: float | None
    metrics: dict[str, float]
    curve: tuple[float, ...]
    reason: str
    wall_seconds: float
    started_at: float
    finished_at: float

    @property
    def ok(self) -> bool:
        return self.status == "ok"


@dataclass(frozen=True)
class RunRecord:
    """A search run: its configuration, and its summary once finished."""

    run_id: str
    config: dict[str, Any]
    created_at: float
    finished: bool
    summary: dict[str, Any]


@dataclass(frozen=True)
class IterationRecord:
    """One iteration of a run: what was proposed, what the filtering predictor scored for
    each proposal, and what was sent to ground truth.

    ``proposed`` and ``evaluated`` hold motif canonical JSON strings. ``predicted`` holds,
    in ``proposed`` order, the scores (lower = predicted better) of whichever predictor
    filtered the proposals: the dish or any other (``random_dish``, ``nn_surrogate``,
    ``gp``, ...). It is None when no predictor scored them (a search without one, a
    warm-up iteration, or too few distinct ok results to fit one yet).

    ``extra`` (JSON) says how the evaluated motifs were chosen. Keys written by
    ``petridish.search.loop``:

    * ``"selector"``: ``"warmup"`` (the first, random draw), ``"dish"``, ``"predictor"`` (a
      predictor other than the dish), ``"strategy"`` (the strategy's own ranking) or
      ``"random"``; the last two end in ``" (the dish cannot fit: ...)"`` or
      ``" (the predictor cannot fit: ...)"`` when a predictor was set but could not fit yet.
    * ``"k"``: how many proposals an iteration chooses; ``"candidates"``: how many were
      realised (not on warm-up iterations).
    * with ``"dish"``: ``"dish_fit"``, a dict of ``seconds``, ``outer_steps_run``,
      ``n_train``, ``n_validation`` and ``kept_step``.
    * with ``"predictor"``: ``"predictor"`` (its registry name, e.g. ``"nn_surrogate"``)
      and ``"predictor_fit"``, a dict of ``seconds`` and ``n_train``.
    * with ``"strategy"``: ``"strategy_scores"``, the strategy's score per proposal.
    """

    run_id: str
    iteration: int
    proposed: tuple[str, ...]
    predicted: tuple[float, ...] | None
    evaluated: tuple[str, ...]
    extra: dict[str, Any]
    created_at: float
