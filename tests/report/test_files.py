"""Report files are written atomically with the mode the user's umask gives a new file."""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from petridish._files import atomic_write, atomic_write_figure
from petridish.experiments.slope import SlopeReport
from petridish.report import write_slope_report
from petridish.search.compare import ComparisonResult, write_comparison


@contextmanager
def _umask(mask: int) -> Iterator[None]:
    before = os.umask(mask)
    try:
        yield
    finally:
        os.umask(before)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.parametrize(
    ("mask", "expected"), [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)], ids=lambda v: f"{v:03o}"
)
def test_atomic_write_respects_umask(mask: int, expected: int, tmp_path: Path) -> None:
    with _umask(mask):
        path = atomic_write(tmp_path / "new" / "a.txt", "hé")
        assert path.read_bytes() == "hé".encode()
        assert _mode(path) == expected
        atomic_write(path, b"\x00bytes")  # a replacement: same mode, no temp file left
    assert path.read_bytes() == b"\x00bytes" and _mode(path) == expected
    assert [p.name for p in path.parent.iterdir()] == ["a.txt"]


def test_failed_write_leaves_no_temp_file(tmp_path: Path) -> None:
    class Broken:
        def savefig(self, fname: object, **kwargs: object) -> None:
            raise RuntimeError("boom")

    atomic_write(tmp_path / "keep.png", b"old")
    with pytest.raises(RuntimeError, match="boom"):
        atomic_write_figure(Broken(), tmp_path / "keep.png")
    with pytest.raises(TypeError):
        atomic_write(tmp_path / "keep.png", 3)  # type: ignore[arg-type]
    assert [p.name for p in tmp_path.iterdir()] == ["keep.png"]
    assert (tmp_path / "keep.png").read_bytes() == b"old"


@pytest.mark.parametrize(
    ("mask", "expected"), [(0o022, 0o644), (0o077, 0o600)], ids=lambda v: f"{v:03o}"
)
def test_slope_report_files_follow_umask(
    mask: int, expected: int, report: SlopeReport, tmp_path: Path
) -> None:
    with _umask(mask):
        paths = write_slope_report(report, tmp_path / "out", extra={"selection": {"x": 1}})
    assert set(paths) == {"json", "markdown", "figure1", "figure4"}
    for path in paths.values():
        assert _mode(path) == expected, path.name
    assert json.loads(paths["json"].read_text())["selection"] == {"x": 1}
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(
        p.name for p in paths.values()
    )


@pytest.mark.parametrize(
    ("mask", "expected"), [(0o022, 0o644), (0o077, 0o600)], ids=lambda v: f"{v:03o}"
)
def test_comparison_files_follow_umask(
    mask: int, expected: int, comparison: ComparisonResult, tmp_path: Path
) -> None:
    with _umask(mask):
        paths = write_comparison(comparison, tmp_path)
    for path in paths.values():
        assert _mode(path) == expected, path.name
    assert len(list(tmp_path.iterdir())) == 3
