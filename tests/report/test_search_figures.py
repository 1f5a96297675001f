"""The search-comparison (Figure 3 analogue) and predictor-benchmark figures say what their
lines and bands are; the comparison marks curves cut off by its y axis."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

import pytest
from matplotlib.figure import Figure

# The writers moved into report/ (re-exported from experiments.predictors and
# search.compare); the figure is captured where it is written.
import petridish.report.comparison as compare_mod
import petridish.report.predictor_benchmark as predictors_mod
from petridish.experiments.predictors import (
    BenchmarkResult,
    PoolInfo,
    PredictorBenchmarkConfig,
    RunInfo,
    RunRecord,
    write_benchmark,
)
from petridish.report.plotting import OFFSCALE_GID
from petridish.search.compare import ComparisonResult

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _capture(monkeypatch: pytest.MonkeyPatch, module: Any) -> list[Figure]:
    """Keep the figures ``module`` saves (they stay inspectable after ``plt.close``)."""
    seen: list[Figure] = []
    original = module.atomic_write_figure

    def keep(fig: Figure, path: Path, **kwargs: Any) -> Path:
        seen.append(fig)
        return original(fig, path, **kwargs)

    monkeypatch.setattr(module, "atomic_write_figure", keep)
    return seen


def _legend(fig: Figure) -> str:
    legend = fig.axes[0].get_legend()
    assert legend is not None
    return "\n".join([legend.get_title().get_text(), *(t.get_text() for t in legend.get_texts())])


def test_comparison_figure_marks_the_cut_and_names_the_band(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, comparison: ComparisonResult
) -> None:
    seen = _capture(monkeypatch, compare_mod)
    path = compare_mod.write_figure(comparison, tmp_path / "c.png")
    assert path.read_bytes()[:8] == PNG_MAGIC
    (fig,) = seen
    ax = fig.axes[0]
    lo, hi = ax.get_ylim()
    assert hi < 9.0
    marks = [ln for ln in ax.get_lines() if ln.get_gid() == OFFSCALE_GID]
    assert len(marks) == 1 and list(marks[0].get_xdata()) == [1]  # type: ignore[arg-type]
    assert list(marks[0].get_ydata()) == [hi]  # type: ignore[arg-type]
    assert any(t.get_text() == "9" for t in ax.texts)
    text = _legend(fig)
    assert "ga: median of 3 seeds, band 25-75%" in text
    assert "end of warm-up (5 evaluations)" in text
    assert "above the axis" in text


def _benchmark() -> BenchmarkResult:
    cfg = PredictorBenchmarkConfig(sizes=(10, 20), seeds=(0, 1), predictors=("nn_surrogate",))
    records = tuple(
        RunRecord(
            predictor="nn_surrogate",
            size=size,
            seed=seed,
            kendall=0.1 * seed + size / 100,
            spearman=0.2,
            precision_at_k=0.3,
            fit_seconds=0.1,
            query_seconds_per_cell=0.001,
            n_test=30,
        )
        for size in (10, 20)
        for seed in (0, 1)
    )
    pool = PoolInfo("synthetic", 50, 50, 0, 50, 0, ("d",) * 50, (5.0,) * 50)
    run = RunInfo(config=cfg.to_json(), environment={}, training_seconds_per_cell={})
    return BenchmarkResult(pool=pool, splits=(), records=records, runs=(run,))


def test_predictor_figure_names_lines_and_bands(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    seen = _capture(monkeypatch, predictors_mod)
    before = os.umask(0o077)
    try:
        paths = write_benchmark(_benchmark(), tmp_path)
    finally:
        os.umask(before)
    assert paths["figure"].read_bytes()[:8] == PNG_MAGIC
    for path in paths.values():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path.name
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(p.name for p in paths.values())
    (fig,) = seen
    assert "line: mean over 2 seeds\nband: ±1 std over seeds" in _legend(fig)
