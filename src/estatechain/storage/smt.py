"""State-tree pages in SQLite, and their audit (design §3.7, §3.15).

Each row of ``smt_nodes`` is one page: the nodes of a ``PAGE_LEVELS``-level slice of the tree (see
``estatechain.state.commitment.Page``), stored by position (the version that wrote it, then the path of
its top node; see ``Position``) and never updated or deleted, so every past state root stays provable.
A page a row instead of a node a row cuts the rows a changed key reads and writes about threefold.
Leading with the version makes a block's new pages one run of adjacent keys: at a million units a
hash-keyed table dirtied a random page for nearly every new node, which made every write to a large
register cost several times one to a small register. ``smt_roots`` says which
version wrote each root. The store writes inside the caller's transaction and never commits: a
block's nodes must become durable together with the block and its state rows, or not at all.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator
from typing import Final, TypeVar

from estatechain.errors import InputError, IntegrityFault
from estatechain.state.commitment import Position, describe_position, record_fault

SMT_SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS smt_nodes(pos BLOB PRIMARY KEY, node BLOB NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS smt_roots(hash BLOB PRIMARY KEY, version INTEGER NOT NULL) WITHOUT ROWID;
"""
"""DDL for the node and root tables. ``WITHOUT ROWID``: rows are found by their key only."""

_V = TypeVar("_V")


class SqliteNodeStore:
    """``NodeStore`` over the ``smt_nodes`` and ``smt_roots`` tables of an open connection."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def get(self, pos: Position) -> bytes | None:
        """The stored record, or None."""
        row = self._conn.execute("SELECT node FROM smt_nodes WHERE pos = ?", (pos,)).fetchone()
        return None if row is None else bytes(row[0])

    def put_many(self, nodes: Iterable[tuple[Position, bytes]]) -> None:
        """Insert new pages within the caller's open transaction (a position written twice is an error).

        Raises:
            InputError: the connection is in autocommit mode with no transaction open, so the rows
                would commit on their own instead of with their block.

        """
        self._in_transaction()
        self._conn.executemany("INSERT INTO smt_nodes(pos, node) VALUES (?, ?)", nodes)

    def root_version(self, root: bytes) -> int | None:
        """The version that wrote ``root``, or None."""
        row = self._conn.execute("SELECT version FROM smt_roots WHERE hash = ?", (root,)).fetchone()
        return None if row is None else int(row[0])

    def put_root(self, root: bytes, version: int) -> None:
        """Record the root's version (a root already known keeps the first), within the open transaction."""
        self._in_transaction()
        self._conn.execute("INSERT OR IGNORE INTO smt_roots(hash, version) VALUES (?, ?)", (root, version))

    def max_version(self) -> int:
        """The highest version that wrote a root or a page, 0 when none did (``NodeStore.max_version``).

        The roots are scanned (one row per state-changing block); the pages' highest version is the first
        8 bytes of the greatest position, one seek.
        """
        roots = int(self._conn.execute("SELECT coalesce(max(version), 0) FROM smt_roots").fetchone()[0])
        newest = self._conn.execute("SELECT max(pos) FROM smt_nodes").fetchone()[0]
        pages = int.from_bytes(bytes(newest)[:8], "big") if isinstance(newest, bytes) else 0
        return max(roots, pages)

    def _in_transaction(self) -> None:
        if self._conn.isolation_level is None and not self._conn.in_transaction:
            raise InputError("open a transaction (BEGIN) before writing state-tree nodes: they commit with their block")


class ReplayNodeStore:
    """``NodeStore`` for ``verify``'s replay: each block's new nodes are checked against the stored rows at once.

    A replay that kept every node it wrote, to compare them all with ``smt_nodes`` at the end, held
    the tree's whole history in memory: tens of millions of nodes, well over 10 GB, at a million
    units. Positions lead with the version that wrote them, so the nodes of block ``h`` are exactly
    the stored rows in ``h``'s key range. This store keeps what the replay writes for one block,
    compares it with that range (``check_version``) before the next block is replayed, and serves
    the replay's reads of older nodes from the table itself: every such row was compared with the
    replay's own when its block was, and the file does not change during the audit, so the replay
    only ever reads rows it has already checked. Roots are the replay's own, kept in memory (one per
    state-changing block) and compared with ``smt_roots`` at the end (``finish``).

    The faults name the row exactly as a full comparison would: ``smt_nodes pos=HEX (version=V
    depth=D prefix=HEX)`` with what is missing, extra, malformed or changed.
    """

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn
        self._pending: list[tuple[Position, bytes]] = []
        self._roots: dict[bytes, int] = {}
        self.checked = 0
        """Stored node rows compared so far."""

    def get(self, pos: Position) -> bytes | None:
        """The stored record (of an already checked version), or None."""
        row = self._conn.execute("SELECT node FROM smt_nodes WHERE pos = ?", (pos,)).fetchone()
        return None if row is None else bytes(row[0])

    def put_many(self, nodes: Iterable[tuple[Position, bytes]]) -> None:
        """Keep the replay's new nodes until ``check_version`` compares them."""
        self._pending.extend(nodes)

    def root_version(self, root: bytes) -> int | None:
        """The version whose replayed update wrote ``root``, or None."""
        return self._roots.get(root)

    def put_root(self, root: bytes, version: int) -> None:
        """Remember a replayed root (a root already known keeps its version)."""
        self._roots.setdefault(root, version)

    def max_version(self) -> int:
        """The highest replayed root version, 0 before any."""
        return max(self._roots.values(), default=0)

    def check_version(self, version: int) -> None:
        """Compare the nodes the replay wrote at ``version`` (none if the block changed no state) with the stored range.

        Raises:
            IntegrityFault: the first missing, extra, malformed or changed row of that range, in key order.

        """
        rows = self._conn.execute("SELECT pos, node FROM smt_nodes WHERE pos >= ? AND pos < ? ORDER BY pos",
                                  (_version_key(version), _version_key(version + 1)))
        pending, self._pending = sorted(self._pending), []
        self._compare(rows, pending)

    def finish(self, head: int) -> int:
        """After block ``head``: no node row outside the replayed versions, ``smt_roots`` the replay's; rows checked.

        Raises:
            IntegrityFault: names the first row that is extra or differs (``smt_nodes …`` or ``smt_roots hash=HEX``).

        """
        outside = self._conn.execute(  # non-BLOB keys sort before every BLOB, so ``pos < version 1`` holds them too
            "SELECT pos, node FROM smt_nodes WHERE pos < ? OR pos >= ? ORDER BY pos",
            (_version_key(1), _version_key(head + 1)))
        self._compare(outside, [])
        stored_roots = self._conn.execute("SELECT hash, version FROM smt_roots ORDER BY hash")
        for root, version, want_version in _merge(stored_roots, sorted(self._roots.items())):
            where = f"smt_roots hash={root.hex()}"
            if version is None:
                raise IntegrityFault(where, "state root missing: a block header commits to it")
            if want_version is None:
                raise IntegrityFault(where, "row names a root no block header commits to")
            if version != want_version:
                raise IntegrityFault(where, f"version is {version}, the blocks wrote this root at {want_version}")
        return self.checked

    def _compare(self, rows: Iterable[tuple[object, object]], expected: list[tuple[bytes, bytes]]) -> None:
        for pos, record, want in _merge(rows, expected):
            where = f"smt_nodes {describe_position(pos)}"
            if record is None:
                raise IntegrityFault(where, "node missing: the replay of the blocks writes it here")
            self.checked += 1
            fault = record_fault(record)
            if fault is not None:
                raise IntegrityFault(where, fault)
            if want is None:
                raise IntegrityFault(where, "row not written by any block: the replay puts no node here")
            if record != want:
                raise IntegrityFault(where, "stored node differs from the one the blocks make: the row was changed")


def _version_key(version: int) -> bytes:
    """Where version ``version``'s positions start (``Position`` leads with the version, 8 bytes big-endian)."""
    return version.to_bytes(8, "big")


def _merge(
    rows: Iterable[tuple[object, object]], expected: Iterable[tuple[bytes, _V]]
) -> Iterator[tuple[bytes, object, _V | None]]:
    """Stored (key, value) rows in key order against ``expected`` (sorted): (key, stored or None, expected or None).

    A key that is not a BLOB (SQLite sorts those before every BLOB) is reported at once as a row the
    replay did not write, under its bytes, so the message names the row that was changed.
    """
    wanted = iter(expected)
    pending = next(wanted, None)
    for key, value in rows:
        if not isinstance(key, bytes):
            yield str(key).encode("utf-8", "surrogateescape"), value, None
            continue
        while pending is not None and pending[0] < key:
            yield pending[0], None, pending[1]
            pending = next(wanted, None)
        if pending is not None and pending[0] == key:
            yield key, value, pending[1]
            pending = next(wanted, None)
        else:
            yield key, value, None
    while pending is not None:
        yield pending[0], None, pending[1]
        pending = next(wanted, None)
