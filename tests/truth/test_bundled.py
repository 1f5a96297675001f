"""The bundled slope table: well-formed, documented, and in agreement with the paper's."""

from __future__ import annotations

import csv

import numpy as np
import pytest

from petridish.truth.bundled import (
    compare_tables,
    slope_table,
    slope_table_protocol,
    slope_table_rows,
)
from petridish.truth.mnist_mlp import PROTOCOLS
from shared_paths import SHARED_REFERENCE

PAPER_TABLE = SHARED_REFERENCE / "sigmoid_slope_mnist.csv"


@pytest.fixture(scope="module")
def paper() -> tuple[np.ndarray, np.ndarray]:
    if not PAPER_TABLE.is_file():
        pytest.skip(f"paper's slope table not found at {PAPER_TABLE} (shared reference absent)")
    with PAPER_TABLE.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    return (
        np.asarray([float(r["slope"]) for r in rows]),
        np.asarray([float(r["val_accuracy"]) for r in rows]),
    )


def test_table_shape_and_ranges() -> None:
    slopes, acc = slope_table()
    assert slopes.shape == acc.shape and len(slopes) >= 50
    assert slopes.min() >= 0.01 - 1e-9 and slopes.max() <= 2.01 + 1e-9
    assert np.all(np.diff(slopes) > 0)  # sorted and unique
    assert np.all((acc > 0) & (acc < 1))


def test_rows_carry_spread_and_seed_count() -> None:
    rows = slope_table_rows()
    record = slope_table_protocol()
    for row in rows:
        assert row["n_seeds"] == record["n_seeds"]
        assert 0.0 <= row["val_accuracy_std"] < 0.5


def test_protocol_recorded() -> None:
    record = slope_table_protocol()
    protocol = record["protocol"]
    # The protocol is a named, registered one, and the record matches the registry.
    assert protocol["name"] in PROTOCOLS
    assert protocol == PROTOCOLS[protocol["name"]].as_dict()
    assert record["n_seeds"] == protocol["seeds"] == len(record["seeds"])
    assert record["n_slopes"] == len(slope_table()[0])
    for key in ("date_utc", "wall_seconds", "jax_version", "agreement"):
        assert record[key], key
    assert len(record["mean_learning_curve"]) == protocol["epochs"]


def test_agrees_with_paper(paper: tuple[np.ndarray, np.ndarray]) -> None:
    slopes, acc = slope_table()
    agreement = compare_tables(slopes, acc, *paper)
    assert agreement["n_points"] >= 50
    assert agreement["spearman"] >= 0.9, agreement
    assert 0.15 <= agreement["peak_slope"] <= 0.35, agreement
    # The recorded agreement is what the bundled data gives today.
    recorded = slope_table_protocol()["agreement"]
    assert recorded["spearman"] == pytest.approx(agreement["spearman"], abs=1e-9)
    assert recorded["peak_slope"] == pytest.approx(agreement["peak_slope"])


def test_compare_tables_methods() -> None:
    ref_s = np.linspace(0.0, 1.0, 11)
    ref_a = 1.0 - (ref_s - 0.3) ** 2
    same = compare_tables(ref_s, ref_a, ref_s, ref_a)
    assert same["method"] == "matching slopes" and same["spearman"] == pytest.approx(1.0)
    assert same["peak_slope"] == pytest.approx(0.3) == same["ref_peak_slope"]
    off_grid = np.asarray([0.05, 0.17, 0.33, 0.44, 0.5, 0.78, 0.93])  # 0.5 is on the grid
    interp = compare_tables(off_grid, 1.0 - (off_grid - 0.3) ** 2, ref_s, ref_a)
    assert interp["method"] == "interpolation" and interp["n_points"] == 7
    assert interp["spearman"] == pytest.approx(1.0)
    with pytest.raises(ValueError, match="at least 3"):
        compare_tables(np.asarray([5.0, 6.0]), np.asarray([0.1, 0.2]), ref_s, ref_a)
