"""A node-local SQLite file that follows the ledger by ``seq``: what the derived indexes share.

The desks' case index (``caseindex.py``), the owners' party index (``partyindex.py``), the court
desk's index of seizures by authority (``seizureindex.py``) and the regulator's figures
(``deskstats.py``), all in ``web/``, and the evidence exporter's index of which transactions name
which unit or application (``evidence/mentions.py``) are built alike: their own file beside the
ledger, a cursor that is the ``seq`` of the last ledger row taken and the block (height and hash) it
was taken at, and a catch-up before every read that applies what the ledger wrote after the cursor,
in one SQLite transaction with the new cursor, so a crash leaves the file either before or after a
whole catch-up. They are derived, never authoritative: deleting the file is safe, and a ledger that
no longer has the block the cursor names (restored from an older backup, or replaced) makes the file
start again.

A subclass names its tables (``SCHEMA``, ``TABLES``) and says how to take the rows written after a
cursor (``take``); a cursor of -1 asks for the first build, which for the desks' indexes reads the
ledger's current rows rather than its whole history (the evidence index reads every transaction).

A first build over a large register (every current row of a namespace) can take seconds, too long
for the event loop that commits blocks. ``build`` runs it on connections of its own, over one read
snapshot of the ledger, so a page can wait for it in a worker thread while blocks go on committing;
the catch-ups after it run on the loop as usual.
"""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from typing import Any, ClassVar, Final, Generic, TypeVar

from estatechain.storage.connection import connect

_CURSOR: Final = """
CREATE TABLE IF NOT EXISTS cursor(
    id INTEGER PRIMARY KEY CHECK (id = 1), seq INTEGER NOT NULL, height INTEGER NOT NULL, hash TEXT NOT NULL
);
"""


class Follower:
    """A derived file beside one ledger, caught up from the ledger's connection before every read."""

    SCHEMA: ClassVar[str] = ""
    """The subclass's tables (``CREATE … IF NOT EXISTS``)."""
    TABLES: ClassVar[tuple[str, ...]] = ()
    """The subclass's tables, emptied when the ledger's history no longer contains the cursor."""
    CURRENT_ROWS: ClassVar[str] = ""
    """A first build's query over the ledger: the current rows it follows, by key range (no parameter)."""
    CHANGED_ROWS: ClassVar[str] = ""
    """A catch-up's query over the ledger: the rows written after a cursor (its one parameter), by ``seq``."""

    WAIT_S: ClassVar[float] = 5.0
    """How long a connection waits for another's write lock on the file (a second process building it)."""
    VERSION: ClassVar[int] = 0
    """The file's format: a subclass raises it when its tables change, and a file of another version is
    emptied and built again (a table added to an existing file would otherwise miss the rows taken
    before it existed)."""

    def __init__(self, path: Path, ledger: sqlite3.Connection) -> None:
        self._path = path
        self._ledger = ledger
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=self.WAIT_S)
        self._db.execute("PRAGMA journal_mode=WAL")
        if self._version() != self.VERSION:
            self._db.execute("BEGIN IMMEDIATE")  # one process at a time changes the format
            if self._version() != self.VERSION:
                for table in (*self.TABLES, "cursor"):
                    self._db.execute(f"DROP TABLE IF EXISTS {table}")
                self._db.execute(f"PRAGMA user_version = {int(self.VERSION)}")
            self._db.execute("COMMIT")
        self._db.executescript(_CURSOR + self.SCHEMA)

    def _version(self) -> int:
        return int(self._db.execute("PRAGMA user_version").fetchone()[0])

    def close(self) -> None:
        """Close the derived file (the ledger connection is not ours)."""
        self._db.close()

    def _cursor(self) -> int:
        """The last ledger row taken, or -1 (nothing yet, or a cursor this ledger's history does not contain)."""
        row = self._db.execute("SELECT seq, height, hash FROM cursor WHERE id = 1").fetchone()
        if row is None:
            return -1
        seq, height, block_hash = int(row[0]), int(row[1]), str(row[2])
        if height > 0:
            found = self._ledger.execute("SELECT hash FROM blocks WHERE height = ?", (height,)).fetchone()
            if found is None or str(found[0]) != block_hash:  # a restored or replaced ledger: start again
                own = not self._db.in_transaction  # inside ``_take_locked`` the reset joins its transaction
                if own:
                    self._db.execute("BEGIN IMMEDIATE")
                for table in (*self.TABLES, "cursor"):
                    self._db.execute(f"DELETE FROM {table}")  # noqa: S608  (names fixed by the class)
                if own:
                    self._db.execute("COMMIT")
                return -1
        return seq

    def built(self) -> bool:
        """Whether the file holds a cursor this ledger's history contains (else it needs its first build)."""
        return self._cursor() >= 0

    def build(self, ledger_file: Path) -> int:
        """Catch up from a snapshot of ``ledger_file`` read on connections of its own; rows taken.

        Meant for a first build in a worker thread while the node commits blocks, and for a process
        other than the node's (the evidence exporter): one read transaction pins the ledger's head, last
        seq and rows together, and the blocks committed meanwhile are taken by the next catch-up. The
        read transaction starts at its first read, which ``_take_locked`` makes after it holds the file's
        write lock: a second process that waited for the first's build therefore sees a ledger at
        least as new as the cursor the first wrote, finds nothing left to take, and never writes an
        older cursor over a newer one. The caller must not query this object until it returns.
        """
        ledger = connect(ledger_file, readonly=True)
        try:
            ledger.execute("BEGIN")  # deferred: the snapshot is taken at the first read, under the file's lock
            twin = self._twin(ledger)
            try:
                return twin._take_locked()  # noqa: SLF001  (the same class)
            finally:
                twin.close()
        finally:
            ledger.close()

    def _twin(self, ledger: sqlite3.Connection) -> Follower:
        """The same file opened over another ledger connection (``build``'s snapshot).

        A subclass whose constructor needs more than the file and a connection overrides it.
        """
        return type(self)(self._path, ledger)

    def refresh(self) -> int:
        """Take everything the ledger wrote since the cursor; how many rows were taken.

        Runs on the thread that commits blocks (the node's event loop), so no block lands between
        reading the ledger's head and reading its rows.
        """
        last = int(self._ledger.execute("SELECT COALESCE(MAX(seq), -1) FROM txs").fetchone()[0])
        if self._cursor() == last:
            return 0  # the common case on the loop: nothing committed since, no lock taken
        return self._take_locked()

    def _take_locked(self) -> int:
        """Under the file's write lock, read the cursor and the ledger afresh and take what lies between.

        Another process (a second exporter) may have moved the cursor while this one waited for the
        lock, so nothing read before the lock is trusted.
        """
        self._db.execute("BEGIN IMMEDIATE")
        try:
            cursor = self._cursor()
            head = self._ledger.execute("SELECT height, hash FROM blocks ORDER BY height DESC LIMIT 1").fetchone()
            last = int(self._ledger.execute("SELECT COALESCE(MAX(seq), -1) FROM txs").fetchone()[0])
            taken = 0
            if head is not None and cursor < last:
                taken = self.take(cursor)
                self._db.execute("INSERT INTO cursor(id, seq, height, hash) VALUES (1, ?, ?, ?) ON CONFLICT(id) "
                                 "DO UPDATE SET seq = excluded.seq, height = excluded.height, hash = excluded.hash",
                                 (last, int(head[0]), str(head[1])))
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")
        return taken

    def take(self, cursor: int) -> int:
        """Apply the rows written after ``cursor`` (-1: build from the current rows) inside the open transaction."""
        raise NotImplementedError

    def rows_after(self, cursor: int) -> list[Any]:  # SQLite rows: their columns are the subclass's query's
        """What ``take`` applies: the current rows for a first build (``cursor`` -1), else those written after it.

        The current rows alone, by key range, rather than all history: a first build never replays versions
        that later ones replaced.
        """
        if cursor < 0:
            return self._ledger.execute(self.CURRENT_ROWS).fetchall()
        return self._ledger.execute(self.CHANGED_ROWS, (cursor,)).fetchall()


_F = TypeVar("_F", bound=Follower)


class FirstBuild(Generic[_F]):
    """A derived index behind its first build, which runs once in a worker thread for every request that needs it.

    A page that needs the index awaits ``ready`` (which returns it); synchronous helpers called after
    that read ``index``, which refuses until a ``ready`` has returned, so a route that forgot to await
    fails loudly in its first test instead of building the index on the event loop. The build runs as
    a task of its own, so a request cancelled while waiting (the browser went away) neither stops it
    nor, by releasing a lock, lets the next request start a second build on the same file beside the
    first. A build that failed is tried again by the next request.
    """

    def __init__(self, index: _F, ledger_file: Path) -> None:
        self._index = index
        self._ledger_file = ledger_file
        self._task: asyncio.Future[int] | None = None
        self._ready = False

    async def ready(self) -> _F:
        """The index, once its file holds a first build (at once when it already does)."""
        task = self._task
        if task is None and self._index.built():
            self._ready = True
            return self._index
        if task is None or (task.done() and (task.cancelled() or task.exception() is not None)):
            task = self._task = asyncio.ensure_future(asyncio.to_thread(self._index.build, self._ledger_file))
        await asyncio.shield(task)
        self._ready = True
        return self._index

    @property
    def index(self) -> _F:
        """The index, for code that runs after ``ready`` returned.

        Raises:
            RuntimeError: no ``ready`` has returned yet (the caller would build it on the event loop).

        """
        if not self._ready:
            raise RuntimeError(f"{type(self._index).__name__}: await ready() before reading the index")
        return self._index
