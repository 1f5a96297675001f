"""The bundled sigmoid-slope table: MNIST accuracy per slope, measured with this package.

Contract:

* ``slope_table()`` returns ``(slopes, accuracies)`` as float64 arrays, sorted by slope,
  read from the package data file ``truth/slope_table.csv`` (columns ``slope``,
  ``val_accuracy``, ``val_accuracy_std``, ``n_seeds``). The table was produced by
  ``scripts/measure_slope_table.py`` with ``petridish.truth.mnist_mlp.train_slopes``.
* ``slope_table_protocol()`` returns the JSON record written next to it: the protocol's
  fields, the seeds, date, wall time, library versions and the measured agreement with the
  paper's published table.
* ``compare_tables`` is the agreement measure used there and in the tests: Spearman rank
  correlation over the table's slopes against the reference at the same slopes when every
  slope is on the reference's grid, else against the reference linearly interpolated at
  the table's slopes (those inside the reference's range). The bundled table (51 slopes,
  step 0.04) and the paper's (100 slopes, step 2/99) share only 0.01 and 2.01, so its
  recorded agreement uses interpolation.
* A missing or malformed data file raises ``ValueError`` naming the file.
"""

from __future__ import annotations

import csv
import io
import json
from importlib import resources
from typing import Any

import numpy as np
from scipy import stats

__all__ = ["compare_tables", "slope_table", "slope_table_protocol", "slope_table_rows"]

_CSV = "slope_table.csv"
_JSON = "slope_table.json"
_MATCH_TOL = 1e-6  # slopes closer than this are the same grid point


def _read_text(name: str) -> str:
    resource = resources.files("petridish").joinpath("truth", name)
    try:
        return resource.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ValueError(f"bundled data file petridish/truth/{name} is missing") from None


def slope_table_rows() -> list[dict[str, float]]:
    """All rows of the bundled CSV as dicts (``n_seeds`` as float)."""
    text = _read_text(_CSV)
    reader = csv.DictReader(io.StringIO(text))
    needed = {"slope", "val_accuracy"}
    if reader.fieldnames is None or not needed <= set(reader.fieldnames):
        raise ValueError(
            f"petridish/truth/{_CSV} needs columns {sorted(needed)}, has {reader.fieldnames}"
        )
    try:
        return [{k: float(v) for k, v in row.items()} for row in reader]
    except (TypeError, ValueError) as err:
        raise ValueError(f"petridish/truth/{_CSV} has a malformed row: {err}") from None


def slope_table() -> tuple[np.ndarray, np.ndarray]:
    """``(slopes, val_accuracy)`` of the bundled table, sorted by slope."""
    rows = slope_table_rows()
    slopes = np.asarray([r["slope"] for r in rows], np.float64)
    accuracy = np.asarray([r["val_accuracy"] for r in rows], np.float64)
    order = np.argsort(slopes)
    return slopes[order], accuracy[order]


def slope_table_protocol() -> dict[str, Any]:
    """The JSON record of how the bundled table was measured."""
    try:
        record = json.loads(_read_text(_JSON))
    except json.JSONDecodeError as err:
        raise ValueError(f"petridish/truth/{_JSON} is not valid JSON: {err}") from None
    if not isinstance(record, dict):
        raise ValueError(f"petridish/truth/{_JSON} must hold a JSON object")
    return record


def compare_tables(
    slopes: np.ndarray,
    accuracy: np.ndarray,
    ref_slopes: np.ndarray,
    ref_accuracy: np.ndarray,
) -> dict[str, Any]:
    """Agreement of a slope table with a reference table.

    Returns ``method`` ("matching slopes" or "interpolation"), ``n_points``, ``spearman``,
    ``peak_slope`` (argmax of ``accuracy``) and ``ref_peak_slope``.
    """
    slopes = np.asarray(slopes, np.float64)
    accuracy = np.asarray(accuracy, np.float64)
    order = np.argsort(ref_slopes)
    ref_s = np.asarray(ref_slopes, np.float64)[order]
    ref_a = np.asarray(ref_accuracy, np.float64)[order]
    # For each of our slopes, the nearest reference slope.
    nearest = np.abs(slopes[:, None] - ref_s[None, :]).argmin(axis=1)  # (ours,)
    matched = np.abs(ref_s[nearest] - slopes) < _MATCH_TOL
    if matched.all():
        method = "matching slopes"
        ours, theirs = accuracy[matched], ref_a[nearest[matched]]
    else:
        method = "interpolation"
        inside = (slopes >= ref_s[0]) & (slopes <= ref_s[-1])
        ours, theirs = accuracy[inside], np.interp(slopes[inside], ref_s, ref_a)
    if len(ours) < 3:
        raise ValueError(f"tables share only {len(ours)} slopes; need at least 3 to compare")
    rho = float(stats.spearmanr(ours, theirs).statistic)
    return {
        "method": method,
        "n_points": len(ours),
        "spearman": rho,
        "peak_slope": float(slopes[int(np.argmax(accuracy))]),
        "ref_peak_slope": float(ref_s[int(np.argmax(ref_a))]),
    }
