"""DARTS / ENAS recurrent genotypes: validation, the recipe they map to, sampling, mutation.

The mapping to recipe ops is in the package docstring. This module depends only on the
vocabulary (``ops``), not on ``Cell``, so ``Cell.from_genotype`` can build on it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import numpy as np

from petridish._validation import integer, positive_int
from petridish.motifs.cell.ops import OUTPUTS, CellError

Genotype = tuple[tuple[str, int], ...]
"""DARTS recurrent genotype: entry i (0-based) is (activation, predecessor j <= i)."""
GENOTYPE_ACTIVATIONS: tuple[str, ...] = ("tanh", "relu", "sigmoid", "identity")
_GENOTYPE_ACT_OP = {
    "tanh": "activation_tanh",
    "relu": "activation_relu",
    "sigmoid": "activation_sigm",
}

DARTS_V1: Genotype = (
    ("relu", 0), ("relu", 1), ("tanh", 2), ("relu", 3),
    ("relu", 4), ("identity", 1), ("relu", 5), ("relu", 1),
)  # fmt: skip
"""First-order DARTS PTB cell (Liu et al., 2019); use with ``concat="all"``."""
DARTS_V2: Genotype = (
    ("sigmoid", 0), ("relu", 1), ("relu", 1), ("identity", 1),
    ("tanh", 2), ("sigmoid", 5), ("tanh", 3), ("relu", 5),
)  # fmt: skip
"""Second-order DARTS PTB cell (Liu et al., 2019); use with ``concat="all"``."""
ENAS: Genotype = (
    ("tanh", 0), ("tanh", 1), ("relu", 1), ("tanh", 3), ("tanh", 3), ("relu", 3),
    ("relu", 4), ("relu", 7), ("relu", 8), ("relu", 8), ("relu", 8),
)  # fmt: skip
"""ENAS PTB cell (Pham et al., 2018) in DARTS notation; use with ``concat="leaves"``."""


def validate_genotype(genotype: object) -> Genotype:
    """``genotype`` as a tuple of (activation, predecessor); ``CellError`` names the bad node."""
    if isinstance(genotype, str) or not isinstance(genotype, Sequence) or len(genotype) == 0:
        raise CellError(f"genotype must be a non-empty sequence of pairs, got {genotype!r}")
    out: list[tuple[str, int]] = []
    for i, entry in enumerate(genotype):
        node = i + 1
        if isinstance(entry, str) or not isinstance(entry, Sequence) or len(entry) != 2:
            raise CellError(
                f"genotype node {node}: expected (activation, predecessor), got {entry!r}"
            )
        act, pred = entry
        if not isinstance(act, str) or act not in GENOTYPE_ACTIVATIONS:
            raise CellError(
                f"genotype node {node}: unknown activation {act!r}; "
                f"known: {', '.join(GENOTYPE_ACTIVATIONS)}"
            )
        pred = integer(pred, f"genotype node {node}: predecessor", error=CellError)
        if not 0 <= pred <= i:
            raise CellError(
                f"genotype node {node}: predecessor {pred} is not an earlier node (0..{i})"
            )
        out.append((act, pred))
    return tuple(out)


def genotype_recipe(
    genotype: Sequence[tuple[str, int]], concat: Literal["all", "leaves"] = "all"
) -> dict[str, dict[str, Any]]:
    """The recipe of a DARTS/ENAS genotype (node names ``s{i}``, ``c{i}`` ...; see package doc)."""
    geno = validate_genotype(genotype)
    if concat not in ("all", "leaves"):
        raise CellError(f"concat must be 'all' or 'leaves', got {concat!r}")
    n = len(geno)
    recipe: dict[str, dict[str, Any]] = {
        "c0_lin": {"op": "linear", "input": ["x", "h_prev_0"]},
        "c0": {"op": "activation_sigm", "input": ["c0_lin"]},
        "t0_lin": {"op": "linear", "input": ["x", "h_prev_0"]},
        "t0": {"op": "activation_tanh", "input": ["t0_lin"]},
        "s0": {"op": "blend", "input": ["c0", "t0", "h_prev_0"]},
    }
    for i, (act, pred) in enumerate(geno, start=1):
        prev = f"s{pred}"
        recipe[f"c{i}_lin"] = {"op": "linear", "input": [prev]}
        recipe[f"c{i}"] = {"op": "activation_sigm", "input": [f"c{i}_lin"]}
        recipe[f"t{i}_lin"] = {"op": "linear", "input": [prev]}
        t = f"t{i}_lin"
        if act != "identity":
            t = f"t{i}"
            recipe[t] = {"op": _GENOTYPE_ACT_OP[act], "input": [f"t{i}_lin"]}
        recipe[f"s{i}"] = {"op": "blend", "input": [f"c{i}", t, prev]}
    if concat == "all":
        picked = list(range(1, n + 1))
    else:
        used = {pred for _, pred in geno}
        picked = [i for i in range(1, n + 1) if i not in used]
    if len(picked) == 1:
        recipe[OUTPUTS[0]] = recipe.pop(f"s{picked[0]}")
        for spec in recipe.values():  # nothing reads a leaf, but keep the rename total
            spec["input"] = [OUTPUTS[0] if s == f"s{picked[0]}" else s for s in spec["input"]]
    else:
        recipe[OUTPUTS[0]] = {"op": "elementwise_mean", "input": [f"s{i}" for i in picked]}
    return recipe


def random_genotype(rng: np.random.Generator, n_nodes: int = 8) -> Genotype:
    """A uniform random genotype of ``n_nodes`` entries (DARTS uses 8)."""
    n_nodes = positive_int(n_nodes, "n_nodes")
    acts = GENOTYPE_ACTIVATIONS
    return tuple(
        (acts[int(rng.integers(len(acts)))], int(rng.integers(i + 1))) for i in range(n_nodes)
    )


def mutate_genotype(genotype: Sequence[tuple[str, int]], rng: np.random.Generator) -> Genotype:
    """``genotype`` with one activation or one predecessor changed (always a change).

    Node 1 can only take predecessor 0, so it only changes its activation.
    """
    geno = list(validate_genotype(genotype))
    i = int(rng.integers(len(geno)))
    act, pred = geno[i]
    if i > 0 and rng.random() < 0.5:
        others = [j for j in range(i + 1) if j != pred]
        geno[i] = (act, others[int(rng.integers(len(others)))])
    else:
        acts = [a for a in GENOTYPE_ACTIVATIONS if a != act]
        geno[i] = (acts[int(rng.integers(len(acts)))], pred)
    return tuple(geno)
