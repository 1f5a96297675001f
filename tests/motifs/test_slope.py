import json
import math

import numpy as np
import pytest

from petridish.motifs import SigmoidSlope, motif_family, motif_from_json


@pytest.mark.parametrize("bad", [0, -0.5, math.nan, math.inf, -math.inf, "abc", None])
def test_bad_slope_is_value_error_naming_value(bad: object) -> None:
    with pytest.raises(ValueError, match="slope"):
        SigmoidSlope(bad)  # type: ignore[arg-type]


def test_value_object_semantics() -> None:
    a, b = SigmoidSlope(1), SigmoidSlope(np.float32(1.0))
    assert a == b and hash(a) == hash(b) and a.digest == b.digest
    assert isinstance(a.slope, float)
    assert SigmoidSlope(0.5) != a
    assert len({a, b, SigmoidSlope(0.5)}) == 2


def test_canonical_json_round_trip() -> None:
    m = SigmoidSlope(0.25)
    assert json.loads(m.canonical()) == {"kind": "sigmoid_slope", "slope": 0.25}
    assert motif_from_json(m.to_json()) == m
    with pytest.raises(ValueError, match="unknown motif kind"):
        motif_from_json({"kind": "nope"})
    with pytest.raises(ValueError, match="payload"):
        motif_from_json({"kind": "sigmoid_slope", "slope": 1.0, "extra": 2})


def test_encode_many_and_family() -> None:
    ms = [SigmoidSlope(c) for c in (0.1, 0.2, 0.3)]
    codes = SigmoidSlope.encode_many(ms)
    assert codes.shape == (3,) and codes.dtype == np.float32
    np.testing.assert_allclose(codes, [0.1, 0.2, 0.3], rtol=1e-6)
    assert motif_family(ms) is SigmoidSlope
    with pytest.raises(ValueError, match="no motifs"):
        motif_family([])


def test_activation_any_width() -> None:
    import jax.numpy as jnp

    x = jnp.linspace(-3, 3, 12).reshape(3, 4)
    y = SigmoidSlope(2.0)(x)
    assert y.shape == (3, 4)
    np.testing.assert_allclose(np.asarray(y), 1 / (1 + np.exp(-2.0 * np.asarray(x))), rtol=1e-6)
