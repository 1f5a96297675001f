"""The sigmoid-slope space: ``SlopeSpace`` with MNIST MLP training as ground truth."""

from __future__ import annotations

from pathlib import Path

from petridish.dish.config import DishConfig
from petridish.search.spaces.base import GroundTruth, GroundTruthRequest, SpaceSpec
from petridish.search.spaces.registry import register_space

__all__ = ["SLOPE"]

# ``cli.common.MNIST_HINT`` says the same; the CLI prefers its own wording when it has one.
_HINT = "pass --data-dir with the four MNIST files (or their parent holding mnist/)"


def _load(request: GroundTruthRequest) -> GroundTruth:
    """``SlopeSpace`` over ``MnistSlopeEvaluator`` (``ValueError`` for an unknown protocol)."""
    from petridish.evaluators.mnist_slope import MnistSlopeEvaluator
    from petridish.search.space import SlopeSpace

    data = None if request.data_dir is None else Path(request.data_dir)
    evaluator = MnistSlopeEvaluator(data, request.protocol or "tiny")
    return GroundTruth(SlopeSpace(), evaluator)


SLOPE = register_space(
    SpaceSpec(
        name="slope",
        summary="sigmoid slopes, real MNIST training",
        load=_load,
        evaluators=("mnist_mlp",),
        default_dish=DishConfig.for_slopes,
        default_predictor="dish",
        protocols=("tiny", "cpu", "cpu_table", "paper"),
        default_protocol="tiny",
        downloads=False,
        tabular=False,
        truth="mnist",
        data_hint=_HINT,
    )
)
