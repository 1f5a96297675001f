"""Benchmark: the batched cell executor inside a second-order dish inner loop.

Measures, for ``CellNet`` variants (node loop scan/unroll, remat node/step/none), one outer
step = ``jax.value_and_grad`` over the synthetic data (train and validation inputs) of the mean
over ``--cells`` cells of the validation BCE after ``--steps`` inner Adam steps (the dish's
own ``petridish.dish.inner.score_motifs``), on synthetic data ``20 x T=10 x 10``:

  * compile seconds of the batched step;
  * wall seconds per batched step (median of --repeats);
  * wall seconds of the same outer step computed one cell at a time (one compiled
    single-cell value_and_grad, a Python loop over cells, gradients summed), and the ratio;
  * peak resident memory of the process (``resource.getrusage`` maxrss); each variant runs
    in its own subprocess so the peaks do not mix.

Cells: the first ``--cells`` NAS-Bench-NLP recipes of the shared reference zip if present,
else random recipes. ``--genotypes`` uses random DARTS genotypes (8 nodes) instead
(blueprint max_nodes=45, max_inputs=8).

Usage: python benchmarks/bench_cell_executor.py [--cells 40] [--steps 50] [--repeats 3]
       [--variants scan:node,scan:step,unroll:node] [--no-loop] [--genotypes] [--x64]
       [--json PATH]

Measured (2 shared x86-64 cores, jax 0.10.2 CPU, load average 1.4-1.8 from other jobs, so
+-20% between runs; 40 NAS-Bench-NLP cells, at most 13 nodes, codes padded to 15 x 3; 50
inner steps; seconds per outer step (median), compile seconds, peak RSS of the process):

  node_loop  remat   step_s   compile_s  peak RSS
  scan       node    4.5-6.6   11-17     2.0 GB   one cell at a time: 6.3-9.5 s (1.4x slower)
  scan       step    5.4-6.3   13-15     1.4 GB
  scan       none    5.7        14       2.7 GB
  unroll     node    3.3-3.9   61-64     3.0 GB
  unroll     step    4.2        63       2.4 GB
  unroll     none    3.8        89       3.8 GB

Batched vs one-at-a-time meta-gradients: equal to ~1e-15 in float64 (--x64). In float32 the
per-cell relative difference is 1e-6..4e-4, except for chaotic cells (here cell 34, an
exploding recurrence, |grad| ~ 47) where round-off differences grow through 50 Adam steps
(relative difference ~5) and dominate the 40-cell mean (~1): inner training of such cells is
itself ill-conditioned. Target was ~0.5 s per outer step: not reached.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
import zipfile
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from petridish.dish.inner import InnerSettings, score_motif, score_motifs
from petridish.motifs.cell import Cell, random_cell, random_genotype
from petridish.nets.cell import CellNet

ZIP = (
    Path(__file__).resolve().parents[2] / "shared" / "reference" / "nasbench_nlp_wikitext2_logs.zip"
)


def _cells(n: int, genotypes: bool) -> tuple[list[Cell], str]:
    rng = np.random.default_rng(0)
    if genotypes:
        return [Cell.from_genotype(random_genotype(rng, 8)) for _ in range(n)], "darts-genotypes"
    if ZIP.is_file():
        with zipfile.ZipFile(ZIP) as z:
            names = sorted(m for m in z.namelist() if m.endswith(".json"))[:n]
            recs = [json.loads(z.read(m))["recepie"] for m in names]
        return [Cell.from_recipe(r) for r in recs], "nasbench-nlp"
    return [random_cell(rng) for _ in range(n)], "random-recipes"


def _maxrss_mb() -> float:
    kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return kb / 1024.0 if sys.platform != "darwin" else kb / 2**20


def run_variant(args: argparse.Namespace, loop: str, remat: str) -> dict[str, Any]:
    cells, source = _cells(args.cells, args.genotypes)
    options: dict[str, Any] = {"node_loop": loop, "remat": remat}  # validated by CellNet
    if args.genotypes:
        net = CellNet(max_nodes=45, max_inputs=8, max_slots=20, **options)
    else:
        net = CellNet(**options)
    settings = InnerSettings(net=net, lr=0.01, l2=1e-5, steps=args.steps, eps_root=1e-12)
    codes = jnp.asarray(net.codes(cells))
    keys = jax.random.split(jax.random.PRNGKey(0), 4)
    params0 = jax.tree_util.tree_map(lambda a: a[None], net.init(keys[0], 1.0))  # 1 init
    shape = (20, 10, net.input_dim)
    shape_dtype = jnp.float64 if args.x64 else jnp.float32
    synth = {
        "x_train": jax.random.normal(keys[1], shape),
        "x_val": jax.random.normal(keys[2], shape),
    }
    labels = jax.random.bernoulli(keys[3], 0.5, (20, 10, net.output_dim)).astype(shape_dtype)
    rss0 = _maxrss_mb()

    def batched_loss(s: dict[str, jax.Array]) -> jax.Array:
        scores = score_motifs(settings, params0, codes, s["x_train"], s["x_val"], labels)
        return jnp.mean(scores)

    t0 = time.perf_counter()
    step = jax.jit(jax.value_and_grad(batched_loss)).lower(synth).compile()
    compile_s = time.perf_counter() - t0
    jax.block_until_ready(step(synth))
    walls = []
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        loss, grad = jax.block_until_ready(step(synth))
        walls.append(time.perf_counter() - t0)
    out: dict[str, Any] = {
        "variant": f"node_loop={loop} remat={remat}",
        "cells": source,
        "n_cells": len(cells),
        "max_nodes_in_batch": max(c.n_nodes for c in cells),
        "steps": args.steps,
        "compile_s": round(compile_s, 2),
        "step_s": round(statistics.median(walls), 3),
        "loss": float(loss),
        "grad_finite": bool(all(bool(jnp.all(jnp.isfinite(g))) for g in grad.values())),
        "maxrss_mb_before": round(rss0, 1),
        "maxrss_mb_batched": round(_maxrss_mb(), 1),
    }
    if args.no_loop:
        return out

    p0 = jax.tree_util.tree_map(lambda a: a[0], params0)

    def single_loss(s: dict[str, jax.Array], code: jax.Array) -> jax.Array:
        return score_motif(settings, p0, code, s["x_train"], s["x_val"], labels)

    t0 = time.perf_counter()
    one = jax.jit(jax.value_and_grad(single_loss)).lower(synth, codes[0]).compile()
    out["compile_one_s"] = round(time.perf_counter() - t0, 2)
    jax.block_until_ready(one(synth, codes[0]))
    loop_walls = []
    for _ in range(max(1, args.repeats // 2)):
        t0 = time.perf_counter()
        total = 0.0
        acc = jax.tree_util.tree_map(jnp.zeros_like, synth)
        for i in range(len(cells)):
            v, g = one(synth, codes[i])
            total += float(v)
            acc = jax.tree_util.tree_map(jnp.add, acc, g)
        jax.block_until_ready(acc)
        loop_walls.append(time.perf_counter() - t0)
    loop_s = statistics.median(loop_walls)
    # Relative L2 difference of the meta-gradient (float32; it passes through 50 Adam steps).
    diff = sum(float(jnp.sum((acc[k] / len(cells) - grad[k]) ** 2)) for k in grad)
    norm = sum(float(jnp.sum(grad[k] ** 2)) for k in grad)
    err = (diff / max(norm, 1e-30)) ** 0.5
    out.update(
        loop_s=round(loop_s, 3),
        speedup_vs_loop=round(loop_s / out["step_s"], 2),
        loop_vs_batched_grad_rel_diff=err,
        loop_vs_batched_loss_diff=abs(total / len(cells) - float(loss)),
        maxrss_mb_end=round(_maxrss_mb(), 1),
    )
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cells", type=int, default=40)
    ap.add_argument("--steps", type=int, default=50)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--variants", default="scan:node,scan:step,unroll:node")
    ap.add_argument("--no-loop", action="store_true", help="skip the one-at-a-time timing")
    ap.add_argument("--genotypes", action="store_true")
    ap.add_argument("--x64", action="store_true", help="float64 (for the parity check)")
    ap.add_argument("--json", help="also write the results here")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        if args.x64:
            jax.config.update("jax_enable_x64", True)
        loop, remat = args.child.split(":")
        print(json.dumps(run_variant(args, loop, remat)))
        return 0
    header = {
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "jax": jax.__version__,
        "backend": jax.default_backend(),
    }
    print(json.dumps(header))
    results = []
    passthrough = ["--cells", str(args.cells), "--steps", str(args.steps)]
    passthrough += ["--repeats", str(args.repeats)]
    passthrough += ["--no-loop"] * args.no_loop + ["--genotypes"] * args.genotypes
    passthrough += ["--x64"] * args.x64
    for variant in args.variants.split(","):
        cmd = [sys.executable, __file__, *passthrough, "--child", variant]
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            print(f"{variant}: failed\n{proc.stderr[-2000:]}")
            continue
        res = json.loads(proc.stdout.strip().splitlines()[-1])
        results.append(res)
        print(json.dumps(res))
    if args.json:
        Path(args.json).write_text(json.dumps({**header, "results": results}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
