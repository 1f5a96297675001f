"""Benchmark: the dish on the paper's 12-node NAO/ENAS genotypes, native highway nodes
(``genotype_cell`` network, the ``nao`` space's dish) against the primitive executor
(``cell`` network, 66 primitive nodes per genotype), side by side in one run.

Measures, for 40 random 12-node genotypes and the ``nao`` space's dish configuration
(Table 4 inner loop, ``max_nodes=68``): seconds per outer step (compile excluded: median of
``--steps`` one-step fits after the first), the compile seconds, the projected fit of
``--outer-steps`` steps, and the 100-cell inference (second call); plus the largest score
difference between the two networks after one outer step from the same seed (they read
the same parameters, so only float rounding separates them).

Usage: python benchmarks/bench_genotype_dish.py [--steps 2] [--outer-steps 20] [--json PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from pathlib import Path

import jax
import numpy as np

import petridish
from petridish import Dish
from petridish.dish.outer import STATS
from petridish.motifs.cell import Cell, random_genotype
from petridish.nets.cell import CELL_NETWORK
from petridish.search.spaces.nao import NAO


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--steps", type=int, default=2, help="timed outer steps after the first")
    ap.add_argument("--outer-steps", type=int, default=20, help="outer steps of the projection")
    ap.add_argument("--json", help="also write the results here")
    args = ap.parse_args()
    petridish.use_cpu_cores()  # before any JAX operation
    rng = np.random.default_rng(0)
    cells = [Cell.from_genotype(random_genotype(rng, 12), "all") for _ in range(140)]
    train, query = cells[:40], cells[40:]
    losses = rng.uniform(4.5, 5.5, len(train))
    native_cfg = NAO.default_dish()
    configs = {"native": native_cfg, "primitive": native_cfg.replace(network=CELL_NETWORK)}
    out: dict[str, object] = {
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "jax": jax.__version__,
        "backend": jax.default_backend(),
        "devices": jax.local_device_count(),
        "load_average_at_start": os.getloadavg()[0],
        "cells": "40 training, 100 queried; random 12-node genotypes (66 primitive nodes)",
    }
    scores = {}
    for name, cfg in configs.items():
        one = cfg.replace(outer_steps=1)
        compile_before = STATS.compile_seconds
        t0 = time.perf_counter()
        dish = Dish(one).fit(train, losses, seed=0)
        first = time.perf_counter() - t0
        compile_s = STATS.compile_seconds - compile_before
        times = []
        for _ in range(args.steps):
            t0 = time.perf_counter()
            Dish(one).fit(train, losses, seed=0)
            times.append(time.perf_counter() - t0)
        step = statistics.median(times)
        dish.predict(query)
        t0 = time.perf_counter()
        scores[name] = dish.predict(query).scores
        predict_s = time.perf_counter() - t0
        out[name] = {
            "network": cfg.network,
            "fit_first_step_s": round(first, 2),
            "compile_s": round(compile_s, 2),
            "outer_step_s": round(step, 3),
            f"projected_fit_{args.outer_steps}_steps_s": round(
                compile_s + args.outer_steps * step, 1
            ),
            "predict_100_s": round(predict_s, 2),
        }
        print(json.dumps({name: out[name]}), flush=True)  # progress: one network done
    native, primitive = out["native"], out["primitive"]
    assert isinstance(native, dict) and isinstance(primitive, dict)
    out["outer_step_speedup"] = round(primitive["outer_step_s"] / native["outer_step_s"], 2)
    out["predict_speedup"] = round(primitive["predict_100_s"] / native["predict_100_s"], 2)
    ok = np.isfinite(scores["native"]) & np.isfinite(scores["primitive"])
    out["max_rel_score_difference"] = float(
        np.max(np.abs(scores["native"][ok] - scores["primitive"][ok]))
        / max(float(np.max(np.abs(scores["primitive"][ok]))), 1e-12)
    )
    out["load_average_at_end"] = os.getloadavg()[0]
    print(json.dumps(out))
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=2) + "\n")


if __name__ == "__main__":
    main()
