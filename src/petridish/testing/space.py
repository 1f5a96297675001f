"""The space kit: a ``SpaceSpec`` and its ``SearchSpace`` contract as a pytest base class.

Subclass ``SpaceKit`` and provide, class-scoped or wider:

* ``space_spec``: the ``petridish.search.spaces.SpaceSpec`` under test;
* ``ground_truth_request``: a ``GroundTruthRequest`` under which ``space_spec.load`` works
  (point it at small or local data; the kit loads once per subclass);

and optionally override ``space`` (default: the loaded ground truth's space).

Checks of the spec: a frozen, picklable record whose fields have the documented types, a
default protocol among its protocols, a default predictor that the predictor registry
knows, a default dish that is a ``DishConfig``, a load whose space carries the spec's name
and whose evaluator is one of ``evaluators`` (a tabular space returns its oracle), and an
unknown protocol refused with ``ValueError``. Checks of the space: the alphabet, sampling
(``random_genes``: in the alphabet, distinct motifs, deterministic per ``rng``, ``exclude``
honoured), membership (``encode`` then ``realize`` is the identity on the space's motifs;
a motif of another kind is a ``ValueError``), ``realize`` (never an excluded or repeated
motif, ``None`` once nothing is left), and that neighbours (one gene changed within the
alphabet) realize to members of the space.
"""

from __future__ import annotations

import dataclasses
import pickle
from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np
import pytest

from petridish.motifs.base import Motif
from petridish.search.space import SearchSpace, check_genes
from petridish.search.spaces.base import GroundTruth, GroundTruthRequest, SpaceSpec
from petridish.search.spaces.registry import space_names
from petridish.search.spaces.registry import space_spec as registered_spec

__all__ = ["SpaceKit"]


@dataclasses.dataclass(frozen=True)
class _Stranger(Motif):
    """A motif no space holds (unregistered: ``kind`` set after the class is built)."""

    value: int = 0

    def payload(self) -> dict[str, Any]:
        return {"value": self.value}

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> _Stranger:
        return cls(int(payload["value"]))

    @classmethod
    def encode_many(cls, motifs: Sequence[Motif]) -> np.ndarray:
        return np.zeros((len(motifs), 1), np.int64)


_Stranger.kind = "_petridish_testing_stranger"


class SpaceKit:
    """Contract tests for one space; see the module docstring for the fixtures."""

    exhaust_rows: ClassVar[int] = 400  # rows realized at once to run a small space out

    @pytest.fixture(scope="class")
    @classmethod
    def space_spec(cls) -> SpaceSpec:
        raise NotImplementedError("provide the fixture space_spec: the SpaceSpec under test")

    @pytest.fixture(scope="class")
    @classmethod
    def ground_truth_request(cls) -> GroundTruthRequest:
        raise NotImplementedError("provide the fixture ground_truth_request for space_spec.load")

    @pytest.fixture(scope="class")
    @classmethod
    def ground_truth(
        cls, space_spec: SpaceSpec, ground_truth_request: GroundTruthRequest
    ) -> GroundTruth:
        return space_spec.load(ground_truth_request)

    @pytest.fixture(scope="class")
    @classmethod
    def space(cls, ground_truth: GroundTruth) -> SearchSpace:
        return ground_truth.space

    # ------------------------------------------------------------------ the spec

    def test_spec_fields(self, space_spec: SpaceSpec) -> None:
        from petridish.dish.config import DishConfig
        from petridish.search.predictors import predictor_names
        from petridish.search.strategies import strategy_names

        assert isinstance(space_spec, SpaceSpec)
        assert isinstance(space_spec.name, str) and space_spec.name
        assert isinstance(space_spec.summary, str) and space_spec.summary
        assert space_spec.evaluators and all(isinstance(e, str) for e in space_spec.evaluators)
        assert space_spec.default_predictor in predictor_names()
        assert space_spec.default_strategy in strategy_names()
        assert isinstance(space_spec.default_dish(), DishConfig)
        assert all(isinstance(p, str) and p for p in space_spec.protocols)
        if space_spec.protocols:
            assert space_spec.default_protocol in space_spec.protocols
        else:
            assert space_spec.default_protocol is None
        with pytest.raises(dataclasses.FrozenInstanceError):
            space_spec.name = "renamed"  # type: ignore[misc]

    def test_spec_serialises(self, space_spec: SpaceSpec) -> None:
        again = pickle.loads(pickle.dumps(space_spec))
        assert again == space_spec
        if space_spec.name in space_names():
            assert registered_spec(space_spec.name) == space_spec

    def test_load(self, space_spec: SpaceSpec, ground_truth: GroundTruth) -> None:
        assert isinstance(ground_truth.space, SearchSpace)
        assert ground_truth.space.name == space_spec.name
        assert ground_truth.evaluator.name in space_spec.evaluators
        if space_spec.tabular:
            assert ground_truth.oracle is not None

    def test_unknown_protocol_is_refused(
        self, space_spec: SpaceSpec, ground_truth_request: GroundTruthRequest
    ) -> None:
        bad = dataclasses.replace(ground_truth_request, protocol="_petridish_no_such_protocol")
        with pytest.raises(ValueError):
            space_spec.load(bad)

    # ------------------------------------------------------------------ the space

    def test_alphabet(self, space: SearchSpace) -> None:
        alphabet = space.alphabet
        assert isinstance(alphabet, tuple) and len(alphabet) >= 1
        assert all(isinstance(a, int) and a >= 1 for a in alphabet)

    def test_sampling(self, space: SearchSpace) -> None:
        genes = space.random_genes(np.random.default_rng(0), 6)
        assert genes.shape == (6, len(space.alphabet))  # (n, n_genes)
        assert check_genes(space.alphabet, genes).dtype == np.int64
        again = space.random_genes(np.random.default_rng(0), 6)
        np.testing.assert_array_equal(genes, again)
        motifs = space.realize(genes, ())
        assert all(m is not None for m in motifs)
        assert len({m.digest for m in motifs if m is not None}) == 6, "rows are distinct motifs"
        exclude = {m.digest for m in motifs[:3] if m is not None}
        fresh = space.realize(space.random_genes(np.random.default_rng(1), 4, exclude), ())
        assert all(m is not None and m.digest not in exclude for m in fresh)
        assert space.random_genes(np.random.default_rng(0), 0).shape == (0, len(space.alphabet))

    def test_membership(self, space: SearchSpace) -> None:
        motifs = space.realize(space.random_genes(np.random.default_rng(2), 4), ())
        for m in motifs:
            assert m is not None
            genes = space.encode(m)
            assert genes.shape == (len(space.alphabet),)
            check_genes(space.alphabet, genes[None])
            assert space.realize(genes[None], ()) == [m]
        with pytest.raises(ValueError):
            space.encode(_Stranger(1))

    def test_realize_excludes_and_never_repeats(self, space: SearchSpace) -> None:
        genes = space.random_genes(np.random.default_rng(3), 3)
        first = space.realize(genes, ())
        exclude = {first[0].digest} if first[0] is not None else set()
        # The same row three times: three different motifs, none excluded.
        same = np.repeat(genes[:1], 3, axis=0)
        got = space.realize(same, exclude)
        digests = [m.digest for m in got if m is not None]
        assert len(digests) == 3 and len(set(digests)) == 3
        assert not set(digests) & exclude
        # Deterministic: no randomness in realize.
        assert space.realize(same, exclude) == got

    def test_realize_gives_none_when_nothing_is_left(self, space: SearchSpace) -> None:
        """One row asked ``exhaust_rows`` times: distinct motifs while they last, then
        ``None`` for every later row (a space larger than that never runs out here)."""
        genes = space.random_genes(np.random.default_rng(4), 1)
        got = space.realize(np.repeat(genes, self.exhaust_rows, axis=0), ())
        assert len(got) == self.exhaust_rows and got[0] is not None
        found = [m for m in got if m is not None]
        assert len({m.digest for m in found}) == len(found)
        assert got[len(found) :] == [None] * (len(got) - len(found)), "None only at the end"
        if len(found) < len(got):
            everything = {m.digest for m in found}
            assert space.realize(genes, everything) == [None]

    def test_neighbours_stay_in_the_space(self, space: SearchSpace) -> None:
        rng = np.random.default_rng(5)
        genes = space.random_genes(rng, 4)  # (4, n_genes)
        alphabet = np.asarray(space.alphabet)
        for row in genes:
            i = int(rng.integers(len(alphabet)))
            neighbour = row.copy()
            neighbour[i] = (neighbour[i] + 1 + int(rng.integers(max(1, alphabet[i] - 1)))) % (
                alphabet[i]
            )
            check_genes(space.alphabet, neighbour[None])
            (m,) = space.realize(neighbour[None], ())
            assert m is not None
            assert space.realize(space.encode(m)[None], ()) == [m]
