"""Subprocess side of the crash-safety test: one slope search with a slow fake evaluator.

Usage: python _crash_worker.py STORE MARKERS OUT_JSON SLEEP_SECONDS BUDGET

Each evaluation first creates a new file in MARKERS (so the test can count how often each
motif was *started*), then sleeps, then returns loss = (log slope - log 0.25)^2 + noise
fixed per motif. The result (digests and losses in order) is written to OUT_JSON.
"""

from __future__ import annotations

import json
import math
import os
import sys
import time
from pathlib import Path

import numpy as np

from petridish.evaluators import Outcome
from petridish.motifs import Motif, SigmoidSlope
from petridish.search.loop import SearchConfig, run_search
from petridish.search.space import SlopeSpace
from petridish.search.strategies import GAStrategy
from petridish.store import Store

CONFIG = dict(
    space="slope", strategy="ga", use_dish=False, seed=11, warmup=10, proposals=30, per_iteration=5
)


class SlowBowl:
    name = "slow_bowl"
    protocol = "log_sq"

    def __init__(self, markers: Path, sleep: float) -> None:
        self.markers = markers
        self.sleep = sleep
        self.started = 0

    def evaluate(self, motif: Motif, seed: int) -> Outcome:
        assert isinstance(motif, SigmoidSlope)
        self.started += 1
        # One file per start: digest, pid and a counter make every start distinct.
        (self.markers / f"{motif.digest}.{os.getpid()}.{self.started}").touch()
        time.sleep(self.sleep)
        rng = np.random.default_rng([int(motif.digest, 16), seed])
        return Outcome("ok", loss=(math.log(motif.slope / 0.25)) ** 2 + 0.01 * rng.normal())


def main(argv: list[str]) -> int:
    store_path, markers, out, sleep, budget = argv
    config = SearchConfig(budget_evals=int(budget), **CONFIG)  # type: ignore[arg-type]
    with Store(store_path) as store:
        result = run_search(
            config,
            space=SlopeSpace(),
            strategy=GAStrategy(elite=5),
            evaluator=SlowBowl(Path(markers), float(sleep)),
            store=store,
        )
    Path(out).write_text(
        json.dumps(
            {
                "digests": list(result.digests),
                "losses": result.losses.tolist(),
                "reused": result.reused,
            }
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
