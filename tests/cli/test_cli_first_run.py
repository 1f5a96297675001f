"""A new user's first ``petridish search``: no data and no network, then the data.

With no MNIST and no way to download it, the search stops at the first evaluation with one
line saying how to provide the data, exit code 2, and stores nothing that a later run would
take for a result; the same command with the data then does the real work. The download is
made to fail fast and offline: the mirror list points at a closed port on 127.0.0.1.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import urllib.error
from pathlib import Path

import pytest

from petridish.cli import main
from petridish.data import mnist as mnist_module
from petridish.data.mnist import FILES
from petridish.store import Store
from shared_paths import SHARED_DATA

# Cheap: no dish, a 2-motif warm-up and one GA iteration of 2, the 'tiny' protocol (1 epoch
# on 5k images); batches of 2 everywhere, so the trainer compiles once.
CHEAP = ["--no-dish", "--warmup", "2", "--budget", "4", "--per-iteration", "2"]
CHEAP += ["--proposals", "4", "--protocol", "tiny", "--quiet"]


def _user_lines(err: str) -> list[str]:
    """stderr lines, less the CPU-device notice that ``main`` logs when JAX was started
    earlier in this (test) process; a real CLI process starts JAX itself."""
    return [ln for ln in err.strip().splitlines() if "JAX already started" not in ln]


def _closed_port() -> int:
    """A local port nothing listens on (connections to it are refused at once)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _offline_env(tmp_path: Path, data_dir: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PETRIDISH_DATA_DIR"] = str(data_dir)
    env["PETRIDISH_CACHE_DIR"] = str(tmp_path / "cache")
    env["PETRIDISH_MNIST_MIRRORS"] = f"http://127.0.0.1:{_closed_port()}/"
    return env


def _petridish(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "petridish.cli", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture
def offline(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """No MNIST anywhere and every download refused; yields the URLs asked for."""
    empty = tmp_path / "empty"
    empty.mkdir()
    for key, value in _offline_env(tmp_path, empty).items():
        if key.startswith("PETRIDISH_"):
            monkeypatch.setenv(key, value)
    urls: list[str] = []

    def refuse(url: str, timeout: float) -> object:
        urls.append(url)
        raise urllib.error.URLError("connection refused")

    monkeypatch.setattr(mnist_module.urllib.request, "urlopen", refuse)
    return urls


def test_no_data_stops_at_the_first_evaluation_with_one_line(
    tmp_path: Path, offline: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    """In process, to count download attempts: one per mirror for the whole search."""
    empty = tmp_path / "empty"
    urls = offline
    store = tmp_path / "runs" / "petridish.db"
    code = main(["search", "--store", str(store), "--warmup", "10", "--budget", "30", "--quiet"])
    captured = capsys.readouterr()
    assert code == 2
    lines = _user_lines(captured.err)
    assert len(lines) == 1, captured.err
    (line,) = lines
    assert line.startswith("petridish search: error: no ground truth: MNIST is not available")
    assert "PETRIDISH_DATA_DIR" in line and "--data-dir" in line and str(empty) in line
    assert "run the same command again" in line and "Traceback" not in captured.err
    assert captured.out == ""
    assert len(urls) == 1  # one download attempt, not one per evaluation
    with Store(store) as s:
        assert len(s) == 0 and s.failed_attempts() == []  # nothing that looks like a result
        (run,) = s.runs()
        assert not run.finished and s.iterations(run.run_id) == []


def test_truth_without_data_is_one_line(
    tmp_path: Path, offline: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    out, store = tmp_path / "t.csv", tmp_path / "t.db"
    code = main(["truth", "--n", "3", "--out", str(out), "--store", str(store), "--quiet"])
    assert code == 2 and len(offline) == 1
    (line,) = _user_lines(capsys.readouterr().err)
    assert line.startswith("petridish truth: error: no ground truth: MNIST is not available")
    assert "PETRIDISH_DATA_DIR" in line and "--data-dir" in line
    assert not out.exists()
    with Store(store) as s:
        assert len(s) == 0


def test_first_run_without_data_then_with_data(tmp_path: Path) -> None:
    if not all((SHARED_DATA / "mnist" / name).is_file() for name in FILES):
        pytest.skip(f"MNIST not found in {SHARED_DATA / 'mnist'} (shared test data absent)")
    empty = tmp_path / "empty"
    empty.mkdir()
    first = _petridish(["search", *CHEAP], _offline_env(tmp_path, empty), tmp_path)
    assert first.returncode == 2, first.stderr
    assert len(first.stderr.strip().splitlines()) == 1, first.stderr
    assert "PETRIDISH_DATA_DIR" in first.stderr and "--data-dir" in first.stderr
    assert len(first.stderr) < 2000 and first.stdout == ""
    store = tmp_path / "runs" / "petridish.db"  # the default store, under the working folder
    with Store(store) as s:
        assert len(s) == 0
    # The user sets PETRIDISH_DATA_DIR, as the line says, and runs the same command.
    second = _petridish(["search", *CHEAP], _offline_env(tmp_path, SHARED_DATA), tmp_path)
    assert second.returncode == 0, second.stderr
    assert "4 evaluations (0 already in the store)" in second.stdout
    assert "best loss" in second.stdout and "no evaluation succeeded" not in second.stdout
    with Store(store) as s:
        evaluations = s.evaluations()
        (run,) = s.runs()
        assert [e.status for e in evaluations] == ["ok"] * 4
        assert run.finished and run.summary["evaluations"] == 4
        assert [r.iteration for r in s.iterations(run.run_id)] == [0, 1]
