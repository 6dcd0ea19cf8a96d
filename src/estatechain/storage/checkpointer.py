"""Moving WAL checkpoints off the commit path.

In WAL mode SQLite copies committed pages back into the database file at checkpoints. Left to the
writer (``wal_autocheckpoint``), a checkpoint runs inside some block's ``COMMIT`` and more than
doubles that commit's time. The ledger writer therefore disables automatic checkpoints and this
thread runs passive checkpoints on its own connection: they never block the writer, they release
the GIL while SQLite works, and they are safe at any instant — a crash mid-checkpoint loses nothing,
since committed blocks are durable in the WAL until their pages are in the database file.

Passive checkpoints alone do not bound the WAL. SQLite starts writing the WAL from its beginning
again only after a checkpoint has copied *every* frame; under a steady stream of blocks each
passive checkpoint ends with new frames already appended, so the file grows for as long as the
load lasts (a 1,000,000-unit import grew it to 55 GB and filled the disk). This thread cannot fix
that: a checkpoint that empties the file must come between two commits, and a busy writer takes the
lock again at once. So the writer does it (``after_commit``): when the WAL has passed
``wal_limit_bytes``, its next commit is followed by one ``TRUNCATE`` checkpoint on the writer's own
connection — the frames left are few, since this thread copied the rest — and the file is emptied.
It waits at most 100 ms for readers; a reader holding an old snapshot (a long query, an open backup)
still blocks it, and then a warning, at most once a minute, names the WAL's size. SQLite refuses a
checkpoint at once (no busy wait) while another connection runs one, so this thread's passive rounds
and the writer's emptying take turns under one lock: without it, on a large register the passive
round was nearly always running and the WAL grew to 600 MiB with a warning that blamed a reader. The
writer only takes a free turn — a commit never waits for a passive round to finish; the lock is free
between rounds, so a later commit empties the file.
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
import threading
import time
from pathlib import Path
from typing import Final

from estatechain.storage.connection import connect

WAL_LIMIT_BYTES: Final = 64 * 1024 * 1024
"""WAL size past which the thread empties the file (see the module)."""
_TRUNCATE_WAIT_MS: Final = 100
"""How long the emptying checkpoint waits for old readers (the next block waits meanwhile)."""
_WARN_EVERY_S: Final = 60.0
log = logging.getLogger(__name__)


class Checkpointer:
    """A daemon thread checkpointing one ledger file every ``interval_s`` seconds."""

    def __init__(self, path: Path, *, interval_s: float = 0.25, wal_limit_bytes: int = WAL_LIMIT_BYTES) -> None:
        self._path = path
        self._wal = path.with_name(path.name + "-wal")
        self._interval = interval_s
        self._limit = wal_limit_bytes
        self._warned_at = -_WARN_EVERY_S
        self._stop = threading.Event()
        self._turn = threading.Lock()
        self._thread = threading.Thread(target=self._run, name=f"checkpoint:{path.name}", daemon=True)

    def start(self) -> None:
        """Begin checkpointing in the background."""
        self._thread.start()

    def stop(self) -> None:
        """Run one last checkpoint and end the thread."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10)

    def _run(self) -> None:
        conn = connect(self._path)
        try:
            while not self._stop.wait(self._interval):
                with self._turn:
                    self._checkpoint(conn)
            with self._turn:
                self._checkpoint(conn)
        finally:
            conn.close()

    @staticmethod
    def _checkpoint(conn: sqlite3.Connection) -> None:
        # Busy or locked: the next round tries again; nothing depends on this one.
        with contextlib.suppress(sqlite3.OperationalError):
            conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()

    def after_commit(self, writer: sqlite3.Connection) -> None:
        """On the writer's connection, right after a commit: empty the WAL once it passed its limit."""
        if self._wal_size() <= self._limit:
            return
        if not self._turn.acquire(blocking=False):
            return  # a passive round is copying pages: the block does not wait for it; the next commit tries again
        writer.execute(f"PRAGMA busy_timeout={_TRUNCATE_WAIT_MS}")  # a reader must not hold up the next block
        try:
            with contextlib.suppress(sqlite3.OperationalError):
                writer.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
        finally:
            writer.execute("PRAGMA busy_timeout=10000")
            self._turn.release()
        size = self._wal_size()
        now = time.monotonic()
        if size > self._limit and now - self._warned_at >= _WARN_EVERY_S:
            self._warned_at = now
            log.warning("the WAL of %s is %d MiB and could not be emptied: a reader holds an old snapshot "
                        "(a long query, an open backup or export); it grows until that reader ends",
                        self._path, size // (1024 * 1024))

    def _wal_size(self) -> int:
        try:
            return self._wal.stat().st_size
        except FileNotFoundError:
            return 0
