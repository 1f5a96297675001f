"""The bundled ``nao_ptb`` table: 200 measured 12-node NAO/ENAS genotypes on Penn Treebank
with the ``cpu`` protocol, readable with its protocol and seeds recorded (issue 15)."""

from __future__ import annotations

import numpy as np

from petridish.motifs.cell.genotype import genotype_layout
from petridish.truth import cell_table
from petridish.truth.cell_tables import cell_table_meta
from petridish.truth.lm import get_protocol

# Unigram model from the capped training counts (2,000 words + <unk>), PTB validation
# tokens: 5.22-5.37 nats (README, "Language-model ground truth"); every trained cell in the
# table beats it.
UNIGRAM_CAPPED_PTB = 5.2


def test_the_table_holds_200_twelve_node_genotypes_with_their_record() -> None:
    cells, losses = cell_table("nao_ptb")
    assert len(cells) == len(losses) >= 200
    assert len({c.digest for c in cells}) == len(cells)  # distinct cells
    for cell in cells:
        layout = genotype_layout(cell.nodes)
        assert layout is not None and layout.n_native == 13  # s0 and 12 genotype nodes
    meta = cell_table_meta("nao_ptb")
    assert meta["name"] == "nao_ptb" and meta["corpus"] == "ptb" and meta["n_nodes"] == 12
    assert meta["space_seed"] == 0 and meta["training_seed"] == 0
    assert meta["protocol"] == get_protocol("cpu").as_dict()
    assert meta["cells"] == len(cells) and meta["ok"] == int(np.isfinite(losses).sum())


def test_the_losses_are_trained_language_models() -> None:
    _, losses = cell_table("nao_ptb")
    ok = np.isfinite(losses)
    assert ok.mean() >= 0.9
    assert np.all(losses[ok] < UNIGRAM_CAPPED_PTB) and np.ptp(losses[ok]) > 0.01
