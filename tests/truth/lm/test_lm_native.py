"""Genotype cells run natively (one highway step per node) equal their primitive form."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from petridish.data.corpora import Corpus
from petridish.motifs.cell import DARTS_V2, ENAS, Cell, random_genotype
from petridish.nets.cell_ops import native_codes, native_layer
from petridish.truth.lm import LMProtocol, train_cells
from petridish.truth.lm.trainer import ProgramSizes, _run_layer, capped_splits

GENOTYPES = {
    "darts_v2": Cell.from_genotype(DARTS_V2, "all"),
    "enas": Cell.from_genotype(ENAS, "leaves"),
    "random12": Cell.from_genotype(random_genotype(np.random.default_rng(1), 12), "all"),
    "one_node": Cell.from_genotype((("relu", 0),), "all"),
}


@pytest.mark.parametrize("name", sorted(GENOTYPES))
def test_native_layer_equals_primitive_layer(name: str) -> None:
    cell = GENOTYPES[name]
    prog = Cell.program([cell])
    s, m, h, d = int(prog.n_weights[0]), cell.n_nodes, 8, 6
    k = jax.random.split(jax.random.PRNGKey(0), 5)
    layer = {
        "w_x": 0.5 * jax.random.normal(k[0], (s, d, h)),
        "w_h": 0.5 * jax.random.normal(k[1], (s, h, h)),
        "b": 0.5 * jax.random.normal(k[2], (m, h)),
    }
    x = jax.random.normal(k[3], (5, 4, d))  # (T, B, d)
    h0 = jnp.zeros((3, 4, h)).at[0].set(jax.random.normal(k[4], (4, h)))
    mask = jnp.ones((4, h)).at[0, :3].set(0.0)
    sizes = ProgramSizes(10, m, prog.max_inputs, s)
    out_p, last_p = _run_layer(layer, jnp.asarray(prog.packed()[0]), x, h0, sizes, mask)
    out_n, last_n = native_layer(layer, jnp.asarray(native_codes([cell])[0]), x, h0[0], mask)
    np.testing.assert_allclose(out_n, out_p, atol=2e-6)
    np.testing.assert_allclose(last_n, last_p[0], atol=2e-6)


def test_native_codes_reject_other_cells(cells: dict[str, Cell]) -> None:
    with pytest.raises(ValueError, match="genotype cells"):
        native_codes([cells["lstm"]])


def test_native_training_equals_primitive_training(
    tiny_protocol: LMProtocol, tiny_corpus: Corpus, cells: dict[str, Cell]
) -> None:
    # Four nodes with every activation and a shared predecessor: the training path is what
    # is checked here (each layer's parity on the large genotypes is checked above).
    four = Cell.from_genotype((("tanh", 0), ("sigmoid", 1), ("identity", 1), ("relu", 2)), "all")
    batch = [four, GENOTYPES["one_node"]]
    native = train_cells(batch, tiny_protocol, tiny_corpus, seed=2)
    primitive = train_cells(batch, tiny_protocol, tiny_corpus, seed=2, native=False)
    for a, b in zip(native, primitive, strict=True):
        assert not a.diverged
        np.testing.assert_allclose(a.val_curve, b.val_curve, rtol=1e-4)
        np.testing.assert_allclose(a.train_curve, b.train_curve, rtol=1e-4)
    # A mixed batch trains the genotype cell natively on its own: same result as alone.
    mixed = train_cells([cells["elman"], batch[1]], tiny_protocol, tiny_corpus, seed=2)
    np.testing.assert_allclose(mixed[1].val_curve, native[1].val_curve, rtol=1e-5)


def test_capped_vocabulary(tiny_corpus: Corpus) -> None:
    train, valid, _, vocab = capped_splits(tiny_corpus, 5)
    assert vocab == 6 and train.max() == 5 and valid.max() <= 5
    counts = np.bincount(tiny_corpus.train, minlength=tiny_corpus.vocab_size)
    kept = np.argsort(-counts, kind="stable")[:5]
    # The 5 most frequent words keep distinct ids 0..4; every other word is id 5.
    np.testing.assert_array_equal(np.isin(tiny_corpus.train, kept), train < 5)
    assert capped_splits(tiny_corpus, None)[3] == tiny_corpus.vocab_size


def test_capped_protocol_trains(
    tiny_protocol: LMProtocol, tiny_corpus: Corpus, cells: dict[str, Cell]
) -> None:
    capped = tiny_protocol.with_(name="tiny_capped", vocab_cap=10)
    (r,) = train_cells([cells["elman"]], capped, tiny_corpus, seed=0)
    assert not r.diverged and r.val_loss < np.log(11)
