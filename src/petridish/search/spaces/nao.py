"""The NAO/ENAS/DARTS genotype space: random recurrent genotypes, trained as language models.

The space (``GenotypeSpace``) holds every genotype of ``n_nodes`` nodes (12 by default, as in
the paper's NAO/ENAS space; 8 for DARTS) over the activations tanh, relu, sigmoid and
identity, read with ``concat`` ("all": the output averages every node, as DARTS and NAO do).
Its gene string is the GA's encoding: per node ``i`` (1-based), ``[activation id,
predecessor]`` with alphabets ``(4, i)``, so node 1's predecessor gene has one value (0).

Ground truth is ``LanguageModelEvaluator`` (``petridish.truth.lm``): the protocol comes from
``--protocol`` (default ``cpu``), the corpus from the same string as ``CORPUS:PROTOCOL``
(``wikitext2:cpu``; default corpus ``ptb``) because the space spec has no corpus field.
Genotype cells train natively (one highway step per node, ``petridish.nets.cell_ops``).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Literal

import numpy as np

from petridish.dish.config import DishConfig
from petridish.motifs.base import Motif
from petridish.motifs.cell import GENOTYPE_ACTIVATIONS, Cell, mutate_genotype, random_genotype
from petridish.motifs.cell.genotype import GENOTYPE_ACT_ID, Genotype, genotype_layout
from petridish.nets.genotype_cell import GENOTYPE_CELL_NETWORK
from petridish.search.spaces.base import GroundTruth, GroundTruthRequest, SpaceSpec
from petridish.search.spaces.nasbench_nlp import SEARCH_CELL_DISH
from petridish.search.spaces.registry import register_space

__all__ = ["NAO", "NAO_PROTOCOLS", "GenotypeSpace", "parse_lm_protocol"]

_CORPORA = ("ptb", "wikitext2")
_BASE_PROTOCOLS = ("cpu", "cpu_short", "cpu_large", "darts_search", "nasbench_nlp", "nao")
# What ``--protocol`` may name: ``PROTOCOL`` (on PTB) or ``CORPUS:PROTOCOL``.
NAO_PROTOCOLS = _BASE_PROTOCOLS + tuple(f"{c}:{p}" for c in _CORPORA for p in _BASE_PROTOCOLS)
_MAX_TRIES = 1000  # realize: deterministic mutations tried before a row gives None


@dataclass(frozen=True)
class GenotypeSpace:
    """Genotype cells of ``n_nodes`` nodes; see the module docstring for the encoding.

    ``realize`` decodes a row; a genotype that is excluded or taken by an earlier row is
    mutated (a ``mutate_genotype`` chain seeded by the row's bytes, so deterministic) until
    free, ``None`` after ``_MAX_TRIES``. ``random_genes`` draws uniform random genotypes
    (the space is too large, 4^12 * 12!, for the exact draw without replacement: a drawn
    genotype already excluded or drawn is redrawn, ``_MAX_TRIES`` times at most).
    """

    n_nodes: int = 12
    concat: Literal["all", "leaves"] = "all"
    name: str = "nao"

    def __post_init__(self) -> None:
        if not isinstance(self.n_nodes, int) or self.n_nodes < 1:
            raise ValueError(f"n_nodes must be a positive int, got {self.n_nodes!r}")
        if self.concat not in ("all", "leaves"):
            raise ValueError(f"concat must be 'all' or 'leaves', got {self.concat!r}")

    @property
    def alphabet(self) -> tuple[int, ...]:
        out: list[int] = []
        for i in range(1, self.n_nodes + 1):
            out += [len(GENOTYPE_ACTIVATIONS), i]
        return tuple(out)

    def genotype(self, genes: np.ndarray) -> Genotype:
        """The genotype of one gene string ``(2 * n_nodes,)``."""
        g = np.asarray(genes, np.int64).reshape(-1, 2)
        return tuple((GENOTYPE_ACTIVATIONS[int(a)], int(p)) for a, p in g)

    def genes_of(self, genotype: Genotype) -> np.ndarray:
        return np.asarray([[GENOTYPE_ACT_ID[a], p] for a, p in genotype], np.int64).reshape(-1)

    def cell(self, genotype: Genotype) -> Cell:
        return Cell.from_genotype(genotype, self.concat)

    def encode(self, motif: Motif) -> np.ndarray:
        """A gene string of the cell (genotypes equal up to node order encode alike)."""
        lay = genotype_layout(motif.nodes) if isinstance(motif, Cell) else None
        if lay is None or lay.n_native != self.n_nodes + 1:
            raise ValueError(f"not a {self.n_nodes}-node genotype cell: {motif!r}")
        geno = tuple(
            (GENOTYPE_ACTIVATIONS[lay.act[i]], lay.pred[i]) for i in range(1, lay.n_native)
        )
        if self.cell(geno) != motif:  # e.g. another concat
            raise ValueError(f"the cell is not a genotype of this space (concat={self.concat})")
        return self.genes_of(geno)

    def random_genes(
        self, rng: np.random.Generator, n: int, exclude: Collection[str] = ()
    ) -> np.ndarray:
        taken = set(exclude)
        rows = []
        for _ in range(n):
            geno = random_genotype(rng, self.n_nodes)
            for _ in range(_MAX_TRIES):
                if self.cell(geno).digest not in taken:
                    break
                geno = random_genotype(rng, self.n_nodes)
            taken.add(self.cell(geno).digest)
            rows.append(self.genes_of(geno))
        return np.asarray(rows, np.int64).reshape(n, len(self.alphabet))

    def realize(self, genes: np.ndarray, exclude: Collection[str]) -> list[Motif | None]:
        from petridish.search.space import check_genes, realize_by_mutation

        return realize_by_mutation(
            check_genes(self.alphabet, genes),
            exclude,
            self.genotype,
            self.cell,
            mutate_genotype,
            _MAX_TRIES,
        )

    def mutate(self, motif: Motif, rng: np.random.Generator) -> Cell:
        """The cell with one activation or predecessor changed."""
        return self.cell(mutate_genotype(self.genotype(self.encode(motif)), rng))


def parse_lm_protocol(protocol: str | None) -> tuple[str, str]:
    """``(corpus, protocol)`` from ``PROTOCOL`` or ``CORPUS:PROTOCOL`` (defaults ptb, cpu);
    ``ValueError`` naming the bad part."""
    text = protocol or "cpu"
    corpus, _, name = text.rpartition(":")
    corpus = corpus or "ptb"
    if corpus not in _CORPORA:
        raise ValueError(f"unknown corpus {corpus!r} in protocol {text!r}; known: {_CORPORA}")
    from petridish.truth.lm import get_protocol

    get_protocol(name)  # ValueError listing the known protocols
    return corpus, name


def _load(request: GroundTruthRequest) -> GroundTruth:
    """``GenotypeSpace`` (12 nodes) over ``LanguageModelEvaluator``."""
    from petridish.truth.lm import LanguageModelEvaluator

    corpus, protocol = parse_lm_protocol(request.protocol)
    evaluator = LanguageModelEvaluator(
        corpus, protocol, request.data_dir, download=request.download
    )
    return GroundTruth(GenotypeSpace(), evaluator)


def _nao_dish() -> DishConfig:
    # The cell search's dish (``for_cells(**SEARCH_CELL_DISH)``) on 12-node genotypes: 66
    # primitive nodes, the last one the mean of the 12 node outputs, which the genotype
    # network runs as 13 highway steps on the same parameters
    # (benchmarks/bench_genotype_dish.py).
    return DishConfig.for_cells(
        **SEARCH_CELL_DISH,
        network=GENOTYPE_CELL_NETWORK,
        max_nodes=68,
        max_slots=28,
        max_inputs=12,
    )


NAO = register_space(
    SpaceSpec(
        name="nao",
        summary="NAO/ENAS genotypes (12 nodes), real language-model training",
        load=_load,
        evaluators=("lm_ptb", "lm_wikitext2"),
        default_dish=_nao_dish,
        default_predictor="dish",
        protocols=NAO_PROTOCOLS,
        default_protocol="cpu",
        downloads=True,
        tabular=False,
        truth="lm",
        corpora=_CORPORA,
        data_hint="pass --data-dir holding ptb/ (or wikitext-2/), or set PETRIDISH_DATA_DIR",
    )
)
