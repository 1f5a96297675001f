"""Two writer processes on one store file: every key stored exactly once, no corruption."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

from petridish.motifs import SigmoidSlope
from petridish.store import Store

N_PER_WRITER = 200
OVERLAP = 100  # writer 1 records slopes 0..199, writer 2 slopes 100..299: 100 keys in both

_WRITER = """
import json, sys, time
from pathlib import Path
from petridish.evaluators import Outcome
from petridish.motifs import SigmoidSlope
from petridish.store import Store

path, go = sys.argv[1], Path(sys.argv[5])
writer, first, count = (int(a) for a in sys.argv[2:5])
store = Store(path, timeout=60)
print("READY", flush=True)
while not go.exists():  # start both writers together, so their transactions interleave
    time.sleep(0.005)
ids = {}
for i in range(first, first + count):
    motif = SigmoidSlope(0.001 * (i + 1))
    ev = store.record(motif, "fake", "unit", 0,
                      Outcome("ok", loss=float(i), metrics={"writer": float(writer)}),
                      wall_seconds=0.0, started_at=time.time())
    ids[str(i)] = [ev.id, ev.metrics["writer"]]
run = store.start_run("shared", {"n": 1})
it = store.log_iteration("shared", 0, proposed=[SigmoidSlope(1.0)], predicted=[float(writer)],
                         evaluated=[])
store.close()
print(json.dumps({"ids": ids, "predicted": it.predicted[0]}), flush=True)
"""


def _start(path: Path, writer: int, first: int, go: Path) -> subprocess.Popen[str]:
    args = [str(path), str(writer), str(first), str(N_PER_WRITER), str(go)]
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(_WRITER), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_two_writer_processes(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    go = tmp_path / "go"
    procs = [_start(path, 1, 0, go), _start(path, 2, N_PER_WRITER - OVERLAP, go)]
    for proc in procs:
        assert proc.stdout is not None
        line = proc.stdout.readline().strip()
        if line != "READY":
            proc.kill()
            raise AssertionError(f"writer did not start: {line!r} {proc.communicate()[1]}")
    go.touch()
    reports = []
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        reports.append(json.loads(out.strip().splitlines()[-1]))

    n_keys = 2 * N_PER_WRITER - OVERLAP
    with Store(path) as store:
        evaluations = store.evaluations()
        assert len(evaluations) == n_keys
        by_index = {int(e.loss): e for e in evaluations}  # type: ignore[arg-type]
        assert sorted(by_index) == list(range(n_keys))  # every key present exactly once
        assert len({e.motif_hash for e in evaluations}) == n_keys
        for i, ev in by_index.items():
            assert ev.motif == SigmoidSlope(0.001 * (i + 1))
        # Both writers were told the same stored row for every overlapping key.
        for report in reports:
            for i, (eid, writer) in report["ids"].items():
                assert by_index[int(i)].id == eid
                assert by_index[int(i)].metrics["writer"] == writer
        # Both writers logged iteration 0 of one run; the first one's row was kept.
        (iteration,) = store.iterations("shared")
        assert iteration.predicted is not None
        assert {r["predicted"] for r in reports} == {iteration.predicted[0]}
        assert len(store.runs()) == 1
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    conn.close()
