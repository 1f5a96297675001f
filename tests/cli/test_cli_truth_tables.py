"""``petridish truth --space``: cell tables through the store from the command line, its
bad-input lines, and ``compare``/``search`` on the tabular ``nao_ptb`` space."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from pathlib import Path

import pytest

from fake_tables import write_fake_nao_table
from petridish.cli import main
from petridish.evaluators.base import Outcome
from petridish.motifs.base import Motif
from petridish.motifs.cell import Cell
from petridish.search.spaces import (
    GenotypeSpace,
    GroundTruth,
    GroundTruthRequest,
    registry,
    space_spec,
)
from petridish.search.spaces import nao_ptb as nao_ptb_module
from petridish.truth import read_cell_table


def _one_error_line(capsys: pytest.CaptureFixture[str], command: str) -> str:
    err = capsys.readouterr().err.strip()
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith(f"petridish {command}: error: ")
    return lines[0]


class FakeLM:
    """A stand-in for the language-model evaluator: loss = node count / 100, counted."""

    name = "lm_ptb"
    protocol = "fake"
    corpus = "ptb"
    chunk = 2

    def __init__(self) -> None:
        self.trained = 0

    def evaluate(self, motif: Motif, seed: int) -> Outcome:
        return self.evaluate_many([motif], seed)[0]

    def evaluate_many(self, motifs: Sequence[Motif], seed: int) -> list[Outcome]:
        self.trained += len(motifs)
        return [
            Outcome(status="ok", loss=m.n_nodes / 100 if isinstance(m, Cell) else 1.0)
            for m in motifs
        ]


@pytest.fixture
def fake_nao(monkeypatch: pytest.MonkeyPatch) -> FakeLM:
    """The registered ``nao`` space, with 2-node genotypes and ``FakeLM`` as ground truth."""
    ev = FakeLM()

    def load(request: GroundTruthRequest) -> GroundTruth:
        return GroundTruth(GenotypeSpace(n_nodes=2), ev)

    spec = dataclasses.replace(space_spec("nao"), load=load)
    monkeypatch.setitem(registry._SPACES, "nao", spec)
    return ev


def test_truth_space_measures_through_the_store(
    fake_nao: FakeLM, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out, store = tmp_path / "t" / "nao_ptb.csv", tmp_path / "s.db"
    argv = ["truth", "--space", "nao", "--out", str(out), "--store", str(store), "--quiet"]
    assert main([*argv, "--n", "3"]) == 0
    assert fake_nao.trained == 3
    assert "3 cells of nao, protocol fake, 3 ok, 0 diverged, 0 failed" in capsys.readouterr().out
    assert main([*argv, "--n", "3"]) == 0 and fake_nao.trained == 3  # a rerun trains nothing
    assert main([*argv, "--n", "5"]) == 0 and fake_nao.trained == 5  # only the new cells
    cells, losses = read_cell_table(out)
    assert len(cells) == 5 and losses.tolist() == [c.n_nodes / 100 for c in cells]
    meta = json.loads(out.with_suffix(".json").read_text())
    assert meta["name"] == "nao_ptb" and meta["corpus"] == "ptb" and meta["protocol"] == "fake"
    assert meta["space"]["n_nodes"] == 2 and meta["space_seed"] == 0 and meta["cells"] == 5
    # Another space seed draws other cells, trained as new ones.
    assert main([*argv, "--n", "2", "--space-seed", "4"]) == 0 and fake_nao.trained > 5


def test_truth_space_corpus_is_folded_into_the_protocol(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    asked: list[str | None] = []

    def load(request: GroundTruthRequest) -> GroundTruth:
        asked.append(request.protocol)
        return GroundTruth(GenotypeSpace(n_nodes=2), FakeLM())

    monkeypatch.setitem(registry._SPACES, "nao", dataclasses.replace(space_spec("nao"), load=load))
    argv = ["truth", "--space", "nao", "--n", "1", "--store", str(tmp_path / "s.db"), "--quiet"]
    for i, (extra, protocol) in enumerate(
        [
            (["--corpus", "wikitext2"], "wikitext2:cpu"),
            (["--corpus", "wikitext2", "--protocol", "cpu_short"], "wikitext2:cpu_short"),
            (["--corpus", "ptb", "--protocol", "cpu_short"], "cpu_short"),  # as without it
        ]
    ):
        assert main([*argv, *extra, "--out", str(tmp_path / f"t{i}.csv")]) == 0
        assert asked[-1] == protocol


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--space", "nas"], "--space: unknown space 'nas'; cell tables are measured on nao"),
        (["--space", "slope"], "--space slope is not a trained cell space"),
        (["--space", "nao_ptb"], "--space nao_ptb is not a trained cell space"),
        (["--space", "nao", "--n", "0"], "--n must be an integer >= 1 (cells in the table), got 0"),
        (["--space", "nao", "--protocol", "gpu"], "--protocol: unknown language-model protocol"),
        (["--space", "nao", "--protocol", "wiki:cpu"], "--protocol: unknown corpus 'wiki'"),
        (["--space", "nao", "--seed", "-1"], "--seed must be an integer >= 0, got -1"),
        (["--space", "nao", "--space-seed", "-1"], "--space-seed must be an integer >= 0"),
        (["--space", "nao", "--low", "0.5"], "--low applies to the slope table only"),
        (["--seed", "1"], "--seed applies with --space only"),
        (["--space-seed", "1"], "--space-seed applies with --space only"),
        (["--space", "nao", "--workers", "0"], "--workers must be >= 1, got 0"),
        (["--space", "nao", "--corpus", "wiki"], "unknown --corpus 'wiki'; known: ptb, wikitext2"),
        (
            ["--space", "nao", "--corpus", "ptb", "--protocol", "wikitext2:cpu"],
            "--corpus ptb contradicts --protocol wikitext2:cpu",
        ),
        (["--corpus", "ptb"], "--corpus applies with --space only"),
    ],
)
def test_truth_space_bad_input_is_one_line_and_writes_nothing(
    flags: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store, out = tmp_path / "s.db", tmp_path / "t.csv"
    assert main(["truth", *flags, "--store", str(store), "--out", str(out), "--quiet"]) == 2
    assert message in _one_error_line(capsys, "truth")
    assert not store.exists() and not out.exists()


@pytest.mark.parametrize("command", ["compare", "search"])
def test_nao_ptb_without_its_table_says_how_to_make_it(
    command: str,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr(nao_ptb_module, "bundled_table_exists", lambda: False)
    store = tmp_path / "s.db"
    assert main([command, "--space", "nao_ptb", "--store", str(store), "--quiet"]) == 2
    line = _one_error_line(capsys, command)
    assert "nao_ptb.csv) is missing" in line and "petridish truth --space nao" in line
    assert not store.exists()


def test_compare_and_search_on_a_fake_nao_ptb_table(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The Figure 3 analogue in the paper's space, on a fake 40-cell table (look-ups only)."""
    table = write_fake_nao_table(tmp_path / "table")
    common = ["--store", str(tmp_path / "c.db"), "--data-dir", str(table.parent), "--quiet"]
    out = tmp_path / "out"
    argv = ["compare", "--space", "nao_ptb", "--strategies", "random,ga,nao", "--seeds", "0-1"]
    assert main([*argv, "--budget", "20", "--out", str(out), *common]) == 0
    printed = capsys.readouterr().out
    assert "exact random-search median: 9 (pool 40)" in printed
    data = json.loads((out / "compare_pool.json").read_text())
    assert data["space"] == "nao_ptb" and data["schedule"]["budget"] == 20
    assert [e["label"] for e in data["entries"]] == ["random", "ga", "nao"]
    argv = ["search", "--space", "nao_ptb", "--strategy", "ga", "--predictor", "none"]
    assert main([*argv, "--budget", "16", "--warmup", "10", "--per-iteration", "3", *common]) == 0
    assert "16 evaluations" in capsys.readouterr().out
    # The table's own refusals: --download (nothing to fetch), a --top past its ok cells.
    assert main(["compare", "--space", "nao_ptb", "--download", *common]) == 2
    assert "--download applies to --space nasbench_nlp only" in _one_error_line(capsys, "compare")
    assert main(["compare", "--space", "nao_ptb", "--top", "39", *common]) == 2
    assert "--top must be in [1, 38], got 39" in _one_error_line(capsys, "compare")
