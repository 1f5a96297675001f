"""The open recipe space: NAS-Bench-NLP-style cells, trained as language models.

The space (``RecipeSpace``) holds every valid recipe (see ``petridish.motifs.cell``) over
the seven NAS-Bench-NLP ops (``NASBENCH_OPS``) within the cell executor's limits, by default
those of the cell dish (``DishConfig``): at most ``max_nodes`` nodes (15), ``max_inputs``
inputs per node (3) and ``max_slots`` weight matrices (36). That holds all 263 distinct
NAS-Bench-NLP cells (2 to 15 nodes, at most 17 weight matrices), and the dish can score
every proposal. Unlike ``--space nasbench_nlp``, whose proposals are mapped to the nearest
cell of a table, a proposal here is the recipe itself and its ground truth is
``LanguageModelEvaluator`` training it (``--protocol`` as for ``--space nao``: ``PROTOCOL``
or ``CORPUS:PROTOCOL``, default ``cpu`` on PTB).

Genes: ``CellPoolSpace``'s layout (``petridish.search.space.cell_alphabet``): per node
position ``i < max_nodes``, ``[op id + 1, state + 1, input row + 1 per slot]`` with 0 for
"no node", "not an output", "no input"; input rows are ``0: x, 1..3: h_prev_0..2,
4 + j: node j`` and node ``i`` reads rows ``< 4 + i``, so every string is acyclic.
``encode`` gives a cell's canonical string, so distinct cells have distinct strings.

Decoding (``RecipeSpace.decode``) maps EVERY gene string in the alphabet to a valid cell;
a string that is not a valid recipe as written is repaired by fixed rules, in this order:

1. nodes are the positions with an op; a row with none gets position 0 as a ``linear``;
2. inputs naming an absent node are dropped; a node with too many inputs for its op keeps
   the first ones, one with too few is padded with ``x`` (a blend's slot order is kept);
3. the last node claiming a state keeps it (earlier claimants become plain nodes); without
   a claimant of ``h_new_0`` the last node becomes ``h_new_0``;
4. then, until nothing changes: a state ``k >= 1`` no node reads is dropped; states are
   renumbered contiguously in order (reads of ``h_prev_k`` follow) and a read of a state
   that no node writes becomes ``h_prev_0``; nodes feeding no output are dropped; over
   ``max_slots`` weight matrices, the last ``linear`` node with several inputs loses its
   last input.

Each rule only drops or patches genes, so a valid string decodes unchanged and a near-valid
one to a near cell (what a GA child or a NAO decoding needs).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

import numpy as np

from petridish._validation import nonnegative_int, positive_int
from petridish.dish.config import DishConfig
from petridish.motifs.base import Motif
from petridish.motifs.cell import (
    GRAPH_INPUTS,
    N_GRAPH_INPUTS,
    NASBENCH_OPS,
    OUTPUTS,
    RANDOM_NODES,
    Cell,
    mutate,
    random_cell,
)
from petridish.motifs.cell.ops import _SPECS
from petridish.search.space import cell_alphabet, cell_genes, check_genes, realize_by_mutation
from petridish.search.spaces.base import GroundTruth, GroundTruthRequest, SpaceSpec
from petridish.search.spaces.nao import NAO, NAO_PROTOCOLS, parse_lm_protocol
from petridish.search.spaces.nasbench_nlp import search_cell_dish
from petridish.search.spaces.registry import register_space

__all__ = ["RECIPES", "RecipeSpace"]

_MAX_TRIES = 1000  # realize: mutations tried before a row gives None; random_genes: redraws
_X = 0  # value-table row of the graph input x (the padding input of rule 2)
_H0 = 1  # value-table row of h_prev_0 (always written: h_new_0 exists)


@dataclass(frozen=True)
class RecipeSpace:
    """Every NASBENCH_OPS recipe within the limits; see the module docstring.

    ``realize`` decodes a row (repairing it); a cell that is excluded or taken by an earlier
    row is mutated (a ``motifs.cell.mutate`` chain seeded by the row's bytes, so
    deterministic) until free, ``None`` after ``_MAX_TRIES`` steps. ``random_genes`` draws
    ``random_cell`` recipes (benchmark-like: 2..12 nodes, at most ``max_nodes``, benchmark
    arities; redrawn past ``max_slots``), not uniform strings: the space is far too large
    for the exact draw without replacement, so a drawn cell already excluded or drawn is
    redrawn, ``_MAX_TRIES`` times at most.
    """

    # The cell dish's executor limits (its network takes 3 inputs per node), so the default
    # dish scores every cell of the default space.
    max_nodes: int = DishConfig.max_nodes
    max_inputs: int = 3
    max_slots: int = DishConfig.max_slots
    name: str = "recipes"

    def __post_init__(self) -> None:
        # A blend takes 3 inputs: with fewer slots the op could not be written. max_nodes
        # one-input linear nodes must fit, so rule 4 can always get under max_slots.
        minimum = {
            "max_nodes": 1,
            "max_inputs": 3,
            "max_slots": positive_int(self.max_nodes, "max_nodes"),
        }
        for label, low in minimum.items():
            object.__setattr__(self, label, positive_int(getattr(self, label), label, low))

    @property
    def alphabet(self) -> tuple[int, ...]:
        return cell_alphabet(self.max_nodes, self.max_inputs, len(NASBENCH_OPS))

    def misfit(self, motif: Motif) -> str | None:
        """Why ``motif`` is not in the space, or None if it is."""
        if not isinstance(motif, Cell):
            return f"RecipeSpace holds Cell motifs, got {type(motif).__name__}"
        ops = sorted({op for _, op, _ in motif.nodes} - set(NASBENCH_OPS))
        if ops:
            return f"the cell uses ops outside NASBENCH_OPS: {', '.join(ops)}"
        if motif.n_nodes > self.max_nodes:
            return f"the cell has {motif.n_nodes} nodes, more than max_nodes={self.max_nodes}"
        arity = max(len(ins) for _, _, ins in motif.nodes)
        if arity > self.max_inputs:
            return f"a node has {arity} inputs, more than max_inputs={self.max_inputs}"
        if motif.n_weights > self.max_slots:
            return (
                f"the cell has {motif.n_weights} weight matrices, more than "
                f"max_slots={self.max_slots}"
            )
        return None

    def encode(self, motif: Motif) -> np.ndarray:
        """The cell's canonical gene string; ``ValueError`` saying why if it does not fit."""
        why = self.misfit(motif)
        if why is not None:
            raise ValueError(why)
        return cell_genes([motif], self.max_nodes, self.max_inputs)[0]

    def decode(self, genes: np.ndarray) -> Cell:
        """The cell of one gene string ``(n_genes,)``, repaired if needed (module docstring)."""
        row = check_genes(self.alphabet, np.asarray(genes)[None])[0]
        return Cell.from_recipe(self._recipe(row))

    def _recipe(self, row: np.ndarray) -> dict[str, dict[str, Any]]:
        k_slots = self.max_inputs
        table = row.reshape(self.max_nodes, 2 + k_slots) - 1  # -1: absent, as in CellBatch
        ops = {i: int(table[i, 0]) for i in range(self.max_nodes) if table[i, 0] >= 0}
        if not ops:  # rule 1
            ops = {0: 0}
        # Rule 2. Inputs are value-table rows; node rows < 4 + i by the alphabet (acyclic).
        inputs: dict[int, list[int]] = {}
        for i, op in ops.items():
            refs = [int(r) for r in table[i, 2:] if r >= 0]
            refs = [r for r in refs if r < N_GRAPH_INPUTS or r - N_GRAPH_INPUTS in ops]
            spec = _SPECS[op]
            hi = spec.max_arity if spec.max_arity is not None else k_slots
            refs = refs[:hi]
            inputs[i] = refs + [_X] * (spec.min_arity - len(refs))
        # Rule 3: state k -> its node, the last claimant winning.
        holder: dict[int, int] = {}
        for i in ops:
            if table[i, 1] >= 0:
                holder[int(table[i, 1])] = i
        if 0 not in holder:
            last = max(ops)
            holder = {k: v for k, v in holder.items() if v != last}
            holder[0] = last
        # Rule 4, to a fixed point: each pass drops a state, a node or an input, or stops.
        while True:
            read = {r - _H0 for refs in inputs.values() for r in refs if _H0 <= r < N_GRAPH_INPUTS}
            unread = [k for k in holder if k > 0 and k not in read]
            for k in unread:
                del holder[k]
            new_k = {k: j for j, k in enumerate(sorted(holder))}
            holder = {new_k[k]: v for k, v in holder.items()}
            for refs in inputs.values():
                for s, r in enumerate(refs):
                    if _H0 <= r < N_GRAPH_INPUTS:
                        refs[s] = _H0 + new_k.get(r - _H0, 0)
            live = self._live(inputs, holder)
            dead = [i for i in inputs if i not in live]
            for i in dead:
                del inputs[i], ops[i]
            if unread or dead:
                continue
            if not self._trim_slots(ops, inputs):
                break
        state_of = {v: k for k, v in holder.items()}
        names = {i: OUTPUTS[state_of[i]] if i in state_of else f"n{i}" for i in ops}

        def name(r: int) -> str:
            return GRAPH_INPUTS[r] if r < N_GRAPH_INPUTS else names[r - N_GRAPH_INPUTS]

        return {
            names[i]: {"op": NASBENCH_OPS[ops[i]], "input": [name(r) for r in inputs[i]]}
            for i in sorted(ops)
        }

    @staticmethod
    def _live(inputs: dict[int, list[int]], holder: dict[int, int]) -> set[int]:
        """Positions that feed an output (the outputs included)."""
        live: set[int] = set()
        stack = list(holder.values())
        while stack:
            i = stack.pop()
            if i not in live:
                live.add(i)
                stack.extend(r - N_GRAPH_INPUTS for r in inputs[i] if r >= N_GRAPH_INPUTS)
        return live

    def _trim_slots(self, ops: dict[int, int], inputs: dict[int, list[int]]) -> bool:
        """Drop the last input of the last multi-input ``linear`` node if the weight
        matrices exceed ``max_slots``; whether an input was dropped."""
        linear = [i for i in sorted(ops) if NASBENCH_OPS[ops[i]] == "linear"]
        if sum(len(inputs[i]) for i in linear) <= self.max_slots:
            return False
        # max_slots >= max_nodes, so over the cap some linear node has several inputs.
        i = next(i for i in reversed(linear) if len(inputs[i]) > 1)
        inputs[i].pop()
        return True

    def random_genes(
        self, rng: np.random.Generator, n: int, exclude: Collection[str] = ()
    ) -> np.ndarray:
        """Gene strings of ``random_cell`` draws, redrawn while excluded or already drawn."""
        n = nonnegative_int(n, "n")
        taken = set(exclude)
        rows = []
        for _ in range(n):
            cell = self._draw(rng)
            for _ in range(_MAX_TRIES):
                if cell.digest not in taken:
                    break
                cell = self._draw(rng)
            taken.add(cell.digest)
            rows.append(self.encode(cell))
        return np.asarray(rows, np.int64).reshape(n, len(self.alphabet))

    def _draw(self, rng: np.random.Generator) -> Cell:
        """One ``random_cell`` within the limits (node counts capped at ``max_nodes``)."""
        lo, hi = RANDOM_NODES
        top = min(hi, self.max_nodes)
        for _ in range(_MAX_TRIES):
            # With the default node range, random_cell's own draw (the benchmark-like one).
            n_nodes = None if top == hi else int(rng.integers(min(lo, top), top + 1))
            cell = random_cell(rng, n_nodes)
            if self.misfit(cell) is None:  # only max_slots can refuse it
                return cell
        raise ValueError(f"no random cell within max_slots={self.max_slots} in {_MAX_TRIES} draws")

    def realize(self, genes: np.ndarray, exclude: Collection[str]) -> list[Motif | None]:
        def step(cell: Cell, rng: np.random.Generator) -> Cell | None:
            try:
                nxt = mutate(cell, rng, NASBENCH_OPS)
            except ValueError:  # no valid mutation: the chain ends here
                return None
            # A mutation keeps node and input counts; only an op turned linear can pass
            # max_slots (never with the defaults): stay, the next draw differs.
            return nxt if self.misfit(nxt) is None else cell

        return realize_by_mutation(
            check_genes(self.alphabet, genes), exclude, self.decode, lambda c: c, step, _MAX_TRIES
        )


def _load(request: GroundTruthRequest) -> GroundTruth:
    """``RecipeSpace()`` over ``LanguageModelEvaluator`` (protocol as for ``nao``)."""
    from petridish.truth.lm import LanguageModelEvaluator

    corpus, protocol = parse_lm_protocol(request.protocol)
    evaluator = LanguageModelEvaluator(
        corpus, protocol, request.data_dir, download=request.download
    )
    return GroundTruth(RecipeSpace(), evaluator)


RECIPES = register_space(
    SpaceSpec(
        name="recipes",
        summary="NAS-Bench-NLP-style recipes (up to 15 nodes), real language-model training",
        load=_load,
        evaluators=("lm_ptb", "lm_wikitext2"),
        # The dish executor (15 nodes, 3 inputs, 36 weight matrices) runs every cell here.
        default_dish=search_cell_dish,
        default_predictor="dish",
        protocols=NAO_PROTOCOLS,
        default_protocol="cpu",
        downloads=True,
        tabular=False,
        truth="lm",
        corpora=NAO.corpora,
        data_hint="pass --data-dir holding ptb/ (or wikitext-2/), or set PETRIDISH_DATA_DIR",
    )
)
