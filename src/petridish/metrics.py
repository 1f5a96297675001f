"""Ranking metrics for comparing a predictor's scores with ground truth.

Contract:

* Every function takes plain sequences or numpy arrays and returns Python floats (or, for
  ``best_by``, an element of ``values``). Nothing here touches JAX.
* Both ``pred`` and ``true`` are "lower is better" scores (losses, predicted losses). The
  correlation metrics do not care about the direction as long as both arguments share it.
* Inputs are validated: they must be 1-D, of equal length, hold at least two entries
  (``best_by``: at least one) and be finite. Any violation is a ``ValueError`` that names
  the argument and the offending index or value.
* Rank correlations of a constant vector are undefined; ``spearman``, ``kendall_tau_b``,
  ``zscore`` and ``zscored_mse`` raise ``ValueError`` rather than return NaN, so a
  degenerate predictor fails loudly instead of silently poisoning an average.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar, overload

import numpy as np
from numpy.typing import ArrayLike
from scipy import stats

from petridish._validation import integer

T = TypeVar("T")

__all__ = [
    "best_by",
    "kendall_tau_b",
    "precision_at_k",
    "spearman",
    "zscore",
    "zscored_mse",
]


def _as_vector(x: ArrayLike, name: str, *, min_len: int = 2) -> np.ndarray:
    """Return ``x`` as a finite float64 vector ``(n,)`` or raise a ``ValueError``."""
    try:
        arr = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{name} must be numeric, got {x!r}") from err
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {arr.shape}")
    if arr.shape[0] < min_len:
        raise ValueError(f"{name} needs at least {min_len} entries, got {arr.shape[0]}")
    bad = np.flatnonzero(~np.isfinite(arr))
    if bad.size:
        i = int(bad[0])
        kind = "NaN" if np.isnan(arr[i]) else "an infinite value"
        raise ValueError(f"{name} contains {kind} at index {i} ({bad.size} non-finite in total)")
    return arr


def _as_pair(pred: ArrayLike, true: ArrayLike, *, min_len: int = 2) -> tuple[np.ndarray, ...]:
    p = _as_vector(pred, "pred", min_len=min_len)
    t = _as_vector(true, "true", min_len=min_len)
    if p.shape != t.shape:
        raise ValueError(f"pred and true differ in length: {p.shape[0]} vs {t.shape[0]}")
    return p, t


def _require_varying(x: np.ndarray, name: str) -> None:
    if np.all(x == x[0]):
        raise ValueError(
            f"{name} is constant ({float(x[0])!r} everywhere); its ranking is undefined"
        )


def spearman(pred: ArrayLike, true: ArrayLike) -> float:
    """Spearman rank correlation; ties get average ranks. 1.0 = same order, -1.0 = reversed."""
    p, t = _as_pair(pred, true)
    _require_varying(p, "pred")
    _require_varying(t, "true")
    # Pearson correlation of average ranks is Spearman's rho with ties handled.
    rp = stats.rankdata(p)
    rt = stats.rankdata(t)
    return float(np.corrcoef(rp, rt)[0, 1])


def kendall_tau_b(pred: ArrayLike, true: ArrayLike) -> float:
    """Kendall's tau-b: concordant minus discordant pairs, normalised for ties in each input."""
    p, t = _as_pair(pred, true)
    _require_varying(p, "pred")
    _require_varying(t, "true")
    return float(stats.kendalltau(p, t, variant="b").statistic)


def precision_at_k(pred: ArrayLike, true: ArrayLike, k: int) -> float:
    """Fraction of the true best ``k`` (lowest ``true``) among the predicted best ``k``.

    Ties at the k-th place are broken by position (stable sort), so the result is
    deterministic; 1.0 means the predictor's top-k set equals the true top-k set.
    """
    p, t = _as_pair(pred, true)
    n = p.shape[0]
    k = integer(k, "k")
    if not 1 <= k <= n:
        raise ValueError(f"k must be in [1, {n}] for {n} entries, got {k}")
    top_pred = set(np.argsort(p, kind="stable")[:k].tolist())
    top_true = set(np.argsort(t, kind="stable")[:k].tolist())
    return len(top_pred & top_true) / k


def zscore(x: ArrayLike) -> np.ndarray:
    """``(x - mean) / std`` with the population std (ddof=0), as float64 ``(n,)``.

    A constant input has no scale, so it is a ``ValueError`` rather than zeros: a silent
    all-zero vector would make any predictor look perfect under ``zscored_mse``.
    """
    arr = _as_vector(x, "x")
    std = float(arr.std())
    if std == 0.0:
        raise ValueError(f"cannot z-score a constant vector ({float(arr[0])!r} everywhere)")
    return (arr - arr.mean()) / std


def zscored_mse(pred: ArrayLike, true: ArrayLike) -> float:
    """Mean squared error between the z-scored ``pred`` and the z-scored ``true``.

    Scale- and shift-free: equals ``2 * (1 - pearson_r)``; 0.0 is a perfect affine match.
    """
    p, t = _as_pair(pred, true)
    try:
        zp = zscore(p)
    except ValueError as err:
        raise ValueError(f"pred: {err}") from None
    try:
        zt = zscore(t)
    except ValueError as err:
        raise ValueError(f"true: {err}") from None
    return float(np.mean((zp - zt) ** 2))


@overload
def best_by(pred: ArrayLike, values: np.ndarray) -> float: ...


@overload
def best_by(pred: ArrayLike, values: Sequence[T]) -> T: ...


def best_by(pred: ArrayLike, values: np.ndarray | Sequence[T]) -> float | T:
    """The entry of ``values`` (e.g. the slope) that ``pred`` ranks best (lowest).

    ``values`` may be any sequence (slopes, motifs); a numpy array yields a Python float.
    Ties in ``pred`` go to the earliest entry. A single candidate is allowed here.
    """
    p = _as_vector(pred, "pred", min_len=1)
    if len(values) != p.shape[0]:
        raise ValueError(f"pred and values differ in length: {p.shape[0]} vs {len(values)}")
    i = int(np.argmin(p))  # argmin returns the first minimum, hence the tie rule
    if isinstance(values, np.ndarray):
        return float(values[i])
    return values[i]
