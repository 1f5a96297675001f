"""The batched trainer: parity with one cell at a time, determinism, divergence isolation."""

from __future__ import annotations

import math

import numpy as np
import pytest

from petridish.data.corpora import Corpus
from petridish.motifs.cell import Cell
from petridish.truth.lm import LMProtocol, LMResult, train_cells, trainer
from petridish.truth.lm.evaluator import outcome_from_result
from petridish.truth.lm.trainer import batchify, blew_up

BATCH = ("lstm", "bomb", "gru")


@pytest.fixture(scope="module")
def batched(
    cells: dict[str, Cell], tiny_protocol: LMProtocol, tiny_corpus: Corpus
) -> list[LMResult]:
    return train_cells([cells[n] for n in BATCH], tiny_protocol, tiny_corpus, seed=3)


def test_batched_equals_alone(
    batched: list[LMResult],
    cells: dict[str, Cell],
    tiny_protocol: LMProtocol,
    tiny_corpus: Corpus,
) -> None:
    # Alone, the cell is padded to its own sizes (fewer nodes and weight slots than in the
    # batch): the results must not depend on padding or on the other cells.
    # One compile per padded size: the LSTM alone stands for every cell of the batch.
    (alone,) = train_cells([cells["lstm"]], tiny_protocol, tiny_corpus, seed=3)
    together = batched[BATCH.index("lstm")]
    assert not alone.diverged and not together.diverged
    np.testing.assert_allclose(together.train_curve, alone.train_curve, rtol=2e-5)
    np.testing.assert_allclose(together.val_curve, alone.val_curve, rtol=2e-5)
    assert together.test_loss == pytest.approx(alone.test_loss, rel=2e-5)


def test_learns_the_tiny_text(batched: list[LMResult], tiny_corpus: Corpus) -> None:
    lstm = batched[BATCH.index("lstm")]
    uniform = math.log(tiny_corpus.vocab_size)
    assert len(lstm.val_curve) == 2 and all(math.isfinite(v) for v in lstm.val_curve)
    assert lstm.val_curve[-1] < lstm.val_curve[0] < uniform + 0.1
    assert math.isfinite(lstm.test_loss)
    assert lstm.protocol == "tiny_test"


def test_diverging_cell_is_isolated(batched: list[LMResult]) -> None:
    bomb = batched[BATCH.index("bomb")]
    assert bomb.diverged and bomb.diverged_epoch == 1
    assert all(math.isnan(v) for v in bomb.val_curve)
    assert math.isnan(bomb.test_loss)
    # Its neighbours trained (their equality with solo runs is test_batched_equals_alone).
    assert all(not r.diverged for i, r in enumerate(batched) if BATCH[i] != "bomb")


def test_a_finite_blow_up_is_a_divergence() -> None:
    # log(10000) = 9.21 nats: 92.1 is the limit; 2.6e20 (seen on PTB) is far past it.
    losses = np.array([4.6, 2.6e20, np.nan, np.inf, 92.0, 93.0])
    assert blew_up(losses, 10_000).tolist() == [False, True, True, True, False, True]


def test_the_trainer_marks_a_blow_up_diverged(
    cells: dict[str, Cell],
    tiny_protocol: LMProtocol,
    tiny_corpus: Corpus,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # With the limit squeezed below any real loss, a healthy LSTM must come out diverged in
    # epoch 1: the check is wired into training, not only defined.
    monkeypatch.setattr(trainer, "BLOWUP_FACTOR", 1e-3)
    (r,) = train_cells([cells["lstm"]], tiny_protocol, tiny_corpus, seed=3)
    assert r.diverged_epoch == 1 and math.isnan(r.test_loss)
    out = outcome_from_result(r)
    assert out.status == "diverged" and "epoch 1" in out.reason


def test_deterministic_per_seed(
    batched: list[LMResult],
    cells: dict[str, Cell],
    tiny_protocol: LMProtocol,
    tiny_corpus: Corpus,
) -> None:
    batch = [cells[n] for n in BATCH]
    again = train_cells(batch, tiny_protocol, tiny_corpus, seed=3)
    assert [r.val_curve[-1] for r in again[::2]] == [r.val_curve[-1] for r in batched[::2]]
    other = train_cells(batch, tiny_protocol, tiny_corpus, seed=4)
    assert other[0].val_curve[-1] != batched[0].val_curve[-1]


def test_regularised_multilayer_protocol_runs(
    cells: dict[str, Cell], tiny_protocol: LMProtocol, tiny_corpus: Corpus
) -> None:
    # Every dropout, weight drop, AR/TAR, untied 2-layer model, NT-ASGD triggered early.
    proto = tiny_protocol.with_(
        name="tiny_regularised",
        layers=2,
        hidden=6,
        tied=False,
        epochs=3,
        optimizer="nt_asgd",
        lr=1.0,
        nonmono=1,
        weight_decay=1e-4,
        dropout_words=0.1,
        dropout_embedding=0.2,
        dropout_cell_input=0.2,
        dropout_recurrent=0.2,
        dropout_layers=0.2,
        dropout_output=0.2,
        weight_drop=0.2,
        ar_alpha=1.0,
        tar_beta=1.0,
    )
    assert proto.layer_sizes == ((8, 6), (6, 6)) and not proto.is_tied
    first = train_cells([cells["elman"]], proto, tiny_corpus, seed=0)[0]
    second = train_cells([cells["elman"]], proto, tiny_corpus, seed=0)[0]
    assert not first.diverged and all(math.isfinite(v) for v in first.val_curve)
    assert len(first.val_curve) == 3 and first.val_curve == second.val_curve


def test_batchify_rows_are_contiguous() -> None:
    out = batchify(np.arange(10), 3)
    assert out.tolist() == [[0, 1, 2], [3, 4, 5], [6, 7, 8]]
    with pytest.raises(ValueError, match="cannot fill"):
        batchify(np.arange(2), 3)


def test_an_overflowing_state_the_output_never_reads_does_not_diverge(
    tiny_protocol: LMProtocol, tiny_corpus: Corpus
) -> None:
    """State 1 squares itself and overflows within steps, but h_new_0 reads only x: the
    loss cannot see it (PyTorch, NAS-Bench-NLP's trainer, never differentiates it), so the
    cell trains like its live part instead of ending as NaN."""
    from petridish.motifs.cell import live_part

    dead = Cell.from_recipe(
        {
            "a": {"op": "linear", "input": ["x"]},
            "h_new_0": {"op": "activation_leaky_relu", "input": ["a"]},
            "s_lin": {"op": "linear", "input": ["x"]},
            "s": {"op": "activation_sigm", "input": ["s_lin"]},
            "q": {"op": "elementwise_sum", "input": ["h_prev_1", "h_prev_1", "s"]},
            "h_new_1": {"op": "elementwise_prod", "input": ["q", "q"]},
        }
    )
    (r,) = train_cells([dead], tiny_protocol, tiny_corpus, seed=0)
    (alone,) = train_cells([live_part(dead)], tiny_protocol, tiny_corpus, seed=0)
    assert not r.diverged and np.all(np.isfinite(r.val_curve))
    assert r.val_curve == alone.val_curve
