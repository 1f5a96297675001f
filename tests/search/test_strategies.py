"""Strategies: shapes and bounds, determinism, GA elitism and rates, NAO's predictor."""

from __future__ import annotations

import math
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from petridish.evaluators import Outcome
from petridish.metrics import kendall_tau_b
from petridish.motifs import SigmoidSlope
from petridish.motifs.base import Motif
from petridish.search.compare import random_search_hit_quantiles
from petridish.search.loop import SearchConfig, evals_to_hit, run_search
from petridish.search.space import SlopeSpace
from petridish.search.strategies import (
    GAStrategy,
    MixedStrategy,
    NAOStrategy,
    RandomStrategy,
    Strategy,
    history_arrays,
)
from petridish.store import Store


@dataclass(frozen=True)
class ToySpace:
    """Gene strings with mixed alphabets; only what strategies use (no motifs)."""

    alphabet: tuple[int, ...] = (4, 3, 5, 2, 4, 6, 3, 4, 5, 4)
    name: str = "toy"

    def encode(self, motif: Motif) -> np.ndarray:
        raise NotImplementedError

    def random_genes(
        self, rng: np.random.Generator, n: int, exclude: Collection[str] = ()
    ) -> np.ndarray:
        # No motifs, so nothing to exclude: uniform strings.
        return rng.integers(0, np.array(self.alphabet)[None], size=(n, len(self.alphabet)))

    def realize(self, genes: np.ndarray, exclude: Collection[str]) -> list[Motif | None]:
        raise NotImplementedError


WEIGHTS = np.array([1.0, -2.0, 0.5, 1.5, -1.0, 0.8, 2.0, -0.5, 1.0, 0.3])


def toy_loss(genes: np.ndarray) -> np.ndarray:
    """A smooth function of the genes: weighted sum of letters scaled to [0, 1]."""
    scaled = genes / (np.array(ToySpace().alphabet) - 1)[None]
    return scaled @ WEIGHTS


def toy_history(rng: np.random.Generator, n: int) -> list[tuple[np.ndarray, float]]:
    genes = ToySpace().random_genes(rng, n)
    return [(g, float(v)) for g, v in zip(genes, toy_loss(genes), strict=True)]


def in_bounds(space: ToySpace | SlopeSpace, genes: np.ndarray) -> bool:
    return bool(np.all((genes >= 0) & (genes < np.array(space.alphabet)[None])))


ALL = [RandomStrategy(), GAStrategy(), NAOStrategy(steps=60), MixedStrategy()]


@pytest.mark.parametrize("strategy", ALL, ids=lambda s: s.name)
def test_propose_shapes_bounds_and_determinism(strategy: Strategy) -> None:
    space = ToySpace()
    history = toy_history(np.random.default_rng(0), 40)
    a = strategy.propose(space, history, 25, np.random.default_rng(5))
    b = strategy.propose(space, history, 25, np.random.default_rng(5))
    assert isinstance(strategy, Strategy)
    assert a.shape == (25, len(space.alphabet)) and a.dtype == np.int64
    assert in_bounds(space, a)
    np.testing.assert_array_equal(a, b)
    c = strategy.propose(space, history, 25, np.random.default_rng(6))
    assert not np.array_equal(a, c)
    # Empty history (before the warm-up): still valid strings.
    empty = strategy.propose(space, [], 7, np.random.default_rng(0))
    assert empty.shape == (7, len(space.alphabet)) and in_bounds(space, empty)


def test_random_and_ga_have_no_predictor() -> None:
    space = ToySpace()
    history = toy_history(np.random.default_rng(0), 10)
    cands = space.random_genes(np.random.default_rng(1), 5)
    assert RandomStrategy().rank(space, history, cands, np.random.default_rng(0)) is None
    assert GAStrategy().rank(space, history, cands, np.random.default_rng(0)) is None
    assert MixedStrategy().rank(space, history, cands, np.random.default_rng(0)) is None
    assert [s.name for s in ALL] == ["random", "ga", "nao", "mixed"]


def test_history_validation() -> None:
    space = ToySpace()
    good = toy_history(np.random.default_rng(0), 3)
    with pytest.raises(ValueError, match=r"shape \(10,\)"):
        history_arrays(space, [*good, (np.zeros(9, np.int64), 1.0)])
    bad = np.zeros(10, np.int64)
    bad[3] = 2  # alphabet[3] == 2
    with pytest.raises(ValueError, match=r"\[3, 3\] = 2"):
        history_arrays(space, [*good, (bad, 1.0)])
    with pytest.raises(ValueError, match="'abc'"):
        history_arrays(space, [(good[0][0], "abc")])
    with pytest.raises(ValueError, match=r"history\[0\] loss must be a number, got True"):
        history_arrays(space, [(good[0][0], True)])
    genes, losses = history_arrays(space, [*good, (good[0][0], float("nan"))])
    finite = [v for _, v in good]
    assert genes.shape == (4, 10)
    assert losses[3] == pytest.approx(2 * max(finite) - min(finite))
    with pytest.raises(ValueError, match="-2"):
        RandomStrategy().propose(space, good, -2, np.random.default_rng(0))


# --------------------------------------------------------------------------------- random


def test_random_proposes_only_free_motifs_each_realized_as_itself() -> None:
    space = SlopeSpace(n_points=30)
    evaluated = {m.digest for m in space.grid[::3]}  # 10 evaluated, 20 free
    props = RandomStrategy().propose(space, [], 15, np.random.default_rng(2), exclude=evaluated)
    again = RandomStrategy().propose(space, [], 15, np.random.default_rng(2), exclude=evaluated)
    np.testing.assert_array_equal(props, again)
    k = space.index(props)
    assert len(set(k.tolist())) == 15 and not set(k.tolist()) & set(range(0, 30, 3))
    # Free and distinct: the one mapping shared by all strategies is the identity here.
    got = space.realize(props, exclude=evaluated)
    assert got == [space.grid[i] for i in k]
    # Past the free motifs the extra rows repeat them, and realize gives those None.
    many = RandomStrategy().propose(space, [], 25, np.random.default_rng(2), exclude=evaluated)
    out = space.realize(many, exclude=evaluated)
    assert len({m for m in out if m is not None}) == 20 and out[20:] == [None] * 5


def test_random_candidates_are_uniform_over_free_motifs() -> None:
    """One iteration's candidates (proposals, then ``realize``) with half the grid evaluated:
    every free slope equally likely. Drawing among all slopes and letting ``realize`` move
    evaluated ones to their nearest free slope gives the block's edge (k = 15) nearly every
    time instead (the bias this guards against)."""
    space = SlopeSpace(n_points=30)
    evaluated = {m.digest for m in space.grid[:15]}
    counts = np.zeros(30)
    n_draws, n = 3000, 5
    for r in range(n_draws):
        props = RandomStrategy().propose(space, [], n, np.random.default_rng(r), exclude=evaluated)
        for m in space.realize(props, exclude=evaluated):
            assert isinstance(m, SigmoidSlope)
            counts[space.index(space.encode(m)[None])[0]] += 1
    assert counts[:15].sum() == 0
    p = n / 15  # each free slope is among the n candidates with probability n / 15
    expected, sd = n_draws * p, math.sqrt(n_draws * p * (1 - p))
    assert np.all(np.abs(counts[15:] - expected) < 4.5 * sd), counts[15:]


@dataclass
class SpyRandom:
    """``RandomStrategy`` that records the history size and ``exclude`` of each call."""

    calls: list[tuple[int, frozenset[str]]]
    name: str = "random"

    def propose(
        self,
        space: SlopeSpace,
        history: list[tuple[np.ndarray, float]],
        n: int,
        rng: np.random.Generator,
        *,
        exclude: Collection[str] = (),
    ) -> np.ndarray:
        self.calls.append((len(history), frozenset(exclude)))
        return RandomStrategy().propose(space, history, n, rng, exclude=exclude)

    def rank(self, *args: object) -> None:
        return None


@dataclass
class Table:
    """Fake tabular ground truth over ``SlopeSpace(n_points=N)``: grid point ``k`` has loss
    ``losses[k]``, except the ``failed`` points; ``calls`` counts evaluations."""

    losses: np.ndarray
    failed: frozenset[int]
    name: str = "table"
    protocol: str = "fixed"
    calls: int = 0

    def evaluate(self, motif: Motif, seed: int) -> Outcome:
        assert isinstance(motif, SigmoidSlope)
        self.calls += 1
        k = int(round(motif.slope / 0.01)) - 1  # SlopeSpace: slope = 0.01 + k * 0.01
        if k in self.failed:
            return Outcome("failed", reason="in the failed set")
        return Outcome("ok", loss=float(self.losses[k]))


def test_random_search_in_the_loop_follows_the_exact_law(tmp_path: Path) -> None:
    """Evaluations to the first of the 3 best motifs, over 300 seeds of the real loop (warm-up,
    proposals, realize, random selection), follow uniform sampling without replacement of
    the whole grid, failed motifs included (``random_search_hit_quantiles``).

    An end-to-end check of the law; it has little power against the old nearest-free bias on
    so small a grid (the old code passed it too): the single-iteration test above and the
    ``exclude`` test below are the ones that catch that bias.
    """
    n_points, targets, n_seeds = 30, (5, 14, 23), 300
    losses = np.random.default_rng(0).uniform(1.0, 2.0, n_points)
    losses[list(targets)] = (0.1, 0.2, 0.3)
    failed = frozenset(k + d for k in targets for d in (-1, 1))
    table = Table(losses, failed)
    space = SlopeSpace(n_points=n_points)
    target_digests = {space.grid[k].digest for k in targets}
    cfg = SearchConfig(
        space="slope",
        strategy="random",
        use_dish=False,
        budget_evals=n_points,
        warmup=4,
        proposals=6,
        per_iteration=2,
    )
    hits: list[int] = []
    with Store(tmp_path / "law.db") as store:
        for seed in range(n_seeds):
            res = run_search(
                cfg.replace(seed=seed),
                space=space,
                strategy=RandomStrategy(),
                evaluator=table,
                store=store,
            )
            assert len(set(res.digests)) == n_points  # the whole grid, each point once
            hit = evals_to_hit(res, target_digests)
            assert hit is not None
            hits.append(hit)
    # Results are shared through the store; failures are not results: every run that
    # draws a failed motif evaluates it again.
    assert table.calls == n_points - len(failed) + len(failed) * n_seeds
    h = np.array(hits)
    qs = (0.1, 0.25, 0.5, 0.75, 0.9)
    exact, mean = random_search_hit_quantiles(n_points, len(targets), qs)
    for q, n in zip(qs, exact, strict=True):
        # n is the smallest count with P(hit <= n) >= q: the sample must agree within
        # 4 standard errors of a proportion on both sides of it.
        se = math.sqrt(q * (1 - q) / n_seeds)
        assert np.mean(h <= n) >= q - 4 * se, (q, n)
        assert np.mean(h <= n - 1) < q + 4 * se, (q, n)
    t, big_n = len(targets), n_points
    var = (big_n + 1) * (big_n - t) * t / ((t + 1) ** 2 * (t + 2))
    assert abs(h.mean() - mean) < 3 * math.sqrt(var / n_seeds), (h.mean(), mean)
    # Deterministic by seed.
    with Store(tmp_path / "law2.db") as store:
        res = run_search(
            cfg.replace(seed=7),
            space=space,
            strategy=RandomStrategy(),
            evaluator=Table(losses, failed),
            store=store,
        )
    assert evals_to_hit(res, target_digests) == hits[7]


def test_loop_gives_random_search_every_evaluated_motif(tmp_path: Path) -> None:
    """The history holds only ok results; ``exclude`` also has the failed ones."""
    space = SlopeSpace(n_points=30)
    table = Table(np.linspace(1.0, 2.0, 30), frozenset(range(0, 30, 2)))  # half fail
    spy = SpyRandom([])
    cfg = SearchConfig(
        space="slope",
        strategy="random",
        use_dish=False,
        budget_evals=20,
        seed=1,
        warmup=4,
        proposals=6,
        per_iteration=4,
    )
    with Store(tmp_path / "spy.db") as store:
        res = run_search(
            cfg,
            space=space,
            strategy=spy,
            evaluator=table,  # type: ignore[arg-type]
            store=store,
        )
    assert len(spy.calls) == 4  # iterations 1..4 after the warm-up
    for i, (n_history, exclude) in enumerate(spy.calls):
        done = 4 + 4 * i
        assert exclude == set(res.digests[:done])
        assert n_history == sum(s == "ok" for s in res.statuses[:done]) < done


# ------------------------------------------------------------------------------------- GA


def test_ga_without_variation_copies_the_elite() -> None:
    space = ToySpace()
    history = toy_history(np.random.default_rng(1), 100)
    ga = GAStrategy(elite=20, p_mutation=0.0, p_crossover=0.0)
    children = ga.propose(space, history, 300, np.random.default_rng(2))
    losses = np.array([v for _, v in history])
    top = np.argsort(losses)[:20]
    elite = {history[i][0].tobytes() for i in top}
    rest = {history[i][0].tobytes() for i in np.argsort(losses)[20:]} - elite
    kids = {row.tobytes() for row in children}
    assert kids <= elite
    assert not kids & rest
    assert len(kids) >= 18  # parents are drawn uniformly: nearly all show up in 300 draws
    np.testing.assert_array_equal(ga.parents(space, history)[0], history[int(top[0])][0])


def test_ga_crossover_is_single_point_between_elite_members() -> None:
    space = ToySpace()
    history = toy_history(np.random.default_rng(3), 60)
    ga = GAStrategy(elite=5, p_mutation=0.0, p_crossover=1.0)
    elite = ga.parents(space, history)  # (5, G)
    children = ga.propose(space, history, 200, np.random.default_rng(4))
    n_genes = len(space.alphabet)
    for child in children:
        splits = [
            (a, b, c)
            for a in range(5)
            for b in range(5)
            if a != b
            for c in range(1, n_genes)
            if np.array_equal(child[:c], elite[a, :c]) and np.array_equal(child[c:], elite[b, c:])
        ]
        assert splits, f"child {child} is not a one-point cross of two elite members"
    assert not ({row.tobytes() for row in children} <= {row.tobytes() for row in elite})


def test_ga_mutation_rate_and_values() -> None:
    space = ToySpace()
    parent = np.array([1, 2, 0, 1, 3, 5, 0, 2, 4, 3])
    history = [(parent, 1.0), (parent.copy(), 2.0)]  # every elite member is `parent`
    ga = GAStrategy(elite=2, p_mutation=0.2, p_crossover=0.3)
    children = ga.propose(space, history, 3000, np.random.default_rng(8))
    changed = children != parent[None]
    assert abs(changed.mean() - 0.2) < 0.01
    # Each position changes at the rate, to every other letter of its alphabet.
    assert np.all(np.abs(changed.mean(axis=0) - 0.2) < 0.04)
    assert in_bounds(space, children)
    pos5 = children[changed[:, 5], 5]
    assert set(pos5.tolist()) == {0, 1, 2, 3, 4}  # alphabet 6, parent letter 5 excluded


def test_ga_prefers_finite_losses_and_validates() -> None:
    space = ToySpace()
    best, worst = np.zeros(10, np.int64), np.ones(10, np.int64)
    history = [(worst, float("nan")), (best, 3.0)]
    kids = GAStrategy(elite=1, p_mutation=0.0).propose(space, history, 5, np.random.default_rng(0))
    assert np.all(kids == best[None])
    with pytest.raises(ValueError, match="1.5"):
        GAStrategy(p_mutation=1.5)
    with pytest.raises(ValueError, match="elite"):
        GAStrategy(elite=0)
    with pytest.raises(ValueError, match="p_crossover must be a number, got True"):
        GAStrategy(p_crossover=True)


def test_ga_on_slopes_stays_on_the_digit_alphabet() -> None:
    space = SlopeSpace()
    history = [(space.encode(m), abs(m.slope - 1.0)) for m in space.grid[::7]]
    kids = GAStrategy().propose(space, history, 100, np.random.default_rng(0))
    assert kids.shape == (100, 3) and in_bounds(space, kids)
    assert all(m is not None for m in space.realize(kids, exclude=()))


# ---------------------------------------------------------------------------------- mixed


def test_mixed_is_ga_children_then_random_free_motifs() -> None:
    space = SlopeSpace(n_points=40)
    history = [(space.encode(m), abs(m.slope - 1.0)) for m in space.grid[::4]]  # 10 evaluated
    evaluated = {m.digest for m in space.grid[::4]}
    ga = GAStrategy(elite=5)
    mixed = MixedStrategy(random_fraction=0.3, elite=5)
    got = mixed.propose(space, history, 20, np.random.default_rng(3), exclude=evaluated)
    assert got.shape == (20, len(space.alphabet)) and got.dtype == np.int64
    # The same generator, drawn in the documented order: 6 random rows first, then 14 children.
    rng = np.random.default_rng(3)
    uniform = RandomStrategy().propose(space, history, 6, rng, exclude=evaluated)
    children = ga.propose(space, history, 14, rng)
    np.testing.assert_array_equal(got, np.concatenate([children, uniform]))
    # The random rows are free motifs: none of them was evaluated.
    assert not {int(k) for k in space.index(got[14:])} & set(range(0, 40, 4))


def test_mixed_at_its_ends_is_exactly_the_ga_or_random_search() -> None:
    space = ToySpace()
    history = toy_history(np.random.default_rng(0), 30)
    for fraction, alone in ((0.0, GAStrategy()), (1.0, RandomStrategy())):
        a = MixedStrategy(random_fraction=fraction).propose(
            space, history, 12, np.random.default_rng(9)
        )
        b = alone.propose(space, history, 12, np.random.default_rng(9))
        np.testing.assert_array_equal(a, b)
    # No history yet (the warm-up): every row random, whatever the fraction.
    a = MixedStrategy(random_fraction=0.2).propose(space, [], 8, np.random.default_rng(1))
    np.testing.assert_array_equal(a, ToySpace().random_genes(np.random.default_rng(1), 8))
    with pytest.raises(ValueError, match="random_fraction"):
        MixedStrategy(random_fraction=1.5)
    with pytest.raises(ValueError, match="elite"):
        MixedStrategy(elite=0)


# ------------------------------------------------------------------------------------ NAO


@pytest.fixture(scope="module")
def nao_data() -> tuple[list[tuple[np.ndarray, float]], np.ndarray]:
    rng = np.random.default_rng(11)
    history = toy_history(rng, 160)
    held_out = ToySpace().random_genes(rng, 100)
    return history, held_out


def test_nao_predictor_ranks_held_out_strings(
    nao_data: tuple[list[tuple[np.ndarray, float]], np.ndarray],
) -> None:
    history, held_out = nao_data
    nao = NAOStrategy()
    scores = nao.rank(ToySpace(), history, held_out, np.random.default_rng(0))
    assert scores is not None and scores.shape == (100,)
    assert kendall_tau_b(scores, toy_loss(held_out)) > 0.5
    # In loss units, not z-scores: centred near the true losses.
    assert abs(scores.mean() - toy_loss(held_out).mean()) < 0.5
    again = nao.rank(ToySpace(), history, held_out, np.random.default_rng(0))
    assert again is not None
    np.testing.assert_allclose(scores, again)
    assert nao.rank(ToySpace(), history[:1], held_out, np.random.default_rng(0)) is None


def test_nao_proposes_new_and_better_strings(
    nao_data: tuple[list[tuple[np.ndarray, float]], np.ndarray],
) -> None:
    history, held_out = nao_data
    space = ToySpace()
    props = NAOStrategy().propose(space, history, 30, np.random.default_rng(1))
    assert props.shape == (30, 10) and in_bounds(space, props)
    seen = {g.tobytes() for g, _ in history}
    keys = [row.tobytes() for row in props]
    assert not set(keys) & seen  # all new
    assert len(set(keys)) == 30  # and distinct
    # Walks downhill from the best seeds: on average better than 90% of the history.
    assert toy_loss(props).mean() < np.quantile([v for _, v in history], 0.1)


def test_nao_validates_its_configuration() -> None:
    with pytest.raises(ValueError, match="trade_off"):
        NAOStrategy(trade_off=0.0)
    with pytest.raises(ValueError, match="steps"):
        NAOStrategy(steps=0)
    with pytest.raises(ValueError, match="n_seeds must be a positive int, got True"):
        NAOStrategy(n_seeds=True)
    with pytest.raises(ValueError, match="step_size must be finite and > 0, got -0.1"):
        NAOStrategy(step_size=-0.1)
    with pytest.raises(ValueError, match="candidates"):
        NAOStrategy().rank(ToySpace(), [], np.zeros((2, 3), np.int64), np.random.default_rng(0))
