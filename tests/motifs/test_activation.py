"""The Activation motif kind: grammar, canonical form, encoding and the JAX interpreter."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from petridish.motifs import Activation, SigmoidSlope
from petridish.motifs.activation import (
    MAX_NODES,
    OPS,
    _numpy_eval,
    mutate_activation,
    parse,
    random_activation,
    random_tree,
)
from petridish.motifs.base import has_activation, motif_from_json

XS = np.linspace(-6.0, 6.0, 241)  # (241,) includes 0 and the clip-free range of exp


@pytest.mark.parametrize(
    "text",
    [
        "x",
        "relu(x)",
        "tanh(x)",
        "sigmoid(scale(0.5, x))",
        "mul(sigmoid(scale(1.5, x)), x)",
        "sub(exp(x), min(abs(x), softplus(x)))",
        "max(erf(x), sin(square(x)))",
    ],
)
def test_text_round_trips_and_is_canonical(text: str) -> None:
    motif = Activation(text)
    assert motif.expr == text  # these are written canonically already
    assert Activation(str(motif)) == motif
    assert motif_from_json(motif.to_json()) == motif
    assert motif.to_json() == {"kind": "activation", "expr": text}


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("add(x, relu(x))", "add(relu(x), x)"),
        ("mul(x, sigmoid(x))", "mul(sigmoid(x), x)"),
        ("max(tanh(x), x)", "max(x, tanh(x))"),
        ("identity(x)", "x"),
        ("scale(1.0, tanh(x))", "tanh(x)"),
        ("scale(-1, x)", "neg(x)"),
        ("neg(neg(sin(x)))", "sin(x)"),
        ("abs(neg(abs(x)))", "abs(x)"),
        ("square(neg(x))", "square(x)"),
        ("relu(relu(x))", "relu(x)"),
        ("min(erf(x), erf(x))", "erf(x)"),
        ("  mul( x ,sigmoid( scale( 1.50 , x ) ) ) ", "mul(sigmoid(scale(1.5, x)), x)"),
    ],
)
def test_equal_functions_written_the_same_are_equal_motifs(a: str, b: str) -> None:
    assert Activation(a) == Activation(b)
    assert Activation(a).digest == Activation(b).digest
    assert hash(Activation(a)) == hash(Activation(b))


def test_documented_non_canonical_pairs_stay_distinct() -> None:
    assert Activation("add(x, x)") != Activation("scale(2.0, x)")
    assert Activation("relu(x)") != Activation("max(x, scale(0.0, x))")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("foo(x)", "unknown op 'foo'"),
        ("add(x)", "op 'add' takes 2"),
        ("tanh(x, x)", "op 'tanh' takes 1"),
        ("scale(x, x)", "constant 'x' is not a number"),
        ("scale(11, x)", r"constant '11' must be finite and in \[-10, 10\]"),
        ("scale(nan, x)", "constant 'nan' must be finite"),
        ("sigmoid(x", "ended early"),
        ("x)", r"unexpected '\)' after the end"),
        ("x $", "unexpected character"),
        ("", "empty"),
        ("sin(" * 9 + "x" + ")" * 9, "9 ops deep; at most 8"),
        ("add(add(add(x, x), add(x, x)), add(add(x, x), add(x, sin(tanh(x)))))", "17 nodes"),
    ],
)
def test_invalid_text_is_one_clear_value_error(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Activation(text)


def test_bad_payloads_and_types() -> None:
    with pytest.raises(ValueError, match="needs exactly 'expr'"):
        Activation.from_payload({"expr": "x", "extra": 1})
    with pytest.raises(ValueError, match="text expression"):
        Activation(3)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="not Activation"):
        Activation.encode_many([SigmoidSlope(1.0)])


def _interpreted(motifs: list[Activation], x: np.ndarray) -> np.ndarray:
    codes = jnp.asarray(Activation.encode_many(motifs))  # (motifs, MAX_NODES, 4)
    run = jax.jit(jax.vmap(Activation.activation, in_axes=(0, None)))
    return np.asarray(run(codes, jnp.asarray(x, jnp.float32)))  # (motifs, len(x))


def test_interpreter_matches_numpy_on_random_expressions() -> None:
    rng = np.random.default_rng(0)
    motifs = [random_activation(rng) for _ in range(40)]
    motifs += [Activation(f"{op}(x)") for op in OPS[1:12]]
    motifs += [Activation(f"{op}(x, sin(x))") for op in OPS[13:]]
    motifs += [Activation("scale(-2.5, x)")]
    got = _interpreted(motifs, XS)
    for motif, row in zip(motifs, got, strict=True):
        want = motif.numpy(XS)
        np.testing.assert_allclose(row, want, rtol=2e-5, atol=2e-5, err_msg=motif.expr)


def test_swish_relu_tanh_and_the_sigmoid_slope() -> None:
    swish = Activation("mul(x, sigmoid(scale(1.5, x)))")
    relu, tanh, slope = (
        Activation("relu(x)"),
        Activation("tanh(x)"),
        Activation("sigmoid(scale(0.7, x))"),
    )
    got = _interpreted([swish, relu, tanh, slope], XS)
    np.testing.assert_allclose(got[0], XS / (1 + np.exp(-1.5 * XS)), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(got[1], np.maximum(XS, 0), atol=1e-6)
    np.testing.assert_allclose(got[2], np.tanh(XS), atol=1e-6)
    x32 = jnp.asarray(XS, jnp.float32)
    # Bit for bit the slope motif's own activation: both are sigmoid(c * x) in float32.
    np.testing.assert_array_equal(
        got[3], np.asarray(SigmoidSlope.activation(jnp.float32(0.7), x32))
    )


def test_program_layout_and_finite_gradients() -> None:
    code = Activation("mul(x, exp(square(square(x))))").program()
    assert code.shape == (MAX_NODES, 4) and code.dtype == np.float32
    assert np.all(code[:, 1] < np.maximum(np.arange(MAX_NODES), 1))  # args point back
    x = jnp.linspace(-30.0, 30.0, 61)  # exp's argument is clipped: finite value and gradient
    value = Activation.activation(jnp.asarray(code), x)
    grad = jax.grad(lambda v: Activation.activation(jnp.asarray(code), v).sum())(x)
    assert np.all(np.isfinite(np.asarray(value))) and np.all(np.isfinite(np.asarray(grad)))
    assert has_activation(Activation)


def test_sampling_and_mutation_are_seeded_and_valid() -> None:
    a = [random_activation(np.random.default_rng(5)) for _ in range(2)]
    assert a[0] == a[1]
    rng = np.random.default_rng(1)
    parents = [random_activation(rng) for _ in range(20)]
    assert len(set(parents)) > 10
    for parent in parents:
        child = mutate_activation(parent, rng)
        assert child != parent and Activation(child.expr) == child


_UNARY = list(OPS[1:12])
_BINARY = list(OPS[13:])
_texts = st.recursive(
    st.just("x"),
    lambda inner: st.one_of(
        st.builds(lambda op, e: f"{op}({e})", st.sampled_from(_UNARY), inner),
        st.builds(
            lambda c, e: f"scale({c!r}, {e})",
            st.floats(-10.0, 10.0, allow_nan=False, allow_infinity=False),
            inner,
        ),
        st.builds(lambda op, a, b: f"{op}({a}, {b})", st.sampled_from(_BINARY), inner, inner),
    ),
    max_leaves=6,
)


@settings(max_examples=80, deadline=None)
@given(_texts)
def test_hypothesis_round_trip(text: str) -> None:
    try:
        motif = Activation(text)
    except ValueError as exc:  # only the size and depth limits may reject grammar text
        assert "at most" in str(exc)
        return
    again = Activation(motif.expr)
    assert again == motif and again.expr == motif.expr  # canonical text is a fixed point
    assert parse(motif.expr).text() == motif.expr
    assert motif_from_json(motif.to_json()) == motif
    np.testing.assert_array_equal(again.program(), motif.program())
    # Canonicalisation keeps the function: the canonical and the written tree agree.
    x = np.linspace(-2.0, 2.0, 9)
    with np.errstate(all="ignore"):
        np.testing.assert_allclose(motif.numpy(x), _numpy_eval(parse(text), x), rtol=1e-12)


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 3))
def test_hypothesis_random_trees_are_valid(seed: int, depth: int) -> None:
    tree = random_tree(np.random.default_rng(seed), depth)
    motif = Activation(tree.text())
    assert motif.tree.depth <= depth and Activation(motif.expr) == motif
