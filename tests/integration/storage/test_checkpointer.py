"""A ledger under steady writes keeps its WAL bounded; a reader holding an old snapshot is named in the log.

SQLite reuses the WAL from its start only after a checkpoint copied every frame; with a writer that
never pauses, passive checkpoints alone let the file grow for as long as the load lasts (55 GB during
a 1,000,000-unit import). The checkpointer empties it once it passes its limit.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from pathlib import Path

import pytest

from estatechain.storage.checkpointer import Checkpointer
from estatechain.storage.connection import connect

LIMIT = 1024 * 1024
BLOB = b"\x5a" * 16_384


def steady_writes(path: Path, seconds: float, checkpointer: Checkpointer | None = None) -> int:
    """Commit one 16 KiB row after another for ``seconds``, as the ledger's writer does (automatic checkpoints
    off, ``after_commit`` after each commit)."""
    conn = connect(path)
    conn.execute("PRAGMA wal_autocheckpoint=0")
    conn.execute("CREATE TABLE IF NOT EXISTS t(id INTEGER PRIMARY KEY, v BLOB)")
    written, deadline = 0, time.monotonic() + seconds
    while time.monotonic() < deadline:
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("INSERT INTO t(v) VALUES (?)", (BLOB,))
        conn.execute("COMMIT")
        if checkpointer is not None:
            checkpointer.after_commit(conn)
        written += len(BLOB)
    conn.close()
    return written


def wal_size(path: Path) -> int:
    wal = path.with_name(path.name + "-wal")
    return wal.stat().st_size if wal.exists() else 0


def test_under_steady_writes_the_wal_stays_near_its_limit(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite"
    checkpointer = Checkpointer(path, interval_s=0.05, wal_limit_bytes=LIMIT)
    connect(path).close()
    checkpointer.start()
    sizes: list[int] = []
    sampling = threading.Event()

    def sample() -> None:
        while not sampling.wait(0.05):
            sizes.append(wal_size(path))

    sampler = threading.Thread(target=sample)
    sampler.start()
    try:
        written = steady_writes(path, 3.0, checkpointer)
    finally:
        sampling.set()
        sampler.join()
        checkpointer.stop()
    assert written > 8 * LIMIT  # enough traffic that an unbounded WAL would have passed the bound below
    assert max(sizes) < 6 * LIMIT, f"WAL peaked at {max(sizes):,} bytes for {written:,} written"
    assert sqlite3.connect(path).execute("SELECT count(*) FROM t").fetchone()[0] == written // len(BLOB)


def test_a_reader_holding_an_old_snapshot_is_named_in_the_log(tmp_path: Path,
                                                             caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "ledger.sqlite"
    steady_writes(path, 0.1)
    reader = connect(path, readonly=True)
    reader.execute("BEGIN")
    reader.execute("SELECT count(*) FROM t").fetchone()  # holds this snapshot until it ends
    checkpointer = Checkpointer(path, interval_s=0.05, wal_limit_bytes=LIMIT)
    checkpointer.start()
    try:
        with caplog.at_level(logging.WARNING, logger="estatechain.storage.checkpointer"):
            steady_writes(path, 1.5, checkpointer)
            deadline = time.monotonic() + 5
            while not caplog.records and time.monotonic() < deadline:
                time.sleep(0.05)
        assert any("a reader holds an old snapshot" in r.getMessage() for r in caplog.records)
        reader.execute("COMMIT")
        reader.close()
        steady_writes(path, 0.2, checkpointer)
        assert wal_size(path) <= 2 * LIMIT  # once the reader is gone the next commits empty the file
    finally:
        checkpointer.stop()
