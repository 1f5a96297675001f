"""Ground-truth evaluators: turn a motif and a seed into an ``Outcome``.

``base`` holds the contract (``Outcome``, ``Evaluator``); ``mnist_slope`` the sigmoid-slope
evaluator over the MNIST MLP trainer.
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

__all__ = [
    "STATUSES",
    "Evaluator",
    "GroundTruthUnavailable",
    "MnistSlopeEvaluator",
    "Outcome",
    "Status",
    "evaluate_batch",
    "has_evaluate_many",
    "measure_slopes_into_store",
    "slope_table_from_evaluations",
]
