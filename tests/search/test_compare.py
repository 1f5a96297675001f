"""Strategy comparison: runs per seed, censored statistics, the exact random-search law, files."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from petridish.dish.config import DishConfig
from petridish.search.compare import (
    SCHEDULES,
    Schedule,
    StrategyEntry,
    _censored_stats,
    censored_hits,
    compare_strategies,
    extension_mismatch,
    markdown,
    merge_comparisons,
    random_search_hit_quantiles,
    read_json,
    write_comparison,
)
from petridish.search.oracle import TabularOracle
from petridish.search.strategies import GAStrategy, RandomStrategy
from petridish.store import Store
from shared_paths import SHARED_REFERENCE

REFERENCE = SHARED_REFERENCE


@pytest.fixture(scope="module")
def oracle() -> TabularOracle:
    if not (REFERENCE / "nasbench_nlp_wikitext2_logs.zip").is_file():
        pytest.skip(f"NAS-Bench-NLP logs not found in {REFERENCE} (optional resource)")
    return TabularOracle.load(REFERENCE)


def test_exact_law_matches_a_simulation() -> None:
    (q25, q50, q75), mean = random_search_hit_quantiles(263, 3)
    assert (q25, q50, q75) == (24, 55, 97) and mean == pytest.approx(66.0)
    # Uniform draws without replacement: the position of the first of 3 targets in a shuffle.
    rng = np.random.default_rng(0)
    first = np.array([np.flatnonzero(rng.permutation(263) < 3)[0] + 1 for _ in range(20000)])
    assert np.median(first) == pytest.approx(q50, abs=2)
    assert first.mean() == pytest.approx(mean, rel=0.02)
    # One target in 10: the first hit is uniform on 1..10.
    assert random_search_hit_quantiles(10, 1, (0.5,))[0] == [5]
    with pytest.raises(ValueError, match="targets=0"):
        random_search_hit_quantiles(10, 0)
    with pytest.raises(ValueError, match="quantiles"):
        random_search_hit_quantiles(10, 1, (1.5,))


def test_censored_hits_count_a_miss_as_one_past_the_budget() -> None:
    x = censored_hits([3, None, 20], budget=20)
    assert x.dtype == np.float64 and x.tolist() == [3.0, 21.0, 20.0]
    assert censored_hits([], budget=5).shape == (0,)


def test_censored_stats_never_invent_numbers() -> None:
    st = _censored_stats([3, 7, None, 11], budget=20)
    assert st["min"] == 3 and st["max"] is None
    assert st["median"] == 9.0
    assert _censored_stats([None, None, 5], budget=20)["median"] is None
    assert _censored_stats([4, 6], budget=20) == {
        "median": 5.0,
        "q25": 4.5,
        "q75": 5.5,
        "min": 4.0,
        "max": 6.0,
    }


def test_schedules_and_bad_input() -> None:
    assert SCHEDULES["pool"] == Schedule("pool", 10, 50, 5, 150)
    assert SCHEDULES["paper"].warmup == 40 and SCHEDULES["paper"].per_iteration == 20
    with pytest.raises(ValueError, match="per_iteration.*0"):
        Schedule("x", 10, 50, 0, 100)


def test_compare_on_the_pool_writes_files(oracle: TabularOracle, tmp_path: Path) -> None:
    space = oracle.space()
    schedule = Schedule("small", warmup=10, proposals=50, per_iteration=5, budget=60)
    entries = [
        StrategyEntry("random", RandomStrategy(), False),
        StrategyEntry("ga", GAStrategy(), False),
    ]
    targets = oracle.best_digests(3)
    losses = [oracle.loss(c) for c in oracle.best(3)]
    calls: list[tuple[int, int]] = []
    with Store(tmp_path / "cmp.db") as store:
        result = compare_strategies(
            entries,
            [0, 1, 2, 3],
            schedule,
            space=space,
            evaluator=oracle,
            store=store,
            targets=targets,
            target_losses=losses,
            progress=lambda d, t: calls.append((d, t)),
        )
        n_runs = len(store.runs())
    assert calls[-1] == (8, 8) and n_runs == 8
    rnd = result.entry("random")
    assert rnd.curves.shape == (4, 60)
    assert np.all(np.diff(rnd.curves, axis=1) <= 0)
    for hit, curve in zip(rnd.hits, rnd.curves, strict=True):
        if hit is not None:  # once a target is found the best so far is a target's loss
            assert curve[hit - 1] <= max(losses)
            assert hit == 1 or curve[hit - 2] > max(losses)
    rc = result.random_check
    assert rc is not None and rc.pool_size == 263 and rc.exact_median == 55
    assert rc.measured_median == rnd.hit_stats(60)["median"]
    assert result.entry("ga").best_at(60) <= result.entry("ga").best_at(10)

    paths = write_comparison(result, tmp_path / "out")
    data = json.loads(paths["json"].read_text())
    assert [e["label"] for e in data["entries"]] == ["random", "ga"]
    assert data["entries"][0]["evals_to_target"] == list(rnd.hits)
    assert data["random_check"]["exact_median"] == 55
    md = paths["markdown"].read_text()
    assert md == markdown(result)
    assert "| random |" in md and "| ga |" in md and "needs 55 evaluations" in md
    assert result.dish_config is None and data["dish_config"] is None and "Dish of" not in md
    png = paths["figure"].read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10_000

    # Read back and merged with a second part (other seeds), the whole equals one run.
    back = read_json(paths["json"])
    assert back.entry("ga").hits == result.entry("ga").hits
    np.testing.assert_array_equal(back.entry("random").curves, rnd.curves)
    assert back.random_check == rc and back.schedule == schedule
    halves = [
        dataclasses.replace(
            result,
            entries=tuple(
                dataclasses.replace(
                    e,
                    seeds=e.seeds[sl],
                    run_ids=e.run_ids[sl],
                    hits=e.hits[sl],
                    curves=e.curves[sl],
                    wall_seconds=e.wall_seconds[sl],
                    dish_fit_seconds=e.dish_fit_seconds[sl],
                )
                for e in result.entries
            ),
        )
        for sl in (slice(2, 4), slice(0, 2))
    ]
    whole = merge_comparisons(halves)
    assert markdown(whole) == markdown(result)
    assert whole.entry("random").seeds == (0, 1, 2, 3)
    assert whole.entry("ga").wall_seconds == result.entry("ga").wall_seconds  # seed order
    with pytest.raises(ValueError, match=r"seeds \[0, 1\] appear in more than one part"):
        merge_comparisons([halves[1], halves[1]])
    other = dataclasses.replace(halves[0], schedule=SCHEDULES["pool"])
    with pytest.raises(ValueError, match="different schedule"):
        merge_comparisons([halves[1], other])
    (tmp_path / "junk.json").write_text("{}")
    with pytest.raises(ValueError, match="junk.json: not a comparison"):
        read_json(tmp_path / "junk.json")

    # A second comparison on the same store resumes every run: nothing is evaluated again.
    before = oracle.calls
    with Store(tmp_path / "cmp.db") as store:
        again = compare_strategies(
            entries,
            [0, 1, 2, 3],
            schedule,
            space=space,
            evaluator=oracle,
            store=store,
            targets=targets,
        )
    assert oracle.calls == before
    assert again.entry("ga").hits == result.entry("ga").hits


def test_compare_reports_the_finished_searches_as_it_goes(
    oracle: TabularOracle, tmp_path: Path
) -> None:
    space = oracle.space()
    schedule = Schedule("small", warmup=10, proposals=50, per_iteration=5, budget=30)
    entries = [
        StrategyEntry("random", RandomStrategy(), False),
        StrategyEntry("ga", GAStrategy(), False),
    ]
    targets = oracle.best_digests(3)
    parts: list = []
    with Store(tmp_path / "p.db") as store:
        result = compare_strategies(
            entries,
            [2, 0],
            schedule,
            space=space,
            evaluator=oracle,
            store=store,
            targets=targets,
            on_partial=parts.append,
        )
    # One report after each search but the last, growing one search at a time.
    assert [[(e.label, e.seeds) for e in p.entries] for p in parts] == [
        [("random", (2,))],
        [("random", (2, 0))],
        [("random", (2, 0)), ("ga", (2,))],
    ]
    # A partial entry is the final entry's prefix: the same runs, the same numbers.
    last = parts[-1]
    assert last.entry("random").hits == result.entry("random").hits
    assert last.entry("ga").hits == result.entry("ga").hits[:1]
    np.testing.assert_array_equal(last.entry("ga").curves, result.entry("ga").curves[:1])
    assert last.random_check is not None and last.random_check.seeds == 2
    assert "budget 30 evaluations; 1 seed. Target" in markdown(parts[0])
    assert "; 1-2 seeds per strategy (the missed column's total)." in markdown(last)
    assert "; 2 seeds. Target" in markdown(result)


def test_cli_compare_keeps_a_partial_report_when_cut_off(
    oracle: TabularOracle,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import petridish.search.compare as compare_module

    real = compare_module.run_search
    calls = {"n": 0}

    def cut_off_at_the_third(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("session over")
        return real(*args, **kwargs)

    out = tmp_path / "out"
    argv = [
        "compare",
        "--strategies",
        "random,ga",
        "--seeds",
        "0-1",
        "--budget",
        "30",
        "--out",
        str(out),
        "--store",
        str(tmp_path / "c.db"),
        "--data-dir",
        str(REFERENCE),
        "--quiet",
    ]
    monkeypatch.setattr(compare_module, "run_search", cut_off_at_the_third)
    with pytest.raises(RuntimeError, match="session over"):
        _cli(argv)
    assert "partial/compare_pool.md; rerun with the same --store" in capsys.readouterr().err
    assert not (out / "compare_pool.json").exists()
    part = read_json(out / "partial" / "compare_pool.json")
    assert [(e.label, e.seeds) for e in part.entries] == [("random", (0, 1))]
    assert (out / "partial" / "compare_pool.md").is_file()

    # The same command again resumes and replaces the partial report with the full one.
    monkeypatch.setattr(compare_module, "run_search", real)
    assert _cli(argv) == 0
    full = read_json(out / "compare_pool.json")
    assert [(e.label, e.seeds) for e in full.entries] == [("random", (0, 1)), ("ga", (0, 1))]
    assert full.entry("random").hits == part.entry("random").hits
    assert not (out / "partial").exists()


def test_compare_extends_an_earlier_comparison_without_rerunning_it(
    oracle: TabularOracle, tmp_path: Path
) -> None:
    space = oracle.space()
    schedule = Schedule("small", warmup=10, proposals=50, per_iteration=5, budget=30)
    entries = [
        StrategyEntry("random", RandomStrategy(), False),
        StrategyEntry("ga", GAStrategy(), False),
    ]
    targets = oracle.best_digests(3)
    kw: dict[str, Any] = dict(space=space, evaluator=oracle, targets=targets)
    with Store(tmp_path / "whole.db") as store:
        whole = compare_strategies(entries, [0, 1, 2], schedule, store=store, **kw)
    with Store(tmp_path / "first.db") as store:
        first = compare_strategies(entries[:1], [0, 1], schedule, store=store, **kw)
    # The first part's store is gone: a fresh one, and only the missing pairs run.
    calls: list[tuple[int, int]] = []
    with Store(tmp_path / "fresh.db") as store:
        extended = compare_strategies(
            entries,
            [0, 1, 2],
            schedule,
            store=store,
            done=first,
            progress=lambda d, t: calls.append((d, t)),
            **kw,
        )
        ran = sorted(r.run_id for r in store.runs())
    assert calls[-1] == (4, 4) and len(ran) == 4 and not any("random-s0" in r for r in ran)
    for label in ("random", "ga"):
        assert extended.entry(label).seeds == (0, 1, 2)
        assert extended.entry(label).hits == whole.entry(label).hits
    # Nothing left to run: the earlier comparison comes back as it was.
    with Store(tmp_path / "none.db") as store:
        same = compare_strategies(entries[:1], [0, 1], schedule, store=store, done=first, **kw)
        assert store.runs() == []
    assert same.entry("random").hits == first.entry("random").hits
    # Another schedule, other targets or another dish is refused before anything runs.
    other = Schedule("small", warmup=10, proposals=50, per_iteration=5, budget=40)
    with Store(tmp_path / "bad.db") as store:
        with pytest.raises(ValueError, match="another schedule"):
            compare_strategies(entries, [0], other, store=store, done=first, **kw)
        with pytest.raises(ValueError, match="other target cells"):
            compare_strategies(
                entries,
                [0],
                schedule,
                store=store,
                done=first,
                space=space,
                evaluator=oracle,
                targets=oracle.best_digests(2),
            )
        assert store.runs() == []
    with_dish = dataclasses.replace(first, dish_config=DishConfig.for_cells().to_json())
    with_dish = dataclasses.replace(
        with_dish, entries=(dataclasses.replace(first.entries[0], use_dish=True),)
    )
    problem = extension_mismatch(
        with_dish,
        schedule=schedule,
        space=space.name,
        evaluator=oracle,
        targets=targets,
        dish_config=DishConfig.for_cells(outer_steps=0).to_json(),
    )
    assert problem is not None and "other dish settings" in problem


def test_cli_compare_extend(
    oracle: TabularOracle, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    common = ["--budget", "30", "--data-dir", str(REFERENCE), "--quiet"]
    first = tmp_path / "first"
    argv = ["compare", "--strategies", "random", "--seeds", "0-1", "--out", str(first)]
    assert _cli([*argv, "--store", str(tmp_path / "a.db"), *common]) == 0
    out = tmp_path / "out"
    code = _cli(
        [
            "compare",
            "--strategies",
            "random,ga",
            "--seeds",
            "0-1",
            "--extend",
            str(first),
            "--out",
            str(out),
            "--store",
            str(tmp_path / "b.db"),
            *common,
        ]
    )
    assert code == 0
    assert "random     evaluations to a top-3 cell" in capsys.readouterr().out
    merged = read_json(out / "compare_pool.json")
    assert [(e.label, e.seeds) for e in merged.entries] == [("random", (0, 1)), ("ga", (0, 1))]
    assert (
        merged.entry("random").hits == read_json(first / "compare_pool.json").entry("random").hits
    )
    with Store(tmp_path / "b.db") as store:  # only the GA ran here
        assert all("-ga-" in r.run_id for r in store.runs())
    # Bad --extend: one line naming the option and what is wrong, exit 2.
    for extend, says in (
        (tmp_path / "nowhere", "no such file or folder"),
        (tmp_path, "compare_pool.json"),
    ):
        assert (
            _cli(["compare", "--extend", str(extend), "--store", str(tmp_path / "c.db"), *common])
            == 2
        )
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and "--extend" in err and says in err
    code = _cli(
        [
            "compare",
            "--top",
            "2",
            "--extend",
            str(first),
            "--store",
            str(tmp_path / "c.db"),
            *common,
        ]
    )
    assert code == 2
    assert (
        "cannot be extended by this command: it was measured with other target cells (3, not 2)"
        in (capsys.readouterr().err)
    )


def test_compare_records_the_dish_it_used(oracle: TabularOracle, tmp_path: Path) -> None:
    """A written comparison names its dish; parts with other dish settings never merge."""
    schedule = Schedule("tiny", warmup=5, proposals=10, per_iteration=3, budget=11)
    cheap = DishConfig.for_cells(outer_steps=0, inner_steps=2)
    with Store(tmp_path / "cmp.db") as store:
        kwargs = {"space": oracle.space(), "evaluator": oracle, "store": store}
        kwargs["targets"] = oracle.best_digests(3)
        result = compare_strategies(
            [StrategyEntry("ga+dish", GAStrategy(), True)],
            [0],
            schedule,
            dish_config=cheap,
            **kwargs,
        )
        plain = compare_strategies(
            [StrategyEntry("random", RandomStrategy(), False)], [0], schedule, **kwargs
        )
    assert result.dish_config == cheap.to_json()
    md = markdown(result)
    assert "Dish of the `+dish` entries: DishConfig.for_cells() with " in md
    assert "inner_steps=2" in md and "outer_steps=0" in md
    paths = write_comparison(result, tmp_path / "out")
    assert read_json(paths["json"]).dish_config == cheap.to_json()

    # A part without dish entries merges with it; one with other dish settings does not,
    # nor does a part whose dish settings were not recorded (files from older versions).
    assert merge_comparisons([result, plain]).dish_config == cheap.to_json()
    other = dataclasses.replace(
        result,
        dish_config=cheap.replace(inner_steps=3).to_json(),
        entries=tuple(dataclasses.replace(e, seeds=(1,)) for e in result.entries),
    )
    with pytest.raises(ValueError, match="different dish settings: .*inner_steps=2.* vs .*=3"):
        merge_comparisons([result, other])
    unknown = dataclasses.replace(other, dish_config=None)
    with pytest.raises(ValueError, match="vs not recorded"):
        merge_comparisons([result, unknown])


def test_compare_rejects_bad_input(oracle: TabularOracle, tmp_path: Path) -> None:
    space = oracle.space()
    entry = StrategyEntry("r", RandomStrategy(), False)
    with Store(tmp_path / "x.db") as store:
        with pytest.raises(ValueError, match="distinct"):
            compare_strategies(
                [entry, entry],
                [0],
                SCHEDULES["pool"],
                space=space,
                evaluator=oracle,
                store=store,
                targets={"a"},
            )
        with pytest.raises(ValueError, match="target"):
            compare_strategies(
                [entry],
                [0],
                SCHEDULES["pool"],
                space=space,
                evaluator=oracle,
                store=store,
                targets=set(),
            )


# -- the command line ------------------------------------------------------------------


def _cli(argv: list[str]) -> int:
    from petridish.cli import main

    return main(argv)


def test_cli_search_resumes(
    oracle: TabularOracle, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = tmp_path / "cli.db"
    base = [
        "search",
        "--space",
        "nasbench_nlp",
        "--strategy",
        "ga",
        "--no-dish",
        "--warmup",
        "10",
        "--proposals",
        "50",
        "--per-iteration",
        "5",
        "--seed",
        "4",
        "--store",
        str(store),
        "--data-dir",
        str(REFERENCE),
        "--quiet",
    ]
    assert _cli([*base, "--budget", "20"]) == 0
    first = capsys.readouterr().out
    assert "20 evaluations (0 already in the store)" in first
    assert _cli([*base, "--budget", "30"]) == 0
    second = capsys.readouterr().out
    assert "30 evaluations (20 already in the store)" in second
    run_id = first.split()[1].rstrip(":")
    assert second.split()[1].rstrip(":") == run_id
    with Store(store) as s:
        assert len(s.evaluations()) == 30 and [r.run_id for r in s.runs()] == [run_id]


@pytest.mark.parametrize(
    "content", [b"not a database at all" * 50, b"SQLite format 3\0" + b"x" * 500]
)
def test_cli_bad_store_is_one_line_exit_2(
    oracle: TabularOracle, tmp_path: Path, capsys: pytest.CaptureFixture[str], content: bytes
) -> None:
    bad = tmp_path / "bad.db"
    bad.write_bytes(content)
    code = _cli(
        [
            "search",
            "--space",
            "nasbench_nlp",
            "--no-dish",
            "--warmup",
            "2",
            "--budget",
            "5",
            "--store",
            str(bad),
            "--data-dir",
            str(REFERENCE),
            "--quiet",
        ]
    )
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert len(err.splitlines()) == 1 and "bad.db" in err and "Traceback" not in err


def test_cli_user_errors(
    oracle: TabularOracle, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    common = ["--store", str(tmp_path / "s.db"), "--data-dir", str(REFERENCE), "--quiet"]
    assert _cli(["search", "--space", "nasbench_nlp", "--no-dish", "--budget", "0", *common]) == 2
    assert "--budget must be an integer >= 1, got 0" in capsys.readouterr().err
    assert _cli(["search", "--space", "nasbench_nlp", "--budget", "10", *common]) == 2
    err = capsys.readouterr().err
    assert "--budget 10 is at or below --warmup 40" in err and "--warmup-only" in err
    assert _cli(["compare", "--budget", "10", *common]) == 2
    assert "at or below the warm-up of schedule pool (10)" in capsys.readouterr().err
    assert _cli(["compare", "--strategies", "ga+fish", *common]) == 2
    assert "'ga+fish'" in capsys.readouterr().err
    assert _cli(["compare", "--seeds", "5-2", *common]) == 2
    assert "'5-2'" in capsys.readouterr().err
    assert _cli(["compare", "--seeds", "0", *common]) == 2  # a count of zero, not seed 0
    assert "for seed 0 alone write --seeds 0-0" in capsys.readouterr().err
    assert _cli(["compare", "--schedule", "weekly", *common]) == 2
    assert "'weekly'" in capsys.readouterr().err


def test_cli_compare_writes_files(
    oracle: TabularOracle, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    code = _cli(
        [
            "compare",
            "--strategies",
            "random,ga",
            "--seeds",
            "0-1",
            "--schedule",
            "pool",
            "--budget",
            "30",
            "--out",
            str(out),
            "--store",
            str(tmp_path / "c.db"),
            "--data-dir",
            str(REFERENCE),
            "--quiet",
        ]
    )
    assert code == 0
    printed = capsys.readouterr().out
    assert "exact random-search median: 55 (pool 263)" in printed
    data = json.loads((out / "compare_pool.json").read_text())
    assert data["schedule"]["budget"] == 30
    assert [e["label"] for e in data["entries"]] == ["random", "ga"]
    assert (out / "compare_pool.md").is_file() and (out / "compare_pool.png").is_file()
