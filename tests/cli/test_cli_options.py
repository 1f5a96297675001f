"""The command line's options and errors speak its own language.

Every option has help text without markup, one default store for every command, options
that apply to one space say so, and bad input is one line on stderr naming the option, with
exit code 2 and nothing run.
"""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

import pytest

from petridish.cli import CliError, build_parser, dish_config_from_args, main
from petridish.dish.config import DishConfig
from petridish.search.spaces import space_specs
from petridish.store import Store
from shared_paths import SHARED_REFERENCE

REFERENCE = SHARED_REFERENCE
COMMANDS = ("search", "compare", "predictors", "slope", "select", "truth")


def _subparsers() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    (action,) = (a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


def _one_error_line(capsys: pytest.CaptureFixture[str], command: str) -> str:
    err = capsys.readouterr().err.strip()
    lines = [ln for ln in err.splitlines() if "JAX already started" not in ln]
    assert len(lines) == 1, err
    assert lines[0].startswith(f"petridish {command}: error: ") and "Traceback" not in err
    return lines[0]


def test_every_option_has_help_without_markup() -> None:
    subs = _subparsers()
    assert set(subs) == set(COMMANDS)
    missing = [
        f"{name} {action.option_strings[0]}"
        for name, sp in subs.items()
        for action in sp._actions
        if action.option_strings and not action.help
    ]
    assert missing == []
    for name, sp in subs.items():
        text = sp.format_help()
        assert "``" not in text, f"markup in petridish {name} --help"
    top = build_parser().format_help()
    assert "``" not in top and all(c in top for c in COMMANDS)


def test_one_default_store_for_every_command() -> None:
    subs = _subparsers()
    stores = {
        name: action.default
        for name, sp in subs.items()
        for action in sp._actions
        if "--store" in action.option_strings
    }
    assert set(stores) == {"search", "compare", "truth"}
    assert set(stores.values()) == {"runs/petridish.db"}


def test_options_that_apply_to_one_space_say_so_or_are_absent() -> None:
    subs = _subparsers()

    def options(name: str) -> dict[str, str]:
        return {a.option_strings[-1]: a.help or "" for a in subs[name]._actions if a.option_strings}

    compare = options("compare")
    # compare runs on NAS-Bench-NLP only: no slope options.
    assert "--protocol" not in compare and "--table" not in compare
    search = options("search")
    assert "--table" not in search
    # --protocol's help names every space that takes a protocol, with its protocols.
    for spec in space_specs():
        if spec.protocols:
            assert f"{spec.name}: {', '.join(spec.protocols)}" in search["--protocol"]
        else:
            assert f"{spec.name}:" not in search["--protocol"]
    downloads = " or ".join(s.name for s in space_specs() if s.downloads)
    assert search["--download"].startswith(f"{downloads} only")


def test_unknown_set_key_lists_the_valid_keys(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    keys = [f.name for f in dataclasses.fields(DishConfig)]
    argv = ["--set", "bogus_key=1", "--store", str(tmp_path / "s.db"), "--quiet"]
    assert main(["search", *argv]) == 2
    line = _one_error_line(capsys, "search")
    assert "unknown dish setting 'bogus_key' in --set bogus_key=1; valid keys: " in line
    assert all(key in line for key in keys)
    assert "__init__" not in line and "unexpected keyword" not in line
    assert not (tmp_path / "s.db").exists()  # nothing ran
    assert main(["predictors", "--dish-set", "nope=2", "--quiet"]) == 2
    line = _one_error_line(capsys, "predictors")
    assert "unknown dish setting 'nope' in --dish-set nope=2; valid keys: " in line
    assert "outer_steps" in line and "n_samples" in line
    # The library call raises the same error.
    args = argparse.Namespace(set=["bogus_key=1"], config=None)
    with pytest.raises(CliError, match="valid keys: network, layer_sizes"):
        dish_config_from_args(args, DishConfig.for_slopes())


def test_bad_setting_values_name_the_option(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["--store", str(tmp_path / "s.db"), "--quiet"]
    assert main(["search", "--set", "inner_lr=-1", *argv]) == 2
    line = _one_error_line(capsys, "search")
    assert "--set inner_lr=-1" in line and "inner_lr must be finite and > 0" in line
    assert main(["search", "--set", "inner_lr", *argv]) == 2
    assert "--set expects KEY=VALUE, got 'inner_lr'" in _one_error_line(capsys, "search")


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--budget", "-5"], "--budget must be an integer >= 1, got -5"),
        (["--budget", "0"], "--budget must be an integer >= 1, got 0"),
        (["--warmup", "-1"], "--warmup must be an integer >= 0, got -1"),
        (["--per-iteration", "0"], "--per-iteration must be an integer >= 1, got 0"),
        (["--proposals", "0"], "--proposals must be an integer >= 1, got 0"),
        (["--seed", "-2"], "--seed must be an integer >= 0, got -2"),
        (["--budget-seconds", "-1"], "--budget-seconds must be a number > 0, got -1.0"),
        # At or below the warm-up: no strategy iteration and no dish would run.
        (["--budget", "40"], "--budget 40 is at or below --warmup 40"),
        (["--budget", "10", "--warmup", "12"], "--budget 10 is at or below --warmup 12"),
        (["--warmup-only", "--budget", "50"], "--warmup-only runs the 40 warm-up evaluations"),
        (["--protocol", "nope"], "--protocol: "),
        (["--download"], "--download applies to --space nao or nasbench_nlp or recipes only"),
    ],
)
def test_bad_search_numbers_are_named_in_cli_terms(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], flags: list[str], message: str
) -> None:
    store = tmp_path / "s.db"
    assert main(["search", *flags, "--store", str(store), "--quiet"]) == 2
    line = _one_error_line(capsys, "search")
    assert message in line
    assert "SearchConfig" not in line and "budget_evals" not in line
    assert not store.exists()  # refused before anything ran


def test_budget_at_the_warmup_names_the_way_out(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["search", "--budget", "30", "--store", str(tmp_path / "s.db")]) == 2
    line = _one_error_line(capsys, "search")
    assert "no ga iteration, no dish" in line and "--warmup-only" in line


def test_warmup_only_run_is_explicit_and_extends_later(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    if not (REFERENCE / "nasbench_nlp_wikitext2_logs.zip").is_file():
        pytest.skip(f"NAS-Bench-NLP logs not found in {REFERENCE} (optional resource)")
    store = tmp_path / "s.db"
    base = ["search", "--space", "nasbench_nlp", "--no-dish", "--warmup", "6"]
    base += ["--proposals", "20", "--per-iteration", "3", "--data-dir", str(REFERENCE)]
    base += ["--store", str(store), "--quiet"]
    assert main([*base, "--warmup-only"]) == 0
    assert "6 evaluations (0 already in the store)" in capsys.readouterr().out
    # The warm-up-only run is the same run: a budget above the warm-up continues it.
    assert main([*base, "--budget", "9"]) == 0
    assert "9 evaluations (6 already in the store)" in capsys.readouterr().out
    with Store(store) as s:
        (run,) = s.runs()
        assert [r.iteration for r in s.iterations(run.run_id)] == [0, 1]


def test_search_without_strategy_uses_the_spaces_default(tmp_path: Path) -> None:
    """NAS-Bench-NLP is searched with mixed proposals unless --strategy names another (the
    GA stays by name; the other spaces' GA default: test_registries)."""
    if not (REFERENCE / "nasbench_nlp_wikitext2_logs.zip").is_file():
        pytest.skip(f"NAS-Bench-NLP logs not found in {REFERENCE} (optional resource)")
    store = tmp_path / "s.db"
    base = ["search", "--space", "nasbench_nlp", "--no-dish", "--warmup", "6", "--budget", "9"]
    base += ["--proposals", "20", "--per-iteration", "3", "--data-dir", str(REFERENCE)]
    base += ["--store", str(store), "--quiet"]
    assert main(base) == 0
    assert main([*base, "--strategy", "ga"]) == 0
    with Store(store) as s:
        runs = s.runs()
    assert sorted(r.config["search"]["strategy"] for r in runs) == ["ga", "mixed"]
    assert all(r.finished for r in runs)


def test_compare_budget_at_the_warmup_is_an_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["compare", "--budget", "10", "--store", str(tmp_path / "c.db")]) == 2
    assert "at or below the warm-up of schedule pool (10)" in _one_error_line(capsys, "compare")
    assert main(["compare", "--schedule", "paper", "--budget", "-3"]) == 2
    assert "--budget must be an integer >= 1, got -3" in _one_error_line(capsys, "compare")


@pytest.mark.parametrize(
    ("text", "seeds"),
    [("3", (0, 1, 2)), ("3,5,8", (3, 5, 8)), ("11,", (11,)), ("4-6", (4, 5, 6)), ("0-0", (0,))],
)
def test_seeds_mean_the_same_in_every_command(text: str, seeds: tuple[int, ...]) -> None:
    from petridish.cli.common import seed_count

    assert seed_count(text) == seeds


@pytest.mark.parametrize("text", ["0", "6-4", "1,1", "x", "-2", ","])
def test_bad_seeds_name_the_option(text: str) -> None:
    from petridish.cli.common import seed_count

    with pytest.raises(CliError, match="--seeds"):
        seed_count(text)


@pytest.mark.parametrize("command", ["predictors", "slope", "compare"])
def test_a_bad_seed_range_is_one_line_in_every_command(
    command: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    # 6-4 is a range read backwards: each command must reject it through the shared parser
    # (before this, only compare knew ranges and the others called it a bad count).
    argv = [command, "--seeds", "6-4"]
    if command != "slope":
        argv += ["--data-dir", str(REFERENCE)]
    if command == "compare":
        argv += ["--space", "nasbench_nlp", "--store", str(tmp_path / "s.db")]
    assert main(argv) == 2
    line = _one_error_line(capsys, command)
    assert "--seeds" in line and "'6-4'" in line and "range like 0-9" in line


def test_search_truth_and_corpus_say_what_is_trained(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """The issue's spelling ``search --space nao --truth lm --corpus ptb --protocol cpu``
    names the protocol the space already meant; a corpus that is not the default is the
    ``CORPUS:PROTOCOL`` form; what does not fit the space is one line and exit 2."""
    from petridish.cli.common import resolve_protocol
    from petridish.search.spaces import space_spec

    nao, slope = space_spec("nao"), space_spec("slope")
    assert resolve_protocol(nao, "cpu", "lm", "ptb") == "cpu"  # the run keeps its identity
    assert resolve_protocol(nao, None, "lm", None) == "cpu"
    assert resolve_protocol(nao, "cpu_short", None, "wikitext2") == "wikitext2:cpu_short"
    assert resolve_protocol(nao, "wikitext2:cpu", None, "wikitext2") == "wikitext2:cpu"
    assert resolve_protocol(space_spec("recipes"), None, None, "wikitext2") == "wikitext2:cpu"
    assert resolve_protocol(slope, None, "mnist", None) == "tiny"
    assert {s.truth for s in space_specs()} == {"mnist", "table", "lm"}
    store = str(tmp_path / "s.db")
    for argv, says in (
        (["--space", "nao", "--truth", "table"], "--truth table does not apply to --space nao"),
        (["--space", "nao", "--truth", "gpu"], "unknown --truth 'gpu'; known: lm, mnist, table"),
        (["--space", "slope", "--corpus", "ptb"], "--corpus applies to --space nao or recipes"),
        (["--space", "nao", "--corpus", "enwik8"], "unknown --corpus 'enwik8'"),
        (
            ["--space", "nao", "--corpus", "wikitext2", "--protocol", "ptb:cpu"],
            "--corpus wikitext2 contradicts --protocol ptb:cpu",
        ),
    ):
        assert main(["search", *argv, "--store", store, "--quiet"]) == 2
        assert says in _one_error_line(capsys, "search")
    assert not Path(store).exists()  # nothing ran, nothing stored
