"""The results database on one SQLite file: crash-safe, shared by processes.

Contract:

* One current evaluation per key ``(motif_hash, evaluator, protocol, seed)``. ``record``
  of a key that is already stored with status ``ok`` or ``diverged`` (a result) returns
  the stored row unchanged, never a duplicate, so any number of processes may race to
  record the same key. A stored ``failed`` evaluation is not a result: recording the key
  again replaces it, and the failed attempt moves to the key's history (``history``,
  ``failed_attempts``) in the same transaction.
* An evaluation is written in one ``BEGIN IMMEDIATE`` transaction: a process killed (even
  with SIGKILL) before the commit leaves no trace of it, and one killed after the commit
  loses nothing (WAL journal, ``synchronous=FULL``). Writers wait for each other up to
  ``timeout`` seconds (the busy timeout), then fail with ``StoreError``.
* The motif's canonical JSON is stored beside its hash; every read checks that the hash
  of the stored JSON is the stored hash, and that it rebuilds a motif with that hash. A
  mismatch is corruption: ``StoreError``.
* ``Store.evaluate``/``evaluate_many`` never run an evaluation whose result is stored
  (``ok`` or ``diverged``: ``diverged`` is a training outcome, final); a ``failed`` one is
  run again. An exception raised by the evaluator (any ``Exception``, not
  ``KeyboardInterrupt``/``SystemExit``) is recorded as status ``"failed"`` with
  ``"ExcType: message"`` as the reason, except ``GroundTruthUnavailable`` (no motif can be
  evaluated at all): nothing is recorded and it propagates to the caller.
* Non-finite numbers: an ``"ok"`` outcome with a NaN/inf loss cannot exist (``Outcome``
  raises ``ValueError`` naming the value; evaluators report ``"diverged"`` instead).
  Metrics, curves, configs, summaries and extras are stored as JSON with Python's
  ``allow_nan`` extension, so NaN and +-inf round-trip exactly (as the tokens ``NaN``,
  ``Infinity``, ``-Infinity``); other non-JSON values are a ``ValueError``.
* A file that is not a petridish store is refused with ``StoreError`` naming the path:
  another SQLite database, bytes that are not SQLite, a truncated or damaged store (a
  ``PRAGMA quick_check`` runs at open), a directory, or a store written by a newer
  format version. The format is marked three ways: ``PRAGMA application_id``,
  ``PRAGMA user_version`` and a ``meta`` table (format name and version). Version 2 added
  the ``failed_attempts`` table; a version 1 store is upgraded when opened.
* Records returned are frozen snapshots; a ``Store`` may be shared by threads (its
  connection is guarded by a lock) but not across ``fork``: open one per process.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from types import TracebackType
from typing import Any

import petridish.motifs  # noqa: F401  (registers every motif kind, so rows can be rebuilt)
from petridish._logging import logger
from petridish._validation import (
    finite_float,
    integer,
    nonnegative_float,
    nonnegative_int,
    number,
    positive_int,
)
from petridish.evaluators.base import (
    STATUSES,
    Evaluator,
    GroundTruthUnavailable,
    Outcome,
    evaluate_batch,
    has_evaluate_many,
)
from petridish.motifs.base import Motif, motif_from_json
from petridish.store.records import Evaluation, IterationRecord, RunRecord, StoreError

FORMAT_NAME = "petridish-store"
FORMAT_VERSION = 2
# "PDSH" as a big-endian 32-bit integer: marks the file as ours in its SQLite header.
APPLICATION_ID = 0x50445348

ProgressFn = Callable[[int, int], None]

_SCHEMA_V1 = """
CREATE TABLE meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE evaluations (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    motif_hash TEXT NOT NULL,
    motif_kind TEXT NOT NULL,
    motif_json TEXT NOT NULL,
    evaluator TEXT NOT NULL,
    protocol TEXT NOT NULL,
    seed INTEGER NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('ok', 'failed', 'diverged')),
    loss REAL,
    metrics TEXT NOT NULL,
    curve TEXT NOT NULL,
    reason TEXT NOT NULL,
    wall_seconds REAL NOT NULL,
    started_at REAL NOT NULL,
    finished_at REAL NOT NULL,
    UNIQUE (motif_hash, evaluator, protocol, seed)
);
CREATE INDEX evaluations_by_evaluator ON evaluations (evaluator, protocol);
CREATE TABLE runs (
    run_id TEXT PRIMARY KEY,
    config TEXT NOT NULL,
    created_at REAL NOT NULL,
    finished INTEGER NOT NULL DEFAULT 0,
    summary TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE iterations (
    run_id TEXT NOT NULL REFERENCES runs (run_id),
    iteration INTEGER NOT NULL,
    proposed TEXT NOT NULL,
    predicted TEXT,
    evaluated TEXT NOT NULL,
    extra TEXT NOT NULL,
    created_at REAL NOT NULL,
    PRIMARY KEY (run_id, iteration)
);
"""
# Version 2: failed attempts that a later attempt replaced (same columns, kept ids).
_SCHEMA_V2_ADDED = """
CREATE TABLE failed_attempts (
    id INTEGER PRIMARY KEY,
    motif_hash TEXT NOT NULL,
    motif_kind TEXT NOT NULL,
    motif_json TEXT NOT NULL,
    evaluator TEXT NOT NULL,
    protocol TEXT NOT NULL,
    seed INTEGER NOT NULL,
    status TEXT NOT NULL CHECK (status = 'failed'),
    loss REAL,
    metrics TEXT NOT NULL,
    curve TEXT NOT NULL,
    reason TEXT NOT NULL,
    wall_seconds REAL NOT NULL,
    started_at REAL NOT NULL,
    finished_at REAL NOT NULL,
    replaced_at REAL NOT NULL
);
CREATE INDEX failed_attempts_by_key ON failed_attempts (motif_hash, evaluator, protocol, seed);
"""
_SCHEMA = _SCHEMA_V1 + _SCHEMA_V2_ADDED

_EVAL_COLUMNS = (
    "id, motif_hash, motif_kind, motif_json, evaluator, protocol, seed, status, loss, "
    "metrics, curve, reason, wall_seconds, started_at, finished_at"
)


class Store:
    """The results database in the SQLite file ``path`` (created when missing)."""

    def __init__(self, path: str | os.PathLike[str], *, timeout: float = 30.0) -> None:
        self.path = Path(path)
        self.timeout = nonnegative_float(timeout, "store timeout")
        if self.path.is_dir():
            raise StoreError(f"{self.path}: is a directory, not a petridish store file")
        if not self.path.parent.is_dir():
            raise StoreError(f"{self.path}: parent directory {self.path.parent} does not exist")
        self._lock = threading.RLock()
        try:
            # isolation_level=None: the module opens no implicit transactions; every write
            # below opens its own BEGIN IMMEDIATE, so the write lock is taken up front and
            # the busy timeout applies there instead of failing at COMMIT.
            self._conn: sqlite3.Connection | None = sqlite3.connect(
                self.path, timeout=self.timeout, isolation_level=None, check_same_thread=False
            )
        except sqlite3.Error as exc:
            raise StoreError(f"{self.path}: cannot open as a SQLite database ({exc})") from exc
        try:
            self._open()
        except BaseException:
            self._conn.close()
            self._conn = None
            raise
        logger.debug("opened store %s", self.path)

    # -- opening and format checks -------------------------------------------------------

    def _open(self) -> None:
        conn = self._connection()
        try:
            # One read transaction: a consistent snapshot, so a store that another process
            # is creating right now reads as either empty or complete, never half made.
            conn.execute("BEGIN")
            try:
                app_id = conn.execute("PRAGMA application_id").fetchone()[0]
                version = conn.execute("PRAGMA user_version").fetchone()[0]
                n_objects = conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
            finally:
                conn.execute("COMMIT")
        except sqlite3.DatabaseError as exc:
            raise StoreError(
                f"{self.path}: not a petridish store, or a damaged one: SQLite says {exc!s}"
            ) from exc
        if app_id == 0 and version == 0 and n_objects == 0:
            self._initialise()
        elif app_id != APPLICATION_ID:
            raise StoreError(
                f"{self.path}: not a petridish store (a SQLite database with application_id "
                f"{app_id:#x} and {n_objects} schema objects; expected {APPLICATION_ID:#x})"
            )
        with self._translate("configuring"):
            conn.execute(f"PRAGMA busy_timeout = {int(self.timeout * 1000)}")
            # WAL lets readers proceed while one writer commits; FULL syncs the WAL at every
            # commit, so a finished evaluation survives a power loss, not only a crash.
            mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            conn.execute("PRAGMA synchronous = FULL")
        if str(mode).lower() != "wal":
            logger.warning("store %s: journal mode is %s, not wal", self.path, mode)
        self._check_format()

    def _initialise(self) -> None:
        conn = self._connection()
        with self._translate("creating"):
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("BEGIN IMMEDIATE")
            try:
                # Another process may have created the store between our check and the lock.
                if conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0] == 0:
                    for statement in _SCHEMA.split(";"):
                        if statement.strip():
                            conn.execute(statement)
                    conn.executemany(
                        "INSERT INTO meta (key, value) VALUES (?, ?)",
                        [
                            ("format", FORMAT_NAME),
                            ("version", str(FORMAT_VERSION)),
                            ("created_at", repr(time.time())),
                        ],
                    )
                    conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
                    conn.execute(f"PRAGMA user_version = {FORMAT_VERSION}")
                    logger.info("created store %s", self.path)
                conn.execute("COMMIT")
            except BaseException:
                _rollback(conn)
                raise

    def _check_format(self) -> None:
        conn = self._connection()
        with self._translate("checking"):
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if version > FORMAT_VERSION:
                raise StoreError(
                    f"{self.path}: store format version {version} is newer than this "
                    f"petridish supports ({FORMAT_VERSION}); upgrade petridish"
                )
            problems = [row[0] for row in conn.execute("PRAGMA quick_check")]
            if problems != ["ok"]:
                raise StoreError(f"{self.path}: store is damaged: {'; '.join(problems[:5])}")
            try:
                meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
            except sqlite3.OperationalError as exc:
                raise StoreError(f"{self.path}: store has no meta table ({exc})") from exc
        if meta.get("format") != FORMAT_NAME or meta.get("version") != str(version):
            raise StoreError(
                f"{self.path}: store meta table says format {meta.get('format')!r} version "
                f"{meta.get('version')!r}; expected {FORMAT_NAME!r} version {version}"
            )
        if version < FORMAT_VERSION:
            self._upgrade(version)

    def _upgrade(self, version: int) -> None:
        """Bring an older store up to ``FORMAT_VERSION`` in one transaction."""
        if version != 1:
            raise StoreError(f"{self.path}: store format version {version} is unknown")
        conn = self._connection()
        with self._lock, self._translate("upgrading"):
            conn.execute("BEGIN IMMEDIATE")
            try:
                # Another process may have upgraded it between our check and the lock.
                if conn.execute("PRAGMA user_version").fetchone()[0] == 1:
                    for statement in _SCHEMA_V2_ADDED.split(";"):
                        if statement.strip():
                            conn.execute(statement)
                    conn.execute(
                        "UPDATE meta SET value = ? WHERE key = 'version'", (str(FORMAT_VERSION),)
                    )
                    conn.execute(f"PRAGMA user_version = {FORMAT_VERSION}")
                    logger.info(
                        "store %s: upgraded from format version 1 to %d", self.path, FORMAT_VERSION
                    )
                conn.execute("COMMIT")
            except BaseException:
                _rollback(conn)
                raise

    # -- plumbing ------------------------------------------------------------------------

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            raise StoreError(f"{self.path}: store is closed")
        return self._conn

    @contextmanager
    def _translate(self, doing: str) -> Iterator[None]:
        """Turn SQLite's errors into a ``StoreError`` that names the file."""
        try:
            yield
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{self.path}: error {doing} the store: {exc}") from exc

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction: all of it is committed, or none of it."""
        with self._lock, self._translate("writing to"):
            conn = self._connection()
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
                conn.execute("COMMIT")
            except BaseException:
                _rollback(conn)
                raise

    @contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        with self._lock, self._translate("reading"):
            yield self._connection()

    def close(self) -> None:
        """Close the file; closing twice is harmless."""
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def __enter__(self) -> Store:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self._conn is None else "open"
        return f"Store({str(self.path)!r}, {state})"

    # -- evaluations ---------------------------------------------------------------------

    def get(self, motif: Motif, evaluator: str, protocol: str, seed: int) -> Evaluation | None:
        """The current evaluation of this key (any status, ``failed`` included), or None."""
        _check_motif(motif)
        seed = _check_key(evaluator, protocol, seed)
        with self._read() as conn:
            row = conn.execute(
                f"SELECT {_EVAL_COLUMNS} FROM evaluations "
                "WHERE motif_hash = ? AND evaluator = ? AND protocol = ? AND seed = ?",
                (motif.digest, evaluator, protocol, seed),
            ).fetchone()
        if row is None:
            return None
        evaluation = _row_to_evaluation(row, self.path)
        if evaluation.motif_json != motif.canonical():
            raise StoreError(
                f"{self.path}: evaluation {evaluation.id} has hash {motif.digest} but motif "
                f"{evaluation.motif_json}, not {motif.canonical()} (hash collision or corruption)"
            )
        return evaluation

    def record(
        self,
        motif: Motif,
        evaluator: str,
        protocol: str,
        seed: int,
        outcome: Outcome,
        *,
        wall_seconds: float,
        started_at: float,
    ) -> Evaluation:
        """Store one evaluation in one transaction and return it as stored.

        When the key already holds a result (``ok`` or ``diverged``, recorded by this or
        another process), nothing is written and the stored row is returned unchanged. When
        it holds a ``failed`` evaluation, that one moves to ``failed_attempts`` and this
        outcome is stored in its place (with a new id).
        """
        _check_motif(motif)
        seed = _check_key(evaluator, protocol, seed)
        if not isinstance(outcome, Outcome):
            raise TypeError(f"record needs an Outcome, got {type(outcome).__name__}")
        wall = finite_float(wall_seconds, "wall_seconds")
        if wall < 0:
            raise ValueError(f"wall_seconds must be >= 0, got {wall_seconds!r}")
        started = finite_float(started_at, "started_at")
        # Encode before the transaction: a bad value fails without touching the file.
        values = (
            motif.digest,
            motif.kind,
            motif.canonical(),
            evaluator,
            protocol,
            seed,
            outcome.status,
            outcome.loss,
            _dumps(dict(outcome.metrics), "metrics"),
            _dumps(list(outcome.curve), "curve"),
            outcome.reason,
            wall,
            started,
            time.time(),
        )
        key = (motif.digest, evaluator, protocol, seed)
        with self._write() as conn:
            stored = conn.execute(
                "SELECT id, status FROM evaluations "
                "WHERE motif_hash = ? AND evaluator = ? AND protocol = ? AND seed = ?",
                key,
            ).fetchone()
            if stored is not None and stored[1] == "failed":
                # A failure is not a result: it becomes history, the new attempt current.
                conn.execute(
                    f"INSERT INTO failed_attempts ({_EVAL_COLUMNS}, replaced_at) "
                    f"SELECT {_EVAL_COLUMNS}, ? FROM evaluations WHERE id = ?",
                    (time.time(), stored[0]),
                )
                conn.execute("DELETE FROM evaluations WHERE id = ?", (stored[0],))
            cursor = conn.execute(
                "INSERT INTO evaluations (motif_hash, motif_kind, motif_json, evaluator, "
                "protocol, seed, status, loss, metrics, curve, reason, wall_seconds, "
                "started_at, finished_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (motif_hash, evaluator, protocol, seed) DO NOTHING",
                values,
            )
            inserted = cursor.rowcount == 1
            row = conn.execute(
                f"SELECT {_EVAL_COLUMNS} FROM evaluations "
                "WHERE motif_hash = ? AND evaluator = ? AND protocol = ? AND seed = ?",
                (motif.digest, evaluator, protocol, seed),
            ).fetchone()
            evaluation = _row_to_evaluation(row, self.path)
        if not inserted:
            logger.debug(
                "store %s: %s/%s seed %d for %s already stored (id %d); kept the stored row",
                self.path,
                evaluator,
                protocol,
                seed,
                motif.canonical(),
                evaluation.id,
            )
        return evaluation

    def evaluate(self, motif: Motif, evaluator: Evaluator, seed: int) -> Evaluation:
        """The stored result, or run ``evaluator.evaluate`` once, record it, return it.

        A stored ``failed`` evaluation is run again (see ``record``).
        """
        _check_evaluator(evaluator)
        stored = self.get(motif, evaluator.name, evaluator.protocol, seed)
        if stored is not None and stored.status != "failed":
            return stored
        started_at = time.time()
        t0 = time.perf_counter()
        outcome = _run_one(evaluator, motif, seed)
        wall = time.perf_counter() - t0
        return self.record(
            motif,
            evaluator.name,
            evaluator.protocol,
            seed,
            outcome,
            wall_seconds=wall,
            started_at=started_at,
        )

    def evaluate_many(
        self,
        motifs: Sequence[Motif],
        evaluator: Evaluator,
        seed: int,
        progress: ProgressFn | None = None,
        *,
        batch_size: int | None = None,
    ) -> list[Evaluation]:
        """Evaluations of ``motifs`` in input order, running only the ones without a stored
        result (not stored, or stored as ``failed``).

        Missing motifs (each distinct one once) go through ``evaluators.evaluate_batch``
        (the one batching path): to ``evaluator.evaluate_many`` in batches of
        ``batch_size`` (all at once when None) when the evaluator has it, else to
        ``evaluate`` one at a time; each is recorded as soon as its outcome is known.
        A batch that raises is retried one motif at a time, so one bad motif cannot fail
        the others. ``progress(done, total)`` counts motifs, stored ones included.
        """
        _check_evaluator(evaluator)
        motifs = list(motifs)
        for motif in motifs:
            _check_motif(motif)
        if batch_size is not None:
            batch_size = positive_int(batch_size, "batch_size")
        name, protocol = evaluator.name, evaluator.protocol
        done: dict[str, Evaluation] = {}
        missing: dict[str, Motif] = {}  # canonical JSON -> motif; each distinct motif once
        for motif in motifs:
            key = motif.canonical()
            if key in done or key in missing:
                continue
            stored = self.get(motif, name, protocol, seed)
            if stored is None or stored.status == "failed":
                missing[key] = motif
            else:
                done[key] = stored
        keys = [m.canonical() for m in motifs]
        total = len(motifs)

        def report() -> None:
            if progress is not None:
                progress(sum(key in done for key in keys), total)

        report()
        if not missing:
            return [done[key] for key in keys]
        logger.info(
            "store %s: %d of %d evaluations to run (%s/%s, seed %d)",
            self.path,
            len(missing),
            total,
            name,
            protocol,
            seed,
        )
        todo = list(missing.values())
        batched = has_evaluate_many(evaluator)
        # Without evaluate_many the batches hold one motif: evaluate_batch then calls
        # evaluate, and each outcome is recorded before the next motif starts.
        step = 1 if not batched else len(todo) if batch_size is None else batch_size
        for lo in range(0, len(todo), step):
            batch = todo[lo : lo + step]
            if not batched:
                # As in ``evaluate``: another process may have stored a result while the
                # motifs before this one ran; then it is not run again.
                stored = self.get(batch[0], name, protocol, seed)
                if stored is not None and stored.status != "failed":
                    done[batch[0].canonical()] = stored
                    report()
                    continue
            started_at = time.time()
            t0 = time.perf_counter()
            try:
                outcomes = evaluate_batch(evaluator, batch, seed)
                if batched and not all(isinstance(o, Outcome) for o in outcomes):
                    raise TypeError("evaluate_many returned items that are not Outcomes")
            except GroundTruthUnavailable:
                raise  # nothing can be evaluated: not a failure of these motifs
            except Exception as exc:
                if not batched:
                    outcomes = [_failed(evaluator, batch[0], seed, exc)]
                else:
                    logger.warning(
                        "store %s: batched %s/%s failed (%s: %s); evaluating one at a time",
                        self.path,
                        name,
                        protocol,
                        type(exc).__name__,
                        exc,
                    )
                    for motif in batch:
                        done[motif.canonical()] = self.evaluate(motif, evaluator, seed)
                        report()
                    continue
            # The batch's time is shared equally: the motifs trained side by side.
            share = (time.perf_counter() - t0) / len(batch)
            for motif, outcome in zip(batch, outcomes, strict=True):
                done[motif.canonical()] = self.record(
                    motif,
                    name,
                    protocol,
                    seed,
                    _checked(outcome),
                    wall_seconds=share,
                    started_at=started_at,
                )
                report()
        return [done[key] for key in keys]

    def evaluations(
        self,
        *,
        evaluator: str | None = None,
        protocol: str | None = None,
        kind: str | None = None,
        status: str | None = None,
        seed: int | None = None,
    ) -> list[Evaluation]:
        """Stored evaluations matching every given filter, ordered by id (insertion)."""
        if status is not None and status not in STATUSES:
            raise ValueError(f"status filter must be one of {STATUSES}, got {status!r}")
        if seed is not None:
            seed = integer(seed, "seed filter")
        return self._select(
            "evaluations",
            evaluator=evaluator,
            protocol=protocol,
            motif_kind=kind,
            status=status,
            seed=seed,
        )

    def _select(self, table: str, **equal: Any) -> list[Evaluation]:
        """Rows of ``table`` (evaluations or failed_attempts) whose columns equal the given
        values (None = any), ordered by id."""
        wanted = {column: value for column, value in equal.items() if value is not None}
        where = " AND ".join(f"{column} = ?" for column in wanted)
        with self._read() as conn:
            rows = conn.execute(
                f"SELECT {_EVAL_COLUMNS} FROM {table}"
                + (f" WHERE {where}" if where else "")
                + " ORDER BY id",
                list(wanted.values()),
            ).fetchall()
        return [_row_to_evaluation(row, self.path) for row in rows]

    def __len__(self) -> int:
        with self._read() as conn:
            return int(conn.execute("SELECT count(*) FROM evaluations").fetchone()[0])

    def failed_attempts(
        self, *, evaluator: str | None = None, protocol: str | None = None
    ) -> list[Evaluation]:
        """Failed evaluations that a later attempt replaced, ordered by id (oldest first)."""
        return self._select("failed_attempts", evaluator=evaluator, protocol=protocol)

    def history(self, motif: Motif, evaluator: str, protocol: str, seed: int) -> list[Evaluation]:
        """Every attempt at this key, oldest first: the replaced failed attempts, then the
        current evaluation (if any)."""
        _check_motif(motif)
        seed = _check_key(evaluator, protocol, seed)
        key = (motif.digest, evaluator, protocol, seed)
        where = "WHERE motif_hash = ? AND evaluator = ? AND protocol = ? AND seed = ?"
        with self._read() as conn:
            rows = conn.execute(
                f"SELECT {_EVAL_COLUMNS} FROM failed_attempts {where} ORDER BY id", key
            ).fetchall()
            rows += conn.execute(f"SELECT {_EVAL_COLUMNS} FROM evaluations {where}", key).fetchall()
        return [_row_to_evaluation(row, self.path) for row in rows]

    # -- runs ----------------------------------------------------------------------------

    def start_run(self, run_id: str, config: Mapping[str, Any]) -> RunRecord:
        """Create run ``run_id``, or return it when it exists with an equal ``config``.

        A different config for an existing run is a ``StoreError`` naming the run (a resumed
        search must be the same search).
        """
        _check_run_id(run_id)
        if not isinstance(config, Mapping):
            raise ValueError(f"run config must be a mapping, got {type(config).__name__}")
        encoded = _dumps(dict(config), f"config of run {run_id!r}")
        with self._write() as conn:
            row = conn.execute(
                "SELECT run_id, config, created_at, finished, summary FROM runs WHERE run_id = ?",
                (run_id,),
            ).fetchone()
            if row is None:
                conn.execute(
                    "INSERT INTO runs (run_id, config, created_at) VALUES (?, ?, ?)",
                    (run_id, encoded, time.time()),
                )
                row = conn.execute(
                    "SELECT run_id, config, created_at, finished, summary FROM runs "
                    "WHERE run_id = ?",
                    (run_id,),
                ).fetchone()
            elif row[1] != encoded:
                raise StoreError(
                    f"{self.path}: run {run_id!r} exists with a different config: "
                    f"stored {row[1]}, given {encoded}"
                )
            else:
                logger.info("store %s: resuming run %r", self.path, run_id)
        return self._run_record(row)

    def get_run(self, run_id: str) -> RunRecord | None:
        _check_run_id(run_id)
        with self._read() as conn:
            row = conn.execute(
                "SELECT run_id, config, created_at, finished, summary FROM runs WHERE run_id = ?",
                (run_id,),
            ).fetchone()
        return None if row is None else self._run_record(row)

    def runs(self) -> list[RunRecord]:
        """Every run, in the order they were started."""
        with self._read() as conn:
            rows = conn.execute(
                "SELECT run_id, config, created_at, finished, summary FROM runs ORDER BY rowid"
            ).fetchall()
        return [self._run_record(row) for row in rows]

    def finish_run(self, run_id: str, summary: Mapping[str, Any]) -> None:
        """Mark the run finished with ``summary`` (finishing again replaces the summary)."""
        _check_run_id(run_id)
        if not isinstance(summary, Mapping):
            raise ValueError(f"run summary must be a mapping, got {type(summary).__name__}")
        encoded = _dumps(dict(summary), f"summary of run {run_id!r}")
        with self._write() as conn:
            cursor = conn.execute(
                "UPDATE runs SET finished = 1, summary = ? WHERE run_id = ?", (encoded, run_id)
            )
            if cursor.rowcount != 1:
                raise ValueError(f"unknown run {run_id!r} in store {self.path}")

    def log_iteration(
        self,
        run_id: str,
        iteration: int,
        *,
        proposed: Sequence[Motif],
        predicted: Sequence[float] | None,
        evaluated: Sequence[Motif],
        extra: Mapping[str, Any] | None = None,
    ) -> IterationRecord:
        """Log one iteration of a run; logging an iteration again returns the stored row.

        ``predicted`` holds the dish's prediction for each proposed motif (same length as
        ``proposed``), or None when no dish was used.
        """
        _check_run_id(run_id)
        iteration = nonnegative_int(iteration, "iteration")
        for motif in (*proposed, *evaluated):
            _check_motif(motif)
        proposed_json = [m.canonical() for m in proposed]
        evaluated_json = [m.canonical() for m in evaluated]
        predicted_list: list[float] | None = None
        if predicted is not None:
            predicted_list = [number(p, "prediction") for p in predicted]
            if len(predicted_list) != len(proposed_json):
                raise ValueError(
                    f"got {len(predicted_list)} predictions for {len(proposed_json)} "
                    f"proposed motifs in iteration {iteration} of run {run_id!r}"
                )
        what = f"iteration {iteration} of run {run_id!r}"
        values = (
            run_id,
            iteration,
            _dumps(proposed_json, what),
            None if predicted_list is None else _dumps(predicted_list, what),
            _dumps(evaluated_json, what),
            _dumps(dict(extra or {}), f"extra of {what}"),
            time.time(),
        )
        with self._write() as conn:
            if conn.execute("SELECT 1 FROM runs WHERE run_id = ?", (run_id,)).fetchone() is None:
                raise ValueError(f"unknown run {run_id!r} in store {self.path}; start_run first")
            cursor = conn.execute(
                "INSERT INTO iterations (run_id, iteration, proposed, predicted, evaluated, "
                "extra, created_at) VALUES (?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (run_id, iteration) DO NOTHING",
                values,
            )
            row = conn.execute(
                "SELECT run_id, iteration, proposed, predicted, evaluated, extra, created_at "
                "FROM iterations WHERE run_id = ? AND iteration = ?",
                (run_id, iteration),
            ).fetchone()
        if cursor.rowcount != 1 and tuple(row[2:6]) != values[2:6]:
            logger.warning(
                "store %s: %s was already logged with other content; kept the stored one",
                self.path,
                what,
            )
        return self._iteration_record(row)

    def iterations(self, run_id: str) -> list[IterationRecord]:
        """The run's logged iterations, by iteration number."""
        _check_run_id(run_id)
        with self._read() as conn:
            rows = conn.execute(
                "SELECT run_id, iteration, proposed, predicted, evaluated, extra, created_at "
                "FROM iterations WHERE run_id = ? ORDER BY iteration",
                (run_id,),
            ).fetchall()
        return [self._iteration_record(row) for row in rows]

    def discard_iterations(self, run_id: str, after: int) -> int:
        """Delete the run's logged iterations numbered above ``after``; returns how many.

        A resumed search does this when a retried evaluation changed what the later
        iterations would have learned from: they are redone (their evaluations stay
        stored and are read back where chosen again).
        """
        _check_run_id(run_id)
        after = integer(after, "after")
        with self._write() as conn:
            cursor = conn.execute(
                "DELETE FROM iterations WHERE run_id = ? AND iteration > ?", (run_id, after)
            )
        return int(cursor.rowcount)

    def _run_record(self, row: Sequence[Any]) -> RunRecord:
        run_id, config, created_at, finished, summary = row
        return RunRecord(
            run_id=run_id,
            config=_loads(config, self.path, f"config of run {run_id!r}"),
            created_at=float(created_at),
            finished=bool(finished),
            summary=_loads(summary, self.path, f"summary of run {run_id!r}"),
        )

    def _iteration_record(self, row: Sequence[Any]) -> IterationRecord:
        run_id, iteration, proposed, predicted, evaluated, extra, created_at = row
        what = f"iteration {iteration} of run {run_id!r}"
        return IterationRecord(
            run_id=run_id,
            iteration=int(iteration),
            proposed=tuple(_loads(proposed, self.path, what)),
            predicted=None
            if predicted is None
            else tuple(float(p) for p in _loads(predicted, self.path, what)),
            evaluated=tuple(_loads(evaluated, self.path, what)),
            extra=_loads(extra, self.path, what),
            created_at=float(created_at),
        )


# -- helpers ---------------------------------------------------------------------------


def _rollback(conn: sqlite3.Connection) -> None:
    # When SQLite already ended the transaction there is nothing to roll back, and nothing
    # of it was committed.
    with suppress(sqlite3.Error):
        conn.execute("ROLLBACK")


def _run_one(evaluator: Evaluator, motif: Motif, seed: int) -> Outcome:
    """The evaluator's outcome, or a ``failed`` outcome carrying the exception it raised
    (``GroundTruthUnavailable`` propagates)."""
    try:
        outcome = evaluator.evaluate(motif, seed)
    except GroundTruthUnavailable:
        raise
    except Exception as exc:
        return _failed(evaluator, motif, seed, exc)
    return _checked(outcome)


def _failed(evaluator: Evaluator, motif: Motif, seed: int, exc: Exception) -> Outcome:
    """The ``failed`` outcome recording ``exc``, raised by the evaluator on ``motif``."""
    logger.warning(
        "evaluator %s/%s failed on %s (seed %d): %s: %s",
        evaluator.name,
        evaluator.protocol,
        motif.canonical(),
        seed,
        type(exc).__name__,
        exc,
    )
    return Outcome("failed", reason=f"{type(exc).__name__}: {exc}")


def _checked(outcome: object) -> Outcome:
    """``outcome`` if it is an ``Outcome``, else a ``failed`` one saying what came back."""
    if not isinstance(outcome, Outcome):
        return Outcome(
            "failed", reason=f"evaluator returned {type(outcome).__name__}, not an Outcome"
        )
    return outcome


def _row_to_evaluation(row: Sequence[Any], path: Path) -> Evaluation:
    """Decode one evaluations row, checking that the motif matches its hash."""
    (
        eid,
        motif_hash,
        motif_kind,
        motif_json,
        evaluator,
        protocol,
        seed,
        status,
        loss,
        metrics,
        curve,
        reason,
        wall_seconds,
        started_at,
        finished_at,
    ) = row
    where = f"{path}: evaluation {eid}"
    actual = hashlib.sha256(str(motif_json).encode()).hexdigest()[:16]
    if actual != motif_hash:
        raise StoreError(
            f"{where} is corrupted: stored hash {motif_hash} but its motif JSON hashes to {actual}"
        )
    try:
        motif = motif_from_json(json.loads(motif_json))
    except ValueError as exc:
        raise StoreError(f"{where}: cannot rebuild motif {motif_json}: {exc}") from exc
    if motif.digest != motif_hash or motif.kind != motif_kind:
        raise StoreError(
            f"{where} is corrupted: motif {motif_json} rebuilds as {motif.canonical()} "
            f"(kind {motif.kind}, stored kind {motif_kind})"
        )
    return Evaluation(
        id=int(eid),
        motif=motif,
        motif_kind=motif_kind,
        motif_json=motif_json,
        motif_hash=motif_hash,
        evaluator=evaluator,
        protocol=protocol,
        seed=int(seed),
        status=status,
        loss=None if loss is None else float(loss),
        metrics={str(k): float(v) for k, v in _loads(metrics, path, f"{where} metrics").items()},
        curve=tuple(float(v) for v in _loads(curve, path, f"{where} curve")),
        reason=reason,
        wall_seconds=float(wall_seconds),
        started_at=float(started_at),
        finished_at=float(finished_at),
    )


def _dumps(value: Any, what: str) -> str:
    """Canonical JSON (sorted keys, NaN/inf as Python's tokens); ``ValueError`` if not JSON."""
    try:
        return json.dumps(value, sort_keys=True, separators=(",", ":"), allow_nan=True)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{what} is not JSON-serialisable: {exc}") from None


def _loads(text: str, path: Path, what: str) -> Any:
    try:
        return json.loads(text)
    except (TypeError, ValueError) as exc:
        raise StoreError(f"{path}: {what} is not valid JSON ({exc})") from exc


def _check_motif(motif: object) -> None:
    if not isinstance(motif, Motif):
        raise TypeError(f"expected a Motif, got {type(motif).__name__}: {motif!r}")


def _check_key(evaluator: object, protocol: object, seed: object) -> int:
    """Check a key's evaluator and protocol names; return its seed as a plain int."""
    if not isinstance(evaluator, str) or not evaluator:
        raise ValueError(f"evaluator name must be a non-empty string, got {evaluator!r}")
    if not isinstance(protocol, str) or not protocol:
        raise ValueError(f"protocol must be a non-empty string, got {protocol!r}")
    seed = integer(seed, "seed")
    # SQLite integers are signed 64-bit.
    if not -(2**63) <= seed < 2**63:
        raise ValueError(f"seed must fit in 64 bits, got {seed!r}")
    return seed


def _check_evaluator(evaluator: object) -> None:
    name = getattr(evaluator, "name", None)
    protocol = getattr(evaluator, "protocol", None)
    if not callable(getattr(evaluator, "evaluate", None)):
        raise TypeError(f"evaluator {evaluator!r} has no evaluate(motif, seed) method")
    _check_key(name, protocol, 0)


def _check_run_id(run_id: object) -> None:
    if not isinstance(run_id, str) or not run_id:
        raise ValueError(f"run_id must be a non-empty string, got {run_id!r}")
