"""The motif-kind kit over every motif kind of the library (one line per kind in KINDS)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest

import petridish.motifs  # noqa: F401  (registers every built-in motif kind)
from petridish.motifs.activation import Activation, random_activation
from petridish.motifs.base import _REGISTRY, Motif
from petridish.motifs.cell import Cell, random_cell, random_recipe
from petridish.motifs.slope import SigmoidSlope
from petridish.testing import MotifKindKit


@dataclass(frozen=True)
class KindCase:
    """One motif kind: its class, a sampler ``rng -> distinct motifs``, payloads to refuse."""

    kind: type[Motif]
    sample: Callable[[np.random.Generator], Sequence[Motif]]
    invalid: tuple[dict[str, Any], ...]
    variants: Callable[[], Sequence[tuple[Motif, Motif]]] = lambda: ()


def _slopes(rng: np.random.Generator) -> list[Motif]:
    values = np.unique(np.round(rng.uniform(0.05, 3.0, size=4), 6))
    return [SigmoidSlope(float(v)) for v in values]


def _cells(rng: np.random.Generator) -> list[Motif]:
    return [random_cell(rng, n_nodes=n) for n in (2, 4, 7)]


def _activations(rng: np.random.Generator) -> list[Motif]:
    drawn: dict[str, Motif] = {}
    while len(drawn) < 4:
        a = random_activation(rng)
        drawn[a.expr] = a
    return list(drawn.values())


_VALID_RECIPE = random_recipe(np.random.default_rng(0), n_nodes=4)


def _renamed(recipe: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The same graph with every inner node renamed (outputs and graph inputs keep their
    names): the same cell."""
    inner = [n for n in recipe if not n.startswith("h_new")]
    names = {n: f"renamed_{i}" for i, n in enumerate(reversed(inner))}
    return {
        names.get(n, n): {"op": node["op"], "input": [names.get(v, v) for v in node["input"]]}
        for n, node in reversed(list(recipe.items()))
    }


KINDS: dict[str, KindCase] = {
    "activation": KindCase(
        Activation,
        _activations,
        (
            {},
            {"expr": "no_such_op(x)"},
            {"expr": "scale(1e9, x)"},
            {"expr": "add(x)"},
            {"expr": "x", "extra": 1},
        ),
        lambda: [
            (Activation("mul(sigmoid(x), x)"), Activation("mul(x, sigmoid(x))")),
            (Activation("add(relu(x), tanh(x))"), Activation("add(tanh(x), relu(x))")),
        ],
    ),
    "sigmoid_slope": KindCase(
        SigmoidSlope,
        _slopes,
        ({}, {"slope": -1.0}, {"slope": 0.0}, {"slope": "steep"}, {"slope": 1.0, "x": 2}),
        lambda: [
            (SigmoidSlope(1), SigmoidSlope(1.0)),
            (SigmoidSlope(np.float32(0.5)), SigmoidSlope(0.5)),
        ],
    ),
    "cell": KindCase(
        Cell,
        _cells,
        (
            {},
            {"recipe": "{not json"},
            {"recipe": {"h_new_0": {"op": "no_such_op", "input": ["x"]}}},
            {"recipe": _VALID_RECIPE, "extra": 1},
        ),
        lambda: [(Cell.from_recipe(_VALID_RECIPE), Cell.from_recipe(_renamed(_VALID_RECIPE)))],
    ),
}


def _kit_class(name: str, case: KindCase) -> type[MotifKindKit]:
    class Kit(MotifKindKit):
        @pytest.fixture(scope="class")
        @classmethod
        def motif_kind(cls) -> type[Motif]:
            return case.kind

        @pytest.fixture(scope="class")
        @classmethod
        def sample_motifs(cls) -> Callable[[np.random.Generator], Sequence[Motif]]:
            return case.sample

        @pytest.fixture(scope="class")
        @classmethod
        def invalid_payloads(cls) -> Sequence[dict[str, Any]]:
            return case.invalid

        @pytest.fixture(scope="class")
        @classmethod
        def equal_variants(cls) -> Sequence[tuple[Motif, Motif]]:
            return case.variants()

    Kit.__name__ = Kit.__qualname__ = f"TestKit_{name}"
    return Kit


for _name, _case in KINDS.items():
    globals()[f"TestKit_{_name}"] = _kit_class(_name, _case)


def test_every_library_motif_kind_runs_the_kit() -> None:
    """A motif kind of the library without a line in KINDS fails here."""
    library = {k for k, cls in _REGISTRY.items() if cls.__module__.startswith("petridish.")}
    library.discard("_petridish_testing_foreign")
    assert library, "no motif kind registered"
    missing = library - set(KINDS)
    assert not missing, f"motif kinds without a MotifKindKit run: {sorted(missing)}"
    for name, case in KINDS.items():
        assert case.kind.kind == name and _REGISTRY[name] is case.kind
        assert f"TestKit_{name}" in globals()
