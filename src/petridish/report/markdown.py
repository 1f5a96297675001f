"""Markdown summary of a slope experiment report."""

from __future__ import annotations

import json
import math
from typing import Any

from petridish.experiments.slope import PREDICTORS, SlopeReport

_NAMES = {
    "dish": "Synthetic Petri Dish",
    "random_dish": "Dish, random data",
    "nn_surrogate": "NN surrogate",
}


def _json_safe(value: Any) -> Any:
    """``value`` with tuples as lists and non-finite floats as strings ("nan", "inf"), so
    that ``json.dumps`` writes strict JSON."""
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return value


def _settings_json(settings: dict[str, Any]) -> str:
    """Strict JSON, one setting per line (lists stay on their line)."""
    items = [f"  {json.dumps(str(k))}: {json.dumps(_json_safe(v))}" for k, v in settings.items()]
    return "{\n" + ",\n".join(items) + "\n}" if items else "{}"


def slope_markdown(report: SlopeReport) -> str:
    exp, agg = report.experiment, report.aggregate()
    lo, hi = exp.peak_window
    n = len(report.seeds)
    lines = [
        "# Sigmoid-slope experiment",
        "",
        f"Ground truth: `{report.table_source}` ({len(report.slopes)} slopes). "
        f"{exp.n_train} training and {exp.n_val} validation slopes drawn from the band "
        f"{exp.band[0]}-{exp.band[1]} per seed; metrics on the remaining slopes; {n} seeds.",
        "",
        "| predictor | Spearman median | Spearman min | Kendall median | precision@"
        f"{exp.top_k} | best slope median | best in {lo}-{hi} | fit s (median) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name in PREDICTORS:
        a = agg[name]
        lines.append(
            f"| {_NAMES[name]} | {a['spearman_median']:.3f} | {a['spearman_min']:.3f} | "
            f"{a['kendall_median']:.3f} | {a['precision_at_k_mean']:.2f} | "
            f"{a['best_slope_median']:.3f} | {a['best_in_peak_window']}/{n} | "
            f"{a['fit_seconds_median']:.2f} |"
        )
    lines += [
        "",
        "## Per seed",
        "",
        "| seed | dish Spearman | dish best slope | NN Spearman | NN best slope |",
        "|---|---|---|---|---|",
    ]
    for s in report.seeds:
        d, m = s.metrics["dish"], s.metrics["nn_surrogate"]
        lines.append(
            f"| {s.seed} | {d['spearman']:.3f} | {d['best_slope']:.3f} | "
            f"{m['spearman']:.3f} | {m['best_slope']:.3f} |"
        )
    lines += [
        "",
        "## Dish settings",
        "",
        "```json",
        _settings_json(exp.dish.to_json()),
        "```",
        "",
    ]
    return "\n".join(lines)
