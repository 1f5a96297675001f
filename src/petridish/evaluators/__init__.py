"""Ground-truth evaluators: turn a motif and a seed into an ``Outcome``.

``base`` holds the contract (``Outcome``, ``Evaluator``); ``mnist_slope`` the sigmoid-slope
evaluator over the MNIST MLP trainer; ``tabular`` the NAS-Bench-NLP pool and its look-up
evaluator (``search.oracle.TabularOracle`` adds its search space).
"""

from petridish.evaluators.base import (
    STATUSES,
    Evaluator,
    GroundTruthUnavailable,
    Outcome,
    Status,
    evaluate_batch,
    has_evaluate_many,
)
from petridish.evaluators.mnist_slope import (
    MnistSlopeEvaluator,
    measure_slopes_into_store,
    slope_table_from_evaluations,
)
from petridish.evaluators.tabular import (
    NasBenchNLPPool,
    PoolCounts,
    PoolEntry,
    TabularEvaluator,
    nasbench_nlp_pool,
)

__all__ = [
    "STATUSES",
    "Evaluator",
    "GroundTruthUnavailable",
    "MnistSlopeEvaluator",
    "NasBenchNLPPool",
    "Outcome",
    "PoolCounts",
    "PoolEntry",
    "Status",
    "TabularEvaluator",
    "evaluate_batch",
    "has_evaluate_many",
    "measure_slopes_into_store",
    "nasbench_nlp_pool",
    "slope_table_from_evaluations",
]
