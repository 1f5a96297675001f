"""``TablePoolSpace`` (a measured cell table in its base space's encoding), the table
oracle (``CellTableOracle``) and the ``nao_ptb`` space that loads them."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from fake_tables import write_fake_nao_table
from petridish.motifs.cell import Cell
from petridish.search.oracle import CellTableOracle
from petridish.search.space import CellPoolSpace, TablePoolSpace
from petridish.search.spaces import GenotypeSpace, GroundTruthRequest, space_spec
from petridish.truth import read_cell_table

BASE = GenotypeSpace()


@pytest.fixture(scope="module")
def table(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Cell], np.ndarray]:
    path = write_fake_nao_table(tmp_path_factory.mktemp("table"))
    cells, losses = read_cell_table(path)
    return path, cells, losses


def test_genes_are_the_base_encoding_and_realize_is_nearest_free(
    table: tuple[Path, list[Cell], np.ndarray],
) -> None:
    _, cells, _ = table
    space = TablePoolSpace(BASE, tuple(cells[:10]), "t")
    assert space.alphabet == BASE.alphabet
    np.testing.assert_array_equal(space.genes[3], BASE.encode(cells[3]))
    assert space.index_of(cells[3]) == 3
    # A table cell's string realizes to itself; excluded, to the nearest free one.
    row = space.genes[3:4]
    assert space.realize(row, ()) == [cells[3]]
    dist = np.count_nonzero(space.genes != row, axis=1)
    dist[3] = 10**6
    nearest = int(np.argmin(dist))  # first minimum: ties by table order
    assert space.realize(row, {cells[3].digest}) == [cells[nearest]]
    # The same row twice: itself, then the nearest other cell (never a repeat).
    assert space.realize(np.repeat(row, 2, axis=0), ()) == [cells[3], cells[nearest]]
    # A genotype outside the table maps into it; past the table, None.
    outside = BASE.encode(cells[20])[None]
    (m,) = space.realize(outside, ())
    assert m in cells[:10]
    assert space.realize(np.repeat(outside, 11, axis=0), ())[10] is None


def test_same_semantics_as_the_cell_pool(table: tuple[Path, list[Cell], np.ndarray]) -> None:
    """Shared helpers: the same draws of pool rows as ``CellPoolSpace`` for the same rng."""
    _, cells, _ = table
    space = TablePoolSpace(BASE, tuple(cells), "t")
    pool = CellPoolSpace.from_cells(cells, max_nodes=70, max_inputs=12)
    exclude = {c.digest for c in cells[:7]}
    a = space.realize(space.random_genes(np.random.default_rng(4), 45, exclude), exclude)
    b = pool.realize(pool.random_genes(np.random.default_rng(4), 45, exclude), exclude)
    assert a == b
    assert len({m.digest for m in a if m is not None}) == 33 and a[33:] == [None] * 12


def test_bad_tables_are_refused(table: tuple[Path, list[Cell], np.ndarray]) -> None:
    _, cells, _ = table
    with pytest.raises(ValueError, match="non-empty"):
        TablePoolSpace(BASE, (), "t")
    with pytest.raises(ValueError, match="rows 0 and 2 are the same cell"):
        TablePoolSpace(BASE, (cells[0], cells[1], cells[0]), "t")
    with pytest.raises(ValueError, match="table row 0 .* is not a motif of the base space nao"):
        TablePoolSpace(GenotypeSpace(n_nodes=3), (cells[0],), "t")


def test_oracle_ranks_ok_cells_and_diverged_cells_diverge(
    table: tuple[Path, list[Cell], np.ndarray],
) -> None:
    path, cells, losses = table
    oracle = CellTableOracle.from_csv(path, BASE, space_name="nao_ptb")
    assert oracle.name == "nao_ptb_table" and len(oracle) == 40 and oracle.n_ok == 38
    assert oracle.protocol.startswith("val_loss@")
    best = oracle.best(3)
    order = np.argsort(np.where(np.isnan(losses), np.inf, losses), kind="stable")[:3]
    assert best == tuple(cells[i] for i in order)
    assert oracle.best_digests(3) == frozenset(c.digest for c in best)
    assert oracle.evaluate(best[0], seed=7).loss == pytest.approx(losses[order[0]])
    out = oracle.evaluate(cells[5], seed=0)  # NaN in the table
    assert out.status == "diverged" and out.loss is None and math.isnan(oracle.loss(cells[5]))
    assert oracle.calls == 2
    with pytest.raises(ValueError, match=r"k must be an int in \[1, 38\]"):
        oracle.best(39)
    with pytest.raises(ValueError, match="is not one of the 40 cells"):
        oracle.evaluate(Cell.from_genotype((("tanh", 0),)), 0)
    assert oracle.space().pool == tuple(cells) and oracle.space().name == "nao_ptb"
    # Another table (one loss changed) is another protocol: the store never mixes them.
    other = losses.copy()
    other[0] += 1.0
    assert CellTableOracle(cells, other, BASE, space_name="nao_ptb").protocol != oracle.protocol


def test_nao_ptb_loads_a_csv_or_its_folder_and_names_what_is_missing(
    table: tuple[Path, list[Cell], np.ndarray], tmp_path: Path
) -> None:
    path, cells, _ = table
    spec = space_spec("nao_ptb")
    for where in (path, path.parent):
        truth = spec.load(GroundTruthRequest(data_dir=where))
        assert truth.oracle is truth.evaluator and truth.space.pool == tuple(cells)
    with pytest.raises(FileNotFoundError, match="petridish truth --space nao"):
        spec.load(GroundTruthRequest(data_dir=tmp_path))
    with pytest.raises(ValueError, match="no protocols"):
        spec.load(GroundTruthRequest(data_dir=path, protocol="cpu"))
