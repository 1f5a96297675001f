"""The README's "Testing a plug-in" example runs, and its kits pass."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[2] / "README.md"
FIRST_LINE = "# test_my_plugins.py"


class _Counts:
    def __init__(self) -> None:
        self.passed = 0
        self.failed: list[str] = []

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.failed:
            self.failed.append(report.nodeid)
        elif report.passed and report.when == "call":
            self.passed += 1


def test_readme_plugin_example_passes(tmp_path: Path) -> None:
    text = README.read_text()
    start = text.index(FIRST_LINE)
    example = text[start : text.index("```", start)]
    path = tmp_path / "test_readme_plugins.py"
    path.write_text(example)
    counts = _Counts()
    args = [str(path), "-q", "-p", "no:cacheprovider", "-p", "no:randomly"]
    try:
        code = pytest.main([*args, "--rootdir", str(tmp_path)], plugins=[counts])
    finally:
        sys.modules.pop(path.stem, None)
    assert code == 0 and not counts.failed, counts.failed
    assert counts.passed >= 15  # both kits ran (motif kind and predictor)
