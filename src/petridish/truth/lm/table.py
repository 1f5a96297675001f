"""Tables of language-model losses for cells of a space, measured through the store.

Contract:

* ``measure_cell_table(cells, evaluator, store, seed)`` evaluates ``cells`` through
  ``Store.evaluate_many`` (a rerun against the same database trains only what is missing)
  and returns one ``CellTableRow`` per cell, in order.
* ``write_cell_table(rows, csv_path, meta)`` writes the CSV (columns ``digest``, ``status``,
  ``val_loss``, ``test_loss``, ``seconds``, ``recipe``: the canonical recipe JSON) and, next
  to it, ``<stem>.json`` with ``meta`` (protocol fields, seeds, corpus, space).
* ``cell_table(name)`` reads the bundled table ``petridish/truth/<name>.csv`` as
  ``(cells, losses)``: ``Cell``s and float64 validation losses (NaN for a diverged cell);
  ``cell_table_meta(name)`` its JSON record. ``read_cell_table(path)`` reads any such CSV.
  A missing or malformed file is a ``ValueError`` naming it.
"""

from __future__ import annotations

import csv
import json
import math
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from petridish.motifs.cell import Cell
from petridish.truth.cell_tables import cell_table, cell_table_meta, read_cell_table

if TYPE_CHECKING:
    from petridish.evaluators.base import Evaluator
    from petridish.store import Store

__all__ = [
    "CellTableRow",
    "cell_table",
    "cell_table_meta",
    "measure_cell_table",
    "read_cell_table",
    "write_cell_table",
]

_COLUMNS = ("digest", "status", "val_loss", "test_loss", "seconds", "recipe")


@dataclass(frozen=True)
class CellTableRow:
    """One measured cell: ``val_loss``/``test_loss`` NaN unless ``status == "ok"``."""

    cell: Cell
    status: str
    val_loss: float
    test_loss: float
    seconds: float


def measure_cell_table(
    cells: Sequence[Cell],
    evaluator: Evaluator,
    store: Store,
    seed: int,
    *,
    batch_size: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> list[CellTableRow]:
    """Evaluate ``cells`` through ``store`` (resumable); one row per cell, in order."""
    evs = store.evaluate_many(cells, evaluator, seed, progress, batch_size=batch_size)
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


def write_cell_table(
    rows: Sequence[CellTableRow], csv_path: str | os.PathLike[str], meta: Mapping[str, Any]
) -> tuple[Path, Path]:
    """Write the CSV and its ``.json`` record; returns both paths."""
    path = Path(csv_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(_COLUMNS)
        for r in rows:
            writer.writerow(
                [
                    r.cell.digest,
                    r.status,
                    repr(r.val_loss),
                    repr(r.test_loss),
                    f"{r.seconds:.3f}",
                    json.dumps(r.cell.to_recipe(), sort_keys=True),
                ]
            )
    meta_path = path.with_suffix(".json")
    meta_path.write_text(json.dumps(dict(meta), indent=2, sort_keys=True) + "\n", "utf-8")
    return path, meta_path
