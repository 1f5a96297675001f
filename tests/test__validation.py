"""The shared argument checks: accepted values come back converted, others raise one line."""

from __future__ import annotations

import math
import re
from collections.abc import Callable

import numpy as np
import pytest

from petridish._validation import (
    finite_float,
    integer,
    nonnegative_float,
    nonnegative_int,
    number,
    positive_float,
    positive_int,
    probability,
)


def test_integers_accept_ints_and_numpy_ints_and_return_plain_int() -> None:
    for value in (3, np.int64(3), np.int32(3), np.uint8(3)):
        out = positive_int(value, "n")
        assert out == 3 and type(out) is int
    assert integer(-7, "seed") == -7
    assert nonnegative_int(0, "patience") == 0
    assert positive_int(5, "width", minimum=5) == 5


@pytest.mark.parametrize(
    ("check", "value", "message"),
    [
        (integer, True, "seed must be an int, got True"),
        (integer, 1.0, "seed must be an int, got 1.0"),
        (integer, "1", "seed must be an int, got '1'"),
        (positive_int, 0, "seed must be a positive int, got 0"),
        (positive_int, False, "seed must be a positive int, got False"),
        (positive_int, np.bool_(True), "seed must be a positive int, got"),
        (positive_int, 2.0, "seed must be a positive int, got 2.0"),
        (positive_int, None, "seed must be a positive int, got None"),
        (nonnegative_int, -1, "seed must be an int >= 0, got -1"),
        (nonnegative_int, True, "seed must be an int >= 0, got True"),
    ],
)
def test_integer_checks_reject_with_one_line_naming_what(
    check: Callable[[object, str], int], value: object, message: str
) -> None:
    with pytest.raises(ValueError, match=re.escape(message)) as info:
        check(value, "seed")
    assert "\n" not in str(info.value)


def test_positive_int_minimum_names_the_bound() -> None:
    with pytest.raises(ValueError, match=re.escape("width must be an int >= 4, got 3")):
        positive_int(3, "width", minimum=4)


def test_error_class_is_the_callers_choice() -> None:
    class FormatError(ValueError):
        pass

    with pytest.raises(TypeError, match="epoch must be an int"):
        integer(True, "epoch", error=TypeError)
    with pytest.raises(FormatError, match="must be finite and >= 0"):
        nonnegative_float(-1.0, "wall time", error=FormatError)


def test_numbers_accept_ints_floats_and_numpy_scalars() -> None:
    for value in (2, 2.0, np.float32(2.0), np.int16(2), np.array(2.0)):
        out = number(value, "x")
        assert out == 2.0 and type(out) is float
    assert math.isnan(number(float("nan"), "x"))  # number() alone does not demand finite
    assert number(float("-inf"), "x") == float("-inf")
    assert finite_float(-3, "x") == -3.0
    assert positive_float(1e-12, "lr") == 1e-12
    assert nonnegative_float(0, "l2") == 0.0
    assert probability(0, "p") == 0.0 and probability(1, "p") == 1.0


@pytest.mark.parametrize(
    ("check", "value", "message"),
    [
        (number, True, "lr must be a number, got True"),
        (number, np.bool_(False), "lr must be a number, got"),
        (number, "0.5", "lr must be a number, got '0.5'"),
        (number, None, "lr must be a number, got None"),
        (finite_float, float("inf"), "lr must be finite, got inf"),
        (finite_float, float("nan"), "lr must be finite, got nan"),
        (finite_float, "x", "lr must be a number, got 'x'"),
        (positive_float, 0.0, "lr must be finite and > 0, got 0.0"),
        (positive_float, -1, "lr must be finite and > 0, got -1"),
        (positive_float, float("inf"), "lr must be finite and > 0, got inf"),
        (nonnegative_float, -1e-9, "lr must be finite and >= 0, got -1e-09"),
        (nonnegative_float, float("nan"), "lr must be finite and >= 0, got nan"),
        (probability, 1.5, "lr must be a probability in [0, 1], got 1.5"),
        (probability, -0.1, "lr must be a probability in [0, 1], got -0.1"),
        (probability, float("nan"), "lr must be a probability in [0, 1], got nan"),
        (probability, True, "lr must be a number, got True"),
    ],
)
def test_float_checks_reject_with_one_line_naming_what(
    check: Callable[[object, str], float], value: object, message: str
) -> None:
    with pytest.raises(ValueError, match=re.escape(message)) as info:
        check(value, "lr")
    assert "\n" not in str(info.value)
