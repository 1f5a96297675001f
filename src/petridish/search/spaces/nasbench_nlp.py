"""The NAS-Bench-NLP space: the benchmark's WikiText-2 cell pool, looked up in its table."""

from __future__ import annotations

from petridish.dish.config import DishConfig
from petridish.search.spaces.base import GroundTruth, GroundTruthRequest, SpaceSpec
from petridish.search.spaces.registry import register_space

__all__ = ["NASBENCH_NLP", "SEARCH_CELL_DISH", "search_cell_dish"]

# Cells: the search refits its dish every iteration on all ground truth so far, with the cell
# default itself (``DishConfig.for_cells()``: Table 4's inner loop, 10 outer steps at lr
# 0.02), so the dish a search uses is the one the predictor benchmark measures (issue 17).
# Before, the search held a quarter of the results out and stopped the outer loop (lr 0.1)
# once they stopped improving: measured as a predictor at 40 cells it ranked held-out cells
# at Kendall 0.290 against the random-data dish's 0.339 (seeds 0-2), while the small step
# ranks them better than the random data; the guarded dish is still
# ``for_cells(outer_steps=20, outer_lr=0.1, val_fraction=0.25, patience=3, retries=0)``, the
# setting of the README's earlier pool searches. Overrides of ``for_cells()`` go here; pass
# SearchConfig.dish_config (CLI: --set / --config) for any other.
SEARCH_CELL_DISH: dict[str, object] = {}


def search_cell_dish() -> DishConfig:
    """``DishConfig.for_cells(**SEARCH_CELL_DISH)``: the cell search's dish (see above)."""
    return DishConfig.for_cells(**SEARCH_CELL_DISH)


def _load(request: GroundTruthRequest) -> GroundTruth:
    """The pool's ``CellPoolSpace`` over the ``TabularOracle`` (``FileNotFoundError`` or
    ``ValueError`` when the logs cannot be read)."""
    from petridish.search.oracle import TabularOracle

    if request.protocol is not None:
        raise ValueError("the NAS-Bench-NLP table has no protocols")
    oracle = TabularOracle.load(request.data_dir, download=request.download)
    return GroundTruth(oracle.space(), oracle, oracle)


NASBENCH_NLP = register_space(
    SpaceSpec(
        name="nasbench_nlp",
        summary="the NAS-Bench-NLP recurrent cells, a tabular oracle",
        load=_load,
        evaluators=("nasbench_nlp_wt2",),
        default_dish=search_cell_dish,
        default_predictor="dish",
        # Issue 17, 10 seeds on the pool schedule with the learned dish: mixed proposals
        # need a median of 16 evaluations to a top-3 cell, the GA 36 (random proposals
        # 17.5); the GA stays available as --strategy ga.
        default_strategy="mixed",
        downloads=True,
        tabular=True,
        truth="table",
        data_hint="pass --data-dir with the NAS-Bench-NLP logs zip (or its folder), or --download",
    )
)
