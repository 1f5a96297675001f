"""``--workers``, ``--ray-address`` and ``--gpus-per-task``: a cluster that cannot be reached,
or options that contradict each other, are one line naming the option, exit code 2, and
nothing written to the store (the file not created, or an existing one unchanged)."""

from __future__ import annotations

import hashlib
import socket
from pathlib import Path

import pytest

from petridish.cli import main
from petridish.motifs.slope import SigmoidSlope
from petridish.store import Store


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _error(capsys: pytest.CaptureFixture[str], command: str) -> str:
    err = capsys.readouterr().err.strip()
    lines = [ln for ln in err.splitlines() if "JAX already started" not in ln]
    assert len(lines) == 1, err
    assert lines[0].startswith(f"petridish {command}: error: ") and "Traceback" not in err
    return lines[0]


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


SEARCH = ["search", "--space", "slope", "--warmup", "2", "--budget", "4", "--quiet"]
TRUTH = ["truth", "--n", "3", "--quiet"]
TABLE = ["truth", "--space", "nao", "--n", "3", "--quiet"]  # a cell table: the same options


@pytest.mark.parametrize("argv", [SEARCH, TRUTH, TABLE], ids=["search", "truth", "table"])
def test_an_unreachable_ray_address_writes_nothing(
    argv: list[str],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pytest.importorskip("ray", reason="ray is not installed (optional extra petridish[ray])")
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    address = f"127.0.0.1:{_free_port()}"  # nothing listens there
    fresh = tmp_path / "new" / "store.db"
    assert main([*argv, "--store", str(fresh), "--ray-address", address]) == 2
    line = _error(capsys, argv[0])
    assert "--ray-address" in line and address in line
    assert not fresh.exists() and not fresh.parent.exists()

    # An existing store with results in it: not a byte changed.
    existing = tmp_path / "old.db"
    with Store(existing) as store:
        store.evaluate(SigmoidSlope(1.0), _Constant(), 0)
    before = _digest(existing)
    monkeypatch.setenv("RAY_ADDRESS", address)  # the variable stands for the option
    out = ["--out", str(tmp_path / "t.csv")] if argv[0] == "truth" else []
    assert main([*argv, "--store", str(existing), *out]) == 2
    line = _error(capsys, argv[0])
    assert "RAY_ADDRESS" in line and address in line
    assert _digest(existing) == before
    assert not (tmp_path / "t.csv").exists()


class _Constant:
    name = "constant"
    protocol = "v1"

    def evaluate(self, motif: object, seed: int) -> object:
        from petridish.evaluators.base import Outcome

        return Outcome("ok", loss=1.0)


@pytest.mark.parametrize(
    ("extra", "needle"),
    [
        (["--workers", "2", "--ray-address", "127.0.0.1:1"], "not both"),
        (["--workers", "0"], "--workers must be >= 1"),
        (["--gpus-per-task", "1"], "--gpus-per-task applies with --workers or --ray-address"),
        (["--gpus-per-task", "-1", "--workers", "1"], "--gpus-per-task must be a number >= 0"),
    ],
)
@pytest.mark.parametrize("argv", [SEARCH, TRUTH, TABLE], ids=["search", "truth", "table"])
def test_contradicting_options_are_one_line(
    argv: list[str],
    extra: list[str],
    needle: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    store = tmp_path / "store.db"
    assert main([*argv, "--store", str(store), *extra]) == 2
    assert needle in _error(capsys, argv[0])
    assert not store.exists()


def test_compare_takes_the_same_options(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    store = tmp_path / "store.db"
    argv = ["compare", "--store", str(store), "--out", str(tmp_path / "out")]
    assert main([*argv, "--workers", "1", "--ray-address", "127.0.0.1:1"]) == 2
    assert "not both" in _error(capsys, "compare")
    assert main([*argv, "--parallel", "0"]) == 2
    assert "--parallel must be >= 1" in _error(capsys, "compare")
    assert not store.exists()
