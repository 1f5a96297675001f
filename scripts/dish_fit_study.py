"""How well the default dish fit ranks slopes, through the public API (issue 14).

Two settings, each over seeds 0..N-1, with ``DishConfig.for_slopes()`` unless ``--set``:

* ``bundled``: the README's Python example. Fit on the bundled table's band slopes
  (0.37 < c < 1.5, 56 slopes), score all 101; Spearman on the training slopes and on all.
* ``paper``: the paper's table (``../shared/reference/sigmoid_slope_mnist.csv``) with the
  ``slope`` experiment's split (15 training slopes from 0.37-1.50 per seed; no validation
  slopes are given to the fit); Spearman on every slope outside the training draw.

Writes ``OUT/fit_study.json`` and ``OUT/fit_study.md``; prints one line per fit.

Usage: python scripts/dish_fit_study.py [--seeds 20] [--set KEY=VALUE ...] [--out DIR]
"""

from __future__ import annotations

import argparse
import ast
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from petridish import Dish, DishConfig, metrics
from petridish.experiments.slope import split_band
from petridish.motifs import SigmoidSlope
from petridish.truth import read_slope_csv, slope_table

PAPER = Path(__file__).resolve().parents[2] / "shared" / "reference" / "sigmoid_slope_mnist.csv"


def _fit(
    cfg: DishConfig,
    slopes: np.ndarray,
    losses: np.ndarray,
    train: np.ndarray,
    seed: int,
    scored: np.ndarray,
) -> dict[str, Any]:
    motifs = [SigmoidSlope(float(c)) for c in slopes]
    t0 = time.perf_counter()
    dish = Dish(cfg).fit([motifs[i] for i in train], losses[train], seed=seed)
    seconds = time.perf_counter() - t0
    scores = dish.query(motifs)
    rec = dish.record
    assert rec is not None
    return {
        "seed": seed,
        "train_spearman": metrics.spearman(scores[train], losses[train]),
        "scored_spearman": metrics.spearman(scores[scored], losses[scored]),
        "fit_ok": rec.fit_ok,
        "attempts": rec.attempts,
        "rounds": rec.rounds,
        "members": len(rec.members),
        "failed_attempts": len(rec.failed_attempts),
        "fit_seconds": seconds,
    }


def _summary(rows: list[dict[str, Any]]) -> dict[str, float]:
    sc = [r["scored_spearman"] for r in rows]
    return {
        "train_spearman_min": min(r["train_spearman"] for r in rows),
        "scored_spearman_min": min(sc),
        "scored_spearman_median": statistics.median(sc),
        "seeds_below_0.8": sum(x < 0.8 for x in sc),
        "fits_retried": sum(r["rounds"] > 1 for r in rows),
        "fits_failed": sum(not r["fit_ok"] for r in rows),
        "fit_seconds_median": statistics.median(r["fit_seconds"] for r in rows),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seeds", type=int, default=20)
    ap.add_argument("--first-seed", type=int, default=0, help="seeds FIRST..FIRST+N-1")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    ap.add_argument("--paper-table", default=str(PAPER))
    ap.add_argument("--out", default="results/dish_fit")
    args = ap.parse_args()
    overrides = {}
    for item in args.set:
        key, _, raw = item.partition("=")
        try:
            overrides[key] = ast.literal_eval(raw)
        except (ValueError, SyntaxError):
            overrides[key] = raw
    cfg = DishConfig.for_slopes(**overrides)
    out: dict[str, Any] = {
        "config": cfg.describe(),
        "seeds": [args.first_seed, args.first_seed + args.seeds - 1],
        "tables": {},
    }

    slopes, acc = slope_table()
    losses = 1 - np.asarray(acc)
    band = np.flatnonzero((slopes > 0.37) & (slopes < 1.5))
    rows = []
    seeds = range(args.first_seed, args.first_seed + args.seeds)
    for seed in seeds:
        rows.append(_fit(cfg, np.asarray(slopes), losses, band, seed, np.arange(len(slopes))))
        print("bundled", json.dumps(rows[-1]), flush=True)
    out["tables"]["bundled"] = {"summary": _summary(rows), "fits": rows}

    if Path(args.paper_table).is_file():
        table = read_slope_csv(args.paper_table)
        ps, pl = np.asarray(table.slopes), np.asarray(table.losses)
        rows = []
        for seed in seeds:
            train, _, _ = split_band(ps, (0.37, 1.50), 15, 15, seed)
            scored = np.setdiff1d(np.arange(len(ps)), train)
            rows.append(_fit(cfg, ps, pl, train, seed, scored))
            print("paper", json.dumps(rows[-1]), flush=True)
        out["tables"]["paper"] = {"summary": _summary(rows), "fits": rows}
    else:
        print(f"paper table not found at {args.paper_table}: skipped", file=sys.stderr)

    dest = Path(args.out)
    dest.mkdir(parents=True, exist_ok=True)
    (dest / "fit_study.json").write_text(json.dumps(out, indent=1))
    first, last = out["seeds"]
    lines = [f"# Dish fit study: {out['config']}, seeds {first}-{last}", ""]
    lines += [
        "| table | training Spearman worst | scored Spearman worst | median | seeds < 0.8 "
        "| fits retried | fits failed | fit s (median) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, t in out["tables"].items():
        s = t["summary"]
        lines.append(
            f"| {name} | {s['train_spearman_min']:.3f} | {s['scored_spearman_min']:.3f} | "
            f"{s['scored_spearman_median']:.3f} | {s['seeds_below_0.8']} | {s['fits_retried']} | "
            f"{s['fits_failed']} | {s['fit_seconds_median']:.2f} |"
        )
    (dest / "fit_study.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
