"""The NAO/ENAS genotype space: encoding round trip, realize, random draws, its spec."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from petridish.motifs.cell import Cell, random_genotype
from petridish.search.space import SearchSpace
from petridish.search.spaces import GroundTruthRequest, space_spec
from petridish.search.spaces.nao import GenotypeSpace, parse_lm_protocol


@pytest.fixture(scope="module")
def space() -> GenotypeSpace:
    return GenotypeSpace(n_nodes=5)


def test_is_a_search_space(space: GenotypeSpace) -> None:
    assert isinstance(space, SearchSpace)
    assert space.alphabet == (4, 1, 4, 2, 4, 3, 4, 4, 4, 5)


def test_encode_realize_round_trip(space: GenotypeSpace) -> None:
    rng = np.random.default_rng(0)
    genes = space.random_genes(rng, 6)
    cells = space.realize(genes, ())
    assert len({c.digest for c in cells if c is not None}) == 6
    for row, cell in zip(genes, cells, strict=True):
        assert cell == space.cell(space.genotype(row))
        assert isinstance(cell, Cell)
        assert space.realize(space.encode(cell)[None], ())[0] == cell


def test_realize_avoids_excluded_and_repeats(space: GenotypeSpace) -> None:
    genes = space.random_genes(np.random.default_rng(1), 1)
    first = space.realize(genes, ())[0]
    assert first is not None
    again = space.realize(np.repeat(genes, 3, axis=0), {first.digest})
    digests = [c.digest for c in again if c is not None]
    assert len(digests) == 3 and len(set(digests)) == 3 and first.digest not in digests
    # Deterministic: the same rows give the same cells.
    assert space.realize(np.repeat(genes, 3, axis=0), {first.digest}) == again


def test_realize_of_repeated_rows_equals_walking_each_chain_from_its_start(
    space: GenotypeSpace,
) -> None:
    """``realize`` resumes a repeated row's mutation chain; the result must be the one of
    walking every row's chain from the start (the plain loop below)."""
    import hashlib

    from petridish.motifs.cell import mutate_genotype

    rng = np.random.default_rng(7)
    genes = space.random_genes(rng, 3)
    rows = genes[[0, 1, 0, 2, 0, 1, 0, 0, 2, 0, 1, 0]]  # (12, n_genes), rows repeated
    exclude = {space.realize(genes[2:3], ())[0].digest}  # type: ignore[union-attr]

    taken = set(exclude)
    expected = []
    for row in rows:
        seed = int.from_bytes(hashlib.sha256(row.tobytes()).digest()[:8], "little")
        walk = np.random.default_rng(seed)
        geno = space.genotype(row)
        found = None
        for _ in range(1000):
            if space.cell(geno).digest not in taken:
                found = space.cell(geno)
                break
            geno = mutate_genotype(geno, walk)
        if found is not None:
            taken.add(found.digest)
        expected.append(found)
    assert space.realize(rows, exclude) == expected
    assert len({c.digest for c in expected if c is not None}) == len(rows)


def test_random_genes_skip_excluded(space: GenotypeSpace) -> None:
    a = space.realize(space.random_genes(np.random.default_rng(2), 4), ())
    b = space.realize(space.random_genes(np.random.default_rng(2), 4, {a[0].digest}), ())  # type: ignore[union-attr]
    assert a[0] not in b


def test_encode_rejects_foreign_cells(space: GenotypeSpace) -> None:
    other = Cell.from_genotype(random_genotype(np.random.default_rng(0), 3))
    with pytest.raises(ValueError, match="5-node genotype"):
        space.encode(other)


def test_mutate_changes_the_cell(space: GenotypeSpace) -> None:
    rng = np.random.default_rng(3)
    cell = space.realize(space.random_genes(rng, 1), ())[0]
    assert cell is not None
    assert space.mutate(cell, rng) != cell


def test_spec_builds_the_lm_evaluator(tmp_path: object) -> None:
    spec = space_spec("nao")
    assert "lm_ptb" in spec.evaluators and spec.default_protocol == "cpu"
    truth = spec.load(GroundTruthRequest(protocol="wikitext2:cpu"))
    assert truth.evaluator.name == "lm_wikitext2" and truth.evaluator.protocol.startswith("cpu@")
    assert isinstance(truth.space, GenotypeSpace) and truth.space.n_nodes == 12
    assert parse_lm_protocol(None) == ("ptb", "cpu")
    with pytest.raises(ValueError, match="corpus"):
        parse_lm_protocol("imdb:cpu")
    with pytest.raises(ValueError, match="protocol"):
        parse_lm_protocol("fastest")


@pytest.mark.slow
def test_tiny_real_search_on_ptb(tmp_path: Path) -> None:
    """Algorithm 1 on real language-model training: GA over 3-node genotypes on PTB."""
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
        space="nao", strategy="ga", predictor="none", budget_evals=6, warmup=4,
        proposals=6, per_iteration=2,
    )  # fmt: skip
    with Store(tmp_path / "s.db") as store:
        result = run_search(
            config,
            space=GenotypeSpace(n_nodes=3),
            strategy=GAStrategy(elite=2),
            evaluator=evaluator,
            store=store,
        )
    assert len(result) == 6 and len(set(result.digests)) == 6
    assert np.all(np.isfinite(result.losses)) and np.all(result.losses < np.log(201))


def test_the_default_dish_encodes_twelve_node_genotypes() -> None:
    """A 12-node genotype's output averages its 12 nodes: the space's dish must take
    nodes of 12 inputs (it once stopped every nao search with the dish at the first fit)."""
    from petridish.nets import build_network

    cfg = space_spec("nao").default_dish()
    assert cfg is not None and cfg.max_inputs >= 12
    space = GenotypeSpace()
    cells = space.realize(space.random_genes(np.random.default_rng(3), 4), ())
    codes = build_network(cfg.network, cfg).codes(cells)
    assert codes.shape[0] == 4
    # Configs at the default max_inputs keep their JSON (and run ids) unchanged.
    assert "max_inputs" not in type(cfg).for_cells().to_json()
    assert type(cfg).from_json(cfg.to_json()) == cfg
