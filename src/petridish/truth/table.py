"""Ground-truth tables: measured accuracy per sigmoid slope.

Contract:

* ``SlopeTable`` is an immutable, validated table of ``(slope, accuracy)`` pairs, sorted by
  slope ascending, with read-only float64 arrays of shape ``(rows,)``. ``losses`` is
  ``1 - accuracy`` (lower is better), the convention the rest of the library ranks by.
* ``read_slope_csv`` reads a CSV with a header holding a ``slope`` column and an accuracy
  column (``val_accuracy`` preferred over ``accuracy`` when both are present; names are
  matched case-insensitively after stripping whitespace). Other columns are ignored.
* ``validate_table`` is the one validator behind both, so a table built in code and one read
  from disk obey the same rules: equal lengths, at least ``MIN_ROWS`` rows, finite values,
  slopes positive and unique, accuracies in [0, 1] and not all equal.
* Every problem is a ``TableError`` (a ``ValueError``) whose message names the source, the
  problem, and the row (file line number for CSVs, 0-based index otherwise) or value.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import ArrayLike

__all__ = ["MIN_ROWS", "SlopeTable", "TableError", "read_slope_csv", "validate_table"]

MIN_ROWS = 3
"""Fewest rows a table may have: ranking (and a peak) needs at least three points."""

SLOPE_COLUMN = "slope"
ACCURACY_COLUMNS = ("val_accuracy", "accuracy")  # in order of preference


class TableError(ValueError):
    """A ground-truth table is missing, malformed, or holds values that cannot be right."""


def _locate(i: int, lines: Sequence[int] | None) -> str:
    return f"line {lines[i]}" if lines is not None else f"row {i}"


def validate_table(
    slopes: ArrayLike,
    scores: ArrayLike,
    *,
    source: str,
    lines: Sequence[int] | None = None,
    score_name: str = "accuracy",
    score_bounds: tuple[float, float] | None = (0.0, 1.0),
) -> tuple[np.ndarray, np.ndarray]:
    """Check a slope table and return ``(slopes, scores)`` as float64 ``(rows,)``, slope-sorted.

    ``lines`` maps each row to the line it came from (for messages); ``score_bounds`` is the
    closed range the scores must lie in, or ``None`` to skip that check.
    """
    try:
        s = np.asarray(slopes, dtype=np.float64)
        a = np.asarray(scores, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise TableError(f"{source}: slopes and {score_name} must be numeric ({err})") from None
    if s.ndim != 1 or a.ndim != 1:
        raise TableError(
            f"{source}: slopes and {score_name} must be 1-D, got shapes {s.shape} and {a.shape}"
        )
    if s.shape != a.shape:
        raise TableError(
            f"{source}: {s.shape[0]} slopes but {a.shape[0]} {score_name} values; they must pair up"
        )
    if lines is not None and len(lines) != s.shape[0]:
        raise TableError(f"{source}: got {len(lines)} line numbers for {s.shape[0]} rows")
    n = s.shape[0]
    if n < MIN_ROWS:
        raise TableError(f"{source}: has {n} rows; need at least {MIN_ROWS}")

    for name, col in (("slope", s), (score_name, a)):
        bad = np.flatnonzero(~np.isfinite(col))
        if bad.size:
            i = int(bad[0])
            raise TableError(
                f"{source}: {_locate(i, lines)}: {name} is {float(col[i])!r} (NaN and infinity are "
                f"not allowed; {bad.size} such row(s))"
            )

    bad = np.flatnonzero(s <= 0.0)
    if bad.size:
        i = int(bad[0])
        raise TableError(f"{source}: {_locate(i, lines)}: slope {float(s[i])!r} is not positive")

    if score_bounds is not None:
        lo, hi = score_bounds
        bad = np.flatnonzero((a < lo) | (a > hi))
        if bad.size:
            i = int(bad[0])
            hint = " (percentages? divide by 100)" if hi == 1.0 and a[i] > 1.0 else ""
            raise TableError(
                f"{source}: {_locate(i, lines)}: {score_name} {float(a[i])!r} is outside "
                f"[{lo:g}, {hi:g}]{hint}"
            )

    # Stable sort so that, among duplicates, the first occurrence is reported first.
    order = np.argsort(s, kind="stable")
    s_sorted = s[order]
    dup = np.flatnonzero(s_sorted[1:] == s_sorted[:-1])
    if dup.size:
        j = int(dup[0])
        first, second = int(order[j]), int(order[j + 1])
        raise TableError(
            f"{source}: duplicate slope {float(s_sorted[j])!r} at {_locate(first, lines)} and "
            f"{_locate(second, lines)}"
        )

    if np.all(a == a[0]):
        raise TableError(
            f"{source}: {score_name} is constant ({float(a[0])!r} in all {n} rows); a constant "
            "table cannot rank slopes"
        )

    return s_sorted, a[order]


@dataclass(frozen=True, eq=False)
class SlopeTable:
    """Measured accuracy per sigmoid slope; validated, slope-sorted, read-only.

    ``slopes`` and ``accuracies`` are float64 ``(rows,)``. Construct it with any array-likes;
    they are validated by ``validate_table`` and replaced with sorted read-only copies.
    """

    slopes: np.ndarray
    accuracies: np.ndarray
    source: str = "<memory>"

    def __post_init__(self) -> None:
        s, a = validate_table(self.slopes, self.accuracies, source=self.source)
        s.flags.writeable = False
        a.flags.writeable = False
        object.__setattr__(self, "slopes", s)
        object.__setattr__(self, "accuracies", a)

    @property
    def losses(self) -> np.ndarray:
        """``1 - accuracy``, float64 ``(rows,)``: the lower-is-better score."""
        return 1.0 - self.accuracies

    @property
    def peak_slope(self) -> float:
        """The slope with the highest accuracy (first of any ties, i.e. the smallest slope)."""
        return float(self.slopes[int(np.argmax(self.accuracies))])

    def __len__(self) -> int:
        return int(self.slopes.shape[0])

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, SlopeTable):
            return NotImplemented
        return (
            self.source == other.source
            and np.array_equal(self.slopes, other.slopes)
            and np.array_equal(self.accuracies, other.accuracies)
        )

    def __hash__(self) -> int:
        return hash((self.source, self.slopes.tobytes(), self.accuracies.tobytes()))


def _find_column(fieldnames: Sequence[str], wanted: Sequence[str]) -> str | None:
    """The header entry matching the first of ``wanted`` (case/space-insensitive), if any."""
    normalised = {name.strip().lower(): name for name in fieldnames}
    for w in wanted:
        if w in normalised:
            return normalised[w]
    return None


def _parse_cell(text: str | None, *, path: Path, line: int, column: str) -> float:
    if text is None:
        raise TableError(f"{path}: line {line}: row is too short, no {column!r} cell")
    try:
        return float(text)
    except ValueError:
        raise TableError(f"{path}: line {line}: {column!r} cell {text!r} is not a number") from None


def read_slope_csv(path: str | Path) -> SlopeTable:
    """Read a slope/accuracy CSV into a validated ``SlopeTable`` (see module docstring)."""
    p = Path(path)
    if not p.exists():
        raise TableError(f"slope table not found: {p}")
    if not p.is_file():
        raise TableError(f"slope table is not a regular file: {p}")
    # utf-8-sig: spreadsheets often prepend a BOM that would otherwise glue onto 'slope'.
    with p.open(newline="", encoding="utf-8-sig") as fh:
        reader = csv.DictReader(fh)
        fieldnames = reader.fieldnames
        if not fieldnames:
            raise TableError(f"{p}: file is empty (no header row)")
        slope_col = _find_column(fieldnames, (SLOPE_COLUMN,))
        if slope_col is None:
            raise TableError(
                f"{p}: missing column {SLOPE_COLUMN!r}; found columns {list(fieldnames)}"
            )
        acc_col = _find_column(fieldnames, ACCURACY_COLUMNS)
        if acc_col is None:
            raise TableError(
                f"{p}: missing accuracy column (one of {list(ACCURACY_COLUMNS)}); "
                f"found columns {list(fieldnames)}"
            )
        slopes: list[float] = []
        accs: list[float] = []
        lines: list[int] = []
        for row in reader:
            # line_num counts physical lines read so far, so it is this row's last line.
            line = reader.line_num
            slopes.append(_parse_cell(row.get(slope_col), path=p, line=line, column=slope_col))
            accs.append(_parse_cell(row.get(acc_col), path=p, line=line, column=acc_col))
            lines.append(line)
    if not slopes:
        raise TableError(f"{p}: has a header but no data rows")
    s, a = validate_table(slopes, accs, source=str(p), lines=lines)
    return SlopeTable(s, a, source=str(p))
