"""End-to-end experiments of the paper, as functions returning frozen report records."""

from petridish.experiments.slope import (
    SeedResult,
    SlopeExperiment,
    SlopeReport,
    run_slope_experiment,
    split_band,
)

__all__ = ["SeedResult", "SlopeExperiment", "SlopeReport", "run_slope_experiment", "split_band"]
