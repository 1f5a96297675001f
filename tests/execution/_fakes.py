"""Cheap deterministic evaluators for the execution tests (importable on Ray workers: the
test cluster puts this folder on its PYTHONPATH).

``FakeEvaluator``: loss ``(log slope)^2 + seed / 1000``, a metric and a curve, a pure
function of (slope, seed). Options: ``sleep`` seconds per batch; ``marks`` a folder where
each batch first creates ``<pid>-<n>`` (so a test can find the worker's pid and count how
often work started); ``fail_on`` slopes whose evaluation raises ``ValueError``;
``unavailable`` raises ``GroundTruthUnavailable`` for everything. ``free_port``: a TCP port
nobody listens on (for the test cluster, and for an unreachable address).
"""

from __future__ import annotations

import itertools
import math
import os
import socket
import time
from collections.abc import Sequence
from pathlib import Path

from petridish.evaluators.base import GroundTruthUnavailable, Outcome
from petridish.motifs.base import Motif
from petridish.motifs.slope import SigmoidSlope

_count = itertools.count()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class FakeEvaluator:
    name = "fake"

    def __init__(
        self,
        protocol: str = "v1",
        *,
        sleep: float = 0.0,
        marks: str | Path | None = None,
        fail_on: Sequence[float] = (),
        unavailable: bool = False,
    ) -> None:
        self.protocol = protocol
        self.sleep = sleep
        self.marks = None if marks is None else str(marks)
        self.fail_on = tuple(float(s) for s in fail_on)
        self.unavailable = unavailable

    def evaluate(self, motif: Motif, seed: int) -> Outcome:
        return self.evaluate_many([motif], seed)[0]

    def evaluate_many(self, motifs: Sequence[Motif], seed: int) -> list[Outcome]:
        if self.unavailable:
            raise GroundTruthUnavailable("fake data is missing", remedy="there is none")
        if self.marks is not None:
            Path(self.marks, f"{os.getpid()}-{next(_count)}").touch()
        if self.sleep:
            time.sleep(self.sleep)
        outcomes = []
        for motif in motifs:
            assert isinstance(motif, SigmoidSlope)
            if motif.slope in self.fail_on:
                raise ValueError(f"bad slope {motif.slope}")
            loss = math.log(motif.slope) ** 2 + seed / 1000
            outcomes.append(
                Outcome("ok", loss=loss, metrics={"slope": motif.slope}, curve=(loss + 1, loss))
            )
        return outcomes
