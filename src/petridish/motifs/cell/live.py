"""The part of a cell that its output depends on, through time.

A cell's output is ``h_new_0``. A hidden state ``k`` matters only if ``h_new_0`` reads
``h_prev_k``, directly or through other states; a state that no such chain reaches (and the
nodes that only compute it) changes nothing the language model sees. A framework that
differentiates the loss (PyTorch, as NAS-Bench-NLP trains its cells) never touches that
part: if it overflows, the loss and every gradient stay finite. Executors that run all
nodes as data (``petridish.nets.cell``, the language-model trainer) would multiply its
``inf`` by exact zeros and get ``NaN``; ``live_part`` removes it first.

``live_part(cell)`` returns the cell restricted to the states ``h_new_0`` depends on
(renumbered contiguously, in their old order) and the nodes that compute them; the cell
itself when nothing is removed.
"""

from __future__ import annotations

from petridish.motifs.cell.ops import GRAPH_INPUTS, OUTPUTS
from petridish.motifs.cell.value import Cell

__all__ = ["live_part"]


def live_part(cell: Cell) -> Cell:
    """``cell`` without the states (and their nodes) that cannot reach ``h_new_0``."""
    nodes = {name: (op, tuple(ins)) for name, op, ins in cell.nodes}
    states = {0}
    needed: set[str] = set()
    while True:
        stack = [OUTPUTS[k] for k in states]
        while stack:
            name = stack.pop()
            if name in needed or name not in nodes:
                continue
            needed.add(name)
            stack.extend(nodes[name][1])
        read = {  # the states the needed nodes read (h_prev_k -> k)
            GRAPH_INPUTS.index(i) - 1
            for name in needed
            for i in nodes[name][1]
            if i in GRAPH_INPUTS[1:]
        }
        if read <= states:
            break
        states |= read
    if len(needed) == len(nodes):
        return cell
    rename = {old: new for new, old in enumerate(sorted(states))}

    def name_of(n: str) -> str:
        if n in OUTPUTS:
            return OUTPUTS[rename[OUTPUTS.index(n)]]
        if n in GRAPH_INPUTS[1:]:
            return GRAPH_INPUTS[1 + rename[GRAPH_INPUTS.index(n) - 1]]
        return n

    recipe = {
        name_of(name): {"op": op, "input": [name_of(i) for i in ins]}
        for name, (op, ins) in nodes.items()
        if name in needed
    }
    return Cell.from_recipe(recipe)
