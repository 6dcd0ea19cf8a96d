"""Opening SQLite the one way every durable file must be opened (design §3.7)."""

from __future__ import annotations

import fcntl
import os
import sqlite3
from pathlib import Path

from estatechain.errors import Conflict


def connect(path: Path, *, readonly: bool = False) -> sqlite3.Connection:
    """Open ``path`` in WAL mode with ``synchronous=FULL`` and explicit transactions.

    WAL lets readers proceed while a block commits; FULL makes a commit durable when it returns,
    so a transaction acknowledged as committed survives power loss and ``kill -9``. Autocommit mode
    (``isolation_level=None``) leaves every transaction boundary to our code: a block commits
    with an explicit ``BEGIN IMMEDIATE`` … ``COMMIT`` or not at all.
    """
    if readonly:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, isolation_level=None,
                               check_same_thread=False)
    else:
        conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute("PRAGMA busy_timeout=10000")
    return conn


class WriterLock:
    """An exclusive lock that makes one process the only writer of a ledger file.

    Two pipelines appending to one file would each compute the next height from their own view and
    the second would fail mid-commit; refusing the second writer up front says why. The lock is an
    ``flock`` on ``<file>.lock``, so the kernel releases it when the holder dies, even by ``kill -9``.
    """

    def __init__(self, path: Path) -> None:
        self._path = path.with_name(path.name + ".lock")
        self._fd: int | None = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(self._fd, 32, 0).decode(errors="replace").strip() or "another process"
            os.close(self._fd)
            self._fd = None
            raise Conflict(f"{path} is already open for writing by pid {holder}; stop that node first "
                           "or open the ledger read-only") from None
        os.ftruncate(self._fd, 0)
        os.pwrite(self._fd, str(os.getpid()).encode(), 0)

    def release(self) -> None:
        """Give up the lock (also released by the kernel if the process dies)."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
