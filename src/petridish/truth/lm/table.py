"""Tables of language-model losses for cells: rows, the CSV and its JSON record.

Contract:

* ``CellTableRow``: one measured cell (``val_loss``/``test_loss`` NaN unless ``ok``).
* ``write_cell_table(rows, csv_path, meta)`` writes the CSV (columns ``digest``, ``status``,
  ``val_loss``, ``test_loss``, ``seconds``, ``recipe``: the canonical recipe JSON) and, next
  to it, ``<stem>.json`` with ``meta`` (protocol fields, seeds, corpus, space).
* ``cell_table(name)`` reads the bundled table ``petridish/truth/<name>.csv`` as
  ``(cells, losses)``: ``Cell``s and float64 validation losses (NaN for a diverged cell);
  ``cell_table_meta(name)`` its JSON record. ``read_cell_table(path)`` reads any such CSV.
  A missing or malformed file is a ``ValueError`` naming it.

Measuring a table (drawing cells of a space, training them through the store, on an
executor) is ``petridish.search.tables``: it uses the store, the execution layer and the
spaces, all above this package.
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from petridish.motifs.cell import Cell
from petridish.truth.cell_tables import cell_table, cell_table_meta, read_cell_table

__all__ = [
    "CellTableRow",
    "cell_table",
    "cell_table_meta",
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
