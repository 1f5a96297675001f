"""Recipe validation: a recipe (mapping or JSON text) to an integer-referenced ``_Graph``.

Every error is a ``CellError`` naming the offending node; the rules are in the package
docstring (acyclic, contiguous hidden states, every node feeds an output).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from petridish.motifs.cell.ops import (
    _OUTPUT_K,
    _SPECS,
    GRAPH_INPUTS,
    OP_ID,
    OPS,
    OUTPUTS,
    CellError,
    _OpSpec,
)


def _arity_text(spec: _OpSpec) -> str:
    if spec.max_arity is None:
        return f"at least {spec.min_arity}"
    return f"exactly {spec.min_arity}"


@dataclass
class _Graph:
    """A validated recipe with integer references.

    ``inputs[v]`` holds node indices (>= 0) or graph inputs as ``-1 - t`` (x = -1,
    h_prev_k = -2 - k); ``out_k[v]`` is k for node ``h_new_k`` and -1 otherwise.
    """

    names: list[str]
    ops: list[int]
    inputs: list[list[int]]
    out_k: list[int]

    @cached_property
    def ordered(self) -> list[bool]:
        return [_SPECS[op].ordered for op in self.ops]

    @cached_property
    def consumers(self) -> list[list[tuple[int, int]]]:
        """Per node, one (consumer, role) per use; role is the slot for ordered ops, else -1."""
        cons: list[list[tuple[int, int]]] = [[] for _ in self.ops]
        for w, refs in enumerate(self.inputs):
            for slot, r in enumerate(refs):
                if r >= 0:
                    cons[r].append((w, slot if self.ordered[w] else -1))
        return cons


def _load(recipe: object) -> Mapping[Any, Any]:
    if isinstance(recipe, str):
        try:
            recipe = json.loads(recipe)
        except ValueError as err:
            raise CellError(f"recipe is not valid JSON: {err}") from None
    if not isinstance(recipe, Mapping):
        raise CellError(
            "recipe must be a JSON object mapping node names to {'op': ..., 'input': [...]}, "
            f"got {type(recipe).__name__}"
        )
    if len(recipe) == 0:
        raise CellError("empty recipe: a cell needs at least its output node 'h_new_0'")
    return recipe


def _parse(recipe: Mapping[Any, Any]) -> _Graph:
    """Validate a recipe mapping; every error names the offending node."""
    names: list[str] = []
    ops: list[int] = []
    raw: list[list[str]] = []
    for name, spec in recipe.items():
        if not isinstance(name, str):
            raise CellError(f"node {name!r}: node names must be strings")
        if name in GRAPH_INPUTS:
            raise CellError(f"node {name!r}: the name is reserved for a graph input")
        if not isinstance(spec, Mapping):
            raise CellError(
                f"node {name!r}: expected an object with 'op' and 'input', "
                f"got {type(spec).__name__}"
            )
        for key in ("op", "input"):
            if key not in spec:
                raise CellError(f"node {name!r}: missing key {key!r}")
        extra = sorted(repr(k) for k in spec if k not in ("op", "input"))
        if extra:
            raise CellError(f"node {name!r}: unknown keys {', '.join(extra)}")
        op, inputs = spec["op"], spec["input"]
        if not isinstance(op, str) or op not in OP_ID:
            raise CellError(f"node {name!r}: unknown op {op!r}; known ops: {', '.join(OPS)}")
        if not isinstance(inputs, list | tuple):
            raise CellError(
                f"node {name!r}: 'input' must be a list of names, got {type(inputs).__name__}"
            )
        for item in inputs:
            if not isinstance(item, str):
                raise CellError(f"node {name!r}: input {item!r} is not a name (string)")
        sp = _SPECS[OP_ID[op]]
        if len(inputs) < sp.min_arity or (sp.max_arity is not None and len(inputs) > sp.max_arity):
            raise CellError(
                f"node {name!r}: op {op!r} takes {_arity_text(sp)} input(s), got {len(inputs)}"
            )
        names.append(name)
        ops.append(OP_ID[op])
        raw.append(list(inputs))

    index = {name: i for i, name in enumerate(names)}
    refs: list[list[int]] = []
    for name, items in zip(names, raw, strict=True):
        row: list[int] = []
        for item in items:
            if item in index:
                row.append(index[item])
            elif item in GRAPH_INPUTS:
                row.append(-1 - GRAPH_INPUTS.index(item))
            else:
                raise CellError(
                    f"node {name!r}: input {item!r} does not exist (neither a node of the "
                    f"recipe nor a graph input {', '.join(GRAPH_INPUTS)})"
                )
        refs.append(row)
    if OUTPUTS[0] not in index:
        raise CellError(f"missing output node {OUTPUTS[0]!r} (the cell output)")
    graph = _Graph(names, ops, refs, [_OUTPUT_K.get(name, -1) for name in names])
    _check_acyclic(graph)
    _check_states(graph)
    _check_live(graph)
    return graph


def _check_acyclic(g: _Graph) -> None:
    state = [0] * len(g.ops)  # 0: unseen, 1: on the DFS path, 2: finished
    for root in range(len(g.ops)):
        if state[root]:
            continue
        state[root] = 1
        stack: list[tuple[int, int]] = [(root, 0)]  # (node, next input slot)
        while stack:
            v, slot = stack[-1]
            if slot == len(g.inputs[v]):
                state[v] = 2
                stack.pop()
                continue
            stack[-1] = (v, slot + 1)
            w = g.inputs[v][slot]
            if w < 0 or state[w] == 2:
                continue
            if state[w] == 1:  # back edge: the cycle is the path from w to v, then w again
                path = [u for u, _ in stack]
                loop = [*path[path.index(w) :], w]
                text = " reads ".join(repr(g.names[u]) for u in loop)
                raise CellError(f"node {g.names[w]!r} is on a cycle: {text}")
            state[w] = 1
            stack.append((w, 0))


def _check_states(g: _Graph) -> None:
    present = {k for k in g.out_k if k >= 0}
    for k in sorted(present):
        if k > 0 and k - 1 not in present:
            raise CellError(
                f"node {OUTPUTS[k]!r}: hidden states must be numbered contiguously, "
                f"but {OUTPUTS[k - 1]!r} is missing"
            )
    readers: dict[int, str] = {}
    for name, row in zip(g.names, g.inputs, strict=True):
        for r in row:
            if r <= -2:
                readers.setdefault(-2 - r, name)
    for k, reader in sorted(readers.items()):
        if k not in present:
            raise CellError(
                f"node {reader!r} reads {GRAPH_INPUTS[1 + k]!r} but the recipe has no output "
                f"node {OUTPUTS[k]!r}"
            )
    for k in sorted(present):
        if k > 0 and k not in readers:
            raise CellError(
                f"node {OUTPUTS[k]!r} writes hidden state {k} but no node reads "
                f"{GRAPH_INPUTS[1 + k]!r}"
            )


def _check_live(g: _Graph) -> None:
    live = [False] * len(g.ops)
    stack = [v for v, k in enumerate(g.out_k) if k >= 0]
    while stack:
        v = stack.pop()
        if live[v]:
            continue
        live[v] = True
        stack.extend(r for r in g.inputs[v] if r >= 0)
    for v, ok in enumerate(live):
        if not ok:
            raise CellError(
                f"node {g.names[v]!r} does not feed any output node ({', '.join(OUTPUTS)})"
            )


def _nodes_as_recipe(nodes: object) -> Mapping[Any, Any]:
    if not isinstance(nodes, list | tuple):
        raise CellError(f"Cell nodes must be a tuple of (name, op, inputs), got {nodes!r}")
    recipe: dict[Any, Any] = {}
    for item in nodes:
        if not isinstance(item, list | tuple) or len(item) != 3:
            raise CellError(f"Cell node {item!r} is not a (name, op, inputs) triple")
        name, op, ins = item
        if isinstance(name, str) and name in recipe:
            raise CellError(f"node {name!r}: defined twice")
        try:
            recipe[name] = {"op": op, "input": list(ins) if isinstance(ins, tuple) else ins}
        except TypeError:
            raise CellError(f"node {name!r}: node names must be strings") from None
    return _load(recipe)
