"""The tabular oracles as the search uses them: an evaluator plus its space.

The evaluators and the pool live in ``petridish.evaluators.tabular`` (see its contract);
``TabularOracle`` adds ``space()``, the ``CellPoolSpace`` over exactly its NAS-Bench-NLP
pool, and ``CellTableOracle`` adds ``space()``, the ``TablePoolSpace`` of a measured cell
table in its base space's encoding; spaces belong to the search layer (the evaluators
never import the search). The old names (``OracleCounts``, ``PoolEntry``) stay importable
from here.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np

from petridish.evaluators.tabular import (
    CellTableEvaluator,
    NasBenchNLPPool,
    OracleCounts,
    PoolCounts,
    PoolEntry,
    TabularEvaluator,
    nasbench_nlp_pool,
)
from petridish.motifs.cell import Cell
from petridish.search.space import CellPoolSpace, SearchSpace, TablePoolSpace

__all__ = [
    "CellTableEvaluator",
    "CellTableOracle",
    "NasBenchNLPPool",
    "OracleCounts",
    "PoolCounts",
    "PoolEntry",
    "TabularEvaluator",
    "TabularOracle",
    "nasbench_nlp_pool",
]


class TabularOracle(TabularEvaluator):
    """``TabularEvaluator`` with the search space over its pool (``space()``)."""

    def space(self) -> CellPoolSpace:
        """The search space over exactly this pool (same cells, same order)."""
        return CellPoolSpace.from_cells(list(self.pool), max_nodes=self.max_nodes)


class CellTableOracle(CellTableEvaluator):
    """``CellTableEvaluator`` with ``space()``: the ``TablePoolSpace`` of its cells over
    ``base`` (e.g. ``GenotypeSpace(12)``), named ``space_name``.

    ``name`` (the evaluator's, keying the store) defaults to ``<space_name>_table``.
    """

    def __init__(
        self,
        cells: Sequence[Cell],
        losses: Sequence[float] | np.ndarray,
        base: SearchSpace,
        *,
        space_name: str,
        name: str | None = None,
    ) -> None:
        super().__init__(cells, losses, name=name or f"{space_name}_table")
        # Built once here: the space checks every cell against the base encoding, so a table
        # of another space fails at load, not at the first search.
        self._space = TablePoolSpace(base, self.cells, space_name)

    @classmethod
    def from_csv(
        cls,
        path: str | os.PathLike[str],
        base: SearchSpace,
        *,
        space_name: str,
        name: str | None = None,
    ) -> CellTableOracle:
        """The table CSV at ``path`` (``read_cell_table``: ``ValueError`` naming it)."""
        from petridish.truth.cell_tables import read_cell_table

        cells, losses = read_cell_table(path)
        return cls(cells, losses, base, space_name=space_name, name=name)

    def space(self) -> TablePoolSpace:
        """The search space over exactly this table (same cells, same order)."""
        return self._space
