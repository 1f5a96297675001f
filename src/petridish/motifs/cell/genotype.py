"""DARTS / ENAS recurrent genotypes: validation, the recipe they map to, sampling, mutation.

The mapping to recipe ops is in the package docstring. This module depends only on the
vocabulary (``ops``), not on ``Cell``, so ``Cell.from_genotype`` can build on it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
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


# ------------------------------------------------------------------ native (highway) form

GENOTYPE_ACT_ID: dict[str, int] = {a: i for i, a in enumerate(GENOTYPE_ACTIVATIONS)}
"""Activation id of a native node (``GenotypeLayout.act``): position in ``GENOTYPE_ACTIVATIONS``."""
_ACT_OF_OP = {op: act for act, op in _GENOTYPE_ACT_OP.items()}


@dataclass(frozen=True)
class GenotypeLayout:
    """A genotype cell recognised in a canonical node list, node by native node.

    Native node ``g`` is one highway update ``s_g = s_p + c_g * (t_g - s_p)`` with
    ``c_g = sigmoid(lin_c)``, ``t_g = act_g(lin_t)``; native node 0 reads ``x`` and
    ``h_prev_0`` (``s_p = h_prev_0``), node ``g >= 1`` reads ``s_{pred[g]}`` with
    ``pred[g] < g``. Indices into the canonical node list: ``lin_c[g]``, ``lin_t[g]`` (the
    two ``linear`` nodes; their bias rows and weight slots are the primitive form's) and
    ``blend[g]``. ``concat`` lists the native nodes averaged into ``h_new_0``.
    """

    act: tuple[int, ...]  # (G,) GENOTYPE_ACT_ID of t's activation
    pred: tuple[int, ...]  # (G,) predecessor native node; -1 for node 0 (h_prev_0)
    lin_c: tuple[int, ...]  # (G,) canonical node index of the gate's linear node
    lin_t: tuple[int, ...]  # (G,) canonical node index of the candidate's linear node
    blend: tuple[int, ...]  # (G,) canonical node index of the blend node
    concat: tuple[int, ...]  # native nodes averaged into the output

    @property
    def n_native(self) -> int:
        return len(self.act)


def genotype_layout(nodes: Sequence[tuple[str, str, tuple[str, ...]]]) -> GenotypeLayout | None:
    """The ``GenotypeLayout`` of a canonical node list ``(name, op, inputs)`` if it is
    exactly the primitive form of a genotype (``genotype_recipe``'s structure, any
    predecessors, concat any non-empty set of nodes), else None.

    Every node must belong to exactly one highway node (or be the output mean), so the
    native form computes the same function with the same weights.
    """
    index = {name: i for i, (name, _, _) in enumerate(nodes)}
    spec = {name: (op, tuple(ins)) for name, op, ins in nodes}
    blends = [name for name, op, _ in nodes if op == "blend"]
    if not blends:
        return None
    native_of: dict[str, int] = {}
    act: list[int] = []
    pred: list[int] = []
    lin_c: list[int] = []
    lin_t: list[int] = []
    claimed: set[str] = set()
    for name in blends:  # canonical order is topological: predecessors come first
        gate, cand, prev = spec[name][1]
        first = prev == "h_prev_0"
        if not first and prev not in native_of:
            return None
        want_in = ("x", "h_prev_0") if first else (prev,)
        if spec.get(gate, ("", ()))[0] != "activation_sigm":
            return None
        lc = spec[gate][1][0]
        if spec.get(lc) != ("linear", want_in):
            return None
        op_t, ins_t = spec.get(cand, ("", ()))
        if op_t == "linear":
            lt, a = cand, "identity"
        elif op_t in _ACT_OF_OP:
            lt, a = ins_t[0], _ACT_OF_OP[op_t]
        else:
            return None
        if spec.get(lt) != ("linear", want_in) or lt == lc:
            return None
        mine = {name, gate, lc, cand, lt}
        if mine & claimed or len(mine) != (4 if a == "identity" else 5):
            return None
        claimed |= mine
        native_of[name] = len(act)
        act.append(GENOTYPE_ACT_ID[a])
        pred.append(-1 if first else native_of[prev])
        lin_c.append(index[lc])
        lin_t.append(index[lt])
    if sum(1 for p in pred if p == -1) != 1 or pred[0] != -1:
        return None
    out = OUTPUTS[0]
    if out in native_of:
        concat = [native_of[out]]
    else:
        op_o, ins_o = spec.get(out, ("", ()))
        if op_o != "elementwise_mean" or not all(s in native_of for s in ins_o):
            return None
        if len(set(ins_o)) != len(ins_o):
            return None
        concat = sorted(native_of[s] for s in ins_o)
        claimed.add(out)
    if len(claimed) != len(nodes):
        return None
    return GenotypeLayout(
        act=tuple(act),
        pred=tuple(pred),
        lin_c=tuple(lin_c),
        lin_t=tuple(lin_t),
        blend=tuple(index[b] for b in blends),
        concat=tuple(concat),
    )
