"""Rendering of the predictor benchmark (``experiments.predictors.BenchmarkResult``):
Markdown tables, the Kendall-tau figure and the three files ``write_benchmark`` writes.

``predictor_markdown`` (pool, mean ± std tables of Kendall tau, Spearman and precision@k
per predictor and train size, costs, and how each run ran), ``plot_kendall`` (PNG: mean ±
std Kendall tau against train size, log-x, one line per predictor) and ``write_benchmark``
(``predictors.json``, ``predictors.md``, ``kendall_tau.png``). ``LABELS`` are the
predictors' display names.

The result is typed structurally (``BenchmarkView``): ``experiments.predictors``
re-exports these writers, so this module may not import it (no import cycles).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from petridish._files import atomic_write, atomic_write_figure
from petridish.baselines.random_dish import random_data_dish
from petridish.dish.config import DishConfig

__all__ = [
    "FIGURE_NAME",
    "JSON_NAME",
    "LABELS",
    "MARKDOWN_NAME",
    "BenchmarkView",
    "plot_kendall",
    "predictor_markdown",
    "write_benchmark",
]

JSON_NAME, MARKDOWN_NAME, FIGURE_NAME = "predictors.json", "predictors.md", "kendall_tau.png"
# The predictors whose settings a run line spells out (``experiments.predictors``'s
# ``DISH_PREDICTORS``; this module may not import it).
_DISH_PREDICTORS = ("dish", "random_dish")

LABELS: dict[str, str] = {
    "dish": "Synthetic Petri Dish",
    "random_dish": "Dish, random data (no outer loop)",
    "nn_surrogate": "NN surrogate",
    "random_forest": "Random forest",
    "gradient_boosting": "Gradient-boosted trees",
    "gaussian_process": "Gaussian process",
    "num_params": "Number of parameters (more = better, fixed)",
    "num_params_fit": "Number of parameters (sign fit on train)",
    "early_stop_1": "Early stopping, 1 epoch (costed)",
    "early_stop_3": "Early stopping, 3 epochs (costed)",
    "early_stop_5": "Early stopping, 5 epochs (costed)",
}


class BenchmarkView(Protocol):
    """What the writers read of an ``experiments.predictors.BenchmarkResult``; ``pool`` is
    its ``PoolInfo``, ``runs`` its ``RunInfo``s and ``summaries()`` its ``Summary`` rows."""

    @property
    def pool(self) -> Any: ...
    @property
    def runs(self) -> Sequence[Any]: ...
    @property
    def top_k(self) -> int: ...
    @property
    def predictors(self) -> tuple[str, ...]: ...
    @property
    def sizes(self) -> tuple[int, ...]: ...
    def summaries(self) -> Sequence[Any]: ...
    def to_json(self) -> dict[str, Any]: ...


def _fmt(mean: float, std: float, digits: int = 3) -> str:
    if not math.isfinite(mean):
        return "n/a"
    return (
        f"{mean:.{digits}f}" if not math.isfinite(std) else f"{mean:.{digits}f} ± {std:.{digits}f}"
    )


def _metric_table(
    result: BenchmarkView, summaries: Sequence[Any], metric: str, title: str
) -> list[str]:
    sizes = result.sizes
    by_key = {(s.predictor, s.size): s for s in summaries}
    lines = [
        f"### {title}",
        "",
        "| predictor | seeds | " + " | ".join(f"n={n}" for n in sizes) + " |",
        "|---|---|" + "---|" * len(sizes),
    ]
    for name in result.predictors:
        cells = [_seed_count(by_key.get((name, n)) for n in sizes)]
        for n in sizes:
            s = by_key.get((name, n))
            if s is None:
                cells.append("")
            else:
                digits = 2 if metric == "precision_at_k" else 3  # multiples of 1/k
                mean, std = getattr(s, f"{metric}_mean"), getattr(s, f"{metric}_std")
                cells.append(_fmt(mean, std, digits))
        lines.append(f"| {LABELS.get(name, name)} | " + " | ".join(cells) + " |")
    return [*lines, ""]


def _seed_count(summaries: Iterable[Any]) -> str:
    """A row's seed count: ``"20"``, or ``"3-20"`` when it differs between train sizes."""
    counts = sorted({s.n_seeds for s in summaries if s is not None})
    if not counts:
        return ""
    return str(counts[0]) if len(counts) == 1 else f"{counts[0]}-{counts[-1]}"


def _dish_settings(run_config: Mapping[str, Any]) -> str:
    """``"; dish: <settings>; random_dish: <settings>"`` for the dish predictors of a run (the
    settings each actually ran with), or "" when the run had none."""
    if run_config.get("dish") is None:
        return ""
    base = DishConfig.from_json(dict(run_config["dish"]))
    ran = {"dish": base, "random_dish": random_data_dish(base).config}
    return "".join(
        f"; {name}: {ran[name].describe()}"
        for name in _DISH_PREDICTORS
        if name in run_config["predictors"]
    )


def predictor_markdown(result: BenchmarkView) -> str:
    """Markdown: pool, mean ± std tables of the three metrics, costs, and how it ran."""
    p, k, cfg = result.pool, result.top_k, result.runs[-1].config
    # Rows merged from separate runs can have different seed counts: say so, never the union.
    summaries = result.summaries()
    counts = sorted({s.n_seeds for s in summaries})
    seeds_text = (
        f"{counts[0] if counts else 0} seeds"
        if len(counts) <= 1
        else "seeds per row in the tables' seeds column"
    )
    lines = [
        "# Predictor benchmark: NAS-Bench-NLP recurrent cells",
        "",
        f"Ground truth: `{p.source}`: {p.n_logs} logs, {p.n_complete} complete, "
        f"{p.n_diverged} diverged (excluded); {p.n_cells} distinct canonical cells "
        f"({p.n_merged_runs} repeated runs merged by mean final validation loss).",
        f"Per train size n and seed: n training cells drawn at random, all other "
        f"{p.n_cells} - n cells scored; {seeds_text}. Mean ± std (ddof=1) over seeds. "
        f"precision@{k} = overlap of predicted and true top-{k} test cells / {k}.",
        f"NN surrogate, trees and GP read the `{cfg['encoding']}` cell encoding; their "
        f"regression targets are `{cfg['target']}` (see petridish.baselines.encodings).",
        "",
        *_metric_table(result, summaries, "kendall", "Kendall tau-b"),
        *_metric_table(result, summaries, "spearman", "Spearman"),
        *_metric_table(result, summaries, "precision_at_k", f"precision@{k}"),
        "### Costs",
        "",
        "Measured wall time on the machine of the run (see below); fit seconds are the "
        "median over seeds at the largest size (the mean includes one JIT compile per size). "
        "Training per cell is the real training a predictor needs for each queried cell.",
        "",
        "| predictor | fit s (median, largest n) | query ms / cell | training s / cell |",
        "|---|---|---|---|",
    ]
    for name in result.predictors:
        mine = [s for s in summaries if s.predictor == name]
        last = mine[-1]
        q = float(np.mean([s.query_seconds_per_cell_mean for s in mine]))
        lines.append(
            f"| {LABELS.get(name, name)} | {last.fit_seconds_median:.3f} (n={last.size}) | "
            f"{1e3 * q:.3f} | {last.training_seconds_per_cell:.0f} |"
        )
    fits = [s for s in summaries if getattr(s, "n_kept_learned", None) is not None]
    if fits:
        lines += [
            "",
            "### How far the dishes' data moved",
            "",
            "Fits that kept a learned outer step (not the initial random data), and the mean "
            "relative L2 distance of the kept synthetic inputs from their start.",
            "",
            "| predictor | n | kept a learned step | moved (x_train) | moved (x_val) |",
            "|---|---|---|---|---|",
        ]
        for f in fits:
            lines.append(
                f"| {LABELS.get(f.predictor, f.predictor)} | {f.size} | "
                f"{f.n_kept_learned} of {f.n_seeds} | {_opt(f.moved_train_mean)} | "
                f"{_opt(f.moved_val_mean)} |"
            )
    lines += ["", "### Runs", ""]
    for run in result.runs:
        env, rc = run.environment, run.config
        lines.append(
            f"- predictors {', '.join(rc['predictors'])}; sizes {list(rc['sizes'])}, "
            f"{len(rc['seeds'])} seeds; {env.get('started_utc', '?')}, "
            f"{env.get('cpu_count', '?')} CPUs, load {env.get('load_average_1m_at_start', '?')}"
            f", backend {env.get('jax_backend', '?')}, wall {env.get('wall_seconds', '?')} s"
            + _dish_settings(rc)
        )
    n_constant = sum(s.n_constant for s in summaries)
    if n_constant:
        lines += ["", f"{n_constant} fits predicted a constant (counted as tau = rho = 0)."]
    return "\n".join([*lines, ""])


def _opt(x: float | None) -> str:
    return "-" if x is None else f"{x:.3f}"


def plot_kendall(result: BenchmarkView, path: str | Path) -> Path:
    """PNG: mean ± std Kendall tau against train size (log x), one line per predictor.

    Lines are the mean over seeds and bands ±1 std over seeds (ddof=1, as in the tables),
    as the legend's title says."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out = Path(path)
    summaries = result.summaries()
    fig, ax = plt.subplots(figsize=(7.5, 4.5), dpi=120)
    for name in result.predictors:
        mine = [s for s in summaries if s.predictor == name]
        x = np.array([s.size for s in mine], dtype=np.float64)
        y = np.array([s.kendall_mean for s in mine])
        err = np.nan_to_num(np.array([s.kendall_std for s in mine]))
        style = "--" if name.startswith("early_stop") else "-"
        lw = 2.4 if name == "dish" else 1.4
        (line,) = ax.plot(x, y, style, marker="o", ms=3, lw=lw, label=LABELS.get(name, name))
        ax.fill_between(x, y - err, y + err, color=line.get_color(), alpha=0.12)
    ax.set_xscale("log")
    ax.set_xticks(result.sizes, [str(n) for n in result.sizes])
    ax.axhline(0.0, color="0.6", lw=0.8)
    ax.set_xlabel("training cells")
    ax.set_ylabel("Kendall tau-b on the remaining cells")
    ax.set_title(f"NAS-Bench-NLP: ranking quality vs training cells ({result.pool.n_cells} cells)")
    seeds = _seed_count(summaries)
    ax.legend(
        fontsize=7,
        title=f"line: mean over {seeds} seeds\nband: ±1 std over seeds",
        title_fontsize=7,
        loc="center left",
        bbox_to_anchor=(1.01, 0.5),
    )
    fig.tight_layout()
    try:
        atomic_write_figure(fig, out, bbox_inches="tight")
    finally:
        plt.close(fig)
    return out


def write_benchmark(result: BenchmarkView, out_dir: str | Path) -> dict[str, Path]:
    """Write ``predictors.json``, ``predictors.md`` and ``kendall_tau.png`` into ``out_dir``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {"json": out / JSON_NAME, "markdown": out / MARKDOWN_NAME}
    atomic_write(paths["json"], json.dumps(result.to_json(), indent=1, allow_nan=False))
    atomic_write(paths["markdown"], predictor_markdown(result))
    paths["figure"] = plot_kendall(result, out / FIGURE_NAME)
    return paths
