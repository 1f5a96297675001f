"""Learned dish against its random-data prior on a measured cell table (issue 17).

Run: ``python scripts/dish_table_study.py [--table nao_ptb | PATH.csv] [--train 40]
[--seeds 20] [--dish-set KEY=VALUE ...] [--out results/dish_table/nao_ptb.jsonl]``.

For each seed: the table's finite cells are split at random into ``--train`` training cells
and the rest held out; the space's dish (``nao``'s search dish, on native genotype nodes,
with ``--dish-set`` overrides) is fitted on the training cells, and the random-data dish
(the same configuration, zero outer steps: ``petridish.baselines.random_dish``) is drawn
with the same seed; both rank the held-out cells (Kendall tau against the table's losses).
Every finished seed is one JSON line in ``--out`` (a rerun skips the seeds it holds, so a
study cut off resumes), with how far the learned data moved (relative L2) and the outer
step it kept. The summary prints the mean tau of both, the paired difference with its
standard error, and how many fits kept a learned step.
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from pathlib import Path

import numpy as np

import petridish
from petridish import Dish
from petridish.baselines.random_dish import random_data_dish
from petridish.cli.common import parse_overrides
from petridish.metrics import kendall_tau_b
from petridish.search.spaces import space_spec
from petridish.truth.cell_tables import cell_table, read_cell_table


def _load(table: str) -> tuple[list, np.ndarray]:
    if table.endswith(".csv"):
        cells, losses = read_cell_table(table)
    else:
        cells, losses = cell_table(table)
    ok = np.isfinite(losses)
    return [c for c, k in zip(cells, ok, strict=True) if k], np.asarray(losses)[ok]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--table", default="nao_ptb")
    ap.add_argument("--space", default="nao", help="the space whose default dish is fitted")
    ap.add_argument("--train", type=int, default=40)
    ap.add_argument("--seeds", type=int, default=20)
    ap.add_argument("--dish-set", action="append", default=[], metavar="KEY=VALUE")
    ap.add_argument("--out", default="results/dish_table/nao_ptb.jsonl")
    args = ap.parse_args()
    logging.basicConfig(level=logging.WARNING)
    petridish.use_cpu_cores()
    cells, losses = _load(args.table)
    base = space_spec(args.space).default_dish()
    cfg = base.replace(**parse_overrides(args.dish_set, "--dish-set")) if args.dish_set else base
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    done = {}
    if out.exists():
        for line in out.read_text().splitlines():
            row = json.loads(line)
            if row["config"] == cfg.to_json() and row["table"] == args.table:
                done[row["seed"]] = row
    for seed in range(args.seeds):
        if seed in done:
            continue
        order = np.random.default_rng(seed).permutation(len(cells))
        tr, te = order[: args.train], order[args.train :]
        train = [cells[i] for i in tr]
        test = [cells[i] for i in te]
        t0 = time.perf_counter()
        dish = Dish(cfg).fit(train, losses[tr], seed=seed)
        fit_s = time.perf_counter() - t0
        prior = random_data_dish(cfg).fit(train, losses[tr], seed=seed)
        rec = dish.record
        assert rec is not None
        row = {
            "table": args.table,
            "seed": seed,
            "train": args.train,
            "held_out": len(test),
            "config": cfg.to_json(),
            "tau_learned": kendall_tau_b(dish.predict(test).scores, losses[te]),
            "tau_random": kendall_tau_b(prior.predict(test).scores, losses[te]),
            "best_step": rec.best_step,
            "outer_steps_run": len(rec.outer_losses),
            "moved_train": rec.moved_train,
            "moved_val": rec.moved_val,
            "fit_seconds": round(fit_s, 2),
        }
        with out.open("a") as f:
            f.write(json.dumps(row) + "\n")
        done[seed] = row
        print(
            f"seed {seed}: learned {row['tau_learned']:.3f}, random data {row['tau_random']:.3f}"
            f" (kept step {rec.best_step}, fit {fit_s:.0f} s)",
            flush=True,
        )
    rows = [done[s] for s in sorted(done) if s < args.seeds]
    a = np.array([r["tau_learned"] for r in rows])
    b = np.array([r["tau_random"] for r in rows])
    d = a - b
    se = d.std(ddof=1) / np.sqrt(len(d)) if len(d) > 1 else float("nan")
    # best_step: 0 = the random start kept, None = no guard (the last learned step kept).
    kept = sum(1 for r in rows if r["outer_steps_run"] > 0 and r["best_step"] != 0)
    print(
        f"{args.table}, {args.train} training cells, {len(rows)} seeds: learned {a.mean():.3f}, "
        f"random data {b.mean():.3f}, paired difference {d.mean():+.3f} +- {se:.3f} (s.e.); "
        f"a learned step kept in {kept} of {len(rows)} fits; {cfg.describe()}"
    )


if __name__ == "__main__":
    main()
