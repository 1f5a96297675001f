"""Figures in the style of the paper's Figure 1 (dish vs NN surrogate vs ground truth over
slope, training band shaded) and Figure 4 (the random-data dish).

Every curve is z-normalised over all slopes of the table so that losses of different
scales share one axis; predictor curves show the mean over seeds with a +-1 std band.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from petridish.experiments.slope import SlopeReport  # noqa: E402

_STYLE = {
    "dish": ("Synthetic Petri Dish", "tab:blue"),
    "nn_surrogate": ("NN surrogate", "tab:orange"),
    "random_dish": ("Dish on random data (no outer loop)", "tab:green"),
}


def _z(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    sd = x.std(axis=-1, keepdims=True)
    return (x - x.mean(axis=-1, keepdims=True)) / np.where(sd > 0, sd, 1.0)


def _plot(report: SlopeReport, predictors: tuple[str, ...], title: str, path: Path) -> Path:
    slopes = np.asarray(report.slopes)
    fig, ax = plt.subplots(figsize=(7, 4.2), dpi=120)
    lo, hi = report.experiment.band
    ax.axvspan(lo, hi, color="0.9", label="training / validation band")
    ax.plot(slopes, _z(np.asarray(report.losses)), "k-", lw=2, label="ground truth (1 - accuracy)")
    for name in predictors:
        curves = _z(np.array([s.scores[name] for s in report.seeds]))  # (seeds, slopes)
        finite = np.where(np.isfinite(curves), curves, np.nan)
        mean, sd = np.nanmean(finite, axis=0), np.nanstd(finite, axis=0)
        label, color = _STYLE[name]
        ax.plot(slopes, mean, color=color, lw=1.6, label=f"{label} (mean of {len(curves)} seeds)")
        ax.fill_between(slopes, mean - sd, mean + sd, color=color, alpha=0.2)
    ax.set_xlabel("sigmoid slope c")
    ax.set_ylabel("normalised validation loss (lower is better)")
    ax.set_title(title)
    ax.legend(fontsize=8, loc="upper right")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return path


def figure1(report: SlopeReport, path: str | Path) -> Path:
    """Ground truth, dish and NN surrogate against slope (paper Figure 1)."""
    return _plot(
        report, ("dish", "nn_surrogate"), "Sigmoid slope: dish vs NN surrogate", Path(path)
    )


def figure4(report: SlopeReport, path: str | Path) -> Path:
    """The dish on random synthetic data against the learned dish (paper Figure 4)."""
    return _plot(report, ("random_dish", "dish"), "Learned vs random synthetic data", Path(path))
