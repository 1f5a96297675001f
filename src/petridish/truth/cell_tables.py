"""Reading language-model cell tables (``(cells, losses)``), bundled or from a path.

The writing and measuring side is ``petridish.truth.lm.table`` (kept apart so that
``petridish.truth`` never imports the trainer). Contract: ``cell_table(name)`` reads the
bundled ``petridish/truth/<name>.csv`` (columns include ``recipe``, the canonical recipe
JSON, and ``val_loss``) as ``Cell``s and float64 losses (NaN for a diverged cell);
``cell_table_meta(name)`` its JSON record; ``read_cell_table(path)`` any such CSV. A missing
or malformed file is a ``ValueError`` naming it.
"""

from __future__ import annotations

import csv
import io
import json
import os
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from petridish.motifs.cell import Cell

__all__ = ["cell_table", "cell_table_meta", "read_cell_table"]


def _parse(text: str, where: str) -> tuple[list[Cell], np.ndarray]:
    reader = csv.DictReader(io.StringIO(text))
    if reader.fieldnames is None or not {"recipe", "val_loss"} <= set(reader.fieldnames):
        raise ValueError(f"{where} needs columns recipe and val_loss, has {reader.fieldnames}")
    cells, losses = [], []
    try:
        for row in reader:
            cells.append(Cell.from_recipe(row["recipe"]))
            losses.append(float(row["val_loss"]))
    except (TypeError, ValueError) as err:
        raise ValueError(f"{where} has a malformed row: {err}") from None
    return cells, np.asarray(losses, np.float64)


def read_cell_table(path: str | os.PathLike[str]) -> tuple[list[Cell], np.ndarray]:
    """``(cells, losses)`` of a table CSV written by ``write_cell_table``."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as err:
        raise ValueError(f"cannot read cell table {path}: {err}") from None
    return _parse(text, str(path))


def _bundled(name: str, suffix: str) -> str:
    if not name or "/" in name or "." in name:
        raise ValueError(f"bad cell table name {name!r}")
    resource = resources.files("petridish").joinpath("truth", f"{name}{suffix}")
    try:
        return resource.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ValueError(
            f"no bundled cell table {name!r} (petridish/truth/{name}{suffix} is missing); "
            "measure one with petridish truth --space SPACE --out "
            f"src/petridish/truth/{name}.csv (e.g. --space nao for nao_ptb)"
        ) from None


def cell_table(name: str) -> tuple[list[Cell], np.ndarray]:
    """The bundled table ``name`` (e.g. ``"nao_ptb"``) as ``(cells, losses)``."""
    return _parse(_bundled(name, ".csv"), f"petridish/truth/{name}.csv")


def cell_table_meta(name: str) -> dict[str, Any]:
    """The JSON record of the bundled table ``name`` (protocol, seeds, corpus, space)."""
    meta: dict[str, Any] = json.loads(_bundled(name, ".json"))
    return meta
