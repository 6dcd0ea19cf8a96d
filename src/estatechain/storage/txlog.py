"""The RFC 9162 transaction log persisted in SQLite (design §3.5, §3.7).

The table stores every *perfect* subtree root as soon as its subtree is complete: row
(level L, idx i) is the root over leaves [i·2^L, (i+1)·2^L), and level 0 holds the leaf hashes.
Those rows never change once written, so:

* appending a leaf writes the leaf and the subtrees it completes (amortised two rows, at most
  log n), using a cached right edge instead of reading the table;
* any range that a root or proof needs splits into O(log n) perfect subtrees, so roots at past
  sizes and inclusion/consistency proofs are read from stored rows, never rebuilt from leaves;
* the audit can recompute every row from the transactions alone and compare row by row.

Atomicity belongs to the caller: ``append_leaf_hashes`` writes inside the caller's open SQLite
transaction and never commits, so a block, its log rows and its state changes land together
(``storage/commit.py``). After a rollback the caller calls ``reload()`` to drop the cache.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator, Sequence

from estatechain.crypto.merkle import HashFn, MerkleAccumulator, empty_root, fold_right, split_point
from estatechain.errors import Conflict, InputError, IntegrityFault

TXLOG_SCHEMA = """\
CREATE TABLE IF NOT EXISTS txlog_nodes(
    level INTEGER NOT NULL,
    idx INTEGER NOT NULL,
    hash BLOB NOT NULL,
    PRIMARY KEY(level, idx)
) WITHOUT ROWID;
"""
"""DDL of the tx-log table; ``storage/schema.py`` applies it with the other tables."""

_Range = tuple[int, int]
_NodeId = tuple[int, int]


def _where(level: object, idx: object) -> str:
    return f"txlog_nodes level={level} idx={idx}"


def _perfect_subtrees(start: int, end: int) -> list[_NodeId]:
    """The perfect subtrees covering leaves [start, end), largest first.

    Only valid for the ranges RFC 9162 hashes: ``start`` is a multiple of a power of two at
    least as large as the range, so each piece lands on a stored (level, idx) row.
    """
    nodes: list[_NodeId] = []
    remaining = end - start
    position = start
    for level in range(remaining.bit_length() - 1, -1, -1):
        if remaining >> level & 1:
            assert position % (1 << level) == 0, "RFC 9162 ranges are aligned"
            nodes.append((level, position >> level))
            position += 1 << level
    return nodes


def _inclusion_ranges(index: int, size: int) -> list[_Range]:
    """The leaf ranges whose hashes form PATH(index, D[size]), leaf to root (RFC 9162 §2.1.3.1)."""
    ranges: list[_Range] = []
    lo, hi = 0, size
    while hi - lo > 1:
        mid = lo + split_point(hi - lo)
        if index < mid:
            ranges.append((mid, hi))
            hi = mid
        else:
            ranges.append((lo, mid))
            lo = mid
    ranges.reverse()
    return ranges


def _consistency_ranges(old_size: int, size: int) -> list[_Range]:
    """The leaf ranges whose hashes form PROOF(old_size, D[size]) (RFC 9162 §2.1.4.1)."""
    ranges: list[_Range] = []
    lo, hi = 0, size
    complete = True
    while old_size != hi:
        mid = lo + split_point(hi - lo)
        if old_size <= mid:
            ranges.append((mid, hi))
            hi = mid
        else:
            ranges.append((lo, mid))
            lo = mid
            complete = False
    if not complete:
        ranges.append((lo, hi))
    ranges.reverse()
    return ranges


class TxLog:
    """The append-only Merkle log over one SQLite connection; the table must already exist.

    The cache (size and right edge) mirrors what this connection has written. It is loaded on
    first use, so a damaged table can still be audited; each append stages its changes and
    adopts them only when every insert succeeded. If the caller then rolls the transaction back
    it must call ``reload()``; a forgotten reload is caught at the next append (one indexed
    probe) instead of silently leaving a gap in the log.
    """

    def __init__(self, conn: sqlite3.Connection, h: HashFn) -> None:
        self._conn = conn
        self._h = h
        self._digest_size = len(h(b""))
        self._cache: MerkleAccumulator | None = None

    def reload(self) -> None:
        """Re-read the size and right edge from the table (after a rollback, or to resume).

        Raises:
            IntegrityFault: a right-edge row is missing or malformed.

        """
        self._cache = None
        size = self._stored_size()
        edge_ids = _perfect_subtrees(0, size)
        stored = self._fetch(edge_ids)
        self._cache = MerkleAccumulator(self._h, size=size, edge=[stored[node] for node in edge_ids])

    @property
    def _acc(self) -> MerkleAccumulator:
        if self._cache is None:
            self.reload()
        assert self._cache is not None
        return self._cache

    def size(self) -> int:
        """The number of leaves in the log, as this connection last wrote or loaded it."""
        return self._acc.size

    def append_leaf_hashes(self, leaf_hashes: Sequence[bytes]) -> None:
        """Append leaf hashes inside the caller's open transaction; never commits.

        Raises:
            InputError: no transaction is open, or a leaf hash is not a digest of this hash.
            Conflict: the table no longer matches the cache (a rollback without ``reload()``).

        """
        if not self._conn.in_transaction:
            raise InputError("append_leaf_hashes needs an open transaction: run BEGIN first and COMMIT after")
        for position, leaf in enumerate(leaf_hashes):
            if not isinstance(leaf, bytes) or len(leaf) != self._digest_size:
                raise InputError(f"leaf hash #{position} must be {self._digest_size} bytes, got {leaf!r:.80}")
        current = self._acc
        stored = self._stored_size()
        if stored != current.size:
            raise Conflict(
                f"txlog_nodes holds {stored} leaves but this TxLog expected {current.size}; "
                "call reload() after rolling back a transaction"
            )
        staged = current.copy()
        rows = [(node.level, node.index, node.digest) for leaf in leaf_hashes for node in staged.append(leaf)]
        self._conn.executemany("INSERT INTO txlog_nodes(level, idx, hash) VALUES (?, ?, ?)", rows)
        self._cache = staged

    def root(self, size: int | None = None) -> bytes:
        """MTH of the first ``size`` leaves (default: all of them), from O(log n) stored rows.

        Raises:
            InputError: ``size`` is not in ``[0, size()]``.

        """
        current = self._acc
        if size is None or size == current.size:
            return current.root()
        self._check_size(size, lowest=0, what="tree size")
        if size == 0:
            return empty_root(self._h)
        return self._range_hashes([(0, size)])[0]

    def leaf_hash(self, index: int) -> bytes:
        """The stored hash of leaf ``index``.

        Raises:
            InputError: ``index`` is not in ``[0, size())``.

        """
        self._check_index(index, self._acc.size)
        return self._fetch([(0, index)])[0, index]

    def inclusion_proof(self, index: int, size: int) -> list[bytes]:
        """RFC 9162 inclusion proof of leaf ``index`` in the tree of the first ``size`` leaves.

        Raises:
            InputError: ``size`` is not in ``[1, size()]`` or ``index`` not in ``[0, size)``.

        """
        self._check_size(size, lowest=1, what="tree size")
        self._check_index(index, size)
        return self._range_hashes(_inclusion_ranges(index, size))

    def consistency_proof(self, old_size: int, size: int) -> list[bytes]:
        """RFC 9162 consistency proof from the first ``old_size`` leaves to the first ``size``.

        ``old_size == size`` gives the empty proof.

        Raises:
            InputError: ``size`` is not in ``[1, size()]`` or ``old_size`` not in ``[1, size]``
                (a proof from the empty tree is meaningless and no verifier accepts one).

        """
        self._check_size(size, lowest=1, what="tree size")
        if not 0 < old_size <= size:
            raise InputError(f"old tree size {old_size} is invalid: it must be in 1..{size}")
        return self._range_hashes(_consistency_ranges(old_size, size))

    def audit(self, leaf_hashes: Iterable[bytes]) -> None:
        """Check every stored row against the leaf hashes recomputed from the transactions.

        Walks the leaves once, in order, recomputing each perfect subtree as it completes and
        comparing it with one forward cursor per level: O(n) time and O(log n) memory.

        Raises:
            IntegrityFault: the first changed, missing or extra row, named by level and idx.

        """
        acc = MerkleAccumulator(self._h)
        cursors: list[_LevelCursor] = []
        for leaf in leaf_hashes:
            for node in acc.append(leaf):
                if node.level == len(cursors):
                    cursors.append(_LevelCursor(self._conn, node.level))
                cursors[node.level].expect(node.index, node.digest)
        for cursor in cursors:
            cursor.expect_end(acc.size)
        stray = self._conn.execute(
            "SELECT level, idx FROM txlog_nodes WHERE typeof(level) != 'integer' OR level < 0 OR level >= ? LIMIT 1",
            (len(cursors),),
        ).fetchone()
        if stray is not None:
            raise IntegrityFault(
                where=_where(stray[0], stray[1]),
                message=f"extra row: a log of {acc.size} leaves has no node at this level",
            )

    def _stored_size(self) -> int:
        """Leaves in the table: one past the highest leaf idx (one index seek; gaps are the audit's job)."""
        row = self._conn.execute("SELECT idx FROM txlog_nodes WHERE level = 0 ORDER BY idx DESC LIMIT 1").fetchone()
        if row is None:
            return 0
        if not isinstance(row[0], int) or row[0] < 0:
            raise IntegrityFault(where=_where(0, row[0]), message="leaf rows must have a non-negative integer idx")
        return row[0] + 1

    def _check_size(self, size: int, *, lowest: int, what: str) -> None:
        highest = self._acc.size
        if not lowest <= size <= highest:
            if highest < lowest:
                raise InputError(f"{what} {size} is invalid: the log holds no leaves yet")
            raise InputError(f"{what} {size} is invalid: it must be in {lowest}..{highest}")

    @staticmethod
    def _check_index(index: int, size: int) -> None:
        if not 0 <= index < size:
            if size == 0:
                raise InputError(f"leaf index {index} is invalid: the log holds no leaves yet")
            raise InputError(f"leaf index {index} is invalid: it must be in 0..{size - 1}")

    def _range_hashes(self, ranges: list[_Range]) -> list[bytes]:
        """The MTH of each range, from its O(log n) stored perfect subtrees."""
        pieces = [_perfect_subtrees(start, end) for start, end in ranges]
        stored = self._fetch([node for nodes in pieces for node in nodes])
        return [fold_right(self._h, [stored[node] for node in nodes]) for nodes in pieces]

    def _fetch(self, nodes: list[_NodeId]) -> dict[_NodeId, bytes]:
        """Stored hashes of ``nodes`` by primary-key lookups; a missing or malformed row is a fault."""
        found: dict[_NodeId, bytes] = {}
        for node in nodes:
            if node in found:
                continue
            row = self._conn.execute("SELECT hash FROM txlog_nodes WHERE level = ? AND idx = ?", node).fetchone()
            if row is None:
                raise IntegrityFault(where=_where(*node), message="row missing: this complete subtree must be stored")
            digest = row[0]
            if not isinstance(digest, bytes) or len(digest) != self._digest_size:
                raise IntegrityFault(
                    where=_where(*node), message=f"stored hash is not a {self._digest_size}-byte digest: {digest!r}"
                )
            found[node] = digest
        return found


class _LevelCursor:
    """Forward scan of one level's rows in idx order, compared with the expected rows."""

    def __init__(self, conn: sqlite3.Connection, level: int) -> None:
        self._level = level
        self._rows: Iterator[tuple[object, object]] = iter(
            conn.execute("SELECT idx, hash FROM txlog_nodes WHERE level = ? ORDER BY idx", (level,))
        )
        self._pending: tuple[object, object] | None = None

    def _peek(self) -> tuple[object, object] | None:
        if self._pending is None:
            self._pending = next(self._rows, None)
        return self._pending

    def expect(self, idx: int, digest: bytes) -> None:
        """The next stored row must be (``idx``, ``digest``)."""
        row = self._peek()
        if row is None or (isinstance(row[0], int) and row[0] > idx):
            raise IntegrityFault(
                where=_where(self._level, idx),
                message="row missing: the leaves recomputed from the transactions complete this subtree",
            )
        stored_idx, stored_hash = row
        if stored_idx != idx:
            raise IntegrityFault(
                where=_where(self._level, stored_idx),
                message=f"extra row: expected the next row at this level to be idx={idx}",
            )
        if stored_hash != digest:
            shown = stored_hash.hex() if isinstance(stored_hash, bytes) else repr(stored_hash)
            raise IntegrityFault(
                where=_where(self._level, idx),
                message=f"stored hash {shown} differs from {digest.hex()} recomputed from the transactions",
            )
        self._pending = None

    def expect_end(self, leaves: int) -> None:
        """No stored rows remain at this level."""
        row = self._peek()
        if row is not None:
            raise IntegrityFault(
                where=_where(self._level, row[0]),
                message=f"extra row: a log of {leaves} leaves has no such node",
            )
