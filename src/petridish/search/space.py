"""Search spaces: fixed-length integer gene strings over motifs, for the search strategies.

Contract (``SearchSpace``)
--------------------------
A space turns motifs into gene strings and gene strings back into motifs:

* ``alphabet[i]`` is the number of values gene ``i`` takes; a gene string is an int64
  array ``(n_genes,)`` with ``0 <= genes[i] < alphabet[i]``. Strategies only ever see and
  produce gene strings, so one strategy works on every space.
* ``encode(motif)`` is that motif's gene string (``ValueError`` if the space cannot hold it).
* ``random_genes(rng, n, exclude=())`` draws ``(n, n_genes)`` gene strings of motifs whose
  ``digest`` is not in ``exclude``, uniformly without replacement: the rows are distinct
  motifs while the free ones last, each equally likely to be any free motif (a uniformly
  random ordered sample), so ``realize`` maps every such row to its own motif. Past the
  free motifs, further whole random permutations of them follow (``realize`` gives those
  rows ``None``); with nothing free, the draw is over all motifs. Randomness only through
  ``rng``. Random search and the loop's warm-up are exactly this draw with ``exclude`` the
  motifs already evaluated, i.e. uniform sampling without replacement of the space.
* ``realize(genes, exclude)`` maps each row of ``genes`` ``(n, n_genes)`` to a motif, in row
  order, such that no motif has its ``digest`` in ``exclude`` (the motifs already evaluated)
  and no two rows give the same motif; a row gets ``None`` once nothing is left. The mapping
  is deterministic (no randomness) and is the same for every strategy.

Spaces
------
``SlopeSpace``: the sigmoid slopes ``low + k * step``, ``k = 0 .. n_points - 1`` (default
0.01, 0.02, ..., 2.01: covers the slope tables, which run from 0.01 to 2.01). Genes are the
decimal digits of ``k``, most significant first, so the leading digit has a smaller
alphabet (``(3, 10, 10)`` for 201 points). A code ``k >= n_points`` (the digit grid is
larger than the slope grid) means the last slope. ``realize`` decodes ``k`` and, if that
slope is excluded or already taken in this call, returns the free grid slope nearest in
``k`` (ties: the smaller slope). ``random_genes`` draws grid slopes (not digit codes, which
would favour the last slope).

``CellPoolSpace``: a tabular pool of recurrent cells (e.g. the distinct NAS-Bench-NLP cells).
Genes, per node position ``i < max_nodes`` of the cell's canonical node order (see
``petridish.motifs.cell``): ``[op id + 1, state + 1, input row + 1 for each of max_inputs
slots]`` with 0 meaning "no node" / "not an output" / "no input". Input rows index the value
table (``0: x, 1..3: h_prev_0..2, 4 + j: node j``) and node ``i`` reads rows ``< 4 + i``, so
input genes of node ``i`` have alphabet ``5 + i``. The string is the cell's canonical form,
so distinct pool cells have distinct strings. ``realize`` returns, for each row, the pool
cell with the smallest Hamming distance to it among those not excluded and not taken by an
earlier row, ties broken by pool order. ``random_genes`` draws free pool cells, so random
search on a pool is uniform sampling of the table without replacement, never biased towards
the neighbours of cells already evaluated (the nearest-free mapping is for proposals that
are not free pool cells: GA children, NAO decodings).
``cell_alphabet`` and ``cell_genes`` are this layout for other cell spaces too (the open
``petridish.search.spaces.recipes.RecipeSpace`` decodes such strings to recipes).

``TablePoolSpace``: the cells of a measured table (e.g. ``nao_ptb``) as such a pool, but in
a base space's own encoding (``GenotypeSpace(12)``: the paper's genotype strings) instead
of the canonical per-node one; ``realize`` and ``random_genes`` are ``CellPoolSpace``'s
(the same helpers), on the base space's gene strings.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from typing import Protocol, TypeVar, runtime_checkable

import numpy as np

from petridish._logging import logger
from petridish._validation import nonnegative_int, positive_float, positive_int
from petridish.motifs.base import Motif
from petridish.motifs.cell import N_GRAPH_INPUTS, OPS, OUTPUTS, Cell
from petridish.motifs.slope import SigmoidSlope

S = TypeVar("S")  # the state of a mutation chain (a genotype, a cell)

__all__ = [
    "CellPoolSpace",
    "SearchSpace",
    "SlopeSpace",
    "TablePoolSpace",
    "cell_alphabet",
    "cell_genes",
    "check_genes",
    "realize_by_mutation",
]


@runtime_checkable
class SearchSpace(Protocol):
    """What a strategy and the search loop need from a space (see the module docstring)."""

    @property
    def name(self) -> str:
        """``"slope"`` or ``"nasbench_nlp"``."""
        ...

    @property
    def alphabet(self) -> tuple[int, ...]:
        """Number of values of each gene position; ``len(alphabet)`` genes."""
        ...

    def encode(self, motif: Motif) -> np.ndarray:
        """int64 ``(n_genes,)`` gene string of ``motif``."""
        ...

    def random_genes(
        self, rng: np.random.Generator, n: int, exclude: Collection[str] = ()
    ) -> np.ndarray:
        """int64 ``(n, n_genes)``: motifs not in ``exclude``, uniformly without replacement."""
        ...

    def realize(self, genes: np.ndarray, exclude: Collection[str]) -> list[Motif | None]:
        """One motif per row, never excluded, never repeated; ``None`` when none is left."""
        ...


def check_genes(alphabet: Sequence[int], genes: np.ndarray, what: str = "genes") -> np.ndarray:
    """``genes`` as int64 ``(n, len(alphabet))`` within the alphabet, else ``ValueError``."""
    arr = np.asarray(genes)
    n_genes = len(alphabet)
    if arr.ndim != 2 or arr.shape[1] != n_genes:
        raise ValueError(f"{what} must have shape (n, {n_genes}), got {arr.shape}")
    if arr.dtype.kind not in "iu" and (
        arr.dtype.kind != "f" or not np.all(np.isfinite(arr)) or np.any(arr != np.round(arr))
    ):
        raise ValueError(f"{what} must be integers, got dtype {arr.dtype}")
    arr = arr.astype(np.int64)
    high = np.asarray(alphabet, np.int64)  # (n_genes,)
    bad = (arr < 0) | (arr >= high[None, :])
    if bad.any():
        row, col = (int(v) for v in np.argwhere(bad)[0])
        raise ValueError(
            f"{what}[{row}, {col}] = {int(arr[row, col])} is outside the alphabet "
            f"[0, {int(high[col])})"
        )
    return arr


def realize_by_mutation(
    genes: np.ndarray,
    exclude: Collection[str],
    start: Callable[[np.ndarray], S],
    motif_of: Callable[[S], Motif],
    step: Callable[[S, np.random.Generator], S | None],
    max_tries: int,
) -> list[Motif | None]:
    """``realize`` for open spaces: each row ``(n_genes,)`` of ``genes`` starts a
    deterministic mutation chain (``start(row)``, then ``step(state, rng)`` with ``rng``
    seeded by the row's bytes; ``None`` ends the chain) and gets its first motif whose
    digest is neither excluded nor taken by an earlier row; ``None`` after ``max_tries``
    steps. A row seen before in this call resumes its chain where the earlier row stopped
    (those entries are all taken by now): the same result as walking from the start, linear
    instead of quadratic in repeated rows."""
    taken = set(exclude)
    out: list[Motif | None] = []
    chains: dict[bytes, tuple[np.random.Generator, S, int]] = {}
    for row in genes:
        key = row.tobytes()
        if key in chains:
            rng, state, tries = chains[key]
        else:
            seed = int.from_bytes(hashlib.sha256(key).digest()[:8], "little")
            rng, state, tries = np.random.default_rng(seed), start(row), 0
        found: Motif | None = None
        while tries < max_tries:
            motif = motif_of(state)
            if motif.digest not in taken:
                found = motif
                break
            tries += 1
            nxt = step(state, rng)
            if nxt is None:
                tries = max_tries
                break
            state = nxt
        chains[key] = (rng, state, tries)
        if found is not None:
            taken.add(found.digest)
        out.append(found)
    return out


def _check_n(n: int) -> int:
    return nonnegative_int(n, "n")


def _draw_free(rng: np.random.Generator, free: np.ndarray, n: int) -> np.ndarray:
    """``n`` entries of ``free`` (int64 ``(F,)``, ``F >= 1``, motif indices): uniformly
    without replacement while they last, then further whole permutations of ``free``."""
    if n == 0:
        return np.zeros(0, np.int64)
    # Whole permutations back to back: each free motif once before any motif twice.
    rounds = -(-n // len(free))
    return np.concatenate([free[rng.permutation(len(free))] for _ in range(rounds)])[:n]


def _pool_random_genes(
    pool_genes: np.ndarray,
    index: dict[str, int],
    rng: np.random.Generator,
    n: int,
    exclude: Collection[str],
) -> np.ndarray:
    """Rows of ``pool_genes`` ``(N, n_genes)`` of pool motifs (``index``: digest -> row) not
    in ``exclude``, uniformly without replacement (``_draw_free``); all rows if none is free."""
    n = _check_n(n)
    free = np.ones(len(pool_genes), bool)  # (N,)
    for digest in exclude:
        row = index.get(digest)
        if row is not None:
            free[row] = False
    if not free.any():
        free[:] = True
    # With nothing excluded this is rng.permutation(N)[:n], the draw of earlier versions.
    return pool_genes[_draw_free(rng, np.flatnonzero(free), n)]


def _pool_realize(
    pool: Sequence[Motif], pool_genes: np.ndarray, arr: np.ndarray, exclude: Collection[str]
) -> list[Motif | None]:
    """For each row of ``arr`` ``(n, n_genes)`` (checked), the free pool motif nearest in
    Hamming distance to it (ties: pool order), taken from then on; ``None`` once none is
    free. ``pool_genes`` ``(N, n_genes)`` are the pool motifs' gene strings, in pool order."""
    blocked = set(exclude)
    free = np.array([m.digest not in blocked for m in pool])  # (N,)
    out: list[Motif | None] = []
    for row in arr:
        if not free.any():
            out.append(None)
            continue
        dist = np.count_nonzero(pool_genes != row[None, :], axis=1)  # (N,)
        dist = np.where(free, dist, np.iinfo(np.int64).max)
        pick = int(np.argmin(dist))  # first minimum: ties -> pool order
        free[pick] = False
        out.append(pool[pick])
    return out


# ------------------------------------------------------------------------------ slopes


@dataclass(frozen=True)
class SlopeSpace:
    """Sigmoid slopes on the grid ``low + k * step``, ``k < n_points``, genes = digits of k."""

    low: float = 0.01
    step: float = 0.01
    n_points: int = 201
    _digests: tuple[str, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        positive_float(self.low, "low (a slope)")
        positive_float(self.step, "step")
        object.__setattr__(self, "n_points", positive_int(self.n_points, "n_points", 2))
        object.__setattr__(self, "_digests", tuple(m.digest for m in self.grid))

    @property
    def name(self) -> str:
        return "slope"

    @property
    def grid(self) -> tuple[SigmoidSlope, ...]:
        """All slopes of the space, in ``k`` order."""
        return tuple(SigmoidSlope(self.slope_at(k)) for k in range(self.n_points))

    def slope_at(self, k: int) -> float:
        """The ``k``-th grid slope, rounded to 10 decimals so 0.07 is the float 0.07."""
        if not 0 <= k < self.n_points:
            raise ValueError(f"grid index k must be in [0, {self.n_points}), got {k}")
        return round(self.low + k * self.step, 10)

    @property
    def alphabet(self) -> tuple[int, ...]:
        n_digits = len(str(self.n_points - 1))
        lead = (self.n_points - 1) // 10 ** (n_digits - 1) + 1
        return (lead, *([10] * (n_digits - 1)))

    def _digits(self, k: np.ndarray) -> np.ndarray:
        """int64 ``(n,)`` grid indices -> ``(n, n_digits)`` digits, most significant first."""
        n_digits = len(self.alphabet)
        powers = 10 ** np.arange(n_digits - 1, -1, -1, dtype=np.int64)  # (n_digits,)
        return (k[:, None] // powers[None, :]) % 10

    def index(self, genes: np.ndarray) -> np.ndarray:
        """Grid index ``k`` of each row of ``genes`` ``(n, n_genes)``; codes past the end clip."""
        arr = check_genes(self.alphabet, genes)
        n_digits = len(self.alphabet)
        powers = 10 ** np.arange(n_digits - 1, -1, -1, dtype=np.int64)
        return np.minimum(arr @ powers, self.n_points - 1)  # (n,)

    def encode(self, motif: Motif) -> np.ndarray:
        if not isinstance(motif, SigmoidSlope):
            raise ValueError(f"SlopeSpace encodes SigmoidSlope motifs, got {type(motif).__name__}")
        k = int(round((motif.slope - self.low) / self.step))
        if not 0 <= k < self.n_points or abs(self.slope_at(k) - motif.slope) > 1e-9 * max(
            1.0, motif.slope
        ):
            raise ValueError(
                f"slope {motif.slope!r} is not on the grid {self.low} + k * {self.step}, "
                f"k < {self.n_points}"
            )
        return self._digits(np.array([k], np.int64))[0]

    def random_genes(
        self, rng: np.random.Generator, n: int, exclude: Collection[str] = ()
    ) -> np.ndarray:
        """Digits of grid slopes not in ``exclude``, uniformly without replacement."""
        n = _check_n(n)
        blocked = set(exclude)
        free = np.array([k for k, d in enumerate(self._digests) if d not in blocked], np.int64)
        if free.size == 0:
            free = np.arange(self.n_points, dtype=np.int64)
        return self._digits(_draw_free(rng, free, n))

    def realize(self, genes: np.ndarray, exclude: Collection[str]) -> list[Motif | None]:
        wanted = self.index(genes)  # (n,)
        blocked = set(exclude)
        free = np.array([d not in blocked for d in self._digests])  # (n_points,)
        out: list[Motif | None] = []
        positions = np.arange(self.n_points)
        for k in wanted:
            idx = positions[free]
            if idx.size == 0:
                out.append(None)
                continue
            # argmin returns the first minimum, and idx is ascending: ties -> smaller slope.
            pick = int(idx[np.argmin(np.abs(idx - k))])
            free[pick] = False
            out.append(SigmoidSlope(self.slope_at(pick)))
        return out


# ------------------------------------------------------------------------------- cells


def cell_alphabet(max_nodes: int, max_inputs: int, n_ops: int = len(OPS)) -> tuple[int, ...]:
    """Alphabet of the per-node cell layout (module docstring, ``CellPoolSpace``): per node
    position ``i < max_nodes``, ``[n_ops + 1, len(OUTPUTS) + 1]`` then ``max_inputs`` times
    ``N_GRAPH_INPUTS + i + 1``. ``n_ops`` counts the op ids ``0 .. n_ops - 1`` a space
    uses (a prefix of ``OPS``; default all of them)."""
    per_node: list[int] = []
    for i in range(max_nodes):
        # op id + 1 (0: no node); state + 1 (0: not an output); rows < 4 + i, + 1 (0: none)
        per_node += [n_ops + 1, len(OUTPUTS) + 1]
        per_node += [N_GRAPH_INPUTS + i + 1] * max_inputs
    return tuple(per_node)


def cell_genes(cells: Sequence[Motif], max_nodes: int, max_inputs: int) -> np.ndarray:
    """int64 ``(len(cells), n_genes)``: the canonical gene strings of ``cells`` in the
    layout of ``cell_alphabet(max_nodes, max_inputs)`` (``ValueError`` from
    ``Cell.program`` for a cell with more nodes or inputs)."""
    prog = Cell.program(cells, max_nodes=max_nodes, max_inputs=max_inputs)
    # (N, M, 2 + K): op, state_of, inputs; all -1 where absent, so + 1 maps absent to 0.
    packed = np.concatenate([prog.op[..., None], prog.state_of[..., None], prog.inputs], -1)
    return (packed.astype(np.int64) + 1).reshape(len(cells), -1)


@dataclass(frozen=True)
class CellPoolSpace:
    """A tabular pool of distinct cells; genes = canonical per-node (op, state, input rows)."""

    pool: tuple[Cell, ...]
    max_nodes: int = 15
    max_inputs: int = 3
    name: str = "nasbench_nlp"
    _genes: np.ndarray = field(init=False, repr=False, compare=False)  # (N, n_genes) int64
    _index: dict[str, int] = field(init=False, repr=False, compare=False)  # digest -> row

    def __post_init__(self) -> None:
        pool = tuple(self.pool)
        object.__setattr__(self, "pool", pool)
        if not pool:
            raise ValueError("CellPoolSpace needs a non-empty pool of cells")
        bad = [i for i, c in enumerate(pool) if not isinstance(c, Cell)]
        if bad:
            raise ValueError(f"pool entry {bad[0]} is a {type(pool[bad[0]]).__name__}, not a Cell")
        for label in ("max_nodes", "max_inputs"):
            object.__setattr__(self, label, positive_int(getattr(self, label), label))
        index: dict[str, int] = {}
        for i, cell in enumerate(pool):
            if cell.digest in index:
                raise ValueError(
                    f"pool entries {index[cell.digest]} and {i} are the same cell "
                    f"(digest {cell.digest}); use CellPoolSpace.from_cells to drop duplicates"
                )
            index[cell.digest] = i
        object.__setattr__(self, "_index", index)
        object.__setattr__(self, "_genes", cell_genes(pool, self.max_nodes, self.max_inputs))

    @classmethod
    def from_cells(
        cls,
        cells: Sequence[Cell],
        max_nodes: int = 15,
        max_inputs: int | None = None,
        name: str = "nasbench_nlp",
    ) -> CellPoolSpace:
        """The pool of the distinct cells in ``cells``, in first-occurrence order.

        Cells equal as motifs (isomorphic recipes, same ``digest``) are kept once: the caller
        maps pool cells to their ground truth by ``digest``. ``max_inputs`` defaults to the
        largest node arity in ``cells``.
        """
        unique = tuple(dict.fromkeys(cells))
        if len(unique) < len(cells):
            logger.info(
                "CellPoolSpace: %d of %d cells are duplicates and were dropped",
                len(cells) - len(unique),
                len(cells),
            )
        if max_inputs is None:
            bad = [c for c in unique if not isinstance(c, Cell)]
            if bad:
                raise ValueError(f"from_cells needs Cell motifs, got a {type(bad[0]).__name__}")
            max_inputs = max((len(ins) for c in unique for _, _, ins in c.nodes), default=1)
        return cls(unique, max_nodes=max_nodes, max_inputs=max_inputs, name=name)

    @property
    def alphabet(self) -> tuple[int, ...]:
        return cell_alphabet(self.max_nodes, self.max_inputs)

    @property
    def genes(self) -> np.ndarray:
        """The pool's gene strings, int64 ``(len(pool), n_genes)`` (a copy)."""
        return self._genes.copy()

    def encode(self, motif: Motif) -> np.ndarray:
        """Gene string of any cell that fits ``max_nodes``/``max_inputs`` (pool or not)."""
        if not isinstance(motif, Cell):
            raise ValueError(f"CellPoolSpace encodes Cell motifs, got {type(motif).__name__}")
        return cell_genes([motif], self.max_nodes, self.max_inputs)[0]

    def index_of(self, motif: Motif) -> int:
        """Row of ``motif`` in ``pool``; ``ValueError`` if it is not a pool cell."""
        digest = getattr(motif, "digest", None)
        if not isinstance(motif, Cell) or digest not in self._index:
            raise ValueError(f"motif {digest} is not in the pool of {len(self.pool)} cells")
        return self._index[digest]

    def random_genes(
        self, rng: np.random.Generator, n: int, exclude: Collection[str] = ()
    ) -> np.ndarray:
        """Gene strings of pool cells not in ``exclude``, uniformly without replacement."""
        return _pool_random_genes(self._genes, self._index, rng, n, exclude)

    def realize(self, genes: np.ndarray, exclude: Collection[str]) -> list[Motif | None]:
        return _pool_realize(self.pool, self._genes, check_genes(self.alphabet, genes), exclude)


@dataclass(frozen=True)
class TablePoolSpace:
    """The cells of a measured table as a pool, in a base space's own gene encoding.

    ``base`` is any ``SearchSpace`` that holds the table's cells (e.g. ``GenotypeSpace(12)``:
    genes are the paper's genotype strings, so GA and NAO search the paper's encoding);
    ``alphabet`` and ``encode`` are the base space's. ``realize`` and ``random_genes`` are
    ``CellPoolSpace``'s (module docstring): nearest free table cell by Hamming distance on
    the base genes, ties by table order; uniform draws of free table cells without
    replacement. Distinct cells must have distinct gene strings (``ValueError`` otherwise,
    as for a cell the base cannot encode or a cell listed twice).
    """

    base: SearchSpace
    pool: tuple[Motif, ...]
    name: str = "table"
    _genes: np.ndarray = field(init=False, repr=False, compare=False)  # (N, n_genes) int64
    _index: dict[str, int] = field(init=False, repr=False, compare=False)  # digest -> row

    def __post_init__(self) -> None:
        pool = tuple(self.pool)
        object.__setattr__(self, "pool", pool)
        if not pool:
            raise ValueError("TablePoolSpace needs a non-empty table of cells")
        index: dict[str, int] = {}
        rows = []
        for i, motif in enumerate(pool):
            if motif.digest in index:
                raise ValueError(
                    f"table rows {index[motif.digest]} and {i} are the same cell "
                    f"(digest {motif.digest})"
                )
            index[motif.digest] = i
            try:
                rows.append(np.asarray(self.base.encode(motif), np.int64))
            except ValueError:
                # The base's own message spells the whole cell out; the digest names it.
                raise ValueError(
                    f"table row {i} (cell {motif.digest}) is not a motif of the base space "
                    f"{self.base.name} ({self.base!r})"
                ) from None
        genes = check_genes(self.alphabet, np.stack(rows), "the table's gene strings")
        if len({r.tobytes() for r in genes}) != len(pool):
            raise ValueError(
                f"two table cells share a gene string of {self.base.name}: the nearest-cell "
                "mapping needs distinct strings"
            )
        object.__setattr__(self, "_index", index)
        object.__setattr__(self, "_genes", genes)

    @property
    def alphabet(self) -> tuple[int, ...]:
        return tuple(self.base.alphabet)

    @property
    def genes(self) -> np.ndarray:
        """The table cells' gene strings, int64 ``(len(pool), n_genes)`` (a copy)."""
        return self._genes.copy()

    def encode(self, motif: Motif) -> np.ndarray:
        """The base space's gene string of ``motif`` (a table cell or not)."""
        return np.asarray(self.base.encode(motif), np.int64)

    def index_of(self, motif: Motif) -> int:
        """Row of ``motif`` in the table; ``ValueError`` if it is not a table cell."""
        digest = getattr(motif, "digest", None)
        if digest not in self._index:
            raise ValueError(f"motif {digest} is not in the table of {len(self.pool)} cells")
        return self._index[digest]

    def random_genes(
        self, rng: np.random.Generator, n: int, exclude: Collection[str] = ()
    ) -> np.ndarray:
        """Gene strings of table cells not in ``exclude``, uniformly without replacement."""
        return _pool_random_genes(self._genes, self._index, rng, n, exclude)

    def realize(self, genes: np.ndarray, exclude: Collection[str]) -> list[Motif | None]:
        return _pool_realize(self.pool, self._genes, check_genes(self.alphabet, genes), exclude)
