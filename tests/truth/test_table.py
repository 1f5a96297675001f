"""Tests for petridish.truth.table: CSV reading, validation messages, the real paper table."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from petridish.truth.table import SlopeTable, TableError, read_slope_csv, validate_table
from shared_paths import SHARED_REFERENCE

REFERENCE = SHARED_REFERENCE
PAPER_CSV = REFERENCE / "sigmoid_slope_mnist.csv"


def write(tmp_path: Path, text: str, name: str = "t.csv") -> Path:
    p = tmp_path / name
    p.write_text(text)
    return p


GOOD = "slope,val_accuracy\n0.5,0.91\n0.1,0.95\n1.0,0.80\n"


# --- happy paths --------------------------------------------------------------------------


def test_reads_and_sorts_by_slope(tmp_path: Path) -> None:
    t = read_slope_csv(write(tmp_path, GOOD))
    np.testing.assert_array_equal(t.slopes, [0.1, 0.5, 1.0])
    np.testing.assert_array_equal(t.accuracies, [0.95, 0.91, 0.80])
    np.testing.assert_allclose(t.losses, [0.05, 0.09, 0.20])
    assert t.peak_slope == 0.1
    assert len(t) == 3
    assert t.source.endswith("t.csv")


def test_accuracy_column_and_extra_columns(tmp_path: Path) -> None:
    text = "run, Slope ,note,accuracy\n1,0.2,a,0.5\n2,0.4,b,0.6\n3,0.6,c,0.7\n"
    t = read_slope_csv(write(tmp_path, text))
    np.testing.assert_array_equal(t.slopes, [0.2, 0.4, 0.6])
    np.testing.assert_array_equal(t.accuracies, [0.5, 0.6, 0.7])


def test_val_accuracy_preferred_over_accuracy(tmp_path: Path) -> None:
    text = "slope,accuracy,val_accuracy\n0.1,0.1,0.9\n0.2,0.2,0.8\n0.3,0.3,0.7\n"
    t = read_slope_csv(write(tmp_path, text))
    np.testing.assert_array_equal(t.accuracies, [0.9, 0.8, 0.7])


def test_bom_is_tolerated(tmp_path: Path) -> None:
    p = tmp_path / "bom.csv"
    p.write_bytes(b"\xef\xbb\xbf" + GOOD.encode())
    assert len(read_slope_csv(p)) == 3


def test_table_is_frozen_and_read_only() -> None:
    t = SlopeTable(np.array([0.3, 0.1, 0.2]), np.array([0.5, 0.7, 0.6]))
    np.testing.assert_array_equal(t.slopes, [0.1, 0.2, 0.3])
    with pytest.raises(ValueError, match="read-only"):
        t.slopes[0] = 9.0
    with pytest.raises(AttributeError):
        t.source = "x"  # type: ignore[misc]
    assert t == SlopeTable(np.array([0.1, 0.2, 0.3]), np.array([0.7, 0.6, 0.5]))
    assert hash(t) == hash(SlopeTable(np.array([0.1, 0.2, 0.3]), np.array([0.7, 0.6, 0.5])))


def test_constructor_validates() -> None:
    with pytest.raises(TableError, match="duplicate slope 0.1"):
        SlopeTable(np.array([0.1, 0.1, 0.2]), np.array([0.5, 0.6, 0.7]), source="mem")
    with pytest.raises(TableError, match="mem: 2 slopes but 3 accuracy values"):
        SlopeTable(np.array([0.1, 0.2]), np.array([0.5, 0.6, 0.7]), source="mem")


def test_table_error_is_value_error() -> None:
    assert issubclass(TableError, ValueError)


# --- CSV errors ------------------------------------------------------------------------------


def test_file_not_found(tmp_path: Path) -> None:
    with pytest.raises(TableError, match="not found: .*missing.csv"):
        read_slope_csv(tmp_path / "missing.csv")


def test_directory_is_not_a_file(tmp_path: Path) -> None:
    with pytest.raises(TableError, match="not a regular file"):
        read_slope_csv(tmp_path)


def test_empty_file(tmp_path: Path) -> None:
    with pytest.raises(TableError, match="file is empty"):
        read_slope_csv(write(tmp_path, ""))


def test_header_only(tmp_path: Path) -> None:
    with pytest.raises(TableError, match="header but no data rows"):
        read_slope_csv(write(tmp_path, "slope,val_accuracy\n"))


def test_missing_slope_column_lists_found(tmp_path: Path) -> None:
    with pytest.raises(TableError, match=r"missing column 'slope'.*\['c', 'val_accuracy'\]"):
        read_slope_csv(write(tmp_path, "c,val_accuracy\n0.1,0.9\n"))


def test_missing_accuracy_column_lists_found(tmp_path: Path) -> None:
    with pytest.raises(TableError, match=r"missing accuracy column.*\['slope', 'acc'\]"):
        read_slope_csv(write(tmp_path, "slope,acc\n0.1,0.9\n"))


def test_too_few_rows(tmp_path: Path) -> None:
    with pytest.raises(TableError, match="has 2 rows; need at least 3"):
        read_slope_csv(write(tmp_path, "slope,accuracy\n0.1,0.9\n0.2,0.8\n"))


def test_non_numeric_cell_names_line_and_text(tmp_path: Path) -> None:
    text = "slope,val_accuracy\n0.1,0.9\n0.2,abc\n0.3,0.7\n"
    with pytest.raises(TableError, match=r"line 3: 'val_accuracy' cell 'abc' is not a number"):
        read_slope_csv(write(tmp_path, text))


def test_empty_cell(tmp_path: Path) -> None:
    text = "slope,val_accuracy\n0.1,0.9\n,0.8\n0.3,0.7\n"
    with pytest.raises(TableError, match=r"line 3: 'slope' cell '' is not a number"):
        read_slope_csv(write(tmp_path, text))


def test_short_row(tmp_path: Path) -> None:
    text = "slope,val_accuracy\n0.1,0.9\n0.2\n0.3,0.7\n"
    with pytest.raises(TableError, match="line 3: row is too short"):
        read_slope_csv(write(tmp_path, text))


@pytest.mark.parametrize("bad", ["nan", "inf", "-inf"])
def test_non_finite_names_line(tmp_path: Path, bad: str) -> None:
    text = f"slope,val_accuracy\n0.1,0.9\n0.2,0.8\n0.3,{bad}\n"
    with pytest.raises(TableError, match=r"line 4: accuracy is .*(nan|inf).*not allowed"):
        read_slope_csv(write(tmp_path, text))


def test_nan_slope(tmp_path: Path) -> None:
    text = "slope,val_accuracy\nNaN,0.9\n0.2,0.8\n0.3,0.7\n"
    with pytest.raises(TableError, match="line 2: slope is nan"):
        read_slope_csv(write(tmp_path, text))


def test_duplicate_slopes_names_value_and_lines(tmp_path: Path) -> None:
    text = "slope,val_accuracy\n0.25,0.9\n0.5,0.8\n0.25,0.7\n"
    with pytest.raises(TableError, match="duplicate slope 0.25 at line 2 and line 4"):
        read_slope_csv(write(tmp_path, text))


def test_constant_scores(tmp_path: Path) -> None:
    text = "slope,val_accuracy\n0.1,0.9\n0.2,0.9\n0.3,0.9\n"
    with pytest.raises(TableError, match="accuracy is constant"):
        read_slope_csv(write(tmp_path, text))


@pytest.mark.parametrize("bad", ["0", "-0.5"])
def test_non_positive_slope(tmp_path: Path, bad: str) -> None:
    text = f"slope,val_accuracy\n0.1,0.9\n{bad},0.8\n0.3,0.7\n"
    with pytest.raises(TableError, match="line 3: slope .* is not positive"):
        read_slope_csv(write(tmp_path, text))


def test_accuracy_out_of_range(tmp_path: Path) -> None:
    text = "slope,val_accuracy\n0.1,0.9\n0.2,-0.1\n0.3,0.7\n"
    with pytest.raises(TableError, match=r"line 3: accuracy -0.1 is outside \[0, 1\]"):
        read_slope_csv(write(tmp_path, text))


def test_accuracy_as_percent_hints(tmp_path: Path) -> None:
    text = "slope,val_accuracy\n0.1,90\n0.2,80\n0.3,70\n"
    with pytest.raises(TableError, match="line 2: accuracy 90.0 is outside.*percentages"):
        read_slope_csv(write(tmp_path, text))


def test_validate_table_custom_bounds_and_rows() -> None:
    s, a = validate_table([2.0, 1.0, 3.0], [5.0, 6.0, 7.0], source="x", score_bounds=None)
    np.testing.assert_array_equal(s, [1.0, 2.0, 3.0])
    np.testing.assert_array_equal(a, [6.0, 5.0, 7.0])
    with pytest.raises(TableError, match=r"x: row 1: slope is inf"):
        validate_table([1.0, np.inf, 3.0], [0.1, 0.2, 0.3], source="x")
    with pytest.raises(TableError, match="must be 1-D"):
        validate_table([[1.0, 2.0, 3.0]], [[0.1, 0.2, 0.3]], source="x")


# --- the real paper table ----------------------------------------------------------------------


def test_paper_table() -> None:
    if not PAPER_CSV.exists():
        pytest.skip(f"paper reference table not present at {PAPER_CSV}")
    t = read_slope_csv(PAPER_CSV)
    assert len(t) == 100
    assert 0.2 <= t.peak_slope <= 0.3
    assert np.all(np.diff(t.slopes) > 0)
    assert np.all((t.accuracies > 0.5) & (t.accuracies <= 1.0))
