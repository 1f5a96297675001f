"""Cell tables: resumable measurement through the store (``petridish.search.tables``, with
the tiny language-model fixtures of this folder), CSV round trip, bundled lookup."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from petridish.data.corpora import Corpus
from petridish.evaluators.base import Outcome
from petridish.motifs.base import Motif
from petridish.motifs.cell import Cell, random_genotype
from petridish.search.spaces.nao import GenotypeSpace
from petridish.search.tables import draw_space_cells, measure_cell_table, measure_space_table
from petridish.store import Store
from petridish.truth import cell_table
from petridish.truth.lm import LanguageModelEvaluator, LMProtocol
from petridish.truth.lm.table import read_cell_table, write_cell_table


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


class CountingLM(LanguageModelEvaluator):
    """The real language-model evaluator, counting the cells it trains."""

    trained = 0

    def evaluate_many(self, motifs: Sequence[Motif], seed: int) -> list[Outcome]:
        self.trained += len(motifs)
        return super().evaluate_many(motifs, seed)


def test_space_draw_is_the_scripts_and_prefix_stable() -> None:
    """The cells of the table measured before (a whole-batch draw) are the same cells."""
    space = GenotypeSpace()
    cells = draw_space_cells(space, 12, space_seed=3)
    before = space.realize(space.random_genes(np.random.default_rng(3), 12), ())
    assert cells == before
    assert draw_space_cells(space, 5, space_seed=3) == cells[:5]
    with pytest.raises(ValueError, match="n must be"):
        draw_space_cells(space, 0)


def test_space_table_through_the_store(
    tmp_path: Path, tiny_protocol: LMProtocol, tiny_corpus: Corpus
) -> None:
    """Real (tiny) training: a rerun trains nothing, a larger n only the new cells, and the
    written table reads back."""
    space = GenotypeSpace(n_nodes=2)
    # Batches of 2 cells of 2 genotype nodes: one program shape, so one compilation.
    ev = CountingLM("ptb", tiny_protocol, chunk=2)
    ev._data = tiny_corpus  # skip the real corpus: the table machinery is tested
    with Store(tmp_path / "t.db") as store:
        first = measure_space_table(space, ev, store, 2, space_seed=1, batch_size=2)
        assert ev.trained == 2
        again = measure_space_table(space, ev, store, 2, space_seed=1, batch_size=2)
        assert ev.trained == 2 and again.rows == first.rows
        more = measure_space_table(space, ev, store, 4, space_seed=1, batch_size=2)
        assert ev.trained == 4  # only the two new cells
    assert more.rows[:2] == first.rows
    meta = dict(more.meta)
    assert meta["name"] == "nao_ptb" and meta["corpus"] == "ptb" and meta["n_nodes"] == 2
    assert meta["space"] == {"name": "nao", "n_nodes": 2, "concat": "all"}
    assert meta["protocol"]["name"] == "tiny_test" and meta["training_seed"] == 0
    assert meta["cells"] == 4 and meta["ok"] + meta["diverged"] + meta["failed"] == 4
    assert meta["mean_seconds_per_cell"] > 0 and meta["space_seed"] == 1
    csv_path, meta_path = more.write(tmp_path / "nao_ptb.csv")
    cells, losses = read_cell_table(csv_path)
    assert cells == [r.cell for r in more.rows]
    np.testing.assert_array_equal(losses, [r.val_loss for r in more.rows])
    assert json.loads(meta_path.read_text())["cells"] == 4


def test_space_table_through_an_executor(tmp_path: Path) -> None:
    """With an executor the missing cells run there; the store still answers a rerun."""
    from petridish.execution import InProcessExecutor

    space = GenotypeSpace(n_nodes=3)
    ev = CountingEvaluator()
    with Store(tmp_path / "t.db") as store:
        with InProcessExecutor(batch_size=1) as executor:
            table = measure_space_table(space, ev, store, 4, executor=executor)
        assert ev.calls == 4 and table.statuses == {"ok": 4}
        again = measure_space_table(space, ev, store, 4)
        assert ev.calls == 4 and again.rows == table.rows
        with pytest.raises(ValueError, match="batch_size"):
            measure_space_table(space, ev, store, 5, executor=executor, batch_size=2)
    assert table.meta["name"] == "nao" and table.meta["corpus"] is None
