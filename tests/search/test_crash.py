"""Crash safety: a search SIGKILLed mid-evaluation resumes losing nothing, repeating nothing.

The search runs in a subprocess (``_crash_worker.py``) whose fake evaluator marks every
evaluation start with a file and then sleeps, so the test can kill it inside one.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from petridish.search.loop import SearchConfig, run_search
from petridish.search.space import SlopeSpace
from petridish.search.strategies import RandomStrategy
from petridish.store import Store, StoreError

WORKER = Path(__file__).with_name("_crash_worker.py")
BUDGET = 25
KILL_AT = 13  # the 13th evaluation: the 3rd of iteration 1 (warm-up 10, 5 per iteration)


def _start(store: Path, markers: Path, out: Path, sleep: float) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, str(WORKER), str(store), str(markers), str(out), str(sleep), str(BUDGET)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def _finish(proc: subprocess.Popen[bytes]) -> None:
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err.decode()[-2000:]


def _starts(markers: Path) -> Counter[str]:
    return Counter(p.name.split(".")[0] for p in markers.iterdir())


def _stored(path: Path) -> list[str]:
    with Store(path) as store:
        return [e.motif_hash for e in store.evaluations()]


def test_sigkill_mid_evaluation_then_resume(tmp_path: Path) -> None:
    store, markers = tmp_path / "store.db", tmp_path / "markers"
    markers.mkdir()
    proc = _start(store, markers, tmp_path / "killed.json", sleep=0.5)
    deadline = time.monotonic() + 120
    while len(list(markers.iterdir())) < KILL_AT:
        assert proc.poll() is None, proc.communicate()[1].decode()[-2000:]
        assert time.monotonic() < deadline, "the worker never reached the kill point"
        time.sleep(0.01)
    time.sleep(0.05)  # well inside that evaluation's 0.5 s
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL

    started = sorted(markers.iterdir(), key=lambda p: int(p.name.split(".")[-1]))
    in_flight_digest = started[-1].name.split(".")[0]
    finished = _stored(store)
    # Every evaluation finished before the kill is there; the killed one left no trace.
    assert [p.name.split(".")[0] for p in started[:-1]] == finished
    assert in_flight_digest not in finished
    assert len(finished) >= KILL_AT - 1

    proc = _start(store, markers, tmp_path / "resumed.json", sleep=0.0)
    _finish(proc)
    resumed = json.loads((tmp_path / "resumed.json").read_text())
    starts = _starts(markers)
    assert all(starts[d] == 1 for d in finished)  # none of them was run again
    assert starts[in_flight_digest] == 2  # only the interrupted one was redone
    assert sum(starts.values()) == BUDGET + 1
    after = _stored(store)
    assert len(after) == len(set(after)) == BUDGET  # nothing stored twice
    assert set(finished) <= set(after)
    assert resumed["reused"] == len(finished)

    clean_markers = tmp_path / "clean_markers"
    clean_markers.mkdir()
    proc = _start(tmp_path / "clean.db", clean_markers, tmp_path / "clean.json", sleep=0.0)
    _finish(proc)
    clean = json.loads((tmp_path / "clean.json").read_text())
    assert resumed["digests"] == clean["digests"]
    assert resumed["losses"] == clean["losses"]


class _Const:
    name = "const"
    protocol = "p"

    def evaluate(self, motif: object, seed: int) -> object:
        raise AssertionError("a bad store must be refused before anything is evaluated")


@pytest.mark.parametrize("kind", ["garbage", "foreign_sqlite", "truncated"])
def test_bad_store_file_is_a_clear_store_error(tmp_path: Path, kind: str) -> None:
    path = tmp_path / f"{kind}.db"
    if kind == "garbage":
        path.write_bytes(os.urandom(4096))
    elif kind == "foreign_sqlite":
        with sqlite3.connect(path) as conn:
            conn.execute("CREATE TABLE people (name TEXT)")
    else:
        with Store(path) as store:
            store.start_run("r", {})
        data = path.read_bytes()
        path.write_bytes(data[: len(data) // 3] + b"\0" * 1000)
    config = SearchConfig(
        space="slope", strategy="random", use_dish=False, budget_evals=5, warmup=5
    )
    with pytest.raises(StoreError, match=path.name), Store(path) as store:
        run_search(
            config, space=SlopeSpace(), strategy=RandomStrategy(), evaluator=_Const(), store=store
        )  # type: ignore[arg-type]
