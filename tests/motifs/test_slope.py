"""The sigmoid-slope motif: validation, value semantics, canonical form, codes, activation."""

import json
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from petridish.motifs import Cell, SigmoidSlope, motif_family, motif_from_json
from petridish.motifs.slope import sigmoid_slope_activation

positive_slopes = st.floats(min_value=1e-6, max_value=1e6, allow_nan=False, allow_infinity=False)


@pytest.mark.parametrize(
    "bad", [0, -0.5, math.nan, math.inf, -math.inf, "abc", "1.5", None, True, False, np.True_]
)
def test_bad_slope_is_value_error_naming_value(bad: object) -> None:
    with pytest.raises(ValueError, match="slope") as info:
        SigmoidSlope(bad)  # type: ignore[arg-type]
    assert repr(bad) in str(info.value)


def test_bool_is_not_slope_one() -> None:
    # True == 1 in Python, but a bool passed as a slope is a bug, not sigmoid(x).
    with pytest.raises(ValueError, match="sigmoid slope must be a number, got True"):
        SigmoidSlope(True)
    assert SigmoidSlope(1).slope == 1.0


def test_value_object_semantics() -> None:
    a, b = SigmoidSlope(1), SigmoidSlope(np.float32(1.0))  # type: ignore[arg-type]
    assert a == b and hash(a) == hash(b) and a.digest == b.digest
    assert type(a.slope) is float and type(b.slope) is float
    assert SigmoidSlope(0.5) != a
    assert len({a, b, SigmoidSlope(0.5)}) == 2
    with pytest.raises(AttributeError):
        a.slope = 2.0  # type: ignore[misc]  # frozen


def test_canonical_form_and_digest_are_pinned() -> None:
    # Store keys are these digests: a change here orphans every stored evaluation.
    m = SigmoidSlope(0.25)
    assert m.canonical() == '{"kind":"sigmoid_slope","slope":0.25}'
    assert m.digest == "3a05055fd9374592"
    assert SigmoidSlope(1).digest == "d8880eae2015a450"


def test_canonical_json_round_trip_and_errors() -> None:
    m = SigmoidSlope(0.25)
    assert motif_from_json(m.to_json()) == m
    with pytest.raises(ValueError, match="unknown motif kind"):
        motif_from_json({"kind": "nope"})
    with pytest.raises(ValueError, match="payload"):
        motif_from_json({"kind": "sigmoid_slope", "slope": 1.0, "extra": 2})


@settings(max_examples=200, deadline=None)
@given(positive_slopes, positive_slopes)
def test_canonical_form_is_exact_and_injective(x: float, y: float) -> None:
    a, b = SigmoidSlope(x), SigmoidSlope(y)
    back = motif_from_json(json.loads(a.canonical()))
    assert back == a and back.slope == x  # the float survives JSON bit for bit
    assert (a == b) == (x == y)
    assert (a.digest == b.digest) == (x == y)
    assert (a.canonical() == b.canonical()) == (x == y)


def test_encode_many_keeps_input_order_and_refuses_other_kinds() -> None:
    slopes = (0.3, 0.1, 0.2, 0.1)  # unsorted, with a repeat: codes follow the input
    ms = [SigmoidSlope(c) for c in slopes]
    codes = SigmoidSlope.encode_many(ms)  # (motifs,)
    assert codes.dtype == np.float32
    np.testing.assert_array_equal(codes, np.asarray(slopes, np.float32))
    cell = Cell.from_genotype((("tanh", 0),))
    with pytest.raises(ValueError, match="not SigmoidSlope"):
        SigmoidSlope.encode_many([ms[0], cell])
    assert motif_family(ms) is SigmoidSlope
    with pytest.raises(ValueError, match="mixed kinds"):
        motif_family([ms[0], cell])
    with pytest.raises(ValueError, match="no motifs"):
        motif_family([])


def test_activation_is_a_scaled_sigmoid() -> None:
    x = jnp.linspace(-3, 3, 12).reshape(3, 4)  # (batch, features)
    for c in (0.1, 1.0, 4.0):
        y = np.asarray(SigmoidSlope(c)(x))
        assert y.shape == (3, 4)
        np.testing.assert_allclose(y, 1 / (1 + np.exp(-c * np.asarray(x))), rtol=1e-6)
        # sigmoid(c x) is sigmoid(1 * (c x)): the slope only rescales the input.
        np.testing.assert_allclose(y, np.asarray(SigmoidSlope(1.0)(c * x)), rtol=1e-6)
        # Point symmetry about (0, 1/2): f(-x) = 1 - f(x); strictly inside (0, 1).
        np.testing.assert_allclose(np.asarray(SigmoidSlope(c)(-x)), 1.0 - y, atol=1e-6)
        assert np.all((y > 0) & (y < 1))


def test_steeper_slope_is_steeper_and_monotone() -> None:
    x = jnp.linspace(-2, 2, 101)
    grads = []
    for c in (0.25, 1.0, 4.0):
        f = SigmoidSlope(c)
        y = np.asarray(f(x))
        assert np.all(np.diff(y) > 0)  # strictly increasing
        assert float(f(jnp.zeros(()))) == 0.5  # every slope passes through (0, 1/2)
        grads.append(float(jax.grad(lambda v, f=f: f(v))(0.0)))
    np.testing.assert_allclose(grads, [0.25 / 4, 1.0 / 4, 4.0 / 4], rtol=1e-6)  # f'(0) = c/4
    # Away from 0 a steeper sigmoid is closer to its limits 0 and 1.
    lo, hi = (np.asarray(SigmoidSlope(c)(jnp.array([-1.0, 1.0]))) for c in (0.5, 5.0))
    assert hi[0] < lo[0] < 0.5 < lo[1] < hi[1]


def test_traced_activation_matches_motifs_under_vmap() -> None:
    slopes = (0.2, 1.0, 3.0)
    codes = jnp.asarray(SigmoidSlope.encode_many([SigmoidSlope(c) for c in slopes]))  # (motifs,)
    x = jnp.linspace(-2, 2, 10).reshape(2, 5)  # (batch, features)
    batched = jax.jit(jax.vmap(sigmoid_slope_activation, in_axes=(0, None)))(codes, x)
    assert batched.shape == (3, 2, 5)  # (motifs, batch, features)
    for i, c in enumerate(slopes):
        np.testing.assert_allclose(
            np.asarray(batched[i]), np.asarray(SigmoidSlope(c)(x)), rtol=1e-6
        )
