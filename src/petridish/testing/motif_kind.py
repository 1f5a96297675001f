"""The motif-kind kit: the ``petridish.motifs.base.Motif`` contract as a pytest base class.

Subclass ``MotifKindKit`` and provide, class-scoped or wider:

* ``motif_kind``: the ``Motif`` subclass under test (registered: it sets ``kind``);
* ``sample_motifs``: a callable ``(rng: np.random.Generator) -> Sequence[Motif]`` giving at
  least two pairwise distinct motifs of that kind, a pure function of ``rng``;
* ``invalid_payloads``: payloads (``to_json`` without ``"kind"``) that ``from_payload`` must
  refuse with ``ValueError``; at least one;
* optionally ``equal_variants``: pairs of motifs built differently that must be the same
  motif (e.g. a cell with renamed nodes; a slope given as an int): equal, same hash, same
  canonical form and digest. Default: none.

The kit checks the JSON round trip (``to_json`` / ``motif_from_json``, through ``json``
text too), a stable canonical form and digest, equality and hashing, immutability, pickling
(the execution layer ships motifs to workers), ``encode_many`` (leading motif axis, rows in
input order, a row alone equal to its batched row up to padding), that mixed kinds are
refused, that bad payloads raise ``ValueError``, and, for kinds with the ``activation``
hook, that the hook keeps ``x``'s shape and dtype under ``jax.vmap`` over motifs.
"""

from __future__ import annotations

import dataclasses
import json
import pickle
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest

from petridish.motifs.base import (
    Motif,
    has_activation,
    motif_family,
    motif_from_json,
    motif_kinds,
)

__all__ = ["MotifKindKit", "SampleMotifs"]

SampleMotifs = Callable[[np.random.Generator], Sequence[Motif]]


@dataclass(frozen=True)
class _Foreign(Motif):
    """A motif of another kind, for the mixed-kinds checks. ``kind`` is set after the class
    is built, so ``Motif.__init_subclass__`` does not register it (the registry stays what
    the library and its plug-ins made it)."""

    value: int = 0

    def payload(self) -> dict[str, Any]:
        return {"value": self.value}

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> _Foreign:
        return cls(int(payload["value"]))

    @classmethod
    def encode_many(cls, motifs: Sequence[Motif]) -> np.ndarray:
        return np.array([getattr(m, "value", 0) for m in motifs], np.int64)


_Foreign.kind = "_petridish_testing_foreign"


class MotifKindKit:
    """Contract tests for one motif kind; see the module docstring for the fixtures."""

    @pytest.fixture(scope="class")
    @classmethod
    def motif_kind(cls) -> type[Motif]:
        raise NotImplementedError("provide the fixture motif_kind: the Motif subclass under test")

    @pytest.fixture(scope="class")
    @classmethod
    def sample_motifs(cls) -> SampleMotifs:
        raise NotImplementedError("provide the fixture sample_motifs: rng -> distinct motifs")

    @pytest.fixture(scope="class")
    @classmethod
    def invalid_payloads(cls) -> Sequence[dict[str, Any]]:
        raise NotImplementedError("provide the fixture invalid_payloads: payloads to refuse")

    @pytest.fixture(scope="class")
    @classmethod
    def equal_variants(cls) -> Sequence[tuple[Motif, Motif]]:
        return ()

    @pytest.fixture(scope="class")
    @classmethod
    def motifs(cls, motif_kind: type[Motif], sample_motifs: SampleMotifs) -> list[Motif]:
        out = list(sample_motifs(np.random.default_rng(0)))
        assert len(out) >= 2, "sample_motifs must give at least two motifs"
        assert all(type(m) is motif_kind for m in out), "sample_motifs gave another kind"
        assert len(set(out)) == len(out), "sample_motifs must give pairwise distinct motifs"
        return out

    # ------------------------------------------------------------------ identity

    def test_kind_is_registered(self, motif_kind: type[Motif]) -> None:
        assert issubclass(motif_kind, Motif)
        assert isinstance(motif_kind.kind, str) and motif_kind.kind
        assert motif_kinds().get(motif_kind.kind) is motif_kind

    def test_json_round_trip(self, motifs: list[Motif]) -> None:
        for m in motifs:
            obj = m.to_json()
            assert obj["kind"] == m.kind
            again = motif_from_json(obj)
            assert again == m and type(again) is type(m)
            # Through JSON text, as the store keeps it.
            assert motif_from_json(json.loads(json.dumps(obj))) == m
            assert type(m).from_payload(m.payload()) == m

    def test_canonical_form_and_digest_are_stable(self, motifs: list[Motif]) -> None:
        for m in motifs:
            again = motif_from_json(json.loads(m.canonical()))
            assert again.canonical() == m.canonical()
            assert again.digest == m.digest
            assert re.fullmatch(r"[0-9a-f]{16}", m.digest)
            assert json.loads(m.canonical()) == m.to_json()
        assert len({m.digest for m in motifs}) == len(motifs), "distinct motifs share a digest"
        assert len({m.canonical() for m in motifs}) == len(motifs)

    def test_equal_variants_are_one_motif(
        self, equal_variants: Sequence[tuple[Motif, Motif]]
    ) -> None:
        for a, b in equal_variants:
            assert a == b and hash(a) == hash(b)
            assert a.canonical() == b.canonical() and a.digest == b.digest
            assert len({a, b}) == 1

    def test_equality_and_hashing(self, motifs: list[Motif]) -> None:
        copies = [motif_from_json(m.to_json()) for m in motifs]
        for m, c in zip(motifs, copies, strict=True):
            assert m == c and hash(m) == hash(c)
        assert set(motifs) == set(copies)
        assert len(set(motifs + copies)) == len(motifs)
        assert motifs[0] != motifs[1]
        lookup = {m: i for i, m in enumerate(motifs)}
        assert [lookup[c] for c in copies] == list(range(len(motifs)))

    def test_is_immutable(self, motifs: list[Motif]) -> None:
        m = motifs[0]
        assert dataclasses.is_dataclass(m)
        name = dataclasses.fields(m)[0].name
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(m, name, getattr(m, name))

    def test_pickles(self, motifs: list[Motif]) -> None:
        again = pickle.loads(pickle.dumps(motifs))
        assert again == motifs
        assert [m.digest for m in again] == [m.digest for m in motifs]

    def test_payload_is_plain_json(self, motifs: list[Motif]) -> None:
        for m in motifs:
            payload = m.payload()
            assert "kind" not in payload
            assert json.loads(json.dumps(payload)) == payload

    # ------------------------------------------------------------------ encoding

    def test_encode_many_shape_and_order(
        self, motif_kind: type[Motif], motifs: list[Motif]
    ) -> None:
        codes = np.asarray(motif_kind.encode_many(motifs))
        assert codes.shape[0] == len(motifs)  # (motifs, ...)
        reverse = np.asarray(motif_kind.encode_many(motifs[::-1]))
        np.testing.assert_array_equal(reverse, codes[::-1])
        for i, m in enumerate(motifs):
            # A kind may pad rows to the batch's largest motif (cells pad to its node
            # count): a row alone is the batched row cropped to its own size.
            alone = np.asarray(motif_kind.encode_many([m]))
            assert alone.ndim == codes.ndim
            assert all(a <= c for a, c in zip(alone.shape[1:], codes.shape[1:], strict=True))
            crop = tuple(slice(0, a) for a in alone.shape[1:])
            np.testing.assert_array_equal(alone[0], codes[i][crop])
        repeated = np.asarray(motif_kind.encode_many([motifs[0], motifs[0]]))
        np.testing.assert_array_equal(repeated[0], repeated[1])

    def test_mixed_kinds_are_refused(self, motif_kind: type[Motif], motifs: list[Motif]) -> None:
        mixed = [motifs[0], _Foreign(1)]
        with pytest.raises(ValueError):
            motif_family(mixed)
        with pytest.raises(ValueError):
            motif_kind.encode_many(mixed)
        assert motif_family(motifs) is motif_kind

    def test_invalid_payloads_raise_value_error(
        self, motif_kind: type[Motif], invalid_payloads: Sequence[dict[str, Any]]
    ) -> None:
        assert len(invalid_payloads) >= 1
        for payload in invalid_payloads:
            with pytest.raises(ValueError):
                motif_kind.from_payload(dict(payload))
            with pytest.raises(ValueError):
                motif_from_json({"kind": motif_kind.kind, **payload})

    def test_unknown_kind_is_refused(self, motifs: list[Motif]) -> None:
        obj = {**motifs[0].to_json(), "kind": "_petridish_testing_no_such_kind"}
        with pytest.raises(ValueError):
            motif_from_json(obj)

    def test_activation_hook(self, motif_kind: type[Motif], motifs: list[Motif]) -> None:
        """Kinds with the hook: ``vmap`` over motifs keeps ``x``'s shape and dtype, and is
        finite on ordinary inputs. Kinds without it must refuse to be called."""
        x = np.linspace(-3.0, 3.0, 12, dtype=np.float32).reshape(3, 4)  # (batch, features)
        codes = motif_kind.encode_many(motifs)
        if not has_activation(motif_kind):
            with pytest.raises(NotImplementedError):
                motif_kind.activation(codes[0], x)
            return
        import jax
        import jax.numpy as jnp

        out = jax.vmap(motif_kind.activation, in_axes=(0, None))(jnp.asarray(codes), x)
        assert out.shape == (len(motifs), *x.shape)  # (motifs, batch, features)
        assert out.dtype == x.dtype
        assert bool(jnp.all(jnp.isfinite(out)))
        one = motif_kind.activation(jnp.asarray(codes)[0], x)
        np.testing.assert_allclose(np.asarray(one), np.asarray(out[0]), rtol=1e-6, atol=1e-6)
