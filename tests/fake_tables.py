"""A fake ``nao_ptb`` cell table for tests: random 12-node genotypes with made-up losses.

``write_fake_nao_table(folder)`` writes ``folder/nao_ptb.csv`` (and its ``.json``) with
``write_cell_table``, as ``petridish truth --space nao`` would: the first ``n`` cells that
``draw_space_cells(GenotypeSpace(), n, 0)`` gives, losses ``4 + uniform(0, 1)`` (seeded),
NaN (diverged) at the rows in ``diverged``. Writing it takes milliseconds: no training.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from petridish.search.spaces.nao import GenotypeSpace
from petridish.search.tables import draw_space_cells
from petridish.truth.lm.table import CellTableRow, write_cell_table

__all__ = ["write_fake_nao_table"]


def write_fake_nao_table(
    folder: Path, n: int = 40, seed: int = 0, diverged: tuple[int, ...] = (5, 17)
) -> Path:
    """The CSV path of a fake ``nao_ptb`` table of ``n`` cells written under ``folder``."""
    cells = draw_space_cells(GenotypeSpace(), n, 0)
    losses = 4.0 + np.random.default_rng(seed).random(n)
    rows = [
        CellTableRow(
            c,
            "diverged" if i in diverged else "ok",
            math.nan if i in diverged else float(losses[i]),
            math.nan if i in diverged else float(losses[i]) + 0.1,
            1.0,
        )
        for i, c in enumerate(cells)
    ]
    csv_path, _ = write_cell_table(rows, Path(folder) / "nao_ptb.csv", {"name": "fake nao_ptb"})
    return csv_path
