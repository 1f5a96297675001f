"""The number-of-parameters predictor, and parameter counts of recurrent cells.

Parameter count of a cell (``cell_param_count``), computed from the motif alone: every
``linear`` node holds one weight matrix per input slot, ``(d_in, hidden)`` with
``d_in = input_size`` for a slot reading ``x`` and ``hidden`` otherwise (every other value
of a cell is ``hidden`` wide), plus one bias ``(hidden,)``; no other op has parameters.

``nasbench_nlp_num_params`` rebuilds the ``num_params`` that NAS-Bench-NLP logs record: a
3-layer language model on WikiText-2 (vocabulary 33278) with a 400-wide embedding tied to
the decoder (so the decoder adds only its bias) and cells 400 -> 600, 600 -> 600,
600 -> 400; i.e. ``33278 * 400 + 33278 + cell(400, 600) + cell(600, 600) + cell(600, 400)``.
It equals the recorded count for all 345 logs of the archive (tested).

``ParamCountPredictor`` scores a cell by its parameter count at ``hidden`` (default 600,
the benchmark's width; ``input_size`` defaults to ``hidden``). Its direction is a choice,
stated here because it decides the sign of every correlation it gets:

* ``"more_is_better"`` (default): the usual "bigger model, lower loss" prior of
  zero-cost NAS baselines, fixed, the training data ignored (``fit`` only checks it).
  On NAS-Bench-NLP this prior is slightly *wrong*: over the 341 complete logs, Kendall tau
  between ``num_params`` and final validation loss is +0.07 (more parameters, slightly
  higher loss), so expect a small negative tau from it.
* ``"fewer_is_better"``: the opposite fixed prior.
* ``"fit"``: the direction is learned from the training cells -- the sign of Kendall's
  tau-b between their parameter counts and losses (more-is-better when it is 0 or
  undefined). One bit learned from data, so it is a (tiny) learned predictor.

Scores are ``-count`` or ``+count`` as float64, lower = better; many cells share a count,
so the ranking has ties.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, get_args

import numpy as np

from petridish._validation import positive_int
from petridish.baselines.encodings import check_training_data
from petridish.metrics import kendall_tau_b
from petridish.motifs import Cell, Motif
from petridish.predictor import NotFittedError

__all__ = [
    "DIRECTIONS",
    "NASBENCH_NLP_SIZES",
    "Direction",
    "ParamCountConfig",
    "ParamCountPredictor",
    "cell_param_count",
    "nasbench_nlp_num_params",
]

Direction = Literal["more_is_better", "fewer_is_better", "fit"]
DIRECTIONS: tuple[str, ...] = get_args(Direction)

NASBENCH_NLP_SIZES = {"vocab": 33278, "embedding": 400, "hidden": 600, "layers": 3}
"""The WikiText-2 language model of NAS-Bench-NLP, as far as parameter counts go."""


def cell_param_count(cell: Cell, hidden: int, input_size: int | None = None) -> int:
    """Parameters of ``cell`` with hidden width ``hidden`` and input width ``input_size``.

    ``input_size`` defaults to ``hidden``. See the module docstring for the rule.
    """
    if not isinstance(cell, Cell):
        raise ValueError(f"cell must be a Cell, got {type(cell).__name__}")
    h = positive_int(hidden, "hidden")
    d = h if input_size is None else positive_int(input_size, "input_size")
    total = 0
    for _name, op, inputs in cell.nodes:
        if op == "linear":
            total += h + sum((d if src == "x" else h) * h for src in inputs)
    return total


def nasbench_nlp_num_params(
    cell: Cell,
    *,
    vocab: int = NASBENCH_NLP_SIZES["vocab"],
    embedding: int = NASBENCH_NLP_SIZES["embedding"],
    hidden: int = NASBENCH_NLP_SIZES["hidden"],
    layers: int = NASBENCH_NLP_SIZES["layers"],
) -> int:
    """The ``num_params`` a NAS-Bench-NLP log records for ``cell`` (tied embedding/decoder)."""
    v, e = positive_int(vocab, "vocab"), positive_int(embedding, "embedding")
    h, n = positive_int(hidden, "hidden"), positive_int(layers, "layers")
    # Layer widths: embedding -> hidden -> ... -> hidden -> embedding (the tied decoder's).
    widths = [e, *([h] * (n - 1)), e]
    cells = sum(
        cell_param_count(cell, hidden=out, input_size=inp)
        for inp, out in zip(widths[:-1], widths[1:], strict=True)
    )
    return v * e + v + cells  # embedding, decoder bias, recurrent layers


@dataclass(frozen=True)
class ParamCountConfig:
    """Width at which parameters are counted, and the direction (see module docstring)."""

    hidden: int = NASBENCH_NLP_SIZES["hidden"]
    input_size: int | None = None
    direction: Direction = "more_is_better"

    def __post_init__(self) -> None:
        object.__setattr__(self, "hidden", positive_int(self.hidden, "ParamCountConfig.hidden"))
        if self.input_size is not None:
            object.__setattr__(
                self, "input_size", positive_int(self.input_size, "ParamCountConfig.input_size")
            )
        if self.direction not in DIRECTIONS:
            raise ValueError(
                f"ParamCountConfig.direction must be one of {DIRECTIONS}, got {self.direction!r}"
            )


class ParamCountPredictor:
    """Rank cells by parameter count (see module docstring for the direction)."""

    def __init__(self, config: ParamCountConfig | None = None) -> None:
        self.config = config if config is not None else ParamCountConfig()
        self._sign: float | None = None  # score = sign * count; -1: more params = better

    @property
    def sign(self) -> float | None:
        """-1.0 (more is better), +1.0 (fewer is better), None before ``fit``."""
        return self._sign

    def counts(self, motifs: Sequence[Motif]) -> np.ndarray:
        """Parameter counts, float64 ``(len(motifs),)``."""
        out = np.empty(len(motifs), dtype=np.float64)
        for i, m in enumerate(motifs):
            if not isinstance(m, Cell):
                raise ValueError(f"motif {i} is a {type(m).__name__}, not a Cell")
            out[i] = cell_param_count(m, self.config.hidden, self.config.input_size)
        return out

    def fit(
        self, motifs: Sequence[Motif], losses: Sequence[float] | np.ndarray, *, seed: int = 0
    ) -> ParamCountPredictor:
        """Check the data; with ``direction="fit"``, learn the sign (deterministic, no seed)."""
        y = check_training_data(motifs, losses, seed)
        counts = self.counts(motifs)
        if self.config.direction == "more_is_better":
            self._sign = -1.0
        elif self.config.direction == "fewer_is_better":
            self._sign = 1.0
        else:
            try:
                tau = kendall_tau_b(counts, y)
            except ValueError:  # all training cells share one count: no evidence either way
                tau = 0.0
            self._sign = 1.0 if tau > 0 else -1.0
        return self

    def query(self, motifs: Sequence[Motif]) -> np.ndarray:
        """``sign * count`` per cell, float64 ``(len(motifs),)``; lower = better."""
        if self._sign is None:
            raise NotFittedError("ParamCountPredictor.query called before fit; call fit first")
        return self._sign * self.counts(motifs)
