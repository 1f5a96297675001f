"""Search spaces: gene bounds, encode/realize round trips, and the one realize mapping."""

from __future__ import annotations

import math

import numpy as np
import pytest

from petridish.motifs.cell import Cell, random_cell
from petridish.motifs.slope import SigmoidSlope
from petridish.search.space import CellPoolSpace, SearchSpace, SlopeSpace
from shared_paths import SHARED_REFERENCE

REFERENCE = SHARED_REFERENCE
NLP_ZIP = REFERENCE / "nasbench_nlp_wikitext2_logs.zip"


# ------------------------------------------------------------------------------ slopes


def test_slope_space_grid_and_alphabet() -> None:
    space = SlopeSpace()
    assert isinstance(space, SearchSpace)
    assert space.name == "slope"
    assert space.alphabet == (3, 10, 10)
    grid = [m.slope for m in space.grid]
    assert len(grid) == 201
    assert grid[0] == 0.01 and grid[-1] == 2.01 and grid[6] == 0.07
    # The slope tables' points (0.01, 0.03, ..., 2.01) all lie on the grid.
    for slope in np.arange(0.01, 2.02, 0.02):
        space.encode(SigmoidSlope(round(float(slope), 10)))
    assert SlopeSpace(n_points=100).alphabet == (10, 10)


def test_slope_encode_realize_round_trip() -> None:
    space = SlopeSpace()
    genes = np.stack([space.encode(m) for m in space.grid])  # (201, 3)
    assert genes.dtype == np.int64 and genes.shape == (201, 3)
    assert list(genes[123]) == [1, 2, 3]
    back = space.realize(genes, exclude=())
    assert back == list(space.grid)


def test_slope_realize_nearest_free_ties_to_smaller() -> None:
    space = SlopeSpace()
    g50 = space.encode(SigmoidSlope(0.51))  # k = 50
    d = {k: space.grid[k].digest for k in range(space.n_points)}
    assert space.realize(g50[None], exclude=[d[50]]) == [SigmoidSlope(0.50)]  # tie 49/51
    assert space.realize(g50[None], exclude=[d[50], d[49]]) == [SigmoidSlope(0.52)]
    # Repeats within one call take the next-nearest free slopes: 50, then 49, then 51.
    got = space.realize(np.stack([g50] * 3), exclude=())
    assert got == [SigmoidSlope(0.51), SigmoidSlope(0.50), SigmoidSlope(0.52)]
    # Digit codes past the grid mean the last slope.
    assert space.realize(np.array([[2, 9, 9]]), exclude=()) == [SigmoidSlope(2.01)]


def test_slope_realize_exhaustion_gives_none() -> None:
    space = SlopeSpace(n_points=12)
    out = space.realize(np.zeros((15, 2), np.int64), exclude=[space.grid[0].digest])
    assert out[:11] == list(space.grid[1:])  # nearest free from k = 0 is each next one up
    assert out[11:] == [None] * 4


def test_slope_random_genes_uniform_over_grid_and_seeded() -> None:
    space = SlopeSpace()
    a = space.random_genes(np.random.default_rng(3), 4000)
    b = space.random_genes(np.random.default_rng(3), 4000)
    np.testing.assert_array_equal(a, b)
    assert a.shape == (4000, 3) and a.dtype == np.int64
    codes = a @ np.array([100, 10, 1])
    assert codes.min() >= 0 and codes.max() <= 200  # never a clipped code
    assert len(np.unique(codes)) > 190
    assert space.random_genes(np.random.default_rng(0), 0).shape == (0, 3)


def test_slope_random_genes_exclude_draws_free_slopes_without_replacement() -> None:
    space = SlopeSpace(n_points=20)
    taken = [0, 3, 4, 5, 19]
    exclude = {space.grid[k].digest for k in taken}
    a = space.random_genes(np.random.default_rng(4), 15, exclude=exclude)
    np.testing.assert_array_equal(a, space.random_genes(np.random.default_rng(4), 15, exclude))
    k = space.index(a)
    assert sorted(k.tolist()) == sorted(set(range(20)) - set(taken))  # each free slope once
    assert space.realize(a, exclude) == [space.grid[i] for i in k]  # each row is its own slope
    more = space.index(space.random_genes(np.random.default_rng(4), 40, exclude=exclude))
    assert sorted(more[15:30].tolist()) == sorted(k.tolist())  # then whole permutations again
    # Nothing free: drawn over the whole grid (realize then gives None for every row).
    everything = [m.digest for m in space.grid]
    rows = space.random_genes(np.random.default_rng(0), 5, exclude=everything)
    assert rows.shape == (5, 2) and space.realize(rows, everything) == [None] * 5
    # Uniform over the free slopes: first draws of many generators.
    first = [
        int(space.index(space.random_genes(np.random.default_rng(r), 1, exclude))[0])
        for r in range(3000)
    ]
    counts = np.bincount(first, minlength=20)
    assert np.all(counts[taken] == 0)
    free = np.delete(counts, taken)
    assert abs(free - 200).max() < 4.5 * math.sqrt(3000 / 15 * 14 / 15)


def test_slope_space_errors_name_the_value() -> None:
    space = SlopeSpace()
    with pytest.raises(ValueError, match="0.015"):
        space.encode(SigmoidSlope(0.015))
    with pytest.raises(ValueError, match="3.5"):
        space.encode(SigmoidSlope(3.5))
    with pytest.raises(ValueError, match="Cell"):
        space.encode(Cell.from_recipe({"h_new_0": {"op": "linear", "input": ["x", "h_prev_0"]}}))
    with pytest.raises(ValueError, match=r"genes\[0, 1\] = 10"):
        space.realize(np.array([[0, 10, 0]]), exclude=())
    with pytest.raises(ValueError, match=r"shape \(n, 3\)"):
        space.realize(np.zeros((2, 2), np.int64), exclude=())
    with pytest.raises(ValueError, match="-1"):
        space.random_genes(np.random.default_rng(0), -1)
    with pytest.raises(ValueError, match="n_points"):
        SlopeSpace(n_points=1)
    with pytest.raises(ValueError, match="-0.5"):
        SlopeSpace(step=-0.5)
    with pytest.raises(ValueError, match="n_points must be an int >= 2, got True"):
        SlopeSpace(n_points=True)
    with pytest.raises(ValueError, match="n must be an int >= 0, got True"):
        space.random_genes(np.random.default_rng(0), True)


# --------------------------------------------------------------------- cells (synthetic)


@pytest.fixture(scope="module")
def small_pool() -> tuple[Cell, ...]:
    rng = np.random.default_rng(0)
    cells = [random_cell(rng, n_nodes=int(rng.integers(2, 7))) for _ in range(30)]
    return tuple(dict.fromkeys(cells))


def test_cell_pool_from_cells_dedupes_and_rejects_duplicates(
    small_pool: tuple[Cell, ...],
) -> None:
    doubled = [*small_pool, *small_pool[:5]]
    space = CellPoolSpace.from_cells(doubled, max_nodes=8)
    assert space.pool == small_pool
    assert space.index_of(small_pool[3]) == 3
    with pytest.raises(ValueError, match="same cell"):
        CellPoolSpace(tuple(doubled), max_nodes=8)
    with pytest.raises(ValueError, match="max_nodes"):
        CellPoolSpace.from_cells(small_pool, max_nodes=2)
    outsider = random_cell(np.random.default_rng(99), n_nodes=7)
    assert outsider not in small_pool
    with pytest.raises(ValueError, match=outsider.digest):
        space.index_of(outsider)
    # Cells outside the pool still encode (e.g. to seed a strategy), within the alphabet.
    code = space.encode(outsider)
    assert np.all((code >= 0) & (code < np.array(space.alphabet)))


def test_cell_pool_genes_layout(small_pool: tuple[Cell, ...]) -> None:
    space = CellPoolSpace.from_cells(small_pool, max_nodes=8)
    k = space.max_inputs
    assert len(space.alphabet) == 8 * (2 + k)
    # Node 0 reads only graph inputs: rows 0..3, + 1 for "none" -> alphabet 5; node 7: 12.
    assert space.alphabet[: 2 + k] == (10, 4, *[5] * k)
    assert space.alphabet[-k:] == (12,) * k
    genes = space.genes
    assert genes.shape == (len(small_pool), len(space.alphabet))
    assert np.all((genes >= 0) & (genes < np.array(space.alphabet)[None]))
    assert len({row.tobytes() for row in genes}) == len(small_pool)  # injective
    cell = small_pool[0]
    per_node = genes[0].reshape(8, 2 + k)
    assert np.all(per_node[cell.n_nodes :] == 0)  # padding nodes are all "absent"
    assert np.all(per_node[: cell.n_nodes, 0] > 0)
    assert per_node[cell.n_nodes - 1, 1] >= 1  # the last canonical node is an output
    np.testing.assert_array_equal(space.encode(cell), genes[0])


def test_cell_pool_random_genes_cover_pool_once(small_pool: tuple[Cell, ...]) -> None:
    space = CellPoolSpace.from_cells(small_pool, max_nodes=8)
    n = len(small_pool)
    rows = space.random_genes(np.random.default_rng(1), n)
    got = space.realize(rows, exclude=())
    assert set(got) == set(small_pool)  # a permutation of the pool
    again = space.random_genes(np.random.default_rng(1), n)
    np.testing.assert_array_equal(rows, again)
    assert space.random_genes(np.random.default_rng(1), 2 * n + 3).shape[0] == 2 * n + 3
    # Nothing excluded: a permutation of the pool's rows (the draw of earlier versions).
    perm = np.random.default_rng(1).permutation(n)
    np.testing.assert_array_equal(rows, space.genes[perm])


def test_cell_pool_random_genes_exclude_draws_free_cells(small_pool: tuple[Cell, ...]) -> None:
    space = CellPoolSpace.from_cells(small_pool, max_nodes=8)
    n = len(small_pool)
    exclude = {c.digest for c in small_pool[::3]} | {"not-a-pool-digest"}
    n_free = n - len(small_pool[::3])
    rows = space.random_genes(np.random.default_rng(2), n_free, exclude=exclude)
    got = space.realize(rows, exclude)
    assert set(got) == set(small_pool) - set(small_pool[::3])  # every free cell once
    # Each row is exactly its cell's string: realize's nearest-free mapping is the identity.
    rows_of = [space.index_of(m) for m in got if m is not None]
    assert len(rows_of) == n_free
    np.testing.assert_array_equal(rows, space.genes[rows_of])
    again = space.random_genes(np.random.default_rng(2), n_free, exclude=list(exclude))
    np.testing.assert_array_equal(rows, again)
    everything = {c.digest for c in small_pool}
    assert (
        space.realize(space.random_genes(np.random.default_rng(0), 3, everything), everything)
        == [None] * 3
    )


# ------------------------------------------------------------------ cells (NAS-Bench-NLP)


@pytest.fixture(scope="module")
def nlp_space() -> CellPoolSpace:
    if not NLP_ZIP.is_file():
        reason = f"NAS-Bench-NLP logs not found at {NLP_ZIP}"
        print(reason)
        pytest.skip(reason)
    from petridish.truth.nasbench_nlp import load_nasbench_nlp

    recipes, _ = load_nasbench_nlp(REFERENCE, download=False).targets(merge_duplicates=True)
    return CellPoolSpace.from_cells([Cell.from_recipe(r) for r in recipes], max_nodes=15)


def test_nlp_pool_round_trip(nlp_space: CellPoolSpace) -> None:
    space = nlp_space
    assert space.name == "nasbench_nlp"
    assert len(space.pool) > 200
    assert len(space.alphabet) == 15 * (2 + space.max_inputs)
    genes = np.stack([space.encode(c) for c in space.pool])
    np.testing.assert_array_equal(genes, space.genes)
    assert space.realize(genes, exclude=()) == list(space.pool)


def _brute_force_realize(
    pool_genes: np.ndarray, free: np.ndarray, rows: np.ndarray
) -> list[int | None]:
    """Reference: nearest free pool row by Hamming distance, ties to the first, one by one."""
    free = free.copy()
    out: list[int | None] = []
    for row in rows:
        best: int | None = None
        best_d = None
        for i in range(len(pool_genes)):
            if not free[i]:
                continue
            d = int(sum(int(a != b) for a, b in zip(pool_genes[i], row, strict=True)))
            if best_d is None or d < best_d:
                best, best_d = i, d
        if best is not None:
            free[best] = False
        out.append(best)
    return out


def test_nlp_pool_realize_nearest_hamming(nlp_space: CellPoolSpace) -> None:
    space = nlp_space
    rng = np.random.default_rng(7)
    n_pool = len(space.pool)
    excluded = rng.choice(n_pool, size=n_pool // 2, replace=False)
    exclude = [space.pool[i].digest for i in excluded]
    # Random strings, mutated pool strings and exact excluded / repeated pool strings.
    alphabet = np.array(space.alphabet)
    rows = rng.integers(0, alphabet[None], size=(20, len(alphabet)))
    near = space.genes[rng.choice(n_pool, 20)]
    flip = rng.random(near.shape) < 0.1
    near = np.where(flip, rng.integers(0, alphabet[None], size=near.shape), near)
    exact = space.genes[[excluded[0], excluded[1], 5, 5, 5]]
    genes = np.concatenate([rows, near, exact])

    got = space.realize(genes, exclude)
    assert got == space.realize(genes, set(exclude))  # deterministic, any collection
    assert all(m is not None for m in got)
    digests = [m.digest for m in got if m is not None]
    assert len(set(digests)) == len(digests)
    assert not set(digests) & set(exclude)

    free = np.ones(n_pool, bool)
    free[excluded] = False
    expect = _brute_force_realize(space.genes, free, genes)
    assert [space.index_of(m) for m in got if m is not None] == expect


def test_nlp_pool_realize_exhausts_to_none(nlp_space: CellPoolSpace) -> None:
    space = nlp_space
    keep = 3
    exclude = [c.digest for c in space.pool[keep:]]
    out = space.realize(space.genes[:6], exclude)
    assert out[:keep] == list(space.pool[:keep])
    assert out[keep:] == [None] * 3
