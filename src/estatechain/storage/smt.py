"""State-tree nodes in SQLite, and their audit (design §3.7, §3.15).

Nodes are content-addressed (hash -> 65-byte preimage, see ``estatechain.state.commitment``) and
never updated or deleted, so every past state root stays provable. The store writes inside the
caller's transaction and never commits: a block's nodes must become durable together with the block
and its state rows, or not at all.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from typing import Final

from estatechain.errors import InputError, IntegrityFault
from estatechain.state.commitment import EMPTY, HashFn, node_fault

SMT_SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS smt_nodes(hash BLOB PRIMARY KEY, node BLOB NOT NULL) WITHOUT ROWID;
"""
"""DDL for the node table. ``WITHOUT ROWID``: rows are looked up by hash only, so the hash is the key."""


class SqliteNodeStore:
    """``NodeStore`` over the ``smt_nodes`` table of an open connection."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def get(self, node_hash: bytes) -> bytes | None:
        """The stored preimage, or None."""
        row = self._conn.execute("SELECT node FROM smt_nodes WHERE hash = ?", (node_hash,)).fetchone()
        return None if row is None else bytes(row[0])

    def put_many(self, nodes: Iterable[tuple[bytes, bytes]]) -> None:
        """Insert the nodes not stored yet, within the caller's open transaction.

        Raises:
            InputError: the connection is in autocommit mode with no transaction open, so the rows
                would commit on their own instead of with their block.

        """
        if self._conn.isolation_level is None and not self._conn.in_transaction:
            raise InputError("open a transaction (BEGIN) before writing state-tree nodes: they commit with their block")
        self._conn.executemany("INSERT OR IGNORE INTO smt_nodes(hash, node) VALUES (?, ?)", sorted(nodes))


def audit_nodes(conn: sqlite3.Connection, h: HashFn, reachable: set[bytes] | None = None) -> int:
    """Check every stored node row and return how many were checked.

    Each row must satisfy ``node_fault`` (65-byte preimage tagged 0x10/0x11 whose hash is the row's
    key). With ``reachable`` (the node hashes under the attested roots, e.g. from
    ``SparseMerkleTree.reachable``; ``EMPTY`` is ignored), the stored hashes must also equal that set:
    a row outside it was never attested, and a member without a row makes proofs under that root
    impossible. Rows are read in hash order and the first problem in that order is reported.

    Raises:
        IntegrityFault: ``where`` is ``smt_nodes hash=<hex>`` of the first bad or missing row.

    """
    expected = iter(sorted(reachable - {EMPTY})) if reachable is not None else None
    next_expected = next(expected, None) if expected is not None else None
    count = 0
    for node_hash, node in conn.execute("SELECT hash, node FROM smt_nodes ORDER BY hash"):
        count += 1
        fault = node_fault(h, node_hash, node)
        if fault is not None:
            raise IntegrityFault(_where(node_hash), fault)
        if expected is None:
            continue
        if next_expected is not None and next_expected < node_hash:
            raise IntegrityFault(_where(next_expected), "node missing: reachable from an attested root, not stored")
        if next_expected != node_hash:
            raise IntegrityFault(_where(node_hash), "row not reachable from any attested state root")
        next_expected = next(expected, None)
    if next_expected is not None:
        raise IntegrityFault(_where(next_expected), "node missing: reachable from an attested root, not stored")
    return count


def _where(node_hash: object) -> str:
    label = node_hash.hex() if isinstance(node_hash, bytes) else repr(node_hash)
    return f"smt_nodes hash={label}"
