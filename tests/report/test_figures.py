"""Slope figures (paper Figures 1 and 4): readable with a chance-accuracy outlier in the
ground truth, the outlier marked at the edge, labels that say what is plotted."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.figure import Figure

from petridish.experiments.slope import SlopeReport
from petridish.report import figure1, figure4
from petridish.report.figures import OFFSCALE_GID, slope_figure
from petridish.report.plotting import robust_limits, zscore

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _texts(fig: Figure) -> str:
    ax = fig.axes[0]
    legend = ax.get_legend()
    parts = [ax.get_ylabel(), ax.get_xlabel(), *(t.get_text() for t in ax.texts)]
    parts += [t.get_text() for t in legend.get_texts()] if legend is not None else []
    return "\n".join(parts)


def _offscale_points(fig: Figure) -> list[tuple[float, float]]:
    points: list[tuple[float, float]] = []
    for line in fig.axes[0].get_lines():
        if line.get_gid() == OFFSCALE_GID:
            xs = np.asarray(line.get_xdata(), dtype=np.float64)
            ys = np.asarray(line.get_ydata(), dtype=np.float64)
            points += [(float(x), float(y)) for x, y in zip(xs, ys, strict=True)]
    return points


def test_outlier_is_cut_from_the_axis_and_marked(report: SlopeReport) -> None:
    fig = slope_figure(report, ("dish", "nn_surrogate"), "t")
    try:
        ax = fig.axes[0]
        lo, hi = ax.get_ylim()
        slopes = np.asarray(report.slopes)
        band = (slopes >= 0.37) & (slopes <= 1.5)
        truth = zscore(np.asarray(report.losses), band)
        assert truth[0] > hi  # the chance-accuracy slope is beyond the top edge...
        assert (slopes[0], hi) in _offscale_points(fig)  # ...and marked there
        assert np.all((truth[1:] >= lo) & (truth[1:] <= hi))  # every other point is shown
        # The rest of the ground truth fills the axis: its peak is visible, not flattened.
        assert np.ptp(truth[1:]) > 0.5 * (hi - lo)
        assert f"{truth[0]:.3g}" in _texts(fig)  # the cut value is printed
        assert "off scale" in _texts(fig)
    finally:
        plt.close(fig)


def test_labels_say_what_is_normalised_and_what_bands_are(report: SlopeReport) -> None:
    fig = slope_figure(report, ("random_dish", "dish"), "t")
    try:
        text = _texts(fig)
        assert "(x - mean) / std" in fig.axes[0].get_ylabel()
        assert "z-scored with the mean and std of its values at the" in text
        assert "slopes in the band" in text
        assert "median of 3 seeds, band: 25-75%" in text
        assert "ground truth: 1 - validation accuracy" in text
    finally:
        plt.close(fig)


def test_all_slopes_normalisation_and_single_seed(make_report: Callable[..., SlopeReport]) -> None:
    fig = slope_figure(make_report(n_seeds=1), ("dish",), "t", normalise="all")
    try:
        text = _texts(fig)
        assert "values at all slopes" in text
        assert "median of 1 seed)" in text and "25-75%" not in text  # no band from one seed
        assert not fig.axes[0].collections[1:]  # only the training band's span is filled
    finally:
        plt.close(fig)
    with pytest.raises(ValueError, match="normalise"):
        slope_figure(make_report(n_seeds=1), ("dish",), "t", normalise="rank")  # type: ignore[arg-type]


def test_no_outlier_no_marks(make_report: Callable[..., SlopeReport]) -> None:
    fig = slope_figure(make_report(outlier=False), ("dish", "nn_surrogate"), "t")
    try:
        assert _offscale_points(fig) == []
        assert "off scale" not in _texts(fig)
    finally:
        plt.close(fig)


def test_figure_files_are_pngs(report: SlopeReport, tmp_path: Path) -> None:
    for fn, name in ((figure1, "f1.png"), (figure4, "sub/f4.png")):
        path = fn(report, tmp_path / name)
        assert path == tmp_path / name
        assert path.read_bytes()[:8] == PNG_MAGIC
    assert sorted(p.name for p in tmp_path.rglob("*") if p.is_file()) == ["f1.png", "f4.png"]
    assert plt.get_fignums() == []  # figures are closed


def test_nan_scores_do_not_break_the_figure(make_report: Callable[..., SlopeReport]) -> None:
    rep = make_report(n_seeds=2)
    broken = rep.seeds[0].scores | {"dish": (float("nan"),) * len(rep.slopes)}
    seeds = (type(rep.seeds[0])(**{**rep.seeds[0].__dict__, "scores": broken}), rep.seeds[1])
    fig = slope_figure(type(rep)(**{**rep.__dict__, "seeds": seeds}), ("dish",), "t")
    try:
        lo, hi = fig.axes[0].get_ylim()
        assert np.isfinite(lo) and np.isfinite(hi) and lo < hi
    finally:
        plt.close(fig)


def test_zscore_uses_the_reference_slopes() -> None:
    x = np.array([100.0, 1.0, 2.0, 3.0])
    ref = np.array([False, True, True, True])
    z = zscore(x, ref)
    np.testing.assert_allclose(z[1:], [-np.sqrt(1.5), 0.0, np.sqrt(1.5)])
    assert z[0] == pytest.approx((100 - 2) / np.std([1.0, 2.0, 3.0]))
    # Rows are independent; a flat reference falls back to all values; constant stays 0.
    z2 = zscore(np.array([[0.0, 1.0, 1.0, 1.0], [5.0, 5.0, 5.0, 5.0]]), ref)
    np.testing.assert_allclose(z2[0], zscore(np.array([0.0, 1.0, 1.0, 1.0])))
    np.testing.assert_allclose(z2[1], 0.0)
    # Non-finite values are ignored by the statistics and stay NaN.
    z3 = zscore(np.array([np.inf, 1.0, 2.0, 3.0]), ref)
    assert np.isnan(z3[0]) and np.allclose(z3[1:], z[1:])


def test_robust_limits() -> None:
    body = np.linspace(-2.0, 2.0, 50)
    lo, hi = robust_limits(np.append(body, 100.0))
    assert lo < -2.0 and 2.0 < hi < 10.0
    lo, hi = robust_limits(body)  # nothing to cut: data range plus padding
    assert lo == pytest.approx(-2.24) and hi == pytest.approx(2.24)
    assert robust_limits(np.array([np.nan, np.inf])) == (-1.0, 1.0)
    lo, hi = robust_limits(np.full(5, 3.0))
    assert lo < 3.0 < hi
