"""Benchmark: one slope-dish fit with the Table 2 defaults.

Prints, measured in this one run on this machine:
  * compile seconds of the first fit (reported apart from the fit time);
  * wall seconds of a fit with nothing to compile (median of --repeats fits, each by a new
    Dish object), and whether those fits compiled anything (they must not);
  * the side-by-side ratio of the batched engine (vmap over motifs, one compiled outer
    step) against the same outer steps computed one motif-network at a time
    (``petridish.dish.reference.looped_meta_gradient``), timed over --loop-steps steps and
    scaled to the full fit.

Usage: python benchmarks/bench_dish_fit.py [--table PATH] [--repeats 3] [--loop-steps 5]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from petridish import Dish, DishConfig
from petridish.dish.core import inner_settings, outer_settings
from petridish.dish.outer import STATS
from petridish.dish.reference import looped_meta_gradient
from petridish.experiments.slope import split_band
from petridish.motifs import SigmoidSlope
from petridish.truth import bundled_table, read_slope_csv

PAPER = Path(__file__).resolve().parents[2] / "shared" / "reference" / "sigmoid_slope_mnist.csv"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--table", default=str(PAPER) if PAPER.is_file() else None)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--loop-steps", type=int, default=5)
    ap.add_argument("--json", help="also write the numbers here")
    args = ap.parse_args()
    table = read_slope_csv(args.table) if args.table else bundled_table()
    slopes, losses = np.asarray(table.slopes), np.asarray(table.losses)
    train, _, _ = split_band(slopes, (0.37, 1.50), 15, 15, seed=0)
    motifs = [SigmoidSlope(float(c)) for c in slopes[train]]
    cfg = DishConfig.for_slopes()

    c0, s0 = STATS.compiles, STATS.compile_seconds
    t0 = time.perf_counter()
    Dish(cfg).fit(motifs, losses[train], seed=0)
    first_wall = time.perf_counter() - t0
    compile_s = STATS.compile_seconds - s0
    compiles_first = STATS.compiles - c0

    walls = []
    c1 = STATS.compiles
    for r in range(args.repeats):
        t0 = time.perf_counter()
        Dish(cfg).fit(motifs, losses[train], seed=r + 1)
        walls.append(time.perf_counter() - t0)
    recompiles = STATS.compiles - c1
    fit_s = statistics.median(walls)

    # One motif-network at a time: the same outer steps, a Python loop over motifs.
    dish = Dish(cfg).initialize(0, SigmoidSlope)
    assert dish.synthetic is not None and dish.labels is not None
    inner, outer = inner_settings(cfg), outer_settings(cfg)
    opt = outer.optimizer()
    state = opt.init(dish.synthetic)
    codes = jnp.asarray(SigmoidSlope.encode_many(motifs))
    targets = jnp.asarray(losses[train], jnp.float32)
    synthetic = dish.synthetic
    looped_meta_gradient(inner, synthetic, dish.theta_init, codes, targets, dish.labels)  # compile
    t0 = time.perf_counter()
    for _ in range(args.loop_steps):
        _, g = looped_meta_gradient(inner, synthetic, dish.theta_init, codes, targets, dish.labels)
        updates, state = opt.update(g, state, synthetic)
        synthetic = jax.tree_util.tree_map(lambda a, u: a + u, synthetic, updates)
    jax.block_until_ready(synthetic)
    loop_step_s = (time.perf_counter() - t0) / args.loop_steps
    loop_fit_s = loop_step_s * cfg.outer_steps

    out = {
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores",
        "jax": jax.__version__,
        "backend": jax.default_backend(),
        "motifs": len(motifs),
        "outer_steps": cfg.outer_steps,
        "inner_steps": cfg.inner_steps,
        "first_fit_wall_s": first_wall,
        "compile_s": compile_s,
        "compiles_first_fit": compiles_first,
        "fit_wall_s_median": fit_s,
        "fit_wall_s_all": walls,
        "recompiles_in_later_fits": recompiles,
        "one_at_a_time_step_s": loop_step_s,
        "one_at_a_time_fit_s_estimated": loop_fit_s,
        "batched_speedup": loop_fit_s / fit_s,
    }
    print(f"slope dish fit, Table 2 defaults, {len(motifs)} motifs, backend {out['backend']}")
    print(f"  compile (first fit only):     {compile_s:6.2f} s   (target <= 30 s)")
    print(
        f"  fit, nothing to compile:      {fit_s:6.2f} s   (median of {args.repeats}; "
        f"target <= 5 s)"
    )
    print(f"  recompiles in later fits:     {recompiles}")
    print(f"  one motif at a time:          {loop_fit_s:6.2f} s   (from {args.loop_steps} steps)")
    print(f"  batched / one-at-a-time speedup: {loop_fit_s / fit_s:.1f}x")
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=2))
    return 0 if recompiles == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
