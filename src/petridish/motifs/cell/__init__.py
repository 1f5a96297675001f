"""Recurrent-cell motifs: NAS-Bench-NLP recipes and DARTS/ENAS genotypes as one value object.

Native form (NAS-Bench-NLP "recepie")
-------------------------------------
A JSON object mapping node names to ``{"op": OP, "input": [NAME, ...]}``. The graph inputs
are ``x`` (the layer input) and ``h_prev_0..2`` (the hidden states of the previous step);
the outputs are the nodes named ``h_new_0..2``. ``h_new_0`` is the cell output and is
required; ``h_new_k`` (k >= 1) exists iff some node reads ``h_prev_k``, and states are
numbered contiguously (``h_new_2`` needs ``h_new_1``), as in NAS-Bench-NLP's executor,
which keeps ``max k + 1`` states. Output nodes may also feed other nodes (95 of the 345
benchmark recipes do that, e.g. the LSTM's ``h_new_1 -> h_new_1_act``). Every node must
feed some output (no dead nodes: none of the benchmark recipes has one). Not required:
reading ``x`` or ``h_prev_0`` (all benchmark cells do), distinct inputs within a node.

Ops (ids are positions in ``OPS``; inputs ``v_1..v_k``):

==  =======================  =======  ===================================================
id  op                       arity    value
==  =======================  =======  ===================================================
0   linear                   >= 1     ``sum_i W_i v_i + b``: one weight matrix per input
                                      slot and one bias per node (benchmark: 2-3 inputs)
1   blend                    3        ``z * a + (1 - z) * b`` for inputs ``(z, a, b)``;
                                      the only op whose input order matters
2   elementwise_sum          >= 2     ``v_1 + ... + v_k``
3   elementwise_prod         >= 2     ``v_1 * ... * v_k``
4   activation_tanh          1        ``tanh(v)``
5   activation_sigm          1        ``sigmoid(v)``
6   activation_leaky_relu    1        ``leaky_relu(v)``, slope 0.01 (torch's default)
7   activation_relu          1        ``max(v, 0)``   -- extra op, for DARTS genotypes
8   elementwise_mean         >= 2     ``(v_1 + ... + v_k) / k`` -- extra op, for DARTS
==  =======================  =======  ===================================================

``linear``, ``elementwise_*`` are commutative (a linear's weights are per slot, so
permuting its inputs permutes the weights: the same family of functions).

Canonical form
--------------
``Cell`` stores the recipe in canonical form: intermediate nodes are renamed ``n0, n1, ...``
and all nodes are listed in a canonical topological order; commutative inputs are sorted
(graph inputs first, then nodes by position). The labelling is found by colour refinement
(Weisfeiler-Lehman on op, output name, ordered/multiset inputs and consumer roles) plus an
individualisation-refinement search with automorphism pruning that picks the smallest
certificate, so two recipes that differ only in intermediate names, dict order or the order
of commutative inputs are equal, hash equally and have the same ``canonical()`` and
``digest``. Two structurally different DAGs never collide (e.g. ``prod(p, q)`` over two
distinct ``linear(x)`` nodes differs from ``prod(p, p)``). The search is capped at
``_MAX_LEAVES`` leaves; only graphs with enormous automorphism groups could hit the cap
(then the labelling is still deterministic but may depend on the input names).

DARTS / ENAS genotypes
----------------------
A genotype is a sequence of ``(activation, predecessor)`` pairs, activation in
``tanh, relu, sigmoid, identity``; entry ``i`` (0-based) defines node ``i + 1`` with
predecessor ``j <= i``. ``Cell.from_genotype`` maps it to recipe ops:

* ``s0 = h + c0 * (tanh(W [x, h]) - h)``, ``c0 = sigmoid(W' [x, h])`` with ``h = h_prev_0``
  becomes ``c0 = activation_sigm(linear(x, h_prev_0))``,
  ``t0 = activation_tanh(linear(x, h_prev_0))``, ``s0 = blend(c0, t0, h_prev_0)``
  (``h + c (t - h) == c t + (1 - c) h``).
* node ``i``: ``c_i = activation_sigm(linear(s_j))``; ``t_i = ACT(linear(s_j))`` with
  ``tanh -> activation_tanh``, ``sigmoid -> activation_sigm``, ``relu -> activation_relu``
  and ``identity`` -> the ``linear`` node itself (no activation node);
  ``s_i = blend(c_i, t_i, s_j)``.
* ``h_new_0 = elementwise_mean(s_k for k in concat)`` (the blend node itself when concat
  has one node); ``concat="all"`` is DARTS (nodes 1..n), ``concat="leaves"`` is ENAS (nodes
  no later node uses).

Deviations from DARTS: each DARTS matrix ``W_i`` (split into c and h halves) becomes two
``linear`` nodes, which carry a bias (DARTS has none); dropout masks are the network's
business. The cell has one hidden state (``h_new_0`` is both output and state, as in DARTS).

Array form (``Cell.program`` -> ``CellBatch``)
----------------------------------------------
For ``N`` cells padded to ``M`` nodes and ``K`` input slots: a value table has rows
``0: x, 1: h_prev_0, 2: h_prev_1, 3: h_prev_2, 4 + i: node i`` (canonical topological
order, so node ``i`` only reads rows ``< 4 + i``); see ``CellBatch`` for the arrays.

Modules (each public name is re-exported here; import from ``petridish.motifs.cell``)
-------------------------------------------------------------------------------------
``ops`` the vocabulary and ``CellError``; ``parse`` recipe validation; ``canonical`` the
canonical labelling; ``value`` ``Cell`` and ``CellBatch``; ``genotype`` DARTS/ENAS
genotypes; ``sampling`` random cells and mutation; ``encodings`` baseline codes;
``reference`` the NumPy reference executor; ``live`` the part of a cell its output depends
on.
"""

from petridish.motifs.cell.encodings import adjacency_onehot, adjacency_onehot_size, op_counts
from petridish.motifs.cell.genotype import (
    DARTS_V1,
    DARTS_V2,
    ENAS,
    GENOTYPE_ACTIVATIONS,
    Genotype,
    genotype_recipe,
    mutate_genotype,
    random_genotype,
    validate_genotype,
)
from petridish.motifs.cell.live import live_part
from petridish.motifs.cell.ops import (
    GRAPH_INPUTS,
    N_GRAPH_INPUTS,
    NASBENCH_OPS,
    OP_ID,
    OPS,
    OUTPUTS,
    CellError,
    Node,
)
from petridish.motifs.cell.reference import reference_step
from petridish.motifs.cell.sampling import RANDOM_NODES, mutate, random_cell, random_recipe
from petridish.motifs.cell.value import Cell, CellBatch

__all__ = [
    "DARTS_V1",
    "DARTS_V2",
    "ENAS",
    "GENOTYPE_ACTIVATIONS",
    "GRAPH_INPUTS",
    "NASBENCH_OPS",
    "N_GRAPH_INPUTS",
    "OPS",
    "OP_ID",
    "OUTPUTS",
    "RANDOM_NODES",
    "Cell",
    "CellBatch",
    "CellError",
    "Genotype",
    "Node",
    "adjacency_onehot",
    "adjacency_onehot_size",
    "genotype_recipe",
    "live_part",
    "mutate",
    "mutate_genotype",
    "op_counts",
    "random_cell",
    "random_genotype",
    "random_recipe",
    "reference_step",
    "validate_genotype",
]
