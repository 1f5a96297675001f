"""The motif contract: the searched part of an architecture, as a value object.

A motif is immutable, validated at construction, hashable, and has a canonical JSON
form (``to_json``) from which ``motif_from_json`` rebuilds an equal motif. The batched
motif-networks never see motif objects: a motif family turns a list of motifs into
stacked arrays (``encode``) that a network blueprint consumes under ``jax.vmap``.
"""

from __future__ import annotations

import hashlib
import json
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from typing import Any, ClassVar

import numpy as np

_REGISTRY: dict[str, type[Motif]] = {}


class Motif(ABC):
    """Abstract base of every motif kind.

    Subclasses are frozen dataclasses, set ``kind``, and implement ``payload`` (the
    JSON-able content), ``from_payload`` and ``encode_many``.
    """

    kind: ClassVar[str]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "kind" in cls.__dict__:
            _REGISTRY[cls.kind] = cls

    @abstractmethod
    def payload(self) -> dict[str, Any]:
        """The motif's content as plain JSON types (canonical: equal motifs, equal payload)."""

    @classmethod
    @abstractmethod
    def from_payload(cls, payload: dict[str, Any]) -> Motif:
        """Rebuild a motif from ``payload()``; raises ``ValueError`` on bad content."""

    @classmethod
    @abstractmethod
    def encode_many(cls, motifs: Sequence[Motif]) -> np.ndarray:
        """Stack motifs of this kind into the array their motif-network consumes.

        The leading axis is the motif axis: shape ``(len(motifs), ...)``. Rows may be
        padded to the batch's largest motif (cells are), so a row encoded alone can be
        shorter than the same motif's row in a batch; networks treat padding as absent.
        """

    @staticmethod
    def activation(code: Any, x: Any) -> Any:
        """Optional hook: the motif as an elementwise activation function, traceable by JAX.

        ``code`` is ONE row of ``encode_many`` (a traced array under ``vmap`` over motifs),
        ``x`` any float array; returns an array of ``x``'s shape and dtype. Pure, no Python
        control flow on ``code``. Kinds that implement it run on the MLP blueprint
        (``petridish.nets.mlp.MotifMLP``); the base class has none (``has_activation``).
        """
        raise NotImplementedError("this motif kind defines no activation(code, x)")

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, **self.payload()}

    def canonical(self) -> str:
        """Canonical JSON string: sorted keys, no whitespace."""
        return json.dumps(self.to_json(), sort_keys=True, separators=(",", ":"))

    @property
    def digest(self) -> str:
        """Stable content hash (sha256 of the canonical form, hex, 16 characters)."""
        return hashlib.sha256(self.canonical().encode()).hexdigest()[:16]


def motif_kinds() -> dict[str, type[Motif]]:
    """Every registered motif kind by its ``kind`` name (a copy: registering is by subclassing)."""
    return dict(_REGISTRY)


def motif_from_json(obj: dict[str, Any]) -> Motif:
    """Rebuild any registered motif from its ``to_json`` form."""
    kind = obj.get("kind")
    if kind not in _REGISTRY:
        raise ValueError(f"unknown motif kind {kind!r}; known: {sorted(_REGISTRY)}")
    payload = {k: v for k, v in obj.items() if k != "kind"}
    return _REGISTRY[kind].from_payload(payload)


def has_activation(kind: type[Motif]) -> bool:
    """Whether the motif class ``kind`` implements the ``Motif.activation`` hook."""
    return (
        isinstance(kind, type)
        and issubclass(kind, Motif)
        and (kind.activation is not Motif.activation)
    )


def motif_family(motifs: Sequence[Motif]) -> type[Motif]:
    """The single motif class shared by ``motifs``; mixing kinds is a ``ValueError``."""
    if len(motifs) == 0:
        raise ValueError("no motifs given: need at least one")
    kinds = {type(m) for m in motifs}
    if len(kinds) != 1:
        names = sorted(k.__name__ for k in kinds)
        raise ValueError(f"motifs of mixed kinds cannot share one dish: {names}")
    (cls,) = kinds
    return cls


ActivationFn = Callable[[Any], Any]
