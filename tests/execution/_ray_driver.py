"""Subprocess side of the driver-kill test: one slope search whose ground truth runs on the
Ray cluster at ADDRESS, with the slow fake evaluator of ``_fakes``.

Usage: python _ray_driver.py ADDRESS STORE OUT_JSON SLEEP_SECONDS

After every evaluation it records, it prints ``spent N`` (flushed), so the test can kill it
at a known point. The result (digests and losses in order) is written to OUT_JSON.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from _fakes import FakeEvaluator

from petridish.execution import RayExecutor
from petridish.search.loop import SearchConfig, run_search
from petridish.search.space import SlopeSpace
from petridish.search.strategies import GAStrategy
from petridish.store import Store

CONFIG = SearchConfig(
    space="slope",
    strategy="ga",
    predictor="none",
    seed=5,
    warmup=6,
    proposals=20,
    per_iteration=4,
    budget_evals=14,
)


def search(store: Store, evaluator: FakeEvaluator, executor: RayExecutor | None = None) -> dict:  # type: ignore[type-arg]
    def progress(spent: int, budget: int, best: float) -> None:
        print(f"spent {spent}", flush=True)

    result = run_search(
        CONFIG,
        space=SlopeSpace(),
        strategy=GAStrategy(elite=4),
        evaluator=evaluator,
        store=store,
        predictor=None,
        progress=progress,
        executor=executor,
    )
    return {"digests": list(result.digests), "losses": result.losses.tolist()}


def main(argv: list[str]) -> int:
    address, store_path, out, sleep = argv
    with RayExecutor(address=address, max_retries=1) as executor, Store(store_path) as store:
        summary = search(store, FakeEvaluator(sleep=float(sleep)), executor)
    Path(out).write_text(json.dumps(summary))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
