"""Write a slope report to a folder: report.json, report.md, figure1.png, figure4.png."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from petridish.experiments.slope import SlopeReport
from petridish.report.figures import figure1, figure4
from petridish.report.markdown import slope_markdown


def _atomic_write(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    with os.fdopen(fd, "w") as fh:
        fh.write(text)
    os.replace(tmp, path)


def write_slope_report(
    report: SlopeReport, out_dir: str | Path, extra: dict[str, Any] | None = None
) -> dict[str, Path]:
    """Write all report files; ``extra`` is merged into the JSON (e.g. the A.1 selection)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    data = report.to_json()
    if extra:
        data.update(extra)
    paths = {"json": out / "report.json", "markdown": out / "report.md"}
    _atomic_write(paths["json"], json.dumps(data, indent=2, allow_nan=True))
    _atomic_write(paths["markdown"], slope_markdown(report))
    paths["figure1"] = figure1(report, out / "figure1.png")
    paths["figure4"] = figure4(report, out / "figure4.png")
    return paths
