"""Opening SQLite the one way every durable file must be opened (design §3.7)."""

from __future__ import annotations

import sqlite3
from pathlib import Path


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
