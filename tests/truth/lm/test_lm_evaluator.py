"""The evaluator contract: outcomes, statuses, laziness, pickling, missing data."""

from __future__ import annotations

import math
import pickle
from pathlib import Path

import pytest

from petridish.data.corpora import Corpus
from petridish.evaluators.base import GroundTruthUnavailable, evaluate_batch, has_evaluate_many
from petridish.motifs.cell import Cell
from petridish.motifs.slope import SigmoidSlope
from petridish.truth.lm import LanguageModelEvaluator, LMProtocol, get_protocol


def test_outcomes_follow_the_contract(
    cells: dict[str, Cell], tiny_protocol: LMProtocol, tiny_corpus: Corpus
) -> None:
    ev = LanguageModelEvaluator(corpus="ptb", protocol=tiny_protocol)
    ev._data = tiny_corpus  # skip the real corpus: the contract, not the data, is tested
    assert ev.name == "lm_ptb" and ev.protocol.startswith("tiny_test@") and has_evaluate_many(ev)
    # Same batch as the trainer tests (lstm, bomb, gru): the compiled program is reused.
    motifs = [cells["lstm"], cells["bomb"], cells["gru"], SigmoidSlope(0.5)]
    ok, bomb, gru, slope = evaluate_batch(ev, motifs, seed=3)
    assert ok.status == "ok" and gru.status == "ok"
    assert ok.loss == ok.curve[-1] and len(ok.curve) == tiny_protocol.epochs
    assert ok.metrics["val_perplexity"] == pytest.approx(math.exp(ok.loss))
    assert math.isfinite(ok.metrics["test_loss"]) and ok.metrics["seconds"] > 0
    assert bomb.status == "diverged" and bomb.loss is None and "epoch 1" in bomb.reason
    assert slope.status == "failed" and "not a recurrent cell" in slope.reason


def test_lazy_and_picklable(tmp_path: Path, no_env: Path) -> None:
    ev = LanguageModelEvaluator(corpus="wikitext2", protocol="cpu", data_dir=tmp_path)
    assert ev._data is None  # nothing loaded at construction
    clone = pickle.loads(pickle.dumps(ev))
    assert (clone.name, clone.data_dir) == ("lm_wikitext2", str(tmp_path))
    assert clone.protocol == ev.protocol == get_protocol("cpu").key


def test_missing_corpus_is_ground_truth_unavailable(
    tmp_path: Path, no_env: Path, cells: dict[str, Cell]
) -> None:
    ev = LanguageModelEvaluator(corpus="ptb", data_dir=tmp_path, download=False)
    with pytest.raises(GroundTruthUnavailable, match="ptb.train.txt") as info:
        ev.evaluate(cells["elman"], seed=0)
    assert "data_dir" in info.value.remedy


def test_bad_arguments_named() -> None:
    with pytest.raises(ValueError, match="unknown corpus 'ptb2'"):
        LanguageModelEvaluator(corpus="ptb2")
    with pytest.raises(ValueError, match="unknown language-model protocol"):
        LanguageModelEvaluator(protocol="gpu")
