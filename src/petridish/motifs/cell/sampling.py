"""Random recipes and cells, and one-step mutation, with benchmark-like arities."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from petridish._validation import integer, positive_int
from petridish.motifs.cell.ops import _SPECS, NASBENCH_OPS, OP_ID, OPS, OUTPUTS, CellError
from petridish.motifs.cell.parse import _parse
from petridish.motifs.cell.value import Cell


def _check_ops(ops: Sequence[str]) -> list[str]:
    bad = [op for op in ops if op not in OP_ID]
    if bad or not ops:
        raise ValueError(f"ops must be a non-empty subset of {OPS}, got {list(ops)}")
    return list(dict.fromkeys(ops))


def _arity_range(op: str) -> tuple[int, int]:
    """Arities the samplers use, as in the benchmark: linear 2-3, sum/prod 2, mean 2-3."""
    sp = _SPECS[OP_ID[op]]
    if op in ("linear", "elementwise_mean"):
        return 2, 3
    if op in ("elementwise_sum", "elementwise_prod"):
        return 2, 2
    return sp.min_arity, sp.min_arity


RANDOM_NODES: tuple[int, int] = (2, 12)
"""The node counts ``random_recipe`` draws from when not given one (inclusive)."""


def random_recipe(
    rng: np.random.Generator,
    n_nodes: int | None = None,
    n_states: int | None = None,
    ops: Sequence[str] = NASBENCH_OPS,
) -> dict[str, dict[str, Any]]:
    """A random valid recipe with exactly ``n_nodes`` nodes (default: 2..12 at random).

    ``n_states`` (default 1..3, at most ``n_nodes``) hidden states; nodes use ``ops`` with
    benchmark-like arities (linear 2-3, blend 3, sum/prod 2, mean 2-3, activations 1) and
    never repeat an input within a node; every node feeds an output, and ``x`` and every
    used ``h_prev_k`` are read. Raises ``ValueError`` if the arguments admit no cell.
    """
    op_list = _check_ops(ops)
    lo, hi = RANDOM_NODES
    n = int(rng.integers(lo, hi + 1)) if n_nodes is None else positive_int(n_nodes, "n_nodes")
    s = int(rng.integers(1, min(3, n) + 1)) if n_states is None else integer(n_states, "n_states")
    if not 1 <= s <= min(3, n):
        raise ValueError(f"n_states must be in 1..min(3, n_nodes)={min(3, n)}, got {n_states}")
    for _ in range(1000):
        recipe = _try_recipe(rng, n, s, op_list)
        if recipe is not None:
            return recipe
    raise ValueError(f"could not sample a cell with {n} nodes, {s} states from ops {op_list}")


def _try_recipe(
    rng: np.random.Generator, n: int, s: int, ops: list[str]
) -> dict[str, dict[str, Any]] | None:
    # Outputs: h_new_0 is the last node, h_new_1.. are distinct earlier nodes.
    state_of = {n - 1: 0}
    for k, v in enumerate(rng.choice(n - 1, size=s - 1, replace=False), start=1):
        state_of[int(v)] = k
    # Every non-output node gets a consumer among later nodes (at most 3 per consumer), so
    # no node is dead; other outputs feed a later node half of the time.
    must: list[list[int]] = [[] for _ in range(n)]
    for i in reversed(range(n - 1)):
        if i in state_of and rng.random() < 0.5:
            continue
        free = [j for j in range(i + 1, n) if len(must[j]) < 3]
        must[int(rng.choice(free))].append(i)
    terminals = ["x", *(f"h_prev_{k}" for k in range(s))]
    unread = set(terminals)
    names = [OUTPUTS[state_of[i]] if i in state_of else f"node_{i}" for i in range(n)]
    recipe: dict[str, dict[str, Any]] = {}
    for j in range(n):
        pool = terminals + [names[i] for i in range(j) if i not in must[j]]
        c = len(must[j])
        fits = [
            (op, lo, hi)
            for op in ops
            for lo, hi in [_arity_range(op)]
            if max(lo, c) <= min(hi, c + len(pool))
        ]
        if not fits:
            return None
        op, lo, hi = fits[int(rng.integers(len(fits)))]
        arity = int(rng.integers(max(lo, c), min(hi, c + len(pool)) + 1))
        chosen = [names[i] for i in must[j]]
        for _ in range(arity - c):
            left = [p for p in pool if p not in chosen]
            wanted = [p for p in left if p in unread]
            pick_from = wanted if wanted and rng.random() < 0.5 else left
            chosen.append(pick_from[int(rng.integers(len(pick_from)))])
        unread.difference_update(chosen)
        order = rng.permutation(len(chosen))
        recipe[names[j]] = {"op": op, "input": [chosen[int(t)] for t in order]}
    if unread:
        return None
    try:
        _parse(recipe)
    except CellError:
        return None
    return recipe


def random_cell(
    rng: np.random.Generator,
    n_nodes: int | None = None,
    n_states: int | None = None,
    ops: Sequence[str] = NASBENCH_OPS,
) -> Cell:
    """``Cell.from_recipe(random_recipe(...))``."""
    return Cell.from_recipe(random_recipe(rng, n_nodes, n_states, ops))


def mutate(cell: Cell, rng: np.random.Generator, ops: Sequence[str] = NASBENCH_OPS) -> Cell:
    """A valid cell different from ``cell`` that changes one node's op or one input.

    Op changes keep the node's input count (the new op from ``ops`` must take that many
    inputs within the samplers' benchmark-like arities, see ``random_recipe``); input
    changes pick another graph input of a used state or an earlier node, so the graph
    stays acyclic. Candidates that fail validation (a dead node, an orphaned state) or
    that are isomorphic to ``cell`` are redrawn. Raises ``ValueError`` if none is found.
    """
    op_list = _check_ops(ops)
    recipe = cell.to_recipe()
    names = list(recipe)
    terminals = ["x", *(f"h_prev_{k}" for k in range(cell.n_states))]
    for _ in range(200):
        v = int(rng.integers(len(names)))
        spec = recipe[names[v]]
        new = {name: {"op": sp["op"], "input": list(sp["input"])} for name, sp in recipe.items()}
        if rng.random() < 0.5:
            k = len(spec["input"])
            choices = [
                op
                for op in op_list
                if op != spec["op"] and _arity_range(op)[0] <= k <= _arity_range(op)[1]
            ]
            if not choices:
                continue
            new[names[v]]["op"] = choices[int(rng.integers(len(choices)))]
        else:
            slot = int(rng.integers(len(spec["input"])))
            pool = [p for p in terminals + names[:v] if p != spec["input"][slot]]
            if not pool:
                continue
            new[names[v]]["input"][slot] = pool[int(rng.integers(len(pool)))]
        try:
            out = Cell.from_recipe(new)
        except CellError:
            continue
        if out != cell:
            return out
    raise ValueError("could not find a valid mutation of this cell")
