"""The NAS-Bench-NLP tabular oracle as the search uses it: the evaluator plus its space.

The evaluator and the pool live in ``petridish.evaluators.tabular`` (see its contract);
``TabularOracle`` adds ``space()``, the ``CellPoolSpace`` over exactly its pool, which
belongs to the search layer (the evaluators never import the search). The old names
(``OracleCounts``, ``PoolEntry``) stay importable from here.
"""

from __future__ import annotations

from petridish.evaluators.tabular import (
    NasBenchNLPPool,
    OracleCounts,
    PoolCounts,
    PoolEntry,
    TabularEvaluator,
    nasbench_nlp_pool,
)
from petridish.search.space import CellPoolSpace

__all__ = [
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
