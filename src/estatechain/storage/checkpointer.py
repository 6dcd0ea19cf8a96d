"""Moving WAL checkpoints off the commit path.

In WAL mode SQLite copies committed pages back into the database file at checkpoints. Left to the
writer (``wal_autocheckpoint``), a checkpoint runs inside some block's ``COMMIT`` and more than
doubles that commit's time. The ledger writer therefore disables automatic checkpoints and this
thread runs passive checkpoints on its own connection: they never block the writer, they release
the GIL while SQLite works, and they are safe at any instant — a crash mid-checkpoint loses nothing,
since committed blocks are durable in the WAL until their pages are in the database file.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from pathlib import Path

from estatechain.storage.connection import connect


class Checkpointer:
    """A daemon thread checkpointing one ledger file every ``interval_s`` seconds."""

    def __init__(self, path: Path, *, interval_s: float = 0.25) -> None:
        self._path = path
        self._interval = interval_s
        self._stop = threading.Event()
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
                self._checkpoint(conn)
            self._checkpoint(conn)
        finally:
            conn.close()

    @staticmethod
    def _checkpoint(conn: sqlite3.Connection) -> None:
        # Busy or locked: the next round tries again; nothing depends on this one.
        with contextlib.suppress(sqlite3.OperationalError):
            conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
