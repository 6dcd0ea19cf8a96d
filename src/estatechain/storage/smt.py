"""State-tree nodes in SQLite, and their audit (design §3.7, §3.15).

Nodes are stored by position (the version that wrote them, then their path; see
``estatechain.state.commitment.Position``) and never updated or deleted, so every past state root
stays provable. Leading with the version makes a block's new nodes one run of adjacent keys: at a
million units a hash-keyed table dirtied a random page for nearly every new node, which made every
write to a large register cost several times one to a small register. ``smt_roots`` says which
version wrote each root. The store writes inside the caller's transaction and never commits: a
block's nodes must become durable together with the block and its state rows, or not at all.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator
from typing import Final, TypeVar

from estatechain.errors import InputError, IntegrityFault
from estatechain.state.commitment import MemoryNodeStore, Position, describe_position, record_fault

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
        """Insert new nodes within the caller's open transaction (a position written twice is an error).

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
        """The highest root version stored, 0 when none is (a scan: one row per state-changing block)."""
        return int(self._conn.execute("SELECT coalesce(max(version), 0) FROM smt_roots").fetchone()[0])

    def _in_transaction(self) -> None:
        if self._conn.isolation_level is None and not self._conn.in_transaction:
            raise InputError("open a transaction (BEGIN) before writing state-tree nodes: they commit with their block")


def audit_nodes(conn: sqlite3.Connection, expected: MemoryNodeStore) -> int:
    """Check the stored tree against ``expected``, the tree a replay of every block wrote; return the node count.

    Every ``smt_nodes`` row must be well formed (``record_fault``) and equal, position and bytes, to
    the replay's; every ``smt_roots`` row likewise. So a changed byte, a moved row, a row the replay
    never wrote and a row that is missing are each found, in key order, and named.

    Raises:
        IntegrityFault: ``where`` names the first bad, extra or missing row
            (``smt_nodes pos=HEX (version=V depth=D prefix=HEX)`` or ``smt_roots hash=HEX``).

    """
    count = 0
    rows = conn.execute("SELECT pos, node FROM smt_nodes ORDER BY pos")
    for pos, record, want in _merge(rows, expected.nodes):
        where = f"smt_nodes {describe_position(pos)}"
        if record is None:
            raise IntegrityFault(where, "node missing: the replay of the blocks writes it here")
        count += 1
        fault = record_fault(record)
        if fault is not None:
            raise IntegrityFault(where, fault)
        if want is None:
            raise IntegrityFault(where, "row not written by any block: the replay puts no node here")
        if record != want:
            raise IntegrityFault(where, "stored node differs from the one the blocks make: the row was changed")
    stored_roots = conn.execute("SELECT hash, version FROM smt_roots ORDER BY hash")
    for root, version, want_version in _merge(stored_roots, expected.roots):
        where = f"smt_roots hash={root.hex()}"
        if version is None:
            raise IntegrityFault(where, "state root missing: a block header commits to it")
        if want_version is None:
            raise IntegrityFault(where, "row names a root no block header commits to")
        if version != want_version:
            raise IntegrityFault(where, f"version is {version}, the blocks wrote this root at {want_version}")
    return count


def _merge(
    rows: Iterable[tuple[object, object]], expected: dict[bytes, _V]
) -> Iterator[tuple[bytes, object, _V | None]]:
    """Stored (key, value) rows in key order against ``expected``: (key, stored or None, expected or None).

    A key that is not a BLOB (SQLite sorts those before every BLOB) is reported at once as a row the
    replay did not write, under its bytes, so the message names the row that was changed.
    """
    wanted = iter(sorted(expected.items()))
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
