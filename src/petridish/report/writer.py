"""Write a slope report to a folder: report.json, report.md, figure1.png, figure4.png."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from petridish._files import atomic_write
from petridish.experiments.slope import SlopeReport
from petridish.report.figures import figure1, figure4
from petridish.report.markdown import slope_markdown


def write_slope_report(
    report: SlopeReport, out_dir: str | Path, extra: dict[str, Any] | None = None
) -> dict[str, Path]:
    """Write all report files; ``extra`` is merged into the JSON (e.g. the A.1 selection).

    Each file is written atomically with the mode a plain ``open`` would give it under the
    process umask (``petridish._files.atomic_write``).
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    data = report.to_json()
    if extra:
        data.update(extra)
    paths = {"json": out / "report.json", "markdown": out / "report.md"}
    atomic_write(paths["json"], json.dumps(data, indent=2, allow_nan=True))
    atomic_write(paths["markdown"], slope_markdown(report))
    paths["figure1"] = figure1(report, out / "figure1.png")
    paths["figure4"] = figure4(report, out / "figure4.png")
    return paths
