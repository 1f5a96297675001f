"""Measured tables of a search space: random cells of a space trained through the store.

Contract:

* ``measure_cell_table(cells, evaluator, store, seed)`` evaluates ``cells`` through
  ``Store.evaluate_many`` (a rerun against the same database trains only what is missing)
  and returns one ``CellTableRow`` per cell, in order; with ``executor=`` the missing
  cells run there (``petridish.execution.evaluate_many``; only this process writes).
* ``draw_space_cells(space, n, space_seed)`` draws ``n`` distinct random cells of a search
  space, one at a time (each draw excludes the earlier ones), so the first cells of a
  larger ``n`` are the same cells: a table extended with a larger ``n`` trains only the
  new ones. For ``GenotypeSpace`` this is exactly ``space.realize(space.random_genes(
  default_rng(space_seed), n), ())``.
* ``measure_space_table(space, evaluator, store, n, ...)`` is the two together plus the
  table's JSON record (``space_table_meta``): a ``SpaceTable`` of rows and meta, written by
  ``petridish.truth.lm.table.write_cell_table``. ``petridish truth --space`` and
  ``scripts/measure_lm_table.py`` are thin wrappers around it.

It sits here, above the store, the execution layer and the spaces it uses; the table files
themselves (rows, CSV, JSON, the bundled tables) are ``petridish.truth``'s.
"""

from __future__ import annotations

import dataclasses
import math
import os
import platform
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from petridish._validation import nonnegative_int, positive_int
from petridish.evaluators.base import Evaluator
from petridish.execution import Executor, evaluate_many
from petridish.motifs.cell import Cell
from petridish.search.space import SearchSpace
from petridish.store import Store
from petridish.truth.lm.table import CellTableRow, write_cell_table

__all__ = [
    "SpaceTable",
    "draw_space_cells",
    "measure_cell_table",
    "measure_space_table",
    "space_table_meta",
]


def measure_cell_table(
    cells: Sequence[Cell],
    evaluator: Evaluator,
    store: Store,
    seed: int,
    *,
    batch_size: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    executor: Executor | None = None,
) -> list[CellTableRow]:
    """Evaluate ``cells`` through ``store`` (resumable); one row per cell, in order.

    ``batch_size``: cells per ``evaluate_many`` call in this process (each batch is
    recorded when it returns, so a small one loses little to an interruption); with
    ``executor`` the executor splits the work itself and ``batch_size`` must be None.
    """
    if executor is None:
        evs = store.evaluate_many(cells, evaluator, seed, progress, batch_size=batch_size)
    else:
        evs = evaluate_many(
            store, cells, evaluator, seed, progress, executor=executor, batch_size=batch_size
        )
    rows = []
    for cell, ev in zip(cells, evs, strict=True):
        ok = ev.status == "ok" and ev.loss is not None
        rows.append(
            CellTableRow(
                cell=cell,
                status=ev.status,
                val_loss=float(ev.loss) if ok and ev.loss is not None else math.nan,
                test_loss=float(ev.metrics.get("test_loss", math.nan)) if ok else math.nan,
                seconds=float(ev.wall_seconds),
            )
        )
    return rows


@dataclass(frozen=True)
class SpaceTable:
    """A measured table: its rows (draw order) and its JSON record (``space_table_meta``)."""

    rows: tuple[CellTableRow, ...]
    meta: Mapping[str, Any]

    @property
    def statuses(self) -> dict[str, int]:
        """How many rows have each status (``ok``, ``diverged``, ``failed``)."""
        out: dict[str, int] = {}
        for r in self.rows:
            out[r.status] = out.get(r.status, 0) + 1
        return out

    def write(self, csv_path: str | os.PathLike[str]) -> tuple[Path, Path]:
        """``write_cell_table(rows, csv_path, meta)``: the CSV and its ``.json`` record."""
        return write_cell_table(self.rows, csv_path, self.meta)


def draw_space_cells(space: SearchSpace, n: int, space_seed: int = 0) -> list[Cell]:
    """``n`` distinct random cells of ``space``, prefix-stable in ``n`` (module docstring).

    ``ValueError`` when the space holds motifs that are not ``Cell``s or runs out of free
    motifs before ``n``.
    """
    n = positive_int(n, "n")
    rng = np.random.default_rng(nonnegative_int(space_seed, "space_seed"))
    cells: list[Cell] = []
    taken: set[str] = set()
    for i in range(n):
        # One row at a time, excluding the earlier ones: row i never depends on n, which a
        # whole-batch draw (a permutation, for a pool space) would not guarantee.
        (motif,) = space.realize(space.random_genes(rng, 1, taken), taken)
        if motif is None:
            raise ValueError(f"space {space.name!r} ran out of free motifs after {i} of {n}")
        if not isinstance(motif, Cell):
            raise ValueError(
                f"space {space.name!r} holds {type(motif).__name__} motifs, not cells: a "
                "cell table needs a cell space"
            )
        cells.append(motif)
        taken.add(motif.digest)
    return cells


def _space_record(space: SearchSpace) -> dict[str, Any]:
    """The space's name and, for a dataclass space (``GenotypeSpace``), its fields."""
    record: dict[str, Any] = {"name": space.name}
    if dataclasses.is_dataclass(space) and not isinstance(space, type):
        for f in dataclasses.fields(space):
            value = getattr(space, f.name)
            if f.init and isinstance(value, str | int | float | bool):
                record[f.name] = value
    return record


def space_table_meta(
    space: SearchSpace,
    evaluator: Evaluator,
    rows: Sequence[CellTableRow],
    *,
    name: str,
    space_seed: int,
    seed: int,
    wall_seconds: float | None = None,
) -> dict[str, Any]:
    """The table's JSON record: space (and ``n_nodes``), corpus, protocol fields (an
    evaluator with an ``LMProtocol`` ``spec``; else its protocol name), seeds, counts,
    seconds per cell and the machine."""
    as_dict = getattr(getattr(evaluator, "spec", None), "as_dict", None)
    protocol = as_dict() if callable(as_dict) else evaluator.protocol
    record = _space_record(space)
    seconds = [r.seconds for r in rows]
    return {
        "name": name,
        "space": record,
        "n_nodes": record.get("n_nodes"),
        "space_seed": space_seed,
        "training_seed": seed,
        "evaluator": evaluator.name,
        "corpus": getattr(evaluator, "corpus", None),
        "protocol": protocol,
        "cells": len(rows),
        "ok": sum(r.status == "ok" for r in rows),
        "diverged": sum(r.status == "diverged" for r in rows),
        "failed": sum(r.status == "failed" for r in rows),
        # Stored rows keep the seconds of the run that measured them, so this is the cost of
        # a cell wherever it was trained, not of this call (which may have read them back).
        "mean_seconds_per_cell": float(np.mean(seconds)) if seconds else None,
        "wall_seconds_this_run": wall_seconds,
        "machine": platform.platform(),
    }


def measure_space_table(
    space: SearchSpace,
    evaluator: Evaluator,
    store: Store,
    n: int,
    *,
    space_seed: int = 0,
    seed: int = 0,
    name: str | None = None,
    batch_size: int | None = None,
    executor: Executor | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> SpaceTable:
    """Draw ``n`` cells of ``space`` (``draw_space_cells``), train them with ``evaluator``
    and training seed ``seed`` through ``store`` (``measure_cell_table``: resumable, on
    ``executor`` when given) and return the rows with their record.

    ``name`` (default ``<space>_<corpus>``, e.g. ``nao_ptb``, or the space's name for an
    evaluator without a corpus) names the table in its record.
    """
    seed = nonnegative_int(seed, "seed")
    cells = draw_space_cells(space, n, space_seed)
    corpus = getattr(evaluator, "corpus", None)
    if name is None:
        name = space.name if corpus is None else f"{space.name}_{corpus}"
    t0 = time.perf_counter()
    rows = measure_cell_table(
        cells, evaluator, store, seed, batch_size=batch_size, progress=progress, executor=executor
    )
    meta = space_table_meta(
        space,
        evaluator,
        rows,
        name=name,
        space_seed=space_seed,
        seed=seed,
        wall_seconds=time.perf_counter() - t0,
    )
    return SpaceTable(tuple(rows), meta)
