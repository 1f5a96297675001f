"""The cell vocabulary: ops with their arities, graph inputs, outputs, and ``CellError``.

Every other module of ``petridish.motifs.cell`` builds on these names; an op's id is its
position in ``OPS`` (see the package docstring for the op table).
"""

from __future__ import annotations

from dataclasses import dataclass


class CellError(ValueError):
    """A recipe or genotype that does not describe a valid cell; the message names the node."""


@dataclass(frozen=True)
class _OpSpec:
    name: str
    min_arity: int
    max_arity: int | None  # None: unbounded
    ordered: bool  # input order matters (blend); otherwise the inputs are a multiset


_SPECS: tuple[_OpSpec, ...] = (
    _OpSpec("linear", 1, None, False),
    _OpSpec("blend", 3, 3, True),
    _OpSpec("elementwise_sum", 2, None, False),
    _OpSpec("elementwise_prod", 2, None, False),
    _OpSpec("activation_tanh", 1, 1, False),
    _OpSpec("activation_sigm", 1, 1, False),
    _OpSpec("activation_leaky_relu", 1, 1, False),
    _OpSpec("activation_relu", 1, 1, False),
    _OpSpec("elementwise_mean", 2, None, False),
)
OPS: tuple[str, ...] = tuple(s.name for s in _SPECS)
"""All ops; an op's id is its position here."""
OP_ID: dict[str, int] = {name: i for i, name in enumerate(OPS)}
NASBENCH_OPS: tuple[str, ...] = OPS[:7]
"""The seven ops of the NAS-Bench-NLP search space (ids 0..6)."""
GRAPH_INPUTS: tuple[str, ...] = ("x", "h_prev_0", "h_prev_1", "h_prev_2")
"""Graph inputs; their position is their row in the executor's value table."""
N_GRAPH_INPUTS = len(GRAPH_INPUTS)
OUTPUTS: tuple[str, ...] = ("h_new_0", "h_new_1", "h_new_2")
_N_STATES = len(OUTPUTS)
_OUTPUT_K = {name: k for k, name in enumerate(OUTPUTS)}
_LEAKY_SLOPE = 0.01

Node = tuple[str, str, tuple[str, ...]]
"""One canonical node: (name, op, input names)."""
