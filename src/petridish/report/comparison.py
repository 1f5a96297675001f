"""Rendering of a search comparison (``search.compare.ComparisonResult``): JSON,
Markdown and the Figure 3 analogue PNG.

``write_json`` (the result's ``to_json``), ``markdown`` / ``write_markdown`` (a table per
entry: median, quartiles and min-max of evaluations to a target, misses, median best loss
at a few budgets), ``write_figure`` (median best-so-far against evaluations with a 25-75%
band, one line per entry) and ``write_comparison`` (all three into one folder).

The results are typed structurally (``ComparisonView``): ``search.compare`` re-exports
these writers, so this module may not import it (no import cycles).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from petridish._files import atomic_write, atomic_write_figure
from petridish.dish.config import DishConfig

__all__ = [
    "ComparisonView",
    "dish_summary",
    "markdown",
    "write_comparison",
    "write_figure",
    "write_json",
    "write_markdown",
]


class _ScheduleView(Protocol):
    @property
    def name(self) -> str: ...
    @property
    def warmup(self) -> int: ...
    @property
    def proposals(self) -> int: ...
    @property
    def per_iteration(self) -> int: ...
    @property
    def budget(self) -> int: ...


class _EntryView(Protocol):
    @property
    def label(self) -> str: ...
    @property
    def use_dish(self) -> bool: ...
    @property
    def seeds(self) -> tuple[int, ...]: ...
    @property
    def curves(self) -> np.ndarray: ...  # (seeds, budget) best ground truth so far
    @property
    def misses(self) -> int: ...
    def hit_stats(self, budget: int) -> dict[str, float | None]: ...
    def best_at(self, n: int) -> float: ...


class ComparisonView(Protocol):
    """What the writers read of a ``search.compare.ComparisonResult``."""

    @property
    def space(self) -> str: ...
    @property
    def evaluator(self) -> str: ...
    @property
    def protocol(self) -> str: ...
    @property
    def schedule(self) -> _ScheduleView: ...
    @property
    def entries(self) -> Sequence[_EntryView]: ...
    @property
    def targets(self) -> tuple[str, ...]: ...
    @property
    def target_losses(self) -> tuple[float, ...]: ...
    @property
    def pool_size(self) -> int | None: ...
    @property
    def random_check(self) -> Any: ...  # search.compare.RandomCheck or None
    @property
    def dish_config(self) -> Mapping[str, Any] | None: ...
    @property
    def uses_dish(self) -> bool: ...
    def checkpoints(self) -> tuple[int, ...]: ...
    def to_json(self) -> dict[str, Any]: ...


def dish_summary(config: Mapping[str, Any] | None) -> str:
    """``DishConfig.describe()`` of a recorded dish config, or "not recorded"."""
    if config is None:
        return "not recorded"
    return DishConfig.from_json(dict(config)).describe()


def write_json(result: ComparisonView, path: str | Path) -> Path:
    out = Path(path)
    atomic_write(out, json.dumps(result.to_json(), indent=2, allow_nan=False))
    return out


def _fmt(v: float | None, budget: int) -> str:
    return f">{budget}" if v is None else f"{v:g}"


def markdown(result: ComparisonView) -> str:
    """The comparison as Markdown: setup, the table, the random-search check."""
    s, b = result.schedule, result.schedule.budget
    # A partial report (or a merged one) may hold a different number of seeds per entry.
    counts = sorted({len(e.seeds) for e in result.entries})
    if len(counts) == 1:
        n_seeds = f"{counts[0]} seed{'' if counts[0] == 1 else 's'}"
    else:
        n_seeds = f"{counts[0]}-{counts[-1]} seeds per strategy (the missed column's total)"
    pool = f", pool of {result.pool_size}" if result.pool_size is not None else ""
    lines = [
        f"## Search comparison: {result.space} ({result.evaluator}/{result.protocol}{pool})",
        "",
        f"Schedule `{s.name}`: {s.warmup} warm-up, {s.proposals} proposed and "
        f"{s.per_iteration} evaluated per iteration, budget {b} evaluations; "
        f"{n_seeds}. Target: any of the {len(result.targets)} best motifs"
        + (
            f" (losses {', '.join(f'{v:.4f}' for v in result.target_losses)})."
            if result.target_losses
            else "."
        ),
        "",
    ]
    if result.uses_dish:
        lines += [f"Dish of the `+dish` entries: {dish_summary(result.dish_config)}.", ""]
    marks = result.checkpoints()
    head = (
        "| strategy | evals to target: median | IQR | min-max | missed | "
        + " | ".join(f"best @{m}" for m in marks)
        + " |"
    )
    lines += [head, "|" + "---|" * (5 + len(marks))]
    for e in result.entries:
        st = e.hit_stats(b)
        lines.append(
            f"| {e.label} | {_fmt(st['median'], b)} | {_fmt(st['q25'], b)} - "
            f"{_fmt(st['q75'], b)} | {_fmt(st['min'], b)} - {_fmt(st['max'], b)} | "
            f"{e.misses}/{len(e.seeds)} | "
            + " | ".join(f"{e.best_at(m):.4f}" for m in marks)
            + " |"
        )
    lines += [
        "",
        "Evaluations to target count the evaluation that found it (1-based); a seed that never "
        "found one within the budget counts as more than the budget. `best @n`: median over "
        "seeds of the best loss among the first n evaluations.",
    ]
    rc = result.random_check
    if rc is not None:
        measured = "> budget" if rc.measured_median is None else f"{rc.measured_median:g}"
        lines += [
            "",
            f"Random-search check: uniform sampling without replacement from {rc.pool_size} "
            f"motifs with {rc.targets} targets needs {rc.exact_median} evaluations (median; "
            f"quartiles {rc.exact_q25}-{rc.exact_q75}, mean {rc.exact_mean:.1f}); measured "
            f"median over {rc.seeds} seeds: {measured}.",
        ]
    return "\n".join(lines) + "\n"


def write_markdown(result: ComparisonView, path: str | Path) -> Path:
    out = Path(path)
    atomic_write(out, markdown(result))
    return out


def write_figure(result: ComparisonView, path: str | Path) -> Path:
    """Best ground truth so far vs evaluations: median line, 25-75% band, one per entry.

    The y axis is cut at the 90th percentile of the median curves so that the region where
    strategies differ is readable; a curve that starts above the cut gets a triangle at the
    top edge with its first (worst) median value printed.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from petridish.report.plotting import mark_offscale, offscale_handle

    out = Path(path)
    fig, ax = plt.subplots(figsize=(9.5, 4.2), dpi=120)
    x = np.arange(1, result.schedule.budget + 1)
    finite_vals: list[float] = []
    medians: list[tuple[np.ndarray, str]] = []
    for i, e in enumerate(result.entries):
        curves = np.where(np.isfinite(e.curves), e.curves, np.nan)  # (seeds, budget)
        if np.all(np.isnan(curves)):
            continue
        color = f"C{i}"
        med = np.nanmedian(curves, axis=0)
        n = len(e.seeds)
        ax.plot(
            x,
            med,
            color=color,
            lw=1.6,
            ls="--" if e.use_dish else "-",
            label=f"{e.label}: median of {n} seed{'s' if n != 1 else ''}"
            + (", band 25-75%" if n > 1 else ""),
        )
        if n > 1:
            lo, hi = np.nanpercentile(curves, [25, 75], axis=0)
            ax.fill_between(x, lo, hi, color=color, alpha=0.15, lw=0)
        finite_vals += [float(v) for v in med[np.isfinite(med)]]
        medians.append((med, color))
    if result.target_losses:
        ax.axhline(
            min(result.target_losses), color="k", lw=0.8, ls=":", label="best loss in the pool"
        )
    if finite_vals:
        # Skip the warm-up's tail so the region where strategies differ is readable.
        top = float(np.percentile(finite_vals, 90))
        bottom = min(finite_vals + list(result.target_losses))
        pad = 0.05 * max(top - bottom, 1e-9)
        limits = (bottom - pad, top + pad)
        ax.set_ylim(*limits)
        cut = sum(
            mark_offscale(ax, x, med, limits, color, most_extreme_only=True)
            for med, color in medians
        )
        if cut:
            ax.add_line(offscale_handle("median above the axis\n(its worst value printed)"))
    ax.axvline(
        result.schedule.warmup,
        color="0.6",
        lw=0.8,
        label=f"end of warm-up ({result.schedule.warmup} evaluations)",
    )
    ax.set_xlabel("ground-truth evaluations")
    ax.set_ylabel(f"best ground truth so far\n({result.protocol}, lower is better)")
    ax.set_title(f"Search on {result.space}: schedule {result.schedule.name}")
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0)
    fig.tight_layout()
    try:
        atomic_write_figure(fig, out, bbox_inches="tight")
    finally:
        plt.close(fig)
    return out


def write_comparison(
    result: ComparisonView, out_dir: str | Path, stem: str | None = None
) -> Mapping[str, Path]:
    """``{stem}.json``, ``{stem}.md`` and ``{stem}.png`` in ``out_dir`` (stem: the
    schedule name, ``compare_<schedule>``)."""
    out = Path(out_dir)
    stem = stem or f"compare_{result.schedule.name}"
    return {
        "json": write_json(result, out / f"{stem}.json"),
        "markdown": write_markdown(result, out / f"{stem}.md"),
        "figure": write_figure(result, out / f"{stem}.png"),
    }
