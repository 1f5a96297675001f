"""Figures in the style of the paper's Figure 1 (dish vs NN surrogate vs ground truth over
slope, training band shaded) and Figure 4 (the random-data dish).

Losses and predictor scores have different scales, so every curve is z-scored:
``(x - mean) / std``. By default (``normalise="band"``) mean and std are those of the
curve's values at the slopes inside the training band (where the training and validation
slopes are drawn from, and where the dish's z-scored loss matched them); ``"all"`` uses all
slopes of the table. The band is the better reference: the ground truth at slope 0.01 is at
chance accuracy (loss ~0.9 against ~0.04 elsewhere), and z-scored over all slopes that one
point sits near 10 and squeezes the rest of the curve, peak included, into a flat line.

Predictor curves show the median over seeds with a 25-75% band over seeds (the band needs
two seeds). The y axis spans a robust range of the plotted lines (their quartiles widened by
1.5 interquartile ranges, the Tukey fences, never beyond the data); points beyond it are
marked at the edge with a triangle (``gid="offscale"``) and the most extreme value of each
curve is printed.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Literal

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from petridish._files import atomic_write_figure  # noqa: E402
from petridish.experiments.slope import SlopeReport  # noqa: E402
from petridish.report.plotting import (  # noqa: E402
    OFFSCALE_GID,
    mark_offscale,
    offscale_handle,
    robust_limits,
    zscore,
)

__all__ = [
    "OFFSCALE_GID",
    "Normalise",
    "figure1",
    "figure4",
    "robust_limits",
    "slope_figure",
    "zscore",
]

Normalise = Literal["band", "all"]

_STYLE = {
    "dish": ("Synthetic Petri Dish", "tab:blue"),
    "nn_surrogate": ("NN surrogate", "tab:orange"),
    "random_dish": ("Dish on random data (no outer loop)", "tab:green"),
}


def slope_figure(
    report: SlopeReport,
    predictors: tuple[str, ...],
    title: str,
    *,
    normalise: Normalise = "band",
) -> Figure:
    """The figure (not saved): ground truth and ``predictors`` against slope, z-scored."""
    if normalise not in ("band", "all"):
        raise ValueError(f"normalise must be 'band' or 'all', got {normalise!r}")
    slopes = np.asarray(report.slopes, dtype=np.float64)
    lo_band, hi_band = report.experiment.band
    in_band = (slopes >= lo_band) & (slopes <= hi_band)
    ref = in_band if normalise == "band" else np.ones_like(in_band)
    where = f"the {int(ref.sum())} slopes in the band" if normalise == "band" else "all slopes"

    truth = zscore(np.asarray(report.losses), ref)
    lines: list[tuple[str, str, np.ndarray]] = [("ground truth", "k", truth)]
    bands: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    n_seeds = len(report.seeds)
    for name in predictors:
        curves = zscore(np.array([s.scores[name] for s in report.seeds]), ref)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # slopes every seed scored NaN
            median = np.nanmedian(curves, axis=0)
            if n_seeds >= 2:
                q25, q75 = np.nanpercentile(curves, [25, 75], axis=0)
                bands[name] = (q25, q75)
        lines.append((name, _STYLE.get(name, (name, "C7"))[1], median))

    limits = robust_limits(np.concatenate([y for _, _, y in lines]))
    fig, ax = plt.subplots(figsize=(9.5, 4.6), dpi=120)
    ax.axvspan(
        lo_band,
        hi_band,
        color="0.92",
        label=f"band {lo_band:g}-{hi_band:g}: training and\nvalidation slopes drawn here",
    )
    best = int(np.nanargmin(np.where(np.isfinite(report.losses), report.losses, np.nan)))
    ax.axvline(
        slopes[best],
        color="k",
        lw=0.8,
        ls=":",
        label=f"ground-truth best slope ({slopes[best]:.3g})",
    )
    ax.plot(slopes, truth, "k-", lw=2, label="ground truth: 1 - validation accuracy")
    n_off = mark_offscale(ax, slopes, truth, limits, "k")
    seeds_text = f"{n_seeds} seed" + ("s" if n_seeds != 1 else "")
    for name, color, median in lines[1:]:
        label = _STYLE.get(name, (name, color))[0]
        spread = ", band: 25-75%" if name in bands else ""
        ax.plot(
            slopes, median, color=color, lw=1.6, label=f"{label}\n(median of {seeds_text}{spread})"
        )
        if name in bands:
            q25, q75 = bands[name]
            ax.fill_between(slopes, q25, q75, color=color, alpha=0.2, lw=0)
        n_off += mark_offscale(ax, slopes, median, limits, color)
    if n_off:
        ax.add_line(offscale_handle("point off scale (at that slope;\nmost extreme value printed)"))
    ax.set_ylim(*limits)
    x_pad = 0.03 * float(np.ptp(slopes)) if slopes.size > 1 else 0.05
    ax.set_xlim(float(slopes.min()) - x_pad, float(slopes.max()) + x_pad)
    ax.set_xlabel("sigmoid slope c")
    ax.set_ylabel("z-score: (x - mean) / std\n(lower is better)")
    ax.set_title(title)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0)
    ax.text(
        0.0,
        -0.16,
        f"Each curve (the ground truth; each predictor's scores per seed) is z-scored with the "
        f"mean and std of its values at {where}.\nThe y axis is cut to a robust range "
        f"(quartiles -/+ 1.5 IQR); points beyond it are marked at the edge, extreme value printed.",
        transform=ax.transAxes,
        fontsize=7,
        color="0.3",
        va="top",
    )
    fig.tight_layout()
    return fig


def _save(fig: Figure, path: Path) -> Path:
    try:
        return atomic_write_figure(fig, path, bbox_inches="tight")
    finally:
        plt.close(fig)


def figure1(report: SlopeReport, path: str | Path, *, normalise: Normalise = "band") -> Path:
    """Ground truth, dish and NN surrogate against slope (paper Figure 1)."""
    fig = slope_figure(
        report, ("dish", "nn_surrogate"), "Sigmoid slope: dish vs NN surrogate", normalise=normalise
    )
    return _save(fig, Path(path))


def figure4(report: SlopeReport, path: str | Path, *, normalise: Normalise = "band") -> Path:
    """The dish on random synthetic data against the learned dish (paper Figure 4)."""
    fig = slope_figure(
        report, ("random_dish", "dish"), "Learned vs random synthetic data", normalise=normalise
    )
    return _save(fig, Path(path))
