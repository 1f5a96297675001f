"""``LanguageModelEvaluator``: ground truth for recurrent cells by language-model training.

Follows the evaluator contract (``petridish.evaluators.base``): ``name`` is ``lm_<corpus>``,
``protocol`` the protocol's ``key`` (``name@digest`` of its settings, so results of changed
settings are never read back as the new ones'; ``spec`` is the ``LMProtocol``);
``evaluate(cell, seed)`` and ``evaluate_many(cells, seed)`` return ``Outcome``s whose
``loss`` is the final validation loss (nats), ``curve`` the per-epoch validation losses, and
``metrics`` the test loss, both perplexities, the last training loss and the seconds per
cell. A cell that diverges is a ``"diverged"`` outcome
whose reason names the epoch; a motif that is not a ``Cell`` is ``"failed"``.

The evaluator is picklable and loads its corpus lazily on first use (a worker process gets
the small object and reads the data itself). A corpus that can be neither found nor
downloaded, or fails its checksum, raises ``GroundTruthUnavailable`` saying how to provide it.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from petridish.data.corpora import CORPORA, Corpus, CorpusUnavailableError, load_corpus
from petridish.data.mnist import ChecksumError
from petridish.evaluators.base import GroundTruthUnavailable, Outcome
from petridish.motifs.base import Motif
from petridish.motifs.cell import Cell
from petridish.truth.lm.protocols import LMProtocol, get_protocol
from petridish.truth.lm.trainer import LMResult, train_cells

__all__ = ["LanguageModelEvaluator", "outcome_from_result"]


def outcome_from_result(result: LMResult) -> Outcome:
    """The evaluator-contract ``Outcome`` of one training record."""
    if result.diverged:
        return Outcome(
            status="diverged",
            curve=result.val_curve,
            metrics={"seconds": result.seconds},
            reason=f"loss became NaN/inf or blew up in epoch {result.diverged_epoch}",
        )
    val = result.val_loss
    return Outcome(
        status="ok",
        loss=val,
        curve=result.val_curve,
        metrics={
            "val_loss": val,
            "val_perplexity": math.exp(min(val, 700.0)),
            "test_loss": result.test_loss,
            "test_perplexity": math.exp(min(result.test_loss, 700.0)),
            "train_loss": result.train_curve[-1],
            "best_val_loss": min(result.val_curve),
            "seconds": result.seconds,
        },
    )


class LanguageModelEvaluator:
    """Train each cell as a word-level language model; see the module docstring.

    ``chunk``: cells trained together in one compiled program (memory grows with it: the
    softmax over the vocabulary dominates).
    """

    def __init__(
        self,
        corpus: str = "ptb",
        protocol: str | LMProtocol = "cpu",
        data_dir: str | os.PathLike[str] | None = None,
        *,
        chunk: int = 8,
        download: bool = True,
    ) -> None:
        if corpus not in CORPORA:
            raise ValueError(f"unknown corpus {corpus!r}; known corpora: {sorted(CORPORA)}")
        if chunk < 1:
            raise ValueError(f"chunk must be a positive int, got {chunk!r}")
        self.corpus = corpus
        self.spec: LMProtocol = get_protocol(protocol)
        self.name = f"lm_{corpus}"
        self.protocol = self.spec.key  # name@digest of the settings: the store key
        self.data_dir = None if data_dir is None else str(Path(data_dir))
        self.chunk = chunk
        self.download = download
        self._data: Corpus | None = None

    def __repr__(self) -> str:
        return f"LanguageModelEvaluator(corpus={self.corpus!r}, protocol={self.protocol!r})"

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_data"] = None  # workers load the corpus themselves
        return state

    def data(self) -> Corpus:
        """The corpus, loaded (and verified) on first use."""
        if self._data is None:
            try:
                self._data = load_corpus(self.corpus, self.data_dir, download=self.download)
            except (CorpusUnavailableError, ChecksumError) as err:
                raise GroundTruthUnavailable(
                    f"the {self.corpus} corpus is not available: {err}",
                    remedy=(
                        "pass data_dir= (or set PETRIDISH_DATA_DIR) to a directory holding "
                        f"'{CORPORA[self.corpus].folder}/' with the verified files"
                    ),
                ) from err
        return self._data

    def evaluate(self, motif: Motif, seed: int) -> Outcome:
        return self.evaluate_many([motif], seed)[0]

    def evaluate_many(self, motifs: Sequence[Motif], seed: int) -> list[Outcome]:
        outcomes: list[Outcome | None] = [None] * len(motifs)
        todo = []
        for i, m in enumerate(motifs):
            if isinstance(m, Cell):
                todo.append(i)
            else:
                outcomes[i] = Outcome(
                    status="failed", reason=f"not a recurrent cell: {type(m).__name__}"
                )
        if todo:
            corpus = self.data()
            for lo in range(0, len(todo), self.chunk):
                idx = todo[lo : lo + self.chunk]
                results = train_cells([motifs[i] for i in idx], self.spec, corpus, seed)
                for i, r in zip(idx, results, strict=True):
                    outcomes[i] = outcome_from_result(r)
        return [o for o in outcomes if o is not None]
