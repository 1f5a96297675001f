"""Argument checks shared by the library: one helper per kind of number, one message each.

Contract of every helper: return the value converted to a plain ``int`` or ``float`` when it
is acceptable, else raise ``error`` (``ValueError`` by default) with one line that names
``what`` and shows the rejected value with ``repr``. ``bool`` is always rejected (it is an
``int`` subclass, and ``True`` passed as a count or a rate is a bug, not a 1). NumPy integer
and floating scalars are accepted; strings are never parsed (the CLI parses its text and
passes numbers). Messages, so tests and callers can rely on them:

=====================  ====================================================================
helper                 message on a bad value
=====================  ====================================================================
``integer``            ``{what} must be an int, got {value!r}``
``positive_int``       ``{what} must be a positive int, got {value!r}`` (``minimum=1``), else
                       ``{what} must be an int >= {minimum}, got {value!r}``
``nonnegative_int``    ``{what} must be an int >= 0, got {value!r}``
``number``             ``{what} must be a number, got {value!r}``
``finite_float``       ``{what} must be finite, got {value!r}`` (non-numbers: as ``number``)
``positive_float``     ``{what} must be finite and > 0, got {value!r}``
``nonnegative_float``  ``{what} must be finite and >= 0, got {value!r}``
``probability``        ``{what} must be a probability in [0, 1], got {value!r}``
=====================  ====================================================================

This module imports nothing from ``petridish`` (only NumPy): every layer may use it.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

__all__ = [
    "finite_float",
    "integer",
    "nonnegative_float",
    "nonnegative_int",
    "number",
    "positive_float",
    "positive_int",
    "probability",
]


def _is_int(value: object) -> bool:
    # numbers.Integral covers int and NumPy integer scalars; bool (and np.bool_, which is
    # not Integral) are excluded explicitly.
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def integer(value: object, what: str, *, error: type[Exception] = ValueError) -> int:
    """``value`` as an ``int`` if it is an integer (not a bool, not a float), else ``error``."""
    if not _is_int(value):
        raise error(f"{what} must be an int, got {value!r}")
    return int(value)  # type: ignore[call-overload]


def positive_int(
    value: object, what: str, minimum: int = 1, *, error: type[Exception] = ValueError
) -> int:
    """``value`` as an ``int`` if it is an integer ``>= minimum`` (default 1), else ``error``."""
    if not _is_int(value) or int(value) < minimum:  # type: ignore[call-overload]
        if minimum == 1:
            raise error(f"{what} must be a positive int, got {value!r}")
        raise error(f"{what} must be an int >= {minimum}, got {value!r}")
    return int(value)  # type: ignore[call-overload]


def nonnegative_int(value: object, what: str, *, error: type[Exception] = ValueError) -> int:
    """``value`` as an ``int`` if it is an integer ``>= 0``, else ``error``."""
    return positive_int(value, what, 0, error=error)


def number(value: object, what: str, *, error: type[Exception] = ValueError) -> float:
    """``value`` as a ``float`` if it is a real number (NaN and inf included), else ``error``.

    Accepts ``int``, ``float`` and NumPy / JAX scalars (anything ``float()`` converts except
    text); rejects ``bool``, strings and bytes.
    """
    if isinstance(value, bool | np.bool_ | str | bytes | bytearray):
        raise error(f"{what} must be a number, got {value!r}")
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise error(f"{what} must be a number, got {value!r}") from None


def finite_float(value: object, what: str, *, error: type[Exception] = ValueError) -> float:
    """``value`` as a ``float`` if it is a finite real number, else ``error``."""
    out = number(value, what, error=error)
    if not math.isfinite(out):
        raise error(f"{what} must be finite, got {value!r}")
    return out


def positive_float(value: object, what: str, *, error: type[Exception] = ValueError) -> float:
    """``value`` as a ``float`` if it is finite and ``> 0``, else ``error``."""
    out = number(value, what, error=error)
    if not (math.isfinite(out) and out > 0.0):
        raise error(f"{what} must be finite and > 0, got {value!r}")
    return out


def nonnegative_float(value: object, what: str, *, error: type[Exception] = ValueError) -> float:
    """``value`` as a ``float`` if it is finite and ``>= 0``, else ``error``."""
    out = number(value, what, error=error)
    if not (math.isfinite(out) and out >= 0.0):
        raise error(f"{what} must be finite and >= 0, got {value!r}")
    return out


def probability(value: object, what: str, *, error: type[Exception] = ValueError) -> float:
    """``value`` as a ``float`` if it lies in ``[0, 1]`` (NaN rejected), else ``error``."""
    out = number(value, what, error=error)
    if not 0.0 <= out <= 1.0:
        raise error(f"{what} must be a probability in [0, 1], got {value!r}")
    return out
