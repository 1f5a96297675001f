"""Parity: the batched inner loop equals a plain loop over single networks, its Adam
equals a NumPy Adam, networks are independent, and the hypergradient equals finite
differences in float64."""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from petridish import DishConfig
from petridish.dish.core import inner_settings
from petridish.dish.inner import InnerSettings, score_motif, score_motifs, train_motif
from petridish.dish.outer import meta_loss
from petridish.nets import SlopeMLP, bce_with_logits

SLOPES = np.array([0.2, 0.5, 1.0, 1.7], dtype=np.float32)


def _problem(steps: int = 30, inits: int = 1, dtype: jnp.dtype = jnp.float32) -> tuple:
    cfg = DishConfig.for_slopes(inner_steps=steps, n_inits=inits)
    settings = inner_settings(cfg)
    net = settings.net
    keys = jax.random.split(jax.random.PRNGKey(0), 4)
    params0 = jax.vmap(lambda k: net.init(k, 1.0))(jax.random.split(keys[0], inits))
    params0 = jax.tree_util.tree_map(lambda a: a.astype(dtype), params0)
    x = jax.random.normal(keys[1], (10, 10), dtype)
    xv = x + 0.1 * jax.random.normal(keys[2], (10, 10), dtype)
    y = jax.random.bernoulli(keys[3], 0.5, (10, 10)).astype(dtype)
    return settings, params0, x, xv, y


def _first(params0: object) -> object:
    return jax.tree_util.tree_map(lambda a: a[0], params0)


def test_batched_forward_equals_loop() -> None:
    settings, params0, x, _, _ = _problem()
    p = _first(params0)
    batched = jax.vmap(settings.net.apply, in_axes=(None, 0, None))(p, jnp.asarray(SLOPES), x)
    for i, c in enumerate(SLOPES):
        np.testing.assert_allclose(batched[i], settings.net.apply(p, c, x), atol=1e-6)


def test_batched_inner_loop_and_scores_equal_loop() -> None:
    settings, params0, x, xv, y = _problem()
    p0 = _first(params0)
    trained = jax.jit(jax.vmap(train_motif, in_axes=(None, None, 0, None, None)), static_argnums=0)(
        settings, p0, jnp.asarray(SLOPES), x, y
    )
    scores = jax.jit(score_motifs, static_argnums=0)(
        settings, params0, jnp.asarray(SLOPES), x, xv, y
    )
    single = jax.jit(train_motif, static_argnums=0)
    for i, c in enumerate(SLOPES):
        p_i = single(settings, p0, c, x, y)
        for a, b in zip(
            jax.tree_util.tree_leaves(trained), jax.tree_util.tree_leaves(p_i), strict=True
        ):
            np.testing.assert_allclose(a[i], b, atol=1e-6)
        ref = bce_with_logits(settings.net.apply(p_i, c, xv), y)
        np.testing.assert_allclose(scores[i], ref, atol=1e-6)
        np.testing.assert_allclose(scores[i], score_motif(settings, p0, c, x, xv, y), atol=1e-6)


def test_changing_one_motif_never_changes_another() -> None:
    settings, params0, x, xv, y = _problem()
    p0 = _first(params0)
    f = jax.jit(score_motifs, static_argnums=0)
    base = np.asarray(f(settings, params0, jnp.asarray(SLOPES), x, xv, y))
    changed = SLOPES.copy()
    changed[2] = 0.05
    after = np.asarray(f(settings, params0, jnp.asarray(changed), x, xv, y))
    assert after[2] != base[2]
    np.testing.assert_array_equal(np.delete(after, 2), np.delete(base, 2))
    # Per-motif parameters: perturb network j's weights, outputs of the others are identical.
    stacked = jax.tree_util.tree_map(lambda a: jnp.stack([a] * len(SLOPES)), p0)
    out = jax.vmap(settings.net.apply, in_axes=(0, 0, None))
    before = np.asarray(out(stacked, jnp.asarray(SLOPES), x))
    bumped = jax.tree_util.tree_map(lambda a: a.at[1].add(0.5), stacked)
    moved = np.asarray(out(bumped, jnp.asarray(SLOPES), x))
    assert not np.allclose(moved[1], before[1])
    np.testing.assert_array_equal(np.delete(moved, 1, axis=0), np.delete(before, 1, axis=0))


def _numpy_adam(
    params: list[np.ndarray], grads_fn, steps: int, lr: float, l2: float, eps_root: float
) -> list[np.ndarray]:
    """Adam written out plainly: L2 added to the gradient, bias-corrected moments."""
    b1, b2, eps = 0.9, 0.999, 1e-8
    m = [np.zeros_like(p) for p in params]
    v = [np.zeros_like(p) for p in params]
    for t in range(1, steps + 1):
        grads = grads_fn(params)
        new = []
        for i, (p, g) in enumerate(zip(params, grads, strict=True)):
            g = g + l2 * p
            m[i] = b1 * m[i] + (1 - b1) * g
            v[i] = b2 * v[i] + (1 - b2) * g * g
            m_hat, v_hat = m[i] / (1 - b1**t), v[i] / (1 - b2**t)
            new.append(p - lr * m_hat / (np.sqrt(v_hat + eps_root) + eps))
        params = new
    return params


def test_inner_adam_equals_numpy_reference(x64: None) -> None:
    settings, params0, x, _, y = _problem(steps=25, dtype=jnp.float64)
    p0 = _first(params0)
    code = jnp.asarray(0.7, jnp.float64)
    got = jax.tree_util.tree_leaves(train_motif(settings, p0, code, x, y))
    leaves, treedef = jax.tree_util.tree_flatten(p0)

    def grads_fn(flat: list[np.ndarray]) -> list[np.ndarray]:
        p = jax.tree_util.tree_unflatten(treedef, [jnp.asarray(a) for a in flat])
        g = jax.grad(lambda q: bce_with_logits(settings.net.apply(q, code, x), y))(p)
        return [np.asarray(a) for a in jax.tree_util.tree_leaves(g)]

    want = _numpy_adam(
        [np.asarray(a) for a in leaves], grads_fn, 25, settings.lr, settings.l2, settings.eps_root
    )
    for a, b in zip(got, want, strict=True):
        np.testing.assert_allclose(np.asarray(a), b, rtol=1e-10, atol=1e-12)


def _central_fd(f, x: np.ndarray, idx: list[tuple[int, int]], h: float = 1e-5) -> np.ndarray:
    out = []
    for ij in idx:
        e = np.zeros_like(x)
        e[ij] = h
        out.append((f(x + e) - f(x - e)) / (2 * h))
    return np.array(out)


IDX = [(0, 0), (3, 7), (9, 2), (5, 5)]


def test_hypergradient_of_two_motif_scores_matches_finite_differences(x64: None) -> None:
    settings, params0, x, xv, y = _problem(steps=20, dtype=jnp.float64)
    codes = jnp.asarray([0.4, 1.3], jnp.float64)

    # Two motifs make the z-scored MSE degenerate (z = +-1), so check a weighted sum of the
    # two scores, which exercises the same unrolled second-order path into both inputs.
    @jax.jit
    def objective(xt: jax.Array, xval: jax.Array) -> jax.Array:
        s = score_motifs(settings, params0, codes, xt, xval, y)
        return s[0] + 2.0 * s[1]

    g_train, g_val = jax.grad(objective, argnums=(0, 1))(x, xv)
    xn, xvn = np.asarray(x), np.asarray(xv)
    fd_train = _central_fd(lambda a: float(objective(jnp.asarray(a), xv)), xn, IDX)
    fd_val = _central_fd(lambda a: float(objective(x, jnp.asarray(a))), xvn, IDX)
    np.testing.assert_allclose([g_train[i] for i in IDX], fd_train, rtol=1e-5, atol=1e-9)
    np.testing.assert_allclose([g_val[i] for i in IDX], fd_val, rtol=1e-5, atol=1e-9)
    assert np.abs(np.asarray(g_train)).max() > 0


def test_meta_loss_gradient_matches_finite_differences(x64: None) -> None:
    settings, params0, x, xv, y = _problem(steps=20, dtype=jnp.float64)
    codes = jnp.asarray([0.3, 0.9, 1.6], jnp.float64)
    targets = jnp.asarray([0.05, 0.02, 0.08], jnp.float64)

    @jax.jit
    def loss(xt: jax.Array) -> jax.Array:
        return meta_loss({"x_train": xt, "x_val": xv}, settings, params0, codes, targets, y)

    g = jax.grad(loss)(x)
    fd = _central_fd(lambda a: float(loss(jnp.asarray(a))), np.asarray(x), IDX)
    np.testing.assert_allclose([g[i] for i in IDX], fd, rtol=1e-4, atol=1e-8)


def test_inits_axis_averages_scores() -> None:
    settings, params0, x, xv, y = _problem(inits=3)
    both = jax.jit(score_motifs, static_argnums=0)(settings, params0, jnp.asarray(SLOPES), x, xv, y)
    each = [
        score_motifs(
            settings,
            jax.tree_util.tree_map(lambda a, i=i: a[i : i + 1], params0),
            jnp.asarray(SLOPES),
            x,
            xv,
            y,
        )
        for i in range(3)
    ]
    np.testing.assert_allclose(both, np.mean(each, axis=0), atol=1e-6)


def test_eps_root_keeps_meta_gradient_finite_at_zero_gradients() -> None:
    # A network whose last layer is dead in one unit gives exactly-zero inner gradients there.
    settings = InnerSettings(net=SlopeMLP((2, 1, 2)), lr=0.01, l2=0.0, steps=5, eps_root=1e-12)
    p0 = [(jnp.ones((2, 1)), jnp.zeros((1,))), (jnp.array([[1.0, 0.0]]), jnp.zeros((2,)))]
    p0 = jax.tree_util.tree_map(lambda a: a[None], p0)
    x = jnp.array([[1.0, -1.0], [0.5, 0.2]])
    y = jnp.array([[1.0, 0.0], [0.0, 1.0]])
    x_zero = x.at[:, 1].set(0.0)

    @functools.partial(jax.jit, static_argnums=1)
    def f(xt: jax.Array, s: InnerSettings) -> jax.Array:
        return score_motifs(s, p0, jnp.asarray([1.0]), xt, xt, y)[0]

    assert np.all(np.isfinite(np.asarray(jax.grad(f)(x_zero, settings))))
    no_root = InnerSettings(net=settings.net, lr=0.01, l2=0.0, steps=5, eps_root=0.0)
    assert f(x_zero, no_root) == pytest.approx(float(f(x_zero, settings)), rel=1e-4)


def test_batched_meta_gradient_equals_plain_loop_over_motifs() -> None:
    from petridish.dish.reference import looped_meta_gradient

    settings, params0, x, xv, y = _problem(inits=2)
    codes = jnp.asarray(SLOPES)
    targets = jnp.asarray([0.05, 0.03, 0.06, 0.08])
    synthetic = {"x_train": x, "x_val": xv}
    loss, grads = jax.jit(jax.value_and_grad(meta_loss), static_argnums=1)(
        synthetic, settings, params0, codes, targets, y
    )
    ref_loss, ref_grads = looped_meta_gradient(settings, synthetic, params0, codes, targets, y)
    np.testing.assert_allclose(loss, ref_loss, rtol=1e-5)
    for k in ("x_train", "x_val"):
        np.testing.assert_allclose(grads[k], ref_grads[k], rtol=1e-4, atol=2e-5)


# ------------------------------------------------------------------ outer-loss variants


def _scores_only_loss(scores: np.ndarray, targets: np.ndarray, loss: str) -> float:
    """The outer losses written out in NumPy from given scores (the reference)."""
    s, t = np.asarray(scores, float), np.asarray(targets, float)
    ok = np.isfinite(s) & np.isfinite(t)
    s, t = s[ok], t[ok]
    z_s = (s - s.mean()) / (s.std() + 1e-8)
    if loss == "pairwise":
        total, pairs = 0.0, 0
        for i in range(len(t)):
            for j in range(len(t)):
                if t[i] < t[j]:
                    total += np.log1p(np.exp(-(z_s[j] - z_s[i])))
                    pairs += 1
        return total / pairs
    if loss == "zmse_rank":
        t = np.argsort(np.argsort(t)).astype(float)  # no ties here
    z_t = (t - t.mean()) / (t.std() + 1e-8)
    return float(np.mean((z_s - z_t) ** 2))


@pytest.mark.parametrize("loss", ["zmse", "zmse_rank", "pairwise"])
def test_outer_losses_match_numpy_and_ignore_nan_targets(loss: str) -> None:
    settings, params0, x, xv, y = _problem()
    codes = jnp.asarray(SLOPES)
    targets = np.array([0.05, 0.03, 0.06, 0.08])
    scores = np.asarray(score_motifs(settings, params0, codes, x, xv, y))
    synthetic = {"x_train": x, "x_val": xv}
    f = jax.jit(meta_loss, static_argnums=(1, 6))
    got = float(f(synthetic, settings, params0, codes, jnp.asarray(targets), y, loss))
    np.testing.assert_allclose(got, _scores_only_loss(scores, targets, loss), rtol=1e-4)
    # A NaN target (batch padding) drops that motif from every statistic.
    padded = jnp.asarray(np.append(targets, np.nan))
    codes5 = jnp.asarray([*SLOPES, 0.7])
    got5 = float(f(synthetic, settings, params0, codes5, padded, y, loss))
    np.testing.assert_allclose(got5, got, rtol=1e-5)


def test_pairwise_loss_prefers_the_right_order() -> None:
    from petridish.dish.outer import _pairwise_logistic

    ok = jnp.ones(3, bool)
    t = jnp.asarray([1.0, 2.0, 3.0])
    right = float(_pairwise_logistic(jnp.asarray([-1.0, 0.0, 1.0]), t, ok))
    wrong = float(_pairwise_logistic(jnp.asarray([1.0, 0.0, -1.0]), t, ok))
    assert right < np.log(2) < wrong


def test_unknown_outer_loss_is_named() -> None:
    from petridish import DishConfig

    with pytest.raises(ValueError, match="'hinge'"):
        DishConfig.for_slopes(outer_loss="hinge")


class _SqrtNet:
    """A net whose motif code 1 adds ``sqrt(|x|)`` to the logits: a finite score whose
    gradient with respect to an input entry at exactly 0 is not finite."""

    def init(self, key: jax.Array, scale: float) -> dict[str, jax.Array]:
        return {"w": scale * jax.random.normal(key, (3,))}

    def apply(self, params: dict[str, jax.Array], code: jax.Array, x: jax.Array) -> jax.Array:
        safe = jnp.where(code > 0, x, 1.0)  # code 0 never reads sqrt at 0 (no 0 * inf)
        return params["w"] * x + jnp.where(code > 0, jnp.sqrt(jnp.abs(safe)), 0.0)

    def __hash__(self) -> int:
        return 0

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _SqrtNet)


def test_one_motif_with_a_nonfinite_backward_pass_loses_only_its_own_share() -> None:
    settings = InnerSettings(net=_SqrtNet(), lr=0.01, l2=0.0, steps=3, eps_root=1e-16)
    keys = jax.random.split(jax.random.PRNGKey(0), 1)
    params0 = jax.vmap(lambda k: _SqrtNet().init(k, 1.0))(keys)  # one init
    x = jnp.array([[0.0, 0.5, -1.0], [1.0, 2.0, 0.3]])  # the 0.0 entry breaks code 1
    y = jnp.array([[1.0, 0.0, 1.0], [0.0, 1.0, 1.0]])
    codes = jnp.array([0, 1, 0])

    def total(xx: jax.Array, cs: jax.Array) -> jax.Array:
        return jnp.sum(score_motifs(settings, params0, cs, xx, xx, y))

    scores = score_motifs(settings, params0, codes, x, x, y)
    assert bool(jnp.all(jnp.isfinite(scores)))
    alone = jax.grad(total)(x, codes[1:2])
    np.testing.assert_array_equal(alone, np.zeros_like(alone))  # its own share: dropped
    grad = jax.grad(total)(x, codes)
    expected = jax.grad(total)(x, codes[jnp.array([0, 2])])  # the two good motifs
    assert bool(jnp.any(expected != 0))
    np.testing.assert_allclose(grad, expected, rtol=1e-6)
