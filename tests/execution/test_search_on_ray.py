"""Issue 16's acceptance on a real local Ray cluster (conftest.py): a search through Ray
stores what the in-process search stores, and a driver SIGKILLed mid-run resumes with every
evaluation stored exactly once. (A worker SIGKILLed mid-evaluation: test_ray_backend.py;
an unreachable ``--ray-address``: tests/cli/test_cli_ray_options.py.)"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from _fakes import FakeEvaluator

import petridish
from petridish.cli import main
from petridish.store import Store

HERE = Path(__file__).resolve().parent
SRC = Path(petridish.__file__).resolve().parents[1]
DRIVER = HERE / "_ray_driver.py"


def _rows(path: Path) -> list[tuple[str, str, int, str, float | None]]:
    """Every stored evaluation as (motif, evaluator/protocol, seed, status, loss), sorted:
    the store's content whatever order the outcomes arrived in."""
    with Store(path) as store:
        rows = [
            (e.motif_hash, f"{e.evaluator}/{e.protocol}", e.seed, e.status, e.loss)
            for e in store.evaluations()
        ]
        assert store.failed_attempts() == []
    return sorted(rows)


def test_slope_search_through_ray_stores_the_in_process_results(
    ray_address: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data_dir = os.environ.get("PETRIDISH_DATA_DIR")
    if not data_dir or not (Path(data_dir) / "mnist").is_dir():
        pytest.skip(f"no MNIST under PETRIDISH_DATA_DIR={data_dir!r} (optional resource)")
    # MNIST 'tiny', warm-up 4, 2 per iteration, budget 8: the real trainer, briefly.
    argv = ["search", "--space", "slope", "--strategy", "ga", "--predictor", "none"]
    argv += ["--warmup", "4", "--per-iteration", "2", "--proposals", "12", "--budget", "8"]
    argv += ["--protocol", "tiny", "--data-dir", data_dir, "--seed", "3", "--quiet"]
    assert main([*argv, "--store", str(tmp_path / "local.db")]) == 0
    local_out = capsys.readouterr().out
    assert main([*argv, "--store", str(tmp_path / "ray.db"), "--ray-address", ray_address]) == 0
    ray_out = capsys.readouterr().out
    local, on_ray = _rows(tmp_path / "local.db"), _rows(tmp_path / "ray.db")
    assert len(local) == 8 and all(row[3] == "ok" for row in local)
    assert on_ray == local
    # The same run, the same iterations, the same best motif.
    with Store(tmp_path / "local.db") as a, Store(tmp_path / "ray.db") as b:
        (run,) = a.runs()
        assert [r.evaluated for r in b.iterations(run.run_id)] == [
            r.evaluated for r in a.iterations(run.run_id)
        ]
    assert local_out.splitlines()[-2] == ray_out.splitlines()[-2]  # "best loss ...: motif"


def _driver(address: str, store: Path, out: Path, sleep: float) -> subprocess.Popen[str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(SRC), str(HERE)) if p)
    return subprocess.Popen(
        [sys.executable, str(DRIVER), address, str(store), str(out), str(sleep)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def test_a_killed_driver_resumes_and_stores_every_evaluation_once(
    ray_address: str, tmp_path: Path
) -> None:
    from _ray_driver import CONFIG, search

    db = tmp_path / "store.db"
    proc = _driver(ray_address, db, tmp_path / "killed.json", sleep=0.5)
    assert proc.stdout is not None
    deadline = time.monotonic() + 120
    for line in proc.stdout:  # "spent N" after every recorded evaluation
        if line.strip() == f"spent {CONFIG.warmup}":
            break
        assert time.monotonic() < deadline, "the driver never finished its warm-up"
    else:
        pytest.fail(f"the driver ended early: {proc.wait()} {proc.stderr.read()[-2000:]}")  # type: ignore[union-attr]
    # Iteration 1's evaluations are now submitted (or about to be) and take 0.5 s each.
    time.sleep(0.2)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    proc.stdout.close()
    proc.stderr.close()  # type: ignore[union-attr]

    with Store(db) as store:
        before = {e.id: (e.motif_hash, e.loss) for e in store.evaluations()}
    assert len(before) == CONFIG.warmup  # the warm-up, recorded; nothing of iteration 1

    proc = _driver(ray_address, db, tmp_path / "resumed.json", sleep=0.0)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err[-3000:]
    resumed = json.loads((tmp_path / "resumed.json").read_text())

    with Store(db) as store:
        after = {e.id: (e.motif_hash, e.loss) for e in store.evaluations()}
        keys = [(e.motif_hash, e.seed) for e in store.evaluations()]
        assert store.failed_attempts() == []
    assert {i: after[i] for i in before} == before  # kept, not redone
    assert len(after) == len(keys) == len(set(keys)) == CONFIG.budget_evals  # each once
    # The resumed run is the run that was never interrupted (here: in process).
    with Store(tmp_path / "clean.db") as clean:
        expected = search(clean, FakeEvaluator())
    assert resumed == expected
