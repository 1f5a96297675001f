"""Tests for petridish.metrics: known values, ties, and input validation."""

from __future__ import annotations

import math
from itertools import combinations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from petridish.metrics import (
    best_by,
    kendall_tau_b,
    precision_at_k,
    spearman,
    zscore,
    zscored_mse,
)


def naive_tau_b(x: list[float], y: list[float]) -> float:
    """O(n^2) textbook tau-b: (C - D) / sqrt((n0 - n1) (n0 - n2))."""
    conc = disc = 0
    ties_x = ties_y = 0  # pairs tied in x (resp. y), including pairs tied in both
    n = len(x)
    for i, j in combinations(range(n), 2):
        dx = np.sign(x[i] - x[j])
        dy = np.sign(y[i] - y[j])
        if dx == 0:
            ties_x += 1
        if dy == 0:
            ties_y += 1
        if dx != 0 and dy != 0:
            if dx == dy:
                conc += 1
            else:
                disc += 1
    n0 = n * (n - 1) // 2
    return (conc - disc) / math.sqrt((n0 - ties_x) * (n0 - ties_y))


# --- spearman ---------------------------------------------------------------------------


def test_spearman_perfect_and_reversed() -> None:
    x = [0.1, 0.5, 0.2, 0.9, 0.3]
    assert spearman(x, x) == pytest.approx(1.0)
    assert spearman(x, [-v for v in x]) == pytest.approx(-1.0)
    # Monotone transforms do not change ranks.
    assert spearman(x, np.exp(x)) == pytest.approx(1.0)


def test_spearman_hand_computed() -> None:
    # ranks (1,2,3,4) vs (1,3,2,4): d^2 sum = 2, rho = 1 - 6*2 / (4*15) = 0.8
    assert spearman([1, 2, 3, 4], [10, 30, 20, 40]) == pytest.approx(0.8)


def test_spearman_ties_use_average_ranks() -> None:
    # pred ranks (1.5, 1.5, 3) vs true ranks (1, 2, 3): Pearson of these is sqrt(3)/2.
    assert spearman([1, 1, 2], [1, 2, 3]) == pytest.approx(math.sqrt(3) / 2)


# --- kendall tau-b ------------------------------------------------------------------------


def test_kendall_perfect_and_reversed() -> None:
    x = [3.0, 1.0, 2.0, 5.0]
    assert kendall_tau_b(x, x) == pytest.approx(1.0)
    assert kendall_tau_b(x, [-v for v in x]) == pytest.approx(-1.0)


def test_kendall_hand_computed() -> None:
    # one discordant pair of six: (5 - 1) / 6
    assert kendall_tau_b([1, 2, 3, 4], [1, 3, 2, 4]) == pytest.approx(4 / 6)


def test_kendall_ties_hand_computed() -> None:
    # x=(1,1,2), y=(1,2,3): C=2, D=0, n0=3, x-ties=1, y-ties=0 -> 2/sqrt(2*3)
    assert kendall_tau_b([1, 1, 2], [1, 2, 3]) == pytest.approx(2 / math.sqrt(6))
    assert naive_tau_b([1, 1, 2], [1, 2, 3]) == pytest.approx(2 / math.sqrt(6))


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 4), st.integers(0, 4)),  # small ranges force many ties
        min_size=3,
        max_size=12,
    )
)
def test_kendall_matches_naive_tau_b(pairs: list[tuple[int, int]]) -> None:
    x = [float(a) for a, _ in pairs]
    y = [float(b) for _, b in pairs]
    if len(set(x)) < 2 or len(set(y)) < 2:
        with pytest.raises(ValueError, match="constant"):
            kendall_tau_b(x, y)
        return
    assert kendall_tau_b(x, y) == pytest.approx(naive_tau_b(x, y), abs=1e-12)


# --- precision@k ---------------------------------------------------------------------------


def test_precision_at_k_known_values() -> None:
    true = [0.1, 0.2, 0.3, 0.4, 0.5]
    assert precision_at_k(true, true, 2) == 1.0
    assert precision_at_k([5, 4, 3, 2, 1], true, 2) == 0.0
    # predicted best two: indices {0, 2}; true best two: {0, 1}
    assert precision_at_k([0.0, 9.0, 1.0, 8.0, 7.0], true, 2) == 0.5
    assert precision_at_k([5, 4, 3, 2, 1], true, 5) == 1.0


def test_precision_at_k_ties_break_by_position() -> None:
    # pred ties at the boundary: stable sort picks index 0 before index 1.
    assert precision_at_k([0.0, 0.0, 1.0], [0.0, 1.0, 2.0], 1) == 1.0
    assert precision_at_k([0.0, 0.0, 1.0], [1.0, 0.0, 2.0], 1) == 0.0


@pytest.mark.parametrize("k", [0, 6, -1, 2.0, True])
def test_precision_at_k_bad_k(k: object) -> None:
    with pytest.raises(ValueError, match="k must"):
        precision_at_k([1, 2, 3, 4, 5], [1, 2, 3, 4, 5], k)  # type: ignore[arg-type]


# --- zscore / zscored_mse --------------------------------------------------------------------


def test_zscore_population_std() -> None:
    z = zscore([1.0, 2.0, 3.0])
    np.testing.assert_allclose(z, [-math.sqrt(1.5), 0.0, math.sqrt(1.5)])
    assert z.std() == pytest.approx(1.0)  # ddof=0


def test_zscore_constant_raises() -> None:
    with pytest.raises(ValueError, match="constant"):
        zscore([2.0, 2.0, 2.0])


def test_zscored_mse_known_values() -> None:
    x = [0.3, 0.1, 0.7, 0.2]
    assert zscored_mse(x, x) == pytest.approx(0.0)
    assert zscored_mse(x, [10 * v + 3 for v in x]) == pytest.approx(0.0, abs=1e-12)
    # Reversed sign: z-vectors are negatives, MSE = mean((2z)^2) = 4.
    assert zscored_mse(x, [-v for v in x]) == pytest.approx(4.0)
    # Identity MSE = 2 (1 - r)
    y = [0.5, 0.1, 0.2, 0.9]
    r = float(np.corrcoef(x, y)[0, 1])
    assert zscored_mse(x, y) == pytest.approx(2 * (1 - r))


def test_zscored_mse_constant_names_argument() -> None:
    with pytest.raises(ValueError, match="pred: cannot z-score"):
        zscored_mse([1.0, 1.0], [1.0, 2.0])
    with pytest.raises(ValueError, match="true: cannot z-score"):
        zscored_mse([1.0, 2.0], [1.0, 1.0])


# --- best_by ---------------------------------------------------------------------------------


def test_best_by_returns_value_of_lowest_pred() -> None:
    slopes = np.array([0.1, 0.25, 0.5, 1.0])
    best = best_by([0.3, -1.0, 0.2, 0.0], slopes)
    assert best == 0.25
    assert isinstance(best, float)
    assert best_by([2.0, 1.0, 1.0], ["a", "b", "c"]) == "b"  # first of the tied minima
    assert best_by([7.0], [0.4]) == 0.4


def test_best_by_length_mismatch() -> None:
    with pytest.raises(ValueError, match="differ in length: 2 vs 3"):
        best_by([1.0, 2.0], [0.1, 0.2, 0.3])


# --- validation ------------------------------------------------------------------------------

ALL_PAIRWISE = [spearman, kendall_tau_b, zscored_mse]


@pytest.mark.parametrize("fn", ALL_PAIRWISE)
def test_length_mismatch(fn: object) -> None:
    with pytest.raises(ValueError, match="differ in length: 3 vs 2"):
        fn([1.0, 2.0, 3.0], [1.0, 2.0])  # type: ignore[operator]


@pytest.mark.parametrize("fn", ALL_PAIRWISE)
def test_too_short(fn: object) -> None:
    with pytest.raises(ValueError, match="at least 2 entries"):
        fn([1.0], [1.0])  # type: ignore[operator]


@pytest.mark.parametrize("fn", ALL_PAIRWISE)
def test_nan_named(fn: object) -> None:
    with pytest.raises(ValueError, match="pred contains NaN at index 1"):
        fn([1.0, float("nan"), 3.0], [1.0, 2.0, 3.0])  # type: ignore[operator]
    with pytest.raises(ValueError, match="true contains an infinite value at index 2"):
        fn([1.0, 2.0, 3.0], [1.0, 2.0, float("inf")])  # type: ignore[operator]


def test_nan_in_precision_and_best_by() -> None:
    with pytest.raises(ValueError, match="NaN"):
        precision_at_k([1.0, float("nan")], [1.0, 2.0], 1)
    with pytest.raises(ValueError, match="pred contains NaN"):
        best_by([float("nan"), 1.0], [0.1, 0.2])


def test_non_1d_and_non_numeric() -> None:
    with pytest.raises(ValueError, match="1-D"):
        spearman([[1.0, 2.0]], [[1.0, 2.0]])
    with pytest.raises(ValueError, match="numeric"):
        spearman(["a", "b"], [1.0, 2.0])


@pytest.mark.parametrize("fn", [spearman, kendall_tau_b])
def test_constant_input_raises(fn: object) -> None:
    with pytest.raises(ValueError, match="pred is constant"):
        fn([1.0, 1.0, 1.0], [1.0, 2.0, 3.0])  # type: ignore[operator]
