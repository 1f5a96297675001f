"""Files that are not stores, corruption, bad input, and crashes: clear errors, no half rows."""

from __future__ import annotations

import json
import math
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from petridish.evaluators import Outcome
from petridish.motifs import Motif, SigmoidSlope
from petridish.store import FORMAT_VERSION, Store, StoreError
from petridish.store import sqlite as store_sqlite


def _filled(path: Path, n: int) -> None:
    with Store(path) as store:
        for i in range(n):
            store.record(
                SigmoidSlope(0.01 * (i + 1)),
                "fake",
                "unit",
                0,
                Outcome("ok", loss=float(i), metrics={"accuracy": 0.5}, curve=(1.0,) * 20),
                wall_seconds=0.0,
                started_at=0.0,
            )


def _store_error(path: Path) -> str:
    with pytest.raises(StoreError) as err:
        Store(path)
    message = str(err.value)
    assert str(path) in message
    return message


# -- files that are not (usable) stores --------------------------------------------------


def test_foreign_sqlite_database_is_refused_and_untouched(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE people (name TEXT)")
        conn.execute("INSERT INTO people VALUES ('ada')")
    conn.close()
    before = path.read_bytes()
    assert "not a petridish store" in _store_error(path)
    assert path.read_bytes() == before
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT name FROM people").fetchall() == [("ada",)]
    conn.close()


def test_random_bytes_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "noise.db"
    path.write_bytes(os.urandom(8192))
    assert "not a database" in _store_error(path)


def test_text_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "notes.db"
    path.write_text("slope,accuracy\n0.1,0.9\n" * 100)
    _store_error(path)


def test_truncated_store_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    _filled(path, 300)
    data = path.read_bytes()
    assert not (tmp_path / "store.db-wal").exists()  # closed: everything is in the main file
    truncated = tmp_path / "truncated.db"
    truncated.write_bytes(data[: len(data) // 2])
    _store_error(truncated)


def test_directory_is_refused(tmp_path: Path) -> None:
    assert "directory" in _store_error(tmp_path)


def test_missing_parent_directory_is_refused(tmp_path: Path) -> None:
    assert "does not exist" in _store_error(tmp_path / "nope" / "store.db")


def test_newer_format_version_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    _filled(path, 1)
    with sqlite3.connect(path) as conn:
        conn.execute(f"PRAGMA user_version = {FORMAT_VERSION + 1}")
    conn.close()
    message = _store_error(path)
    assert f"version {FORMAT_VERSION + 1} is newer" in message


def test_version_1_store_is_upgraded_and_its_failures_retried(tmp_path: Path) -> None:
    """A store written before failed evaluations became retryable (format 1, where they
    were final) opens as format 2; its failed rows are run again, its results kept."""
    path = tmp_path / "v1.db"
    conn = sqlite3.connect(path, isolation_level=None)
    for statement in store_sqlite._SCHEMA_V1.split(";"):
        if statement.strip():
            conn.execute(statement)
    conn.executemany(
        "INSERT INTO meta (key, value) VALUES (?, ?)",
        [("format", store_sqlite.FORMAT_NAME), ("version", "1"), ("created_at", "0")],
    )
    conn.execute(f"PRAGMA application_id = {store_sqlite.APPLICATION_ID}")
    conn.execute("PRAGMA user_version = 1")
    conn.close()
    # Rows as format 1 wrote them (the record path is the same for both formats).
    with sqlite3.connect(path, isolation_level=None) as raw:
        for slope, status, loss in ((0.5, "ok", 0.5), (0.6, "failed", None)):
            m = SigmoidSlope(slope)
            raw.execute(
                "INSERT INTO evaluations (motif_hash, motif_kind, motif_json, evaluator, "
                "protocol, seed, status, loss, metrics, curve, reason, wall_seconds, "
                "started_at, finished_at) VALUES (?, ?, ?, 'fake', 'unit', 0, ?, ?, '{}', "
                "'[]', '', 0, 0, 0)",
                (m.digest, m.kind, m.canonical(), status, loss),
            )
    raw.close()
    calls: list[float] = []

    class Fake:
        name, protocol = "fake", "unit"

        def evaluate(self, motif: Motif, seed: int) -> Outcome:
            assert isinstance(motif, SigmoidSlope)
            calls.append(motif.slope)
            return Outcome("ok", loss=motif.slope)

    with Store(path) as store:
        got = store.evaluate_many([SigmoidSlope(0.5), SigmoidSlope(0.6)], Fake(), 0)
        assert [e.status for e in got] == ["ok", "ok"] and calls == [0.6]
        assert [e.motif for e in store.failed_attempts()] == [SigmoidSlope(0.6)]
    with sqlite3.connect(path) as raw:
        assert raw.execute("PRAGMA user_version").fetchone()[0] == FORMAT_VERSION == 2
        assert raw.execute("SELECT value FROM meta WHERE key = 'version'").fetchone() == ("2",)
    raw.close()
    with Store(path) as store:  # opens cleanly as format 2
        assert len(store) == 2


def test_damaged_meta_table_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    _filled(path, 1)
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE meta SET value = 'something-else' WHERE key = 'format'")
    conn.close()
    assert "'something-else'" in _store_error(path)


def test_empty_file_becomes_a_store(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    path.touch()
    with Store(path) as store:
        assert len(store) == 0
        with sqlite3.connect(path) as conn:
            assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        conn.close()


def test_hash_mismatch_is_corruption(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    _filled(path, 2)
    with sqlite3.connect(path) as conn:
        conn.execute(
            "UPDATE evaluations SET motif_json = ? WHERE id = 2",
            (SigmoidSlope(9.0).canonical(),),
        )
    conn.close()
    with Store(path) as store:
        assert store.get(SigmoidSlope(0.01), "fake", "unit", 0) is not None  # row 1 is fine
        with pytest.raises(StoreError, match="evaluation 2 is corrupted"):
            store.evaluations()
        with pytest.raises(StoreError, match=str(path)):
            store.get(SigmoidSlope(0.02), "fake", "unit", 0)


def test_closed_store_says_so(tmp_path: Path) -> None:
    store = Store(tmp_path / "store.db")
    store.close()
    store.close()  # twice is harmless
    with pytest.raises(StoreError, match="closed"):
        store.evaluations()


# -- bad input ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"seed": True}, "True"),
        ({"seed": 1.5}, "1.5"),
        ({"evaluator": ""}, "evaluator name"),
        ({"protocol": None}, "None"),
        ({"wall_seconds": -1.0}, "-1.0"),
        ({"wall_seconds": math.nan}, "nan"),
        ({"started_at": "yesterday"}, "'yesterday'"),
    ],
)
def test_record_rejects_bad_input(tmp_path: Path, kwargs: dict[str, object], match: str) -> None:
    args: dict[str, object] = {
        "motif": SigmoidSlope(1.0),
        "evaluator": "fake",
        "protocol": "unit",
        "seed": 0,
        "outcome": Outcome("ok", loss=0.5),
        "wall_seconds": 1.0,
        "started_at": 0.0,
    }
    args.update(kwargs)
    with Store(tmp_path / "store.db") as store:
        with pytest.raises(ValueError, match=match):
            store.record(**args)  # type: ignore[arg-type]
        assert len(store) == 0


def test_record_rejects_non_motifs_and_non_outcomes(tmp_path: Path) -> None:
    with Store(tmp_path / "store.db") as store:
        with pytest.raises(TypeError, match="float"):
            store.record(
                0.5,
                "f",
                "p",
                0,
                Outcome("ok", loss=1.0),  # type: ignore[arg-type]
                wall_seconds=0,
                started_at=0,
            )
        with pytest.raises(TypeError, match="dict"):
            store.record(
                SigmoidSlope(1.0),
                "f",
                "p",
                0,
                {"status": "ok"},  # type: ignore[arg-type]
                wall_seconds=0,
                started_at=0,
            )


@pytest.mark.parametrize("loss", [math.nan, math.inf, -math.inf])
def test_ok_outcome_needs_a_finite_loss(loss: float) -> None:
    with pytest.raises(ValueError, match=f"{loss!r}.*diverged"):
        Outcome("ok", loss=loss)


def test_outcome_validation() -> None:
    with pytest.raises(ValueError, match="None"):
        Outcome("ok")
    with pytest.raises(ValueError, match="'great'"):
        Outcome("great", loss=1.0)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="'accuracy'"):
        Outcome("ok", loss=1.0, metrics={"accuracy": "high"})  # type: ignore[dict-item]
    assert Outcome("diverged", metrics={"accuracy": math.nan}).loss is None


def test_config_must_be_json(tmp_path: Path) -> None:
    with Store(tmp_path / "store.db") as store:
        with pytest.raises(ValueError, match="'r'.*not JSON"):
            store.start_run("r", {"dish": object()})
        assert store.runs() == []


def test_store_timeout_is_checked(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="-1"):
        Store(tmp_path / "store.db", timeout=-1)


# -- crashes -----------------------------------------------------------------------------


def test_failure_inside_the_write_transaction_leaves_no_row(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "store.db"
    with Store(path) as store:

        def explode(*args: object) -> None:
            raise RuntimeError("disk on fire")

        # The row is read back inside the transaction, after the INSERT: fail there.
        monkeypatch.setattr(store_sqlite, "_row_to_evaluation", explode)
        with pytest.raises(RuntimeError, match="disk on fire"):
            store.record(
                SigmoidSlope(1.0),
                "fake",
                "unit",
                0,
                Outcome("ok", loss=0.5),
                wall_seconds=0,
                started_at=0,
            )
        monkeypatch.undo()
        assert len(store) == 0
        ev = store.record(
            SigmoidSlope(1.0),
            "fake",
            "unit",
            0,
            Outcome("ok", loss=0.25),
            wall_seconds=0,
            started_at=0,
        )
        assert ev.loss == 0.25 and len(store) == 1


def _spawn(script: str, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(script), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_for_line(proc: subprocess.Popen[str], expected: str, timeout: float = 60.0) -> None:
    assert proc.stdout is not None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if line.strip() == expected:
            return
        if not line and proc.poll() is not None:
            break
    proc.kill()
    _, err = proc.communicate()
    raise AssertionError(f"child never printed {expected!r}; stderr:\n{err}")


_HOLD_TRANSACTION = """
import sys, time
from petridish.evaluators import Outcome
from petridish.motifs import SigmoidSlope
from petridish.store import Store
from petridish.store import sqlite as store_sqlite

def hold(*args):
    print("INSIDE", flush=True)  # the INSERT is done, the COMMIT is not
    time.sleep(600)

store = Store(sys.argv[1])
store.record(SigmoidSlope(0.1), "fake", "unit", 0, Outcome("ok", loss=0.1),
             wall_seconds=0, started_at=0)
store_sqlite._row_to_evaluation = hold
store.record(SigmoidSlope(0.2), "fake", "unit", 0, Outcome("ok", loss=0.2),
             wall_seconds=0, started_at=0)
"""


def test_sigkill_inside_a_write_transaction_leaves_no_row(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    Store(path).close()
    proc = _spawn(_HOLD_TRANSACTION, str(path))
    _wait_for_line(proc, "INSIDE")
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    with Store(path, timeout=5) as store:
        assert [e.motif for e in store.evaluations()] == [SigmoidSlope(0.1)]
        assert store.get(SigmoidSlope(0.2), "fake", "unit", 0) is None
        ev = store.record(
            SigmoidSlope(0.2),
            "fake",
            "unit",
            0,
            Outcome("ok", loss=0.2),
            wall_seconds=0,
            started_at=0,
        )  # the write lock was released
        assert ev.loss == 0.2
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    conn.close()


_SLOW_EVALUATIONS = """
import json, sys, time
from petridish.evaluators import Outcome
from petridish.motifs import SigmoidSlope
from petridish.store import Store

class Slow:
    name = "slow"
    protocol = "unit"
    def evaluate(self, motif, seed):
        print("START", motif.slope, flush=True)
        if motif.slope >= 0.3:
            time.sleep(600)  # killed in the middle of this evaluation
        return Outcome("ok", loss=motif.slope)

store = Store(sys.argv[1])
store.evaluate_many([SigmoidSlope(s) for s in json.loads(sys.argv[2])], Slow(), 0)
"""


class _Counting:
    name = "slow"
    protocol = "unit"

    def __init__(self) -> None:
        self.calls: list[float] = []

    def evaluate(self, motif: Motif, seed: int) -> Outcome:
        assert isinstance(motif, SigmoidSlope)
        self.calls.append(motif.slope)
        return Outcome("ok", loss=motif.slope)


def test_sigkill_during_an_evaluation_loses_and_repeats_nothing(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    slopes = [0.1, 0.2, 0.3, 0.4]
    proc = _spawn(_SLOW_EVALUATIONS, str(path), json.dumps(slopes))
    _wait_for_line(proc, "START 0.3")
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    evaluator = _Counting()
    with Store(path, timeout=5) as store:
        finished = store.evaluations()
        assert [e.motif for e in finished] == [SigmoidSlope(0.1), SigmoidSlope(0.2)]
        result = store.evaluate_many([SigmoidSlope(s) for s in slopes], evaluator, 0)
        assert evaluator.calls == [0.3, 0.4]  # only the unfinished ones are run
        assert result[:2] == finished
        assert [e.loss for e in result] == slopes
        assert len(store) == 4
