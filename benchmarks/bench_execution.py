"""Throughput of the execution layer: in process against Ray, and how busy many workers stay.

Run: ``python benchmarks/bench_execution.py [--slopes 8] [--workers 16] [--sleep 0.25]
[--iterations 8] [--json PATH]`` (needs ``petridish[ray]`` and MNIST under
``--data-dir`` / ``PETRIDISH_DATA_DIR``; about a minute on 2 cores).

1. MNIST slope ground truth, protocol ``tiny``, side by side in one run: ``--slopes``
   slopes through ``InProcessExecutor`` (one batch: chunks of ``CHUNK`` models one after
   another) and through ``RayExecutor(workers=2)`` (a local Ray; one chunk per worker). Each
   path runs twice: the first includes loading MNIST and compiling (in every worker, for
   Ray), the second is the steady state; evaluations per second are of the second.
2. Overhead per task, from a null evaluator (returns at once) on the same 2-worker Ray:
   the round trip of one task (submit, run, collect; median of 20, one after another) and
   the wall time per task of 200 tasks submitted together.
3. A simulated search on many workers: a fake evaluator that sleeps ``--sleep`` seconds per
   motif, a local Ray with ``--workers`` CPUs, ``--iterations`` iterations of 20 jobs (one
   task per job). Busy fraction = worker seconds spent in the evaluator / (workers x wall
   seconds). Two schedules: "synchronous" (an iteration waits for all its 20 jobs: with 16
   workers its ceiling is 20 / 32 = 62.5%, two rounds of which the second uses 4 workers)
   and "pipelined" (the next iteration's 20 jobs are submitted as soon as fewer jobs are in
   flight than there are workers: a search that proposes from the results it has).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import statistics
import time
from collections.abc import Sequence
from pathlib import Path

from petridish.evaluators.base import Outcome
from petridish.evaluators.mnist_slope import MnistSlopeEvaluator
from petridish.execution import Completed, Executor, InProcessExecutor, RayExecutor
from petridish.motifs.base import Motif
from petridish.motifs.slope import SigmoidSlope

BATCH = 20  # jobs per search iteration
# Models per compiled program of the MNIST trainer, on both sides: 8 slopes are two chunks,
# run one after the other in process and one per worker on the 2-worker Ray.
CHUNK = 4


class Null:
    """Returns at once: what is left of a task's time is the executor's overhead."""

    name, protocol = "null", "v1"

    def evaluate(self, motif: Motif, seed: int) -> Outcome:
        return Outcome("ok", loss=0.0)


class Sleeper:
    """Sleeps ``seconds`` per motif, like a trainer that keeps its worker busy."""

    name, protocol = "sleeper", "v1"

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    def evaluate(self, motif: Motif, seed: int) -> Outcome:
        time.sleep(self.seconds)
        return Outcome("ok", loss=0.0)


def timed(executor: Executor, evaluator: object, motifs: Sequence[Motif], seed: int) -> float:
    t0 = time.perf_counter()
    done = executor.run(evaluator, motifs, seed)  # type: ignore[arg-type]
    bad = [c.outcome for c in done if c.outcome.status != "ok"]
    if bad:
        raise SystemExit(f"evaluations failed: {bad[0]}")
    return time.perf_counter() - t0


def mnist_side_by_side(data_dir: str, n: int) -> dict[str, float]:
    slopes = [SigmoidSlope(0.25 * 1.5**i) for i in range(n)]
    out: dict[str, float] = {}
    with InProcessExecutor() as local:
        evaluator = MnistSlopeEvaluator(data_dir, "tiny", chunk=CHUNK)
        out["in_process_first_s"] = timed(local, evaluator, slopes, 0)
        out["in_process_s"] = timed(local, evaluator, slopes, 1)
    with RayExecutor(workers=2) as ray2:
        evaluator = MnistSlopeEvaluator(data_dir, "tiny", chunk=CHUNK)
        out["ray2_first_s"] = timed(ray2, evaluator, slopes, 0)
        out["ray2_s"] = timed(ray2, evaluator, slopes, 1)
        # Overhead: one null task at a time, then 200 at once.
        trips = []
        for i in range(20):
            trips.append(timed(ray2, Null(), [SigmoidSlope(1.0 + i)], 0))
        out["ray_round_trip_ms"] = 1000 * statistics.median(trips)
        ray2.batch_size = 1
        many = [SigmoidSlope(1.0 + i) for i in range(200)]
        timed(ray2, Null(), many[:20], 0)  # both workers up
        out["ray_per_task_ms_200_together"] = 1000 * timed(ray2, Null(), many, 0) / len(many)
    out["in_process_evals_per_s"] = n / out["in_process_s"]
    out["ray2_evals_per_s"] = n / out["ray2_s"]
    return out


def busy_fraction(workers: int, sleep: float, iterations: int) -> dict[str, float]:
    out: dict[str, float] = {}
    evaluator = Sleeper(sleep)
    with RayExecutor(workers=workers, batch_size=1) as ray_n:
        # Start every worker process first (each imports petridish and JAX): not measured.
        warm = [SigmoidSlope(1.0 + i) for i in range(2 * workers)]
        ray_n.run(Sleeper(0.5), warm, 0)
        motif_id = iter(range(10**6))

        def batch() -> list[Motif]:
            return [SigmoidSlope(1.0 + next(motif_id)) for _ in range(BATCH)]

        # Synchronous: each iteration waits for all of its jobs.
        busy = 0.0
        t0 = time.perf_counter()
        for _ in range(iterations):
            busy += sum(c.wall_seconds for c in ray_n.run(evaluator, batch(), 0))
        wall = time.perf_counter() - t0
        out["sync_wall_s"] = wall
        out["sync_busy"] = busy / (workers * wall)
        out["sync_ceiling"] = BATCH / (workers * math.ceil(BATCH / workers))

        # Pipelined: keep at least `workers` jobs in flight while iterations are left.
        busy, submitted, outstanding = 0.0, 0, []
        t0 = time.perf_counter()
        while submitted < iterations or outstanding:
            if submitted < iterations and len(outstanding) < workers:
                outstanding += ray_n.submit(evaluator, batch(), 0)
                submitted += 1
                continue
            finished: Completed = next(iter(ray_n.as_completed(outstanding)))
            outstanding = [j for j in outstanding if j.id != finished.job.id]
            busy += finished.wall_seconds
        wall = time.perf_counter() - t0
        out["pipelined_wall_s"] = wall
        out["pipelined_busy"] = busy / (workers * wall)
        # The tail (the last jobs finishing on a few workers) is counted: the ideal wall
        # time is ceil(jobs / workers) * sleep.
        jobs = iterations * BATCH
        out["pipelined_ceiling"] = jobs / (workers * math.ceil(jobs / workers))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data-dir", default=os.environ.get("PETRIDISH_DATA_DIR"))
    ap.add_argument("--slopes", type=int, default=8)
    ap.add_argument("--workers", type=int, default=16)
    ap.add_argument("--sleep", type=float, default=0.25)
    ap.add_argument("--iterations", type=int, default=8)
    ap.add_argument("--json", help="also write the results here")
    args = ap.parse_args()
    if not args.data_dir or not Path(args.data_dir, "mnist").is_dir():
        raise SystemExit("MNIST not found: pass --data-dir or set PETRIDISH_DATA_DIR")
    t0 = time.perf_counter()
    results: dict[str, object] = {"machine": platform.machine(), "cpus": os.cpu_count()}
    mnist = mnist_side_by_side(args.data_dir, args.slopes)
    results["mnist_tiny"] = mnist
    print(f"MNIST slope 'tiny', {args.slopes} slopes ({os.cpu_count()} CPUs):")
    print(
        f"  in process: first {mnist['in_process_first_s']:.2f} s, then "
        f"{mnist['in_process_s']:.2f} s = {mnist['in_process_evals_per_s']:.2f} evaluations/s"
    )
    print(
        f"  Ray, 2 workers: first {mnist['ray2_first_s']:.2f} s, then "
        f"{mnist['ray2_s']:.2f} s = {mnist['ray2_evals_per_s']:.2f} evaluations/s"
    )
    print(
        f"  Ray overhead per task: round trip {mnist['ray_round_trip_ms']:.1f} ms (one at a "
        f"time), {mnist['ray_per_task_ms_200_together']:.2f} ms each of 200 submitted together"
    )
    busy = busy_fraction(args.workers, args.sleep, args.iterations)
    results["many_workers"] = {"workers": args.workers, "sleep_s": args.sleep, **busy}
    print(
        f"{args.workers} workers, {args.iterations} iterations of {BATCH} jobs of {args.sleep:g} s:"
    )
    print(
        f"  synchronous iterations: {100 * busy['sync_busy']:.1f}% busy "
        f"(ceiling {100 * busy['sync_ceiling']:.1f}%), {busy['sync_wall_s']:.2f} s"
    )
    print(
        f"  pipelined iterations: {100 * busy['pipelined_busy']:.1f}% busy "
        f"(ceiling {100 * busy['pipelined_ceiling']:.1f}%), {busy['pipelined_wall_s']:.2f} s"
    )
    results["total_s"] = time.perf_counter() - t0
    print(f"total {results['total_s']:.0f} s")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
