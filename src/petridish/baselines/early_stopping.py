"""Early stopping as a costed reference predictor: the validation loss after E epochs.

A practitioner without any predictor can train each candidate cell for a few epochs and
rank by the validation loss it reaches. NAS-Bench-NLP logs record every epoch, so this
predictor looks the loss up instead of training -- but it is charged for the training:

* ``EarlyStoppingPredictor(groups, epochs)`` scores a cell by the mean validation loss
  after ``epochs`` epochs over the complete runs of that cell (cells are matched by their
  canonical form, ``Cell`` equality, so recipes differing only in node names are one cell;
  diverged runs are never used). Lower = better, as the final loss it predicts.
* ``training_seconds_per_cell = epochs * seconds_per_epoch``, where ``seconds_per_epoch``
  is the mean wall time of one epoch over every epoch of the complete logs given (about
  420 s on the NAS-Bench-NLP hardware). That is what each *queried* cell would cost for
  real; the lookup itself is free. The dish and the other predictors pay nothing per cell.
* ``fit`` learns nothing; it checks its arguments and that every training cell is in the
  table, and marks the predictor fitted (the ``Predictor`` contract: query before fit is
  ``NotFittedError``). ``query`` of a cell with no complete log is a ``ValueError`` naming
  the cell's digest. ``complete_logs_by_cell`` is the grouping, reusable by callers.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence

import numpy as np

from petridish._validation import positive_int
from petridish.baselines.encodings import check_training_data
from petridish.motifs import Cell, Motif
from petridish.predictor import NotFittedError
from petridish.truth.nasbench_nlp import CellLog

__all__ = [
    "EarlyStoppingPredictor",
    "complete_logs_by_cell",
    "mean_seconds_per_epoch",
]


def complete_logs_by_cell(logs: Iterable[CellLog]) -> dict[Cell, tuple[CellLog, ...]]:
    """The complete logs (``CellLog.ok``) grouped by canonical cell, in order of first run."""
    groups: dict[Cell, list[CellLog]] = {}
    for log in logs:
        if log.ok:
            groups.setdefault(Cell.from_recipe(log.recipe), []).append(log)
    return {cell: tuple(runs) for cell, runs in groups.items()}


def mean_seconds_per_epoch(logs: Iterable[CellLog]) -> float:
    """Mean wall time (s) of one epoch over all recorded epochs of the complete logs."""
    times = [t for log in logs if log.ok for t in log.wall_times]
    if not times:
        raise ValueError("no complete logs given: cannot measure seconds per epoch")
    return math.fsum(times) / len(times)


class EarlyStoppingPredictor:
    """Validation loss after ``epochs`` epochs, looked up from the logs (see module doc)."""

    def __init__(self, groups: Mapping[Cell, Sequence[CellLog]], epochs: int) -> None:
        epochs = positive_int(epochs, "epochs")
        if not groups:
            raise ValueError("no complete logs given: the early-stopping table would be empty")
        self.epochs = epochs
        table: dict[Cell, float] = {}
        for cell, runs in groups.items():
            for log in runs:
                if not log.ok:
                    raise ValueError(f"log {log.name!r} is not complete; pass complete logs only")
                if log.epochs < self.epochs:
                    raise ValueError(
                        f"log {log.name!r} records {log.epochs} epochs, fewer than "
                        f"epochs={self.epochs}"
                    )
            table[cell] = math.fsum(log.val_loss_at(self.epochs) for log in runs) / len(runs)
        self._table = table
        self.seconds_per_epoch = mean_seconds_per_epoch(
            log for runs in groups.values() for log in runs
        )
        self._fitted = False

    @classmethod
    def from_logs(cls, logs: Iterable[CellLog], epochs: int) -> EarlyStoppingPredictor:
        """Group ``logs`` (e.g. a ``NasBenchNLP``) by cell, then build the predictor."""
        return cls(complete_logs_by_cell(logs), epochs)

    @property
    def training_seconds_per_cell(self) -> float:
        """Real training time each queried cell would need: ``epochs * seconds_per_epoch``."""
        return self.epochs * self.seconds_per_epoch

    def __repr__(self) -> str:
        return f"EarlyStoppingPredictor(epochs={self.epochs}, cells={len(self._table)})"

    def _lookup(self, motifs: Sequence[Motif]) -> np.ndarray:
        out = np.empty(len(motifs), dtype=np.float64)
        for i, m in enumerate(motifs):
            if not isinstance(m, Cell):
                raise ValueError(f"motif {i} is a {type(m).__name__}, not a Cell")
            try:
                out[i] = self._table[m]
            except KeyError:
                raise ValueError(
                    f"cell {i} (digest {m.digest}) has no complete NAS-Bench-NLP log; "
                    f"early stopping can only score logged cells"
                ) from None
        return out

    def fit(
        self, motifs: Sequence[Motif], losses: Sequence[float] | np.ndarray, *, seed: int = 0
    ) -> EarlyStoppingPredictor:
        """Nothing to learn: checks the arguments and that the cells are logged."""
        check_training_data(motifs, losses, seed)
        self._lookup(motifs)
        self._fitted = True
        return self

    def query(self, motifs: Sequence[Motif]) -> np.ndarray:
        """Mean validation loss after ``epochs`` epochs, float64 ``(len(motifs),)``."""
        if not self._fitted:
            raise NotFittedError("EarlyStoppingPredictor.query called before fit; call fit first")
        return self._lookup(motifs)
