"""The one rule that finds ``shared/`` for every test module (tests/shared_paths.py)."""

from __future__ import annotations

from pathlib import Path

import shared_paths
from shared_paths import REPO_ROOT, find_shared


def test_explicit_shared_dir_wins(tmp_path: Path) -> None:
    env = {"PETRIDISH_SHARED_DIR": str(tmp_path / "s"), "PETRIDISH_DATA_DIR": "/x/data"}
    assert find_shared(env) == tmp_path / "s"


def test_parent_of_a_data_dir_named_data() -> None:
    assert find_shared({"PETRIDISH_DATA_DIR": "/somewhere/shared/data"}) == Path(
        "/somewhere/shared"
    )
    # Empty settings count as unset.
    env = {"PETRIDISH_SHARED_DIR": " ", "PETRIDISH_DATA_DIR": "/elsewhere/data"}
    assert find_shared(env) == Path("/elsewhere")


def test_otherwise_beside_the_checkout() -> None:
    beside = REPO_ROOT.parent / "shared"
    assert find_shared({}) == beside
    # A data folder not named "data" says nothing about where the references are.
    assert find_shared({"PETRIDISH_DATA_DIR": "/cache/mnist_files"}) == beside
    assert (REPO_ROOT / "tests" / "shared_paths.py").is_file()


def test_module_paths_follow_the_rule() -> None:
    assert find_shared() == shared_paths.SHARED
    assert shared_paths.SHARED_DATA == shared_paths.SHARED / "data"
    assert shared_paths.SHARED_REFERENCE == shared_paths.SHARED / "reference"
