"""Tests for the predictor benchmark (petridish.experiments.predictors) and its command."""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from petridish import DishConfig
from petridish.baselines import Predictor
from petridish.experiments.predictor_commands import add_commands, parse_predictors
from petridish.experiments.predictors import (
    ALL_PREDICTORS,
    BASELINE_PREDICTORS,
    PREDICTORS,
    BenchmarkContext,
    BenchmarkResult,
    PoolInfo,
    PredictorBenchmarkConfig,
    PredictorRunRecord,
    build_pool,
    fit_info,
    load_benchmark,
    predictor_markdown,
    ranking_metrics,
    run_predictor_benchmark,
    split_pool,
    write_benchmark,
)
from petridish.motifs import Motif
from petridish.truth.nasbench_nlp import FILE_NAME, NasBenchNLP, load_nasbench_nlp
from shared_paths import SHARED_REFERENCE

REFERENCE = SHARED_REFERENCE
CHEAP = ("num_params", "early_stop_1")


@pytest.fixture(scope="module")
def bench() -> NasBenchNLP:
    if not (REFERENCE / FILE_NAME).is_file():
        pytest.skip(f"NAS-Bench-NLP logs not found in {REFERENCE}")
    return load_nasbench_nlp(REFERENCE, download=False)


class Oracle:
    """Returns each cell's true (pool) loss: must score a perfect ranking."""

    def __init__(self, ctx: BenchmarkContext) -> None:
        self.table = {c: np.mean([r.final_val_loss for r in g]) for c, g in ctx.groups.items()}

    def fit(
        self, motifs: Sequence[Motif], losses: Sequence[float] | np.ndarray, *, seed: int = 0
    ) -> Oracle:
        return self

    def query(self, motifs: Sequence[Motif]) -> np.ndarray:
        return np.array([self.table[m] for m in motifs])


class Spy:
    """Records what it was trained on (shared log), predicts a constant."""

    seen: list[tuple[str, int, tuple[str, ...], tuple[float, ...]]] = []

    def __init__(self, name: str) -> None:
        self.name = name

    def fit(
        self, motifs: Sequence[Motif], losses: Sequence[float] | np.ndarray, *, seed: int = 0
    ) -> Spy:
        digests = tuple(m.digest for m in motifs)
        Spy.seen.append((self.name, seed, digests, tuple(float(x) for x in losses)))
        return self

    def query(self, motifs: Sequence[Motif]) -> np.ndarray:
        return np.zeros(len(motifs))


FACTORIES = {
    "oracle": Oracle,
    "spy_a": lambda ctx: Spy("a"),
    "spy_b": lambda ctx: Spy("b"),
}


def small_config(predictors: tuple[str, ...], **kw: object) -> PredictorBenchmarkConfig:
    return PredictorBenchmarkConfig(sizes=(10, 20), seeds=(0, 1), predictors=predictors, **kw)


# ------------------------------------------------------------------------- metrics


def test_ranking_metrics_hand_computed() -> None:
    # true order 0 < 2 < 1 < 3; pred order 0 < 1 < 2 < 3: one discordant pair of six.
    pred, true = np.array([1.0, 2.0, 3.0, 4.0]), np.array([1.0, 3.0, 2.0, 4.0])
    m = ranking_metrics(pred, true, top_k=2)
    assert m["kendall"] == pytest.approx((5 - 1) / 6)
    assert m["spearman"] == pytest.approx(1 - 6 * 2 / (4 * (16 - 1)))  # sum d^2 = 2
    assert m["precision_at_k"] == pytest.approx(0.5)  # {0, 1} vs {0, 2}
    assert m["constant"] == 0.0 and m["n_nonfinite"] == 0.0


def test_ranking_metrics_constant_and_nonfinite() -> None:
    m = ranking_metrics(np.full(5, 3.0), np.arange(5.0), top_k=2)
    assert (m["kendall"], m["spearman"], m["constant"]) == (0.0, 0.0, 1.0)
    # NaN ranks worst: a NaN on the worst cell keeps the ranking perfect.
    m = ranking_metrics(np.array([0.0, 1.0, 2.0, np.nan]), np.arange(4.0), top_k=2)
    assert m["kendall"] == pytest.approx(1.0) and m["n_nonfinite"] == 1.0
    # top_k larger than the test set is capped to it.
    assert ranking_metrics(np.arange(3.0), np.arange(3.0), top_k=10)["precision_at_k"] == 1.0


def test_split_pool_nested_disjoint_deterministic() -> None:
    tr10, te10 = split_pool(50, 10, seed=3)
    tr20, te20 = split_pool(50, 20, seed=3)
    assert set(tr10) <= set(tr20)  # nested across sizes for one seed
    assert set(tr20).isdisjoint(te20) and len(tr20) + len(te20) == 50
    np.testing.assert_array_equal(tr10, split_pool(50, 10, seed=3)[0])
    assert not np.array_equal(tr10, split_pool(50, 10, seed=4)[0])
    with pytest.raises(ValueError, match="train size 45 must be in"):
        split_pool(50, 45, seed=0, min_test=10)


# ---------------------------------------------------------------------------- pool


def test_pool_merges_duplicates_and_counts_diverged(bench: NasBenchNLP) -> None:
    pool = build_pool(bench)
    info = pool.info
    assert (info.n_logs, info.n_diverged) == (345, 4)
    assert info.n_complete == 341 and info.n_cells == len(pool.cells) == len(set(pool.cells))
    assert info.n_merged_runs == info.n_complete - info.n_cells > 0
    # Every target is the mean final loss of that cell's runs.
    for cell, loss in zip(pool.cells[:20], pool.losses[:20], strict=True):
        runs = pool.groups[cell]
        assert loss == pytest.approx(np.mean([r.final_val_loss for r in runs]))


# --------------------------------------------------------------------------- runs


def test_registry_builds_protocol_predictors(bench: NasBenchNLP) -> None:
    ctx = BenchmarkContext(PredictorBenchmarkConfig(), groups=build_pool(bench).groups)
    for name in ALL_PREDICTORS:
        assert isinstance(PREDICTORS[name](ctx), Predictor), name
    assert set(BASELINE_PREDICTORS) == set(ALL_PREDICTORS) - {"dish", "random_dish"}


def test_oracle_is_perfect_and_splits_are_shared(bench: NasBenchNLP) -> None:
    Spy.seen.clear()
    cfg = small_config(("spy_a", "oracle", "spy_b", *CHEAP))
    result = run_predictor_benchmark(cfg, bench, factories=FACTORIES)
    assert len(result.records) == 2 * 2 * 5
    for r in result.records:
        if r.predictor == "oracle":
            assert (r.kendall, r.spearman, r.precision_at_k) == (1.0, 1.0, 1.0)
        assert r.n_test == result.pool.n_cells - r.size
    # The two spies saw the same training cells and losses, split by split.
    a = [s[1:] for s in Spy.seen if s[0] == "a"]
    b = [s[1:] for s in Spy.seen if s[0] == "b"]
    assert a == b and len(a) == 4
    assert len({s[1] for s in a}) == 4  # and the splits differ between (size, seed)
    # The recorded splits are the ones the predictors trained on.
    digests = result.pool.digests
    for split, seen in zip(result.splits, a, strict=True):
        assert tuple(digests[i] for i in split.train) == seen[1]
    # The spies are constant predictors: flagged, tau 0.
    spy = [r for r in result.records if r.predictor == "spy_a"]
    assert all(r.constant and r.kendall == 0.0 for r in spy)


def test_deterministic_by_seed(bench: NasBenchNLP) -> None:
    cfg = small_config(("num_params_fit", "random_forest"))
    a, b = (run_predictor_benchmark(cfg, bench) for _ in range(2))
    key = [
        (r.predictor, r.size, r.seed, r.kendall, r.spearman, r.precision_at_k) for r in a.records
    ]
    assert key == [
        (r.predictor, r.size, r.seed, r.kendall, r.spearman, r.precision_at_k) for r in b.records
    ]
    assert a.splits == b.splits


def test_summary_costs_and_early_stopping(bench: NasBenchNLP) -> None:
    result = run_predictor_benchmark(small_config(CHEAP), bench)
    by = {(s.predictor, s.size): s for s in result.summaries()}
    es = by[("early_stop_1", 10)]
    # Early stopping learns nothing, but is charged one epoch of real training per cell.
    assert 300 < es.training_seconds_per_cell < 600
    assert by[("num_params", 10)].training_seconds_per_cell == 0.0
    assert es.kendall_mean > 0.4  # one epoch already ranks cells well (NAS-Bench-NLP)
    taus = [r.kendall for r in result.records if r.predictor == "num_params" and r.size == 10]
    assert by[("num_params", 10)].kendall_mean == pytest.approx(np.mean(taus))
    assert by[("num_params", 10)].kendall_std == pytest.approx(np.std(taus, ddof=1))


def test_bad_config_and_names(bench: NasBenchNLP) -> None:
    with pytest.raises(ValueError, match="unknown predictor"):
        run_predictor_benchmark(small_config(("crystal_ball",)), bench)
    with pytest.raises(ValueError, match="train size 300 must be in"):
        run_predictor_benchmark(PredictorBenchmarkConfig(sizes=(300,), seeds=(0,)), bench)
    with pytest.raises(ValueError, match="sizes must hold ints >= 2, got 1"):
        PredictorBenchmarkConfig(sizes=(1, 10))
    with pytest.raises(ValueError, match="seeds has duplicates"):
        PredictorBenchmarkConfig(seeds=(0, 0))
    assert PredictorBenchmarkConfig().predictors == ALL_PREDICTORS


# ------------------------------------------------------------------- writers/merge


def test_writers_round_trip_and_merge(bench: NasBenchNLP, tmp_path: Path) -> None:
    first = run_predictor_benchmark(small_config(CHEAP), bench)
    paths = write_benchmark(first, tmp_path / "a")
    data = json.loads(paths["json"].read_text())
    again = BenchmarkResult.from_json(data)
    assert again.records == first.records and again.splits == first.splits
    assert again.summaries() == first.summaries()  # 2 seeds: every std is finite
    md = paths["markdown"].read_text()
    assert "| Number of parameters (more = better, fixed) |" in md
    assert "4 diverged (excluded)" in md
    assert "; dish:" not in md  # no dish predictor ran, so no dish settings are listed
    assert paths["figure"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    # Rows run separately (another predictor, one more seed) merge into the first result.
    second = run_predictor_benchmark(
        PredictorBenchmarkConfig(sizes=(10, 20), seeds=(0, 1, 2), predictors=("oracle",)),
        bench,
        factories=FACTORIES,
    )
    merged = load_benchmark(paths["json"]).merge(second)
    assert merged.predictors == (*CHEAP, "oracle")
    assert len(merged.records) == len(first.records) + len(second.records)
    assert len(merged.runs) == 2 and len(merged.splits) == 6
    n_seeds = {(s.predictor, s.size): s.n_seeds for s in merged.summaries()}
    assert n_seeds[("oracle", 10)] == 3 and n_seeds[("num_params", 10)] == 2
    # The report gives each row its own seed count, never the union of all rows' seeds.
    merged_md = predictor_markdown(merged)
    assert "scored; 3 seeds" not in merged_md and "scored; seeds per row" in merged_md
    assert "| Number of parameters (more = better, fixed) | 2 | " in merged_md
    assert merged_md.count("| oracle | 3 | ") == 3  # Kendall, Spearman, precision tables
    # Re-running a predictor replaces its rows instead of duplicating them.
    assert len(merged.merge(first).records) == len(merged.records)


def test_merge_refuses_other_pools(bench: NasBenchNLP) -> None:
    full = run_predictor_benchmark(small_config(CHEAP), bench)
    fewer = NasBenchNLP(logs=bench.logs[:300], source="subset")
    other = run_predictor_benchmark(small_config(CHEAP), fewer)
    with pytest.raises(ValueError, match="different cell pools"):
        full.merge(other)


# ---------------------------------------------------------------------------- CLI


def run_command(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="petridish")
    add_commands(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return int(args.func(args))


def test_command_writes_and_extends(
    bench: NasBenchNLP, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    common = ["--sizes", "10,20", "--seeds", "2", "--data-dir", str(REFERENCE), "--quiet"]
    assert (
        run_command(["predictors", *common, "--predictors", "num_params", "--out", str(out)]) == 0
    )
    text = capsys.readouterr().out
    assert "num_params" in text and "n=10" in text and "4 diverged excluded" in text
    assert run_command(
        ["predictors", *common, "--predictors", "early_stop_1", "--extend", str(out),
         "--out", str(out)]
    ) == 0  # fmt: skip
    merged = load_benchmark(out / "predictors.json")
    assert merged.predictors == ("num_params", "early_stop_1")
    assert "replaces" not in capsys.readouterr().err  # new rows only: nothing to say
    # Rows already there are replaced, and the user is told which seeds before the run.
    assert run_command(
        ["predictors", *common, "--predictors", "num_params", "--seeds", "1,5",
         "--extend", str(out), "--out", str(out)]
    ) == 0  # fmt: skip
    err = capsys.readouterr().err
    assert "already holds seeds 1 of these predictors" in err and "replaces them" in err
    assert {r.seed for r in load_benchmark(out).records if r.predictor == "num_params"} == {
        0,
        1,
        5,
    }
    # A result over another pool is refused before anything runs.
    other = run_predictor_benchmark(
        small_config(("num_params",)), NasBenchNLP(logs=bench.logs[:300], source="subset")
    )
    write_benchmark(other, tmp_path / "other")
    from petridish.cli import CliError

    with pytest.raises(CliError, match="another cell pool"):
        run_command(
            [
                "predictors",
                *common,
                "--predictors",
                "num_params",
                "--extend",
                str(tmp_path / "other"),
            ]
        )


def test_command_keeps_a_partial_report_and_resumes(
    bench: NasBenchNLP,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real = PREDICTORS["num_params"]
    fits: list[tuple[int, int]] = []
    broken = {"on": True}

    class Counting:
        def __init__(self, ctx: BenchmarkContext) -> None:
            self.inner = real(ctx)

        def fit(self, motifs: Sequence[Motif], losses: np.ndarray, *, seed: int = 0) -> Counting:
            fits.append((len(motifs), seed))
            if broken["on"] and (len(motifs), seed) == (20, 1):
                raise RuntimeError("session over")
            self.inner.fit(motifs, losses, seed=seed)
            return self

        def query(self, motifs: Sequence[Motif]) -> np.ndarray:
            return np.asarray(self.inner.query(motifs))

    monkeypatch.setitem(PREDICTORS, "num_params", Counting)
    out = tmp_path / "out"
    argv = ["predictors", "--sizes", "10,20", "--seeds", "2", "--predictors", "num_params",
            "--data-dir", str(REFERENCE), "--quiet", "--out", str(out)]  # fmt: skip
    with pytest.raises(RuntimeError, match="session over"):
        run_command(argv)
    assert "--extend " + str(out / "partial") + " --resume" in capsys.readouterr().err
    part = load_benchmark(out / "partial")
    assert sorted((r.size, r.seed) for r in part.records) == [(10, 0), (10, 1), (20, 0)]
    assert not (out / "predictors.json").exists()
    # Resuming runs the one missing split only, and the full report replaces the partial.
    broken["on"] = False
    fits.clear()
    assert run_command([*argv, "--extend", str(out / "partial"), "--resume"]) == 0
    assert fits == [(20, 1)]
    full = load_benchmark(out)
    assert sorted((r.size, r.seed) for r in full.records) == [(10, 0), (10, 1), (20, 0), (20, 1)]
    kept = {(r.size, r.seed): r.kendall for r in part.records}
    assert all(kept[(r.size, r.seed)] == r.kendall for r in full.records if r.seed == 0)
    assert not (out / "partial").exists()
    from petridish.cli import CliError

    with pytest.raises(CliError, match="--resume needs --extend"):
        run_command([*argv, "--resume"])


def test_command_options() -> None:
    from petridish.cli import CliError

    assert parse_predictors("baselines,dish") == (*BASELINE_PREDICTORS, "dish")
    with pytest.raises(CliError, match="unknown predictor 'oracle'"):
        parse_predictors("oracle")
    with pytest.raises(CliError, match="unknown dish setting"):
        run_command(["predictors", "--dish-set", "bogus=1", "--predictors", "num_params"])
    with pytest.raises(CliError, match="--sizes must be a comma list of ints"):
        run_command(["predictors", "--sizes", "ten"])


# --------------------------------------------------------------------------- dish


@pytest.mark.slow
def test_tiny_dish_runs_on_the_same_splits(bench: NasBenchNLP) -> None:
    dish = DishConfig.for_cells(outer_steps=2, inner_steps=2, retries=0)
    cfg = PredictorBenchmarkConfig(
        sizes=(10,), seeds=(0,), predictors=("dish", "random_dish", "oracle"), dish=dish
    )
    result = run_predictor_benchmark(cfg, bench, factories=FACTORIES)
    assert result.predictors == ("dish", "random_dish", "oracle")
    for r in result.records:
        assert -1.0 <= r.kendall <= 1.0 and r.n_test == result.pool.n_cells - 10
    assert result.runs[0].config["dish"] == dish.to_json()
    md = predictor_markdown(result)
    runs = md.split("### Runs")[1]
    assert "; dish: DishConfig.for_cells() with inner_steps=2, outer_steps=2, retries=0;" in runs
    by_name = {r.predictor: r for r in result.records}
    assert by_name["dish"].fit_info["outer_steps"] == 2
    assert by_name["random_dish"].fit_info["kept_learned"] is False
    assert by_name["oracle"].fit_info == {}
    assert "### How far the dishes' data moved" in md
    assert (
        "; random_dish: DishConfig.for_cells() with inner_steps=2, outer_steps=0, retries=0" in runs
    )


def test_fit_info_reads_a_dish_record_and_sums_up() -> None:
    """A learned dish's record says which step it kept and how far its data moved; the
    summary counts the fits that kept a learned step."""
    from types import SimpleNamespace

    def rec(best: int | None, moved: float) -> SimpleNamespace:
        record = SimpleNamespace(
            outer_losses=(1.0, 0.9, 0.8),
            best_step=best,
            moved_train=moved,
            moved_val=2 * moved,
            train_spearman=0.5,
        )
        return SimpleNamespace(record=record)

    assert fit_info(object()) == {}
    infos = [fit_info(rec(0, 0.0)), fit_info(rec(2, 0.4)), fit_info(rec(None, 0.2))]
    assert [i["kept_learned"] for i in infos] == [False, True, True]
    records = tuple(
        PredictorRunRecord(
            predictor="dish", size=10, seed=k, kendall=0.1, spearman=0.1,
            precision_at_k=0.0, fit_seconds=1.0, query_seconds_per_cell=0.0, n_test=5,
            fit_info=info,
        )
        for k, info in enumerate(infos)
    )  # fmt: skip
    pool = PoolInfo(
        source="x", n_logs=15, n_complete=15, n_diverged=0, n_cells=15, n_merged_runs=0,
        digests=tuple(f"d{i}" for i in range(15)), losses=tuple(range(15)),
    )  # fmt: skip
    (summary,) = BenchmarkResult(pool=pool, splits=(), records=records, runs=()).summaries()
    assert summary.n_kept_learned == 2
    assert summary.moved_train_mean == pytest.approx(0.2)
    assert summary.moved_val_mean == pytest.approx(0.4)
