"""Tabular ground truth over the NAS-Bench-NLP WikiText-2 cells: the pool and its evaluator.

Contract
--------
``TabularEvaluator`` is an ``Evaluator`` (name ``"nasbench_nlp_wt2"``, protocol
``"final_val_loss"``) whose answers are looked up, not trained:

* The *pool* (``nasbench_nlp_pool``, built here once for the search and the predictor
  benchmark alike) is the set of distinct canonical cells (``Cell.from_recipe``, equal up to
  node renaming) among the benchmark's *complete* logs. Logs of the same cell (re-runs,
  or recipes that differ only in node names) are merged: the cell's loss is the mean final
  validation loss (nats) of all its complete runs, its curve the per-epoch validation
  losses of its first complete run (archive order). The pool is in archive order of each
  cell's first complete run.
* Diverged or incomplete logs (``NasBenchNLP.diverged()``: NaN losses, a failed status,
  fewer epochs than planned) are *not* in the pool, even as "diverged" outcomes: a search
  over the pool can only ever meet cells with a recorded result. ``counts`` says how many
  logs were dropped that way (``PoolCounts``), and ``PoolEntry.runs`` how many complete
  runs merged into each cell.
* ``evaluate(motif, seed)`` returns an ``ok`` ``Outcome`` for a pool cell whatever the seed
  (the table holds one number per cell); a motif that is not a pool cell raises
  ``ValueError`` naming its digest. The search loop never asks for one: it only proposes
  pool cells, through ``CellPoolSpace.realize`` (nearest unevaluated pool cell by Hamming
  distance of the canonical gene strings, the same mapping for every strategy);
  ``search.oracle.TabularOracle`` is this evaluator plus ``space()``, that space (the
  search layer's, so it is added there: the evaluators never import the search).
* ``calls`` counts ``evaluate`` calls (tests use it to check that nothing is re-run).

``CellTableEvaluator`` is the same look-up over a measured cell table (``petridish.truth.
cell_table``/``read_cell_table``: cells and validation losses, NaN for a cell that
diverged), with the same oracle methods (``loss``, ``ranked``, ``best``, ``best_digests``,
``pool``, ``calls``). Unlike the NAS-Bench-NLP pool a table keeps its diverged cells: a
search can meet them, and ``evaluate`` answers ``"diverged"`` for them (the table's
training produced no number), ``"ok"`` with the loss for the others; ``ranked``/``best``
rank the ok cells only. Its ``name`` names the table and its ``protocol`` is
``val_loss@<digest>`` where the digest is of the table's (cell, loss) pairs, so a store
never mixes answers of two different tables under one key.
"""

from __future__ import annotations

import hashlib
import math
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Self

import numpy as np

from petridish._logging import logger
from petridish._validation import positive_int
from petridish.evaluators.base import Outcome
from petridish.motifs.base import Motif
from petridish.motifs.cell import Cell

if TYPE_CHECKING:
    from petridish.truth.nasbench_nlp import CellLog, NasBenchNLP

__all__ = [
    "CellTableEvaluator",
    "NasBenchNLPPool",
    "OracleCounts",
    "PoolCounts",
    "PoolEntry",
    "TabularEvaluator",
    "nasbench_nlp_pool",
]


@dataclass(frozen=True)
class PoolEntry:
    """One distinct cell of the pool and its tabulated ground truth."""

    cell: Cell
    loss: float  # mean final validation loss over the cell's complete runs (nats)
    curve: tuple[float, ...]  # validation loss per epoch of its first complete run
    runs: int  # number of complete logs merged into this cell
    names: tuple[str, ...]  # log names of those runs, archive order
    num_params: int


@dataclass(frozen=True)
class PoolCounts:
    """How the pool was built from the archive's logs."""

    logs: int  # every log in the archive
    complete: int  # complete logs (ok)
    diverged: int  # logs left out: NaN losses, failed status or stopped early
    recipes: int  # distinct recipe JSON among the complete logs
    cells: int  # distinct canonical cells = pool size

    @property
    def merged_runs(self) -> int:
        """Complete runs folded into an earlier run of the same cell."""
        return self.complete - self.cells


OracleCounts = PoolCounts  # the old name (``search.oracle``)


@dataclass(frozen=True)
class NasBenchNLPPool:
    """The pool: its entries in pool order, the complete logs of each cell and the counts."""

    entries: tuple[PoolEntry, ...]
    groups: Mapping[Cell, tuple[CellLog, ...]]  # complete logs per cell, archive order
    counts: PoolCounts
    source: str = ""

    @property
    def cells(self) -> tuple[Cell, ...]:
        return tuple(e.cell for e in self.entries)

    @property
    def losses(self) -> np.ndarray:
        """float64 ``(cells,)``: each cell's mean final validation loss (nats)."""
        return np.array([e.loss for e in self.entries], np.float64)


def nasbench_nlp_pool(logs: NasBenchNLP | Iterable[CellLog], source: str = "") -> NasBenchNLPPool:
    """The pool of ``logs``' complete runs, merged by canonical cell (module docstring)."""
    from petridish.truth.nasbench_nlp import NasBenchNLP

    all_logs = tuple(logs)
    src = source or (logs.source if isinstance(logs, NasBenchNLP) else "")
    groups: dict[Cell, list[CellLog]] = {}
    recipes: set[str] = set()
    for log in all_logs:
        if log.ok:
            groups.setdefault(Cell.from_recipe(log.recipe), []).append(log)
            recipes.add(log.canonical_recipe())
    entries = tuple(
        PoolEntry(
            cell=cell,
            loss=math.fsum(r.final_val_loss for r in runs) / len(runs),
            curve=runs[0].val_losses,
            runs=len(runs),
            names=tuple(r.name for r in runs),
            num_params=runs[0].num_params,
        )
        for cell, runs in groups.items()
    )
    complete = sum(len(runs) for runs in groups.values())
    counts = PoolCounts(
        logs=len(all_logs),
        complete=complete,
        diverged=len(all_logs) - complete,
        recipes=len(recipes),
        cells=len(entries),
    )
    logger.info(
        "NAS-Bench-NLP pool: %d logs, %d complete (%d diverged, left out), %d distinct "
        "recipes, %d distinct cells",
        counts.logs,
        counts.complete,
        counts.diverged,
        counts.recipes,
        counts.cells,
    )
    return NasBenchNLPPool(
        entries=entries,
        groups={cell: tuple(runs) for cell, runs in groups.items()},
        counts=counts,
        source=src,
    )


class TabularEvaluator:
    """Ground truth for NAS-Bench-NLP WikiText-2 cells, by table look-up.

    Not a record: it holds a call counter. The table itself (``entries``) is immutable.
    """

    name: str = "nasbench_nlp_wt2"
    protocol: str = "final_val_loss"

    def __init__(
        self, entries: Sequence[PoolEntry], counts: PoolCounts, *, max_nodes: int = 15
    ) -> None:
        self.entries = tuple(entries)
        self.counts = counts
        self.max_nodes = max_nodes
        if not self.entries:
            raise ValueError("the tabular evaluator needs at least one pool entry, got none")
        self._by_digest: dict[str, PoolEntry] = {}
        for entry in self.entries:
            digest = entry.cell.digest
            if digest in self._by_digest:
                raise ValueError(f"pool cell {digest} appears twice; merge its runs first")
            if not math.isfinite(entry.loss):
                raise ValueError(f"pool cell {digest} has a non-finite loss {entry.loss!r}")
            self._by_digest[digest] = entry
        self._calls = 0

    def __repr__(self) -> str:
        return f"{type(self).__name__}({len(self.entries)} cells, {self.counts})"

    # -- construction -------------------------------------------------------------------
    @classmethod
    def from_benchmark(cls, bench: NasBenchNLP, *, max_nodes: int = 15) -> Self:
        """The pool of ``bench``'s complete logs, merged by canonical cell (module docstring)."""
        pool = nasbench_nlp_pool(bench)
        return cls(pool.entries, pool.counts, max_nodes=max_nodes)

    @classmethod
    def load(
        cls, path_or_dir: str | os.PathLike[str] | None = None, *, download: bool = False
    ) -> Self:
        """Read the logs with ``load_nasbench_nlp`` (no download unless asked)."""
        from petridish.truth.nasbench_nlp import load_nasbench_nlp

        return cls.from_benchmark(load_nasbench_nlp(path_or_dir, download=download))

    # -- the pool -----------------------------------------------------------------------
    @property
    def pool(self) -> tuple[Cell, ...]:
        """The pool cells, in archive order of their first complete run."""
        return tuple(e.cell for e in self.entries)

    def __len__(self) -> int:
        return len(self.entries)

    def __contains__(self, motif: object) -> bool:
        return isinstance(motif, Cell) and motif.digest in self._by_digest

    def entry(self, motif: Motif) -> PoolEntry:
        """The pool entry of ``motif``; ``ValueError`` naming its digest if not in the pool."""
        digest = getattr(motif, "digest", repr(motif))
        if not isinstance(motif, Cell) or digest not in self._by_digest:
            raise ValueError(
                f"motif {digest} ({type(motif).__name__}) is not one of the "
                f"{len(self.entries)} NAS-Bench-NLP pool cells; the search maps proposals "
                f"to pool cells with CellPoolSpace.realize"
            )
        return self._by_digest[digest]

    def loss(self, motif: Motif) -> float:
        return self.entry(motif).loss

    def ranked(self) -> tuple[PoolEntry, ...]:
        """Pool entries best (lowest loss) first; ties by pool order."""
        order = sorted(range(len(self.entries)), key=lambda i: (self.entries[i].loss, i))
        return tuple(self.entries[i] for i in order)

    def best(self, k: int = 1) -> tuple[Cell, ...]:
        """The ``k`` best pool cells, best first."""
        if positive_int(k, "k") > len(self.entries):
            raise ValueError(f"k must be an int in [1, {len(self.entries)}], got {k!r}")
        return tuple(e.cell for e in self.ranked()[:k])

    def best_digests(self, k: int = 3) -> frozenset[str]:
        """Digests of the ``k`` best cells: the targets of the comparison (top 3 ~ top 1%)."""
        return frozenset(c.digest for c in self.best(k))

    # -- the Evaluator protocol ---------------------------------------------------------
    @property
    def calls(self) -> int:
        """How many motifs ``evaluate``/``evaluate_many`` looked up so far."""
        return self._calls

    def evaluate(self, motif: Motif, seed: int) -> Outcome:
        """The tabulated result of a pool cell (``seed`` is ignored: one number per cell)."""
        entry = self.entry(motif)
        self._calls += 1
        return Outcome(
            status="ok",
            loss=entry.loss,
            metrics={
                "val_perplexity": math.exp(entry.loss),
                "runs": float(entry.runs),
                "num_params": float(entry.num_params),
            },
            curve=entry.curve,
        )

    def evaluate_many(self, motifs: Sequence[Motif], seed: int) -> list[Outcome]:
        return [self.evaluate(m, seed) for m in motifs]


def _table_digest(cells: Sequence[Cell], losses: np.ndarray) -> str:
    """A short hex digest of a table's (cell digest, loss) pairs, in table order."""
    h = hashlib.sha256()
    for cell, loss in zip(cells, losses, strict=True):
        h.update(f"{cell.digest}:{float(loss)!r};".encode())
    return h.hexdigest()[:12]


class CellTableEvaluator:
    """Ground truth by look-up in a measured cell table (module docstring).

    ``cells`` and ``losses`` (float64, NaN: diverged) are in table order; ``name`` names
    the table (the store keys its answers by it). Not a record: it holds a call counter.
    """

    def __init__(self, cells: Sequence[Cell], losses: Sequence[float] | np.ndarray, *, name: str):
        self.cells = tuple(cells)
        self.losses = np.asarray(losses, np.float64).copy()  # (N,)
        self.losses.flags.writeable = False
        if not self.cells:
            raise ValueError(f"cell table {name!r} is empty")
        if self.losses.shape != (len(self.cells),):
            raise ValueError(
                f"cell table {name!r}: {len(self.cells)} cells but losses of shape "
                f"{self.losses.shape}"
            )
        self.name = name
        self._row: dict[str, int] = {}
        for i, cell in enumerate(self.cells):
            if not isinstance(cell, Cell):
                raise ValueError(f"cell table {name!r} row {i} is a {type(cell).__name__}")
            if cell.digest in self._row:
                raise ValueError(
                    f"cell table {name!r} rows {self._row[cell.digest]} and {i} are the same "
                    f"cell (digest {cell.digest})"
                )
            self._row[cell.digest] = i
        if np.isinf(self.losses).any():
            raise ValueError(f"cell table {name!r} has an infinite loss (NaN marks diverged)")
        if not np.isfinite(self.losses).any():
            raise ValueError(f"cell table {name!r} has no cell with a loss (all diverged)")
        self.protocol = f"val_loss@{_table_digest(self.cells, self.losses)}"
        self._calls = 0

    def __repr__(self) -> str:
        ok = int(np.isfinite(self.losses).sum())
        return f"{type(self).__name__}({self.name!r}, {len(self.cells)} cells, {ok} ok)"

    # -- the table ----------------------------------------------------------------------
    @property
    def pool(self) -> tuple[Cell, ...]:
        """Every table cell (diverged ones too), in table order."""
        return self.cells

    def __len__(self) -> int:
        return len(self.cells)

    def __contains__(self, motif: object) -> bool:
        return isinstance(motif, Cell) and motif.digest in self._row

    def row(self, motif: Motif) -> int:
        """The table row of ``motif``; ``ValueError`` naming its digest if not in the table."""
        digest = getattr(motif, "digest", repr(motif))
        if not isinstance(motif, Cell) or digest not in self._row:
            raise ValueError(
                f"motif {digest} ({type(motif).__name__}) is not one of the "
                f"{len(self.cells)} cells of table {self.name!r}; the search maps proposals "
                "to table cells with TablePoolSpace.realize"
            )
        return self._row[digest]

    def loss(self, motif: Motif) -> float:
        """The table's validation loss of ``motif`` (NaN: it diverged)."""
        return float(self.losses[self.row(motif)])

    @property
    def n_ok(self) -> int:
        """Cells with a loss (not diverged): the ones ``best`` can rank."""
        return int(np.isfinite(self.losses).sum())

    def ranked(self) -> tuple[Cell, ...]:
        """The cells with a loss, best (lowest) first; ties by table order."""
        ok = [i for i in range(len(self.cells)) if math.isfinite(self.losses[i])]
        return tuple(self.cells[i] for i in sorted(ok, key=lambda i: (self.losses[i], i)))

    def best(self, k: int = 1) -> tuple[Cell, ...]:
        """The ``k`` best cells with a loss, best first."""
        if positive_int(k, "k") > self.n_ok:
            raise ValueError(
                f"k must be an int in [1, {self.n_ok}] (cells of table {self.name!r} with a "
                f"loss), got {k!r}"
            )
        return self.ranked()[:k]

    def best_digests(self, k: int = 3) -> frozenset[str]:
        """Digests of the ``k`` best cells: the targets of a comparison."""
        return frozenset(c.digest for c in self.best(k))

    # -- the Evaluator protocol ---------------------------------------------------------
    @property
    def calls(self) -> int:
        """How many motifs ``evaluate``/``evaluate_many`` looked up so far."""
        return self._calls

    def evaluate(self, motif: Motif, seed: int) -> Outcome:
        """The table's result of a table cell (``seed`` is ignored: one number per cell)."""
        loss = self.loss(motif)
        self._calls += 1
        if not math.isfinite(loss):
            return Outcome(
                status="diverged", reason=f"diverged when table {self.name} was measured"
            )
        return Outcome(status="ok", loss=loss, metrics={"val_perplexity": math.exp(loss)})

    def evaluate_many(self, motifs: Sequence[Motif], seed: int) -> list[Outcome]:
        return [self.evaluate(m, seed) for m in motifs]
