"""The open recipe space: encoding round trip, repair of invalid rows, realize, its spec."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest

from petridish.motifs.base import Motif
from petridish.motifs.cell import NASBENCH_OPS, Cell, mutate, random_cell
from petridish.search.space import SearchSpace
from petridish.search.spaces import GroundTruthRequest, space_spec
from petridish.search.spaces.nasbench_nlp import search_cell_dish
from petridish.search.spaces.recipes import RecipeSpace
from shared_paths import SHARED_REFERENCE


@pytest.fixture(scope="module")
def space() -> RecipeSpace:
    return RecipeSpace()


def _uniform_rows(space: RecipeSpace, n: int, seed: int) -> np.ndarray:
    """``n`` gene strings drawn uniformly in the alphabet: mostly invalid as written."""
    high = np.asarray(space.alphabet)
    return np.random.default_rng(seed).integers(0, high[None, :], size=(n, len(high)))


def test_is_a_search_space_within_the_dish_limits(space: RecipeSpace) -> None:
    assert isinstance(space, SearchSpace) and space.name == "recipes"
    assert len(space.alphabet) == 15 * (2 + 3)
    assert space.alphabet[:7] == (8, 4, 5, 5, 5, 8, 4)  # 7 ops + 1, 3 states + 1, rows + 1
    dish = search_cell_dish()  # the default dish must score every cell of the space
    assert (space.max_nodes, space.max_slots) == (dish.max_nodes, dish.max_slots)
    with pytest.raises(ValueError, match="max_inputs"):
        RecipeSpace(max_inputs=2)
    with pytest.raises(ValueError, match="max_slots"):
        RecipeSpace(max_nodes=15, max_slots=10)


def test_encode_realize_round_trip_on_pool_cells(space: RecipeSpace) -> None:
    """Every NAS-Bench-NLP cell is in the space and decodes from its string unchanged."""
    from petridish.search.oracle import TabularOracle

    if not (SHARED_REFERENCE / "nasbench_nlp_wikitext2_logs.zip").is_file():
        pytest.skip(f"NAS-Bench-NLP logs not found in {SHARED_REFERENCE} (optional resource)")
    pool = TabularOracle.load(SHARED_REFERENCE).space().pool
    genes = np.stack([space.encode(c) for c in pool])  # (263, n_genes)
    assert len({row.tobytes() for row in genes}) == len(pool)
    assert space.realize(genes, ()) == list(pool)


def test_encode_realize_round_trip_on_random_cells(space: RecipeSpace) -> None:
    genes = space.random_genes(np.random.default_rng(0), 20)
    cells = space.realize(genes, ())
    assert len({c.digest for c in cells if c is not None}) == 20
    for row, cell in zip(genes, cells, strict=True):
        assert isinstance(cell, Cell) and cell == space.decode(row)
        np.testing.assert_array_equal(space.encode(cell), row)  # canonical string


def test_encode_names_why_a_cell_does_not_fit() -> None:
    small = RecipeSpace(max_nodes=4)
    big = random_cell(np.random.default_rng(0), n_nodes=6)
    with pytest.raises(ValueError, match="6 nodes, more than max_nodes=4"):
        small.encode(big)
    relu = Cell.from_recipe({"h_new_0": {"op": "activation_relu", "input": ["x"]}})
    with pytest.raises(ValueError, match="outside NASBENCH_OPS: activation_relu"):
        small.encode(relu)
    wide = Cell.from_recipe({"h_new_0": {"op": "linear", "input": ["x"] * 4}})
    with pytest.raises(ValueError, match="4 inputs, more than max_inputs=3"):
        small.encode(wide)


def test_invalid_rows_are_repaired_into_valid_cells(space: RecipeSpace) -> None:
    """Any string of the alphabet decodes to a cell of the space, deterministically, and
    the decoded cell's own string decodes to it."""
    rows = _uniform_rows(space, 300, seed=1)
    cells = [space.decode(row) for row in rows]
    assert [space.decode(row) for row in rows] == cells
    for cell in cells:
        assert space.misfit(cell) is None
        assert space.decode(space.encode(cell)) == cell
    assert max(c.n_nodes for c in cells) >= 8  # repair keeps big cells big, not just 1 node


def test_the_default_dish_takes_every_repaired_cell(space: RecipeSpace) -> None:
    """The dish encodes proposals in its executor's fixed shape: a cell of the space that
    did not fit (too many nodes, inputs or weight matrices) would fail the dish's fit."""
    from petridish.dish.core import encode

    rows = np.concatenate(
        [_uniform_rows(space, 100, seed=4), space.random_genes(np.random.default_rng(4), 20)]
    )
    cells = [space.decode(row) for row in rows]
    cells.append(space.decode(np.asarray(space.alphabet) - 1))  # every gene at its largest
    codes = encode(search_cell_dish(), Cell, cells)
    assert codes.shape[0] == len(cells)


def test_repair_rules(space: RecipeSpace) -> None:
    """The documented rules on hand-made rows (node i at genes 5 i .. 5 i + 4)."""
    row = np.zeros(len(space.alphabet), np.int64)
    # Rule 1: no node -> node 0 is a linear; its missing input is padded with x (rule 2).
    assert space.decode(row).to_recipe() == {"h_new_0": {"op": "linear", "input": ["x"]}}
    # Node 0 blend(x, h_prev_1) claims h_new_1; node 2 tanh(node 1, node 0) claims nothing.
    # Rule 2 pads the blend with x and drops the input of the absent node 1; rule 3 makes
    # node 2 h_new_0; h_new_1 is read (by the blend) so it stays.
    row[0:5] = [2, 2, 1, 3, 0]  # blend, state 1, inputs x, h_prev_1
    row[10:15] = [5, 0, 6, 5, 0]  # tanh, no state, inputs node 1 (absent), node 0
    assert space.decode(row) == Cell.from_recipe(
        {
            "h_new_1": {"op": "blend", "input": ["x", "h_prev_1", "x"]},
            "h_new_0": {"op": "activation_tanh", "input": ["h_new_1"]},
        }
    )
    # Rule 4: h_new_2 without h_new_1 is renumbered to h_new_1 (its readers follow), a read
    # of the state nobody writes (h_prev_1 as written) becomes h_prev_0, and node 2 feeds
    # nothing: it is dropped.
    row[:] = 0
    row[0:5] = [5, 3, 3, 0, 0]  # tanh(h_prev_1), claims h_new_2
    row[5:10] = [1, 1, 4, 1, 5]  # linear(h_prev_2, x, node 0), h_new_0
    row[10:15] = [6, 0, 1, 0, 0]  # sigm(x): dead
    assert space.decode(row) == Cell.from_recipe(
        {
            "h_new_1": {"op": "activation_tanh", "input": ["h_prev_0"]},
            "h_new_0": {"op": "linear", "input": ["h_prev_1", "x", "h_new_1"]},
        }
    )
    # Rule 4: a state no node reads (h_new_1) is dropped; its node stays as a plain node.
    row[:] = 0
    row[0:5] = [6, 2, 1, 0, 0]  # sigm(x), claims h_new_1
    row[5:10] = [1, 1, 1, 5, 0]  # linear(x, node 0), h_new_0
    assert space.decode(row) == Cell.from_recipe(
        {
            "n": {"op": "activation_sigm", "input": ["x"]},
            "h_new_0": {"op": "linear", "input": ["x", "n"]},
        }
    )


def test_repair_trims_weight_matrices_to_max_slots() -> None:
    """15 three-input linear nodes (45 weight matrices) are cut to the cap of 36."""
    space = RecipeSpace()
    row = np.zeros(len(space.alphabet), np.int64)
    for i in range(15):
        prev = 4 + i if i else 1  # node i - 1 (row 4 + i - 1, + 1), or x for node 0
        row[5 * i : 5 * i + 5] = [1, 1 if i == 14 else 0, prev, 1, 2]
    cell = space.decode(row)
    assert cell.n_nodes == 15 and cell.n_weights == 36 and space.misfit(cell) is None


def test_realize_avoids_excluded_and_repeats_deterministically(space: RecipeSpace) -> None:
    genes = space.random_genes(np.random.default_rng(2), 1)
    first = space.realize(genes, ())[0]
    assert first is not None
    again = space.realize(np.repeat(genes, 5, axis=0), {first.digest})
    digests = [c.digest for c in again if c is not None]
    assert len(digests) == 5 and len(set(digests)) == 5 and first.digest not in digests
    assert space.realize(np.repeat(genes, 5, axis=0), {first.digest}) == again


def test_realize_of_repeated_rows_equals_walking_each_chain_from_its_start(
    space: RecipeSpace,
) -> None:
    """``realize`` resumes a repeated row's mutation chain; the result must be the one of
    walking every row's chain from the start (the plain loop below)."""
    genes = space.random_genes(np.random.default_rng(7), 3)
    rows = genes[[0, 1, 0, 2, 0, 1, 0, 0, 2, 0, 1, 0]]  # (12, n_genes), rows repeated
    exclude = {space.decode(genes[2]).digest}
    taken = set(exclude)
    expected: list[Motif | None] = []
    for row in rows:
        seed = int.from_bytes(hashlib.sha256(row.tobytes()).digest()[:8], "little")
        walk = np.random.default_rng(seed)
        cell = space.decode(row)
        found = None
        for _ in range(1000):
            if cell.digest not in taken:
                found = cell
                break
            # Random cells have at most 12 nodes of 3 inputs, so every step fits max_slots.
            cell = mutate(cell, walk, NASBENCH_OPS)
        if found is not None:
            taken.add(found.digest)
        expected.append(found)
    assert space.realize(rows, exclude) == expected
    assert len({c.digest for c in expected if c is not None}) == len(rows)


def test_random_genes_skip_excluded(space: RecipeSpace) -> None:
    a = space.realize(space.random_genes(np.random.default_rng(3), 4), ())
    exclude = {a[0].digest}  # type: ignore[union-attr]
    b = space.realize(space.random_genes(np.random.default_rng(3), 4, exclude), ())
    assert a[0] not in b and all(c is not None for c in b)
    small = RecipeSpace(max_nodes=3)
    cells = small.realize(small.random_genes(np.random.default_rng(3), 20), ())
    assert all(isinstance(c, Cell) and 2 <= c.n_nodes <= 3 for c in cells)


def test_spec_builds_the_lm_evaluator() -> None:
    spec = space_spec("recipes")
    assert spec.evaluators == ("lm_ptb", "lm_wikitext2") and spec.default_protocol == "cpu"
    assert spec.default_dish() == search_cell_dish() and not spec.tabular
    truth = spec.load(GroundTruthRequest(protocol="wikitext2:cpu"))
    assert truth.evaluator.name == "lm_wikitext2" and truth.evaluator.protocol.startswith("cpu@")
    assert truth.space == RecipeSpace() and truth.oracle is None
    with pytest.raises(ValueError, match="corpus"):
        spec.load(GroundTruthRequest(protocol="imdb:cpu"))
    with pytest.raises(ValueError, match="protocol"):
        spec.load(GroundTruthRequest(protocol="fastest"))


def test_cli_refuses_a_bad_protocol_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from petridish.cli import main

    store = tmp_path / "s.db"
    argv = ["search", "--space", "recipes", "--protocol", "fastest", "--store", str(store)]
    assert main([*argv, "--quiet"]) == 2
    err = [ln for ln in capsys.readouterr().err.splitlines() if "JAX already started" not in ln]
    assert len(err) == 1 and err[0].startswith("petridish search: error: --protocol: ")
    assert "'fastest'" in err[0] and not store.exists()


@pytest.mark.slow
def test_tiny_real_search_on_ptb(tmp_path: Path) -> None:
    """Algorithm 1 on real language-model training: GA over recipes of at most 4 nodes."""
    from petridish.data.corpora import CorpusUnavailableError, load_corpus
    from petridish.search.loop import SearchConfig, run_search
    from petridish.search.strategies import GAStrategy
    from petridish.store import Store
    from petridish.truth.lm import PROTOCOLS, LanguageModelEvaluator

    try:
        load_corpus("ptb", download=False)
    except CorpusUnavailableError as err:
        pytest.skip(f"PTB not available (set PETRIDISH_DATA_DIR): {err}")
    tiny = PROTOCOLS["cpu"].with_(
        name="cpu_tiny_test", hidden=16, embedding=16, epochs=1, tokens_per_epoch=16 * 35 * 4,
        val_tokens=2000, vocab_cap=200,
    )  # fmt: skip
    evaluator = LanguageModelEvaluator("ptb", tiny, download=False)
    config = SearchConfig(
        space="recipes", strategy="ga", predictor="none", budget_evals=6, warmup=4,
        proposals=6, per_iteration=2,
    )  # fmt: skip
    with Store(tmp_path / "s.db") as store:
        result = run_search(
            config,
            space=RecipeSpace(max_nodes=4),
            strategy=GAStrategy(elite=2),
            evaluator=evaluator,
            store=store,
        )
    assert len(result) == 6 and len(set(result.digests)) == 6
    assert np.all(np.isfinite(result.losses)) and np.all(result.losses < np.log(201))
