"""Cell tables through the store: resumable measurement, CSV round trip, bundled lookup."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from petridish.evaluators.base import Outcome
from petridish.motifs.base import Motif
from petridish.motifs.cell import Cell, random_genotype
from petridish.store import Store
from petridish.truth import cell_table
from petridish.truth.lm.table import measure_cell_table, read_cell_table, write_cell_table


class CountingEvaluator:
    """A stand-in ground truth: loss = node count / 10; a 1-node genotype diverges."""

    name = "count"
    protocol = "p"

    def __init__(self) -> None:
        self.calls = 0

    def evaluate(self, motif: Motif, seed: int) -> Outcome:
        return self.evaluate_many([motif], seed)[0]

    def evaluate_many(self, motifs: Sequence[Motif], seed: int) -> list[Outcome]:
        self.calls += len(motifs)
        out = []
        for m in motifs:
            assert isinstance(m, Cell)
            if m.n_nodes <= 10:  # the 1-node genotype (9 or 10 primitive nodes)
                out.append(Outcome(status="diverged", reason="loss became NaN in epoch 1"))
            else:
                out.append(Outcome(status="ok", loss=m.n_nodes / 10, metrics={"test_loss": 1.0}))
        return out


def test_measure_resume_and_round_trip(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    cells = [Cell.from_genotype(random_genotype(rng, n)) for n in (1, 2, 3)]
    ev = CountingEvaluator()
    with Store(tmp_path / "t.db") as store:
        rows = measure_cell_table(cells[:2], ev, store, seed=0)
        assert ev.calls == 2
        rows = measure_cell_table(cells, ev, store, seed=0)
        assert ev.calls == 3  # the rerun trains only the new cell
    assert rows[0].status == "diverged" and math.isnan(rows[0].val_loss)
    assert rows[2].val_loss == pytest.approx(cells[2].n_nodes / 10)
    csv_path, meta_path = write_cell_table(rows, tmp_path / "t.csv", {"seed": 0})
    got, losses = read_cell_table(csv_path)
    assert got == cells and np.isnan(losses[0])
    np.testing.assert_allclose(losses[1:], [r.val_loss for r in rows[1:]])
    assert meta_path.read_text().strip().startswith("{")


def test_missing_tables_are_named(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="no bundled cell table 'absent'"):
        cell_table("absent")
    with pytest.raises(ValueError, match="cannot read"):
        read_cell_table(tmp_path / "none.csv")
