"""Plot helpers shared by the report figures: z-scores against a reference set, robust
axis limits, and marks for points beyond those limits (nothing slope-specific here)."""

from __future__ import annotations

import warnings

import numpy as np
from matplotlib.axes import Axes
from matplotlib.lines import Line2D

__all__ = ["OFFSCALE_GID", "mark_offscale", "offscale_handle", "robust_limits", "zscore"]

OFFSCALE_GID = "offscale"


def zscore(x: np.ndarray, reference: np.ndarray | None = None) -> np.ndarray:
    """``(x - mean) / std`` along the last axis, mean and std over the ``reference`` mask.

    Non-finite values become NaN and are ignored by the statistics. Where the reference
    holds fewer than two finite values or has zero spread, all positions are the reference;
    a constant curve is only centred.
    """
    x = np.asarray(x, dtype=np.float64)
    x = np.where(np.isfinite(x), x, np.nan)
    everywhere = np.ones(x.shape[-1], dtype=bool)
    ref = everywhere if reference is None else np.asarray(reference, dtype=bool)

    def stats(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        part = x[..., mask]
        enough = np.isfinite(part).sum(axis=-1, keepdims=True) >= 2
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN rows stay NaN
            mean = np.nanmean(part, axis=-1, keepdims=True)
            sd = np.nanstd(part, axis=-1, keepdims=True)
        ok = enough & np.isfinite(sd) & (sd > 0)
        return np.where(ok, mean, np.nan), np.where(ok, sd, np.nan)

    mean, sd = stats(ref)
    all_mean, all_sd = stats(everywhere)
    mean, sd = np.where(np.isnan(sd), all_mean, mean), np.where(np.isnan(sd), all_sd, sd)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        centre = np.nanmean(x, axis=-1, keepdims=True) if x.shape[-1] else 0.0
    flat = np.isnan(sd)
    return (x - np.where(flat, np.nan_to_num(centre), mean)) / np.where(flat, 1.0, sd)


def robust_limits(
    values: np.ndarray, whisker: float = 1.5, pad: float = 0.06
) -> tuple[float, float]:
    """y limits covering the finite ``values`` except outliers beyond ``whisker`` IQRs.

    The range is ``[max(min, q25 - w*IQR), min(max, q75 + w*IQR)]`` widened by ``pad`` of
    its span; with no finite values it is (-1, 1).
    """
    v = np.asarray(values, dtype=np.float64).ravel()
    v = v[np.isfinite(v)]
    if v.size == 0:
        return -1.0, 1.0
    q25, q75 = np.percentile(v, [25, 75])
    iqr = q75 - q25
    lo = max(float(v.min()), q25 - whisker * iqr) if iqr > 0 else float(v.min())
    hi = min(float(v.max()), q75 + whisker * iqr) if iqr > 0 else float(v.max())
    span = hi - lo if hi > lo else max(abs(hi), 1.0)
    return lo - pad * span, hi + pad * span


def mark_offscale(
    ax: Axes,
    x: np.ndarray,
    y: np.ndarray,
    limits: tuple[float, float],
    color: str,
    *,
    most_extreme_only: bool = False,
) -> int:
    """Triangles at the axis edge where ``y`` leaves ``limits`` (``^`` above, ``v`` below),
    the most extreme value of each side printed beside its triangle.

    ``most_extreme_only`` draws one triangle per side, at that most extreme point (for
    curves whose off-scale points are one run, e.g. a best-so-far curve's start). The
    triangles carry ``gid=OFFSCALE_GID``. Returns the number of points off scale.
    """
    lo, hi = limits
    x, y = np.asarray(x), np.asarray(y, dtype=np.float64)
    n = 0
    for side, edge, marker, dy in (("above", hi, "^", -11), ("below", lo, "v", 4)):
        out = (y > hi) if side == "above" else (y < lo)
        out &= np.isfinite(y)
        if not out.any():
            continue
        n += int(out.sum())
        i = int(np.argmax(np.where(out, np.abs(y), -np.inf)))
        shown = np.flatnonzero(out) if not most_extreme_only else np.array([i])
        ax.plot(
            x[shown],
            np.full(shown.size, edge),
            ls="none",
            marker=marker,
            ms=7,
            color=color,
            mec="k",
            mew=0.6,
            clip_on=False,
            zorder=5,
            gid=OFFSCALE_GID,
        )
        ax.annotate(
            f"{y[i]:.3g}",
            (float(x[i]), edge),
            xytext=(7, dy),
            textcoords="offset points",
            fontsize=7,
            color=color,
            bbox={"fc": "white", "ec": "none", "alpha": 0.8, "pad": 0.5},
            zorder=6,
        )
    return n


def offscale_handle(label: str) -> Line2D:
    """An invisible line whose legend entry explains the edge triangles."""
    return Line2D(
        [],
        [],
        ls="none",
        marker="^",
        ms=7,
        color="0.6",
        mec="k",
        mew=0.6,
        label=label,
    )
