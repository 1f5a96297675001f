"""How the slope dish's restarts are combined, and what the weight-init scale changes.

For each seed of the slope experiment (same splits as ``petridish slope``), fit ``--fits``
single dishes (restart 0 uses the seed, restart r > 0 the seed stream that
``DishConfig(restarts=...)`` uses), each with validation early stopping, and score every
table slope. Then compare ways of turning the fits into one ranking, on the test slopes:

* ``restart 0``: the paper's single fit;
* ``best of k on validation``: what ``DishConfig(restarts=k)`` does (the experiment default
  is k = 5);
* ``mean z of k``: the mean over k fits of each fit's scores z-scored over all table slopes;
* ``mean z of the best j``: the same over the j fits with the lowest validation loss.

Usage (about 2 minutes per setting on 2 cores):

    python scripts/slope_restarts_study.py --table ../shared/reference/sigmoid_slope_mnist.csv \\
        [--set init_scale=2.0] [--fits 8] [--seeds 10] [--out results/slope_paper/restarts.md]
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from collections.abc import Callable

import numpy as np

from petridish import Dish, DishConfig, metrics
from petridish.dish.core import restart_seed
from petridish.experiments.slope import SlopeExperiment, split_band
from petridish.motifs import SigmoidSlope
from petridish.truth.table import read_slope_csv

Fit = tuple[float, np.ndarray]  # (best validation z-MSE, scores on all table slopes)


def _parse_set(items: list[str]) -> dict[str, object]:
    out: dict[str, object] = {}
    fields = {f.name: f.type for f in dataclasses.fields(DishConfig)}
    for item in items:
        key, _, value = item.partition("=")
        if key not in fields:
            raise SystemExit(f"unknown DishConfig field {key!r}")
        out[key] = float(value) if "." in value or "e" in value else int(value)
    return out


def _z(scores: np.ndarray) -> np.ndarray:
    return (scores - scores.mean()) / scores.std()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--table", required=True)
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    ap.add_argument("--fits", type=int, default=8)
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--out")
    args = ap.parse_args(argv)

    table = read_slope_csv(args.table)
    slopes, losses = np.asarray(table.slopes), np.asarray(table.losses)
    motifs = [SigmoidSlope(float(c)) for c in slopes]
    config = DishConfig.for_slopes(**_parse_set(args.set))  # type: ignore[arg-type]
    exp = SlopeExperiment()
    lo, hi = exp.peak_window

    per_seed: list[tuple[np.ndarray, list[Fit]]] = []
    for seed in range(args.seeds):
        train, val, test = split_band(slopes, exp.band, exp.n_train, exp.n_val, seed)
        fits: list[Fit] = []
        for r in range(args.fits):
            dish = Dish(config).fit(
                [motifs[i] for i in train],
                losses[train],
                seed=seed if r == 0 else restart_seed(seed, r),
                validation=([motifs[i] for i in val], losses[val]),
            )
            assert dish.record is not None
            fits.append((min(dish.record.val_losses), dish.query(motifs)))
        per_seed.append((test, fits))
        print(f"seed {seed} done", file=sys.stderr, flush=True)

    def by_val(fits: list[Fit]) -> list[Fit]:
        return sorted(fits, key=lambda f: f[0])

    combos: list[tuple[str, Callable[[list[Fit]], np.ndarray]]] = [
        ("restart 0 (the paper's single fit)", lambda f: f[0][1])
    ]
    for k in sorted({3, 5, args.fits}):
        if k <= args.fits:
            combos.append((f"best of {k} on validation", lambda f, k=k: by_val(f[:k])[0][1]))
            combos.append(
                (f"mean z of {k}", lambda f, k=k: np.mean([_z(s) for _, s in f[:k]], axis=0))
            )
    for j in (2, 3):
        combos.append(
            (
                f"mean z of the best {j} of {args.fits}",
                lambda f, j=j: np.mean([_z(s) for _, s in by_val(f)[:j]], axis=0),
            )
        )

    lines = [
        f"Table `{args.table}`, dish {dict(_parse_set(args.set)) or 'Table 2 defaults'}, "
        f"{args.fits} fits per seed, {args.seeds} seeds; metrics on the test slopes.",
        "",
        "| combination | Spearman median | Spearman worst | best in "
        f"{lo:.2f}-{hi:.2f} | predicted best slope per seed |",
        "|---|---|---|---|---|",
    ]
    for name, combine in combos:
        rho, best = [], []
        for test, fits in per_seed:
            scores = combine(fits)
            rho.append(metrics.spearman(scores[test], losses[test]))
            best.append(float(metrics.best_by(scores[test], slopes[test])))
        hits = sum(lo <= b <= hi for b in best)
        lines.append(
            f"| {name} | {np.median(rho):.3f} | {min(rho):.3f} | {hits}/{len(best)} | "
            f"{', '.join(f'{b:.2f}' for b in best)} |"
        )
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out:
        with open(args.out, "a", encoding="utf-8") as fh:
            fh.write(text + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
