"""The strategy kit: the ``petridish.search.strategies.Strategy`` contract as a pytest base.

Subclass ``StrategyKit`` and provide, class-scoped or wider:

* ``strategy``: a fresh strategy under test;
* ``space``: a ``SearchSpace`` to propose in (a small one keeps the kit fast);

and optionally override ``history`` (default: 8 motifs of ``space.random_genes`` with
distinct losses, the last one diverged (``inf``), as the search loop hands them over).

The kit checks the name, that proposals are int64 ``(n, n_genes)`` gene strings within the
alphabet whose rows ``space.realize`` maps to motifs the space encodes (members), that the
count ``n`` is honoured (0 included), determinism per ``rng`` seed from an empty and a
non-empty history, that neither ``history`` nor ``exclude`` is modified, that ``exclude``
is accepted, and that ``rank`` gives ``None`` or one finite float per candidate,
deterministically.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence

import numpy as np
import pytest

from petridish.search.space import SearchSpace, check_genes
from petridish.search.strategies.base import History, Strategy

__all__ = ["StrategyKit"]

_N = 5  # proposals per call in the checks below


def _same_history(a: History, b: History) -> bool:
    if len(a) != len(b):
        return False
    for (ga, la), (gb, lb) in zip(a, b, strict=True):
        if not np.array_equal(ga, gb) or not (la == lb or (la != la and lb != lb)):
            return False
    return True


class StrategyKit:
    """Contract tests for one strategy; see the module docstring for the fixtures."""

    @pytest.fixture(scope="class")
    @classmethod
    def strategy(cls) -> Strategy:
        raise NotImplementedError("provide the fixture strategy: the strategy under test")

    @pytest.fixture(scope="class")
    @classmethod
    def space(cls) -> SearchSpace:
        raise NotImplementedError("provide the fixture space: a SearchSpace to propose in")

    @pytest.fixture(scope="class")
    @classmethod
    def history(cls, space: SearchSpace) -> History:
        genes = space.random_genes(np.random.default_rng(123), 8)  # (8, n_genes)
        losses = [1.0 + 0.1 * i for i in range(len(genes) - 1)] + [float("inf")]
        return [(g, loss) for g, loss in zip(genes, losses, strict=True)]

    @pytest.fixture(params=["empty", "history"])
    def past(self, request: pytest.FixtureRequest, history: History) -> History:
        """Each check runs from an empty and from a non-empty history: a fresh copy per
        test, so a strategy that writes into its history cannot hide it from later checks."""
        return [] if request.param == "empty" else copy.deepcopy(list(history))

    def _exclude(self, space: SearchSpace, past: History) -> set[str]:
        if not past:
            return set()
        motifs = space.realize(np.stack([g for g, _ in past]), ())
        return {m.digest for m in motifs if m is not None}

    def test_name(self, strategy: Strategy) -> None:
        assert isinstance(strategy, Strategy)
        assert isinstance(strategy.name, str) and strategy.name
        assert "+" not in strategy.name and "," not in strategy.name

    def test_proposals_are_members_of_the_space(
        self, strategy: Strategy, space: SearchSpace, past: History
    ) -> None:
        exclude = self._exclude(space, past)
        genes = strategy.propose(space, past, _N, np.random.default_rng(0), exclude=exclude)
        assert isinstance(genes, np.ndarray) and genes.dtype == np.int64
        assert genes.shape == (_N, len(space.alphabet))  # (n, n_genes)
        check_genes(space.alphabet, genes, what="proposals")
        motifs = space.realize(genes, exclude)
        assert len(motifs) == _N
        for m in motifs:
            assert m is not None and m.digest not in exclude
            # A member: the space encodes it, and its own gene string realizes it again.
            own = check_genes(space.alphabet, space.encode(m)[None])  # (1, n_genes)
            assert space.realize(own, ())[0] == m

    @pytest.mark.parametrize("n", [0, 1, 3])
    def test_count_is_honoured(
        self, strategy: Strategy, space: SearchSpace, past: History, n: int
    ) -> None:
        genes = strategy.propose(space, past, n, np.random.default_rng(1))
        assert genes.shape == (n, len(space.alphabet))

    def test_deterministic_per_rng_seed(
        self, strategy: Strategy, space: SearchSpace, past: History
    ) -> None:
        a = strategy.propose(space, past, _N, np.random.default_rng(7))
        b = strategy.propose(space, past, _N, np.random.default_rng(7))
        np.testing.assert_array_equal(a, b)
        ra = strategy.rank(space, past, a, np.random.default_rng(8))
        rb = strategy.rank(space, past, a, np.random.default_rng(8))
        assert (ra is None) == (rb is None)
        if ra is not None and rb is not None:
            np.testing.assert_array_equal(ra, rb)

    def test_inputs_are_not_modified(
        self, strategy: Strategy, space: SearchSpace, past: History
    ) -> None:
        mine: Sequence[tuple[np.ndarray, float]] = [(g.copy(), loss) for g, loss in past]
        before = copy.deepcopy(mine)
        exclude = frozenset(self._exclude(space, past))
        exclude_set = set(exclude)
        genes = strategy.propose(space, mine, _N, np.random.default_rng(2), exclude=exclude_set)
        candidates = genes.copy()
        strategy.rank(space, mine, genes, np.random.default_rng(3))
        assert _same_history(mine, before)
        assert exclude_set == exclude
        np.testing.assert_array_equal(genes, candidates)

    def test_rank_scores_candidates(
        self, strategy: Strategy, space: SearchSpace, past: History
    ) -> None:
        candidates = space.random_genes(np.random.default_rng(4), _N)
        scores = strategy.rank(space, past, candidates, np.random.default_rng(5))
        if scores is None:
            return
        scores = np.asarray(scores)
        assert scores.shape == (_N,) and scores.dtype == np.float64
        assert np.all(np.isfinite(scores))
