"""``petridish search --predictor``: the choices come from the registries, the old
``--dish/--no-dish`` stay aliases, and a bad combination is one line naming the option."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from petridish.cli import build_parser, main
from petridish.search.predictors import predictor_names
from petridish.search.spaces import space_names
from petridish.search.strategies import strategy_names


def _search_parser() -> argparse.ArgumentParser:
    parser = build_parser()
    (action,) = (a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return action.choices["search"]


def _choices(option: str) -> tuple[str, ...]:
    (action,) = (a for a in _search_parser()._actions if option in a.option_strings)
    return tuple(action.choices)


def test_choices_are_the_registries() -> None:
    assert _choices("--predictor") == predictor_names()
    assert set(_choices("--predictor")) >= {"dish", "random_dish", "nn_surrogate", "gp", "none"}
    assert _choices("--space") == space_names()
    assert _choices("--strategy") == strategy_names()


def _error(capsys: pytest.CaptureFixture[str], argv: list[str]) -> str:
    assert main(["search", *argv]) == 2
    err = capsys.readouterr().err.strip()
    lines = [ln for ln in err.splitlines() if "JAX already started" not in ln]
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


def test_no_dish_contradicting_predictor(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    store = str(tmp_path / "s.db")
    line = _error(capsys, ["--predictor", "dish", "--no-dish", "--store", store])
    assert "--predictor" in line and "--no-dish" in line
    assert not (tmp_path / "s.db").exists()


def test_gp_on_slopes_names_the_option(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    store = str(tmp_path / "s.db")
    line = _error(capsys, ["--predictor", "gp", "--space", "slope", "--store", store])
    assert "--predictor" in line and "gp" in line


@pytest.mark.parametrize("predictor", ["gp", "nn_surrogate"])
def test_cell_encoders_on_activations_name_the_option(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, predictor: str
) -> None:
    # Refused before any ground truth is spent (no store file is made).
    store = str(tmp_path / "s.db")
    line = _error(capsys, ["--predictor", predictor, "--space", "activation", "--store", store])
    assert "--predictor" in line and predictor in line and "not cells" in line
    assert not (tmp_path / "s.db").exists()
