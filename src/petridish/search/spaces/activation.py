"""The activation space: ``Activation`` expressions with MNIST MLP training as ground truth.

``ActivationSpace`` (a ``petridish.search.space.SearchSpace``)
-------------------------------------------------------------
Genes lay an expression on a complete binary tree of ``depth`` levels of ops (heap order:
position ``p``'s arguments sit at ``2p + 1`` and ``2p + 2``; below the last level every
argument is ``x``). Each position has two genes: its op (``TEMPLATE_OPS``: ``x`` ends the
branch, then the unary and binary ops) and the index of its ``scale`` constant in
``constants`` (read only when the op is ``scale``). So every gene string is a valid
expression (at most ``2**depth - 1`` ops and ``2**depth`` x's; depth 3: 15 nodes <=
``MAX_NODES``), and the random, GA and NAO strategies all work on it unchanged. A motif's
gene string is its canonical tree laid on the template, unused genes 0; motifs deeper than
``depth`` or with other constants are not in the space (``encode`` raises).

* ``realize``: a row's own expression if it is free (not excluded, not taken by an earlier
  row); else the first free expression among the row's one-gene changes (positions in
  order, values ascending); else the first free one of up to 1,000 gene strings drawn by a
  generator seeded with the row itself (deterministic); else ``None``.
* ``random_genes``: gene strings drawn uniformly, kept when their expression is free and
  new, returned as that expression's canonical gene string. The draw is uniform over gene
  strings, not over distinct expressions (many strings give the same expression; short
  ones are more likely), which is the deviation from the ``SearchSpace`` contract's
  "uniform over motifs": the space is too large to enumerate. Past 100 draws per row
  without a free new one, rows may repeat.

The spec
--------
Ground truth: ``MnistSlopeEvaluator`` (evaluator ``mnist_mlp``; it trains any motif kind
with the activation hook), protocols as the slope space. Default predictor: the dish on
``activation_mlp`` (``activation_dish()``), the slope experiment's dish with the motif kind
swapped.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from petridish._validation import integer, nonnegative_int
from petridish.dish.config import DishConfig
from petridish.motifs.activation import (
    BINARY_OPS,
    CONSTANTS,
    SAMPLED_UNARY,
    Activation,
    Node,
)
from petridish.motifs.base import Motif
from petridish.nets.activation_mlp import ACTIVATION_NETWORK
from petridish.search.space import check_genes
from petridish.search.spaces.base import GroundTruth, GroundTruthRequest, SpaceSpec
from petridish.search.spaces.registry import register_space

__all__ = ["ACTIVATION", "TEMPLATE_OPS", "ActivationSpace", "activation_dish"]

TEMPLATE_OPS: tuple[str, ...] = ("x", *SAMPLED_UNARY, *BINARY_OPS)
_TEMPLATE_ID = {op: i for i, op in enumerate(TEMPLATE_OPS)}
_FALLBACK_DRAWS = 1000
_DRAWS_PER_ROW = 100


def activation_dish(**overrides: object) -> DishConfig:
    """``DishConfig.for_slopes`` on the ``activation_mlp`` network (plus ``overrides``)."""
    return DishConfig.for_slopes(network=ACTIVATION_NETWORK, **overrides)


@dataclass(frozen=True)
class ActivationSpace:
    """Expressions on a ``depth``-level op template; see the module docstring."""

    depth: int = 3
    constants: tuple[float, ...] = CONSTANTS
    name: str = "activation"
    _positions: int = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        integer(self.depth, "depth")
        if not 1 <= self.depth <= 3:
            raise ValueError(f"depth must be in [1, 3] (at most 16 nodes), got {self.depth}")
        consts = tuple(float(c) for c in self.constants)
        if not consts:
            raise ValueError("constants must not be empty")
        for c in consts:
            Activation(f"scale({c!r}, x)")  # validates the constant (finite, in range)
        object.__setattr__(self, "constants", consts)
        object.__setattr__(self, "_positions", 2**self.depth - 1)

    @property
    def alphabet(self) -> tuple[int, ...]:
        return (len(TEMPLATE_OPS), len(self.constants)) * self._positions

    # --------------------------------------------------------------- genes <-> motifs

    def decode(self, genes: np.ndarray) -> Activation:
        """The expression of one gene string ``(n_genes,)`` (always valid)."""
        row = check_genes(self.alphabet, np.asarray(genes)[None, :])[0]

        def build(p: int) -> Node:
            if p >= self._positions:
                return Node("x")
            op = TEMPLATE_OPS[int(row[2 * p])]
            if op == "x":
                return Node("x")
            if op in BINARY_OPS:
                return Node(op, (build(2 * p + 1), build(2 * p + 2)))
            const = self.constants[int(row[2 * p + 1])] if op == "scale" else None
            return Node(op, (build(2 * p + 1),), const)

        return Activation.from_tree(build(0))

    def encode(self, motif: Motif) -> np.ndarray:
        if not isinstance(motif, Activation):
            raise ValueError(
                f"ActivationSpace encodes Activation motifs, got {type(motif).__name__}"
            )
        genes = np.zeros(2 * self._positions, np.int64)

        def lay(node: Node, p: int) -> None:
            if node.op == "x":
                return  # gene 0 is "x" (and any unused position is 0)
            if p >= self._positions or node.op not in _TEMPLATE_ID:
                raise ValueError(
                    f"activation {motif.expr!r} does not fit the space's {self.depth}-level "
                    "op template"
                )
            genes[2 * p] = _TEMPLATE_ID[node.op]
            if node.op == "scale":
                if node.const not in self.constants:
                    raise ValueError(
                        f"activation {motif.expr!r}: constant {node.const!r} is not one of "
                        f"the space's {self.constants}"
                    )
                genes[2 * p + 1] = self.constants.index(float(node.const))
            for i, arg in enumerate(node.args):
                lay(arg, 2 * p + 1 + i)

        lay(motif.tree, 0)
        return genes

    def random_genes(
        self, rng: np.random.Generator, n: int, exclude: Collection[str] = ()
    ) -> np.ndarray:
        """``n`` canonical gene strings of free, distinct expressions (module docstring)."""
        n = nonnegative_int(n, "n")
        high = np.asarray(self.alphabet, np.int64)  # (n_genes,)
        taken = set(exclude)
        rows: list[np.ndarray] = []
        for _ in range(_DRAWS_PER_ROW * int(n)):
            if len(rows) == n:
                break
            motif = self.decode(rng.integers(0, high))
            if motif.digest not in taken:
                taken.add(motif.digest)
                rows.append(self.encode(motif))
        while len(rows) < n:  # nothing new found: repeats are allowed past this point
            rows.append(self.encode(self.decode(rng.integers(0, high))))
        return np.asarray(rows, np.int64).reshape(int(n), len(self.alphabet))

    def realize(self, genes: np.ndarray, exclude: Collection[str]) -> list[Motif | None]:
        arr = check_genes(self.alphabet, genes)
        taken = set(exclude)
        out: list[Motif | None] = []
        for row in arr:
            motif = self._nearest_free(row, taken)
            if motif is not None:
                taken.add(motif.digest)
            out.append(motif)
        return out

    def _nearest_free(self, row: np.ndarray, taken: set[str]) -> Activation | None:
        own = self.decode(row)
        if own.digest not in taken:
            return own
        for i, size in enumerate(self.alphabet):
            for value in range(size):
                if value == row[i]:
                    continue
                changed = row.copy()
                changed[i] = value
                motif = self.decode(changed)
                if motif.digest not in taken:
                    return motif
        # Deterministic: the generator is seeded by the row, not by the caller.
        rng = np.random.default_rng([int(g) for g in row])
        high = np.asarray(self.alphabet, np.int64)
        for _ in range(_FALLBACK_DRAWS):
            motif = self.decode(rng.integers(0, high))
            if motif.digest not in taken:
                return motif
        return None


def _load(request: GroundTruthRequest) -> GroundTruth:
    """``ActivationSpace`` over ``MnistSlopeEvaluator`` (``ValueError``: unknown protocol)."""
    from petridish.evaluators.mnist_slope import MnistSlopeEvaluator

    data = None if request.data_dir is None else Path(request.data_dir)
    evaluator = MnistSlopeEvaluator(data, request.protocol or "tiny")
    return GroundTruth(ActivationSpace(), evaluator)


ACTIVATION = register_space(
    SpaceSpec(
        name="activation",
        summary="activation-function expressions, real MNIST training",
        load=_load,
        evaluators=("mnist_mlp",),
        default_dish=activation_dish,
        default_predictor="dish",
        protocols=("tiny", "cpu", "cpu_table", "paper"),
        default_protocol="tiny",
        downloads=False,
        tabular=False,
        truth="mnist",
        data_hint="pass --data-dir with the four MNIST files (or their parent holding mnist/)",
    )
)
