"""The ledger file: blocks, transactions, the tx log and versioned state, committed atomically per block.

``commit_block`` writes a block's transactions, their tx-log leaves, every state version they made,
the state commitment's new nodes and the header in one SQLite transaction (design §3.7): after a
crash the file holds either the whole block or none of it, and a restart resumes from the last
committed block without any repair step.
"""

from __future__ import annotations

import functools
import sqlite3
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import orjson

from estatechain import canonical
from estatechain.canonical import JSONValue
from estatechain.contract.effects import Record
from estatechain.crypto.merkle import leaf_hash
from estatechain.crypto.suites import SignatureSuite, get_suite
from estatechain.errors import Conflict, InputError, IntegrityFault, NotFound
from estatechain.identity.genesis import Genesis
from estatechain.ledger.block import BlockHeader
from estatechain.ledger.results import ExecutedTx, leaf_bytes
from estatechain.state.commitment import CachingNodeStore, SparseMerkleTree
from estatechain.state.rows import NO_HISTORY, StateRow, chain_head, key_hash
from estatechain.storage.checkpointer import Checkpointer
from estatechain.storage.connection import WriterLock, connect
from estatechain.storage.schema import (
    EVENTS_INDEX,
    PARTIES_INDEX,
    PRESALE_INDEX,
    SCHEMA_VERSION,
    STREAM_POSITION,
    create_schema,
    current_row,
    upgrade_from_3,
)
from estatechain.storage.smt import SqliteNodeStore
from estatechain.storage.txlog import TxLog

LEDGER_FILE: Final = "ledger.sqlite"

_CACHE_LIMIT: Final = 200_000

_Current = tuple[int, bytes | None, bytes]
"""A key's current version as stored: (seq, canonical value or None for a tombstone, chain head)."""


def _as_current(seq: int, value: bytes | None, chain: bytes) -> _Current:
    """A ``state_current`` row's (seq, value, chain) columns as the store keeps them."""
    return int(seq), None if value is None else bytes(value), bytes(chain)


_CURRENT: Final = current_row("seq, value, chain")
_NEWEST_CHUNK: Final = 250
"""Keys per ``_newest_of`` query: under the 500 terms SQLite allows in one compound SELECT (as Debian builds it)."""
_NEWEST: Final = f"SELECT * FROM ({current_row('key, seq, value, chain')})"  # noqa: S608  (constants only)


@functools.cache
def _newest_of(count: int) -> str:
    """One query for the newest row of each of ``count`` keys: one B-tree seek a key, however many versions it has.

    ``WHERE key IN (…)`` over the ``state_current`` view would evaluate its ``max(seq)`` subquery for every
    version of every key named: a certificate-sequence key has a version for each certificate of the year.
    """
    return " UNION ALL ".join([_NEWEST] * count)

Write = tuple[int, str, dict[str, JSONValue] | None]
"""(seq of the tx that wrote it, key, new value or None for a tombstone)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class TxRecord:
    """A stored transaction's place and result, as status queries and receipts report it."""

    tx_id: str
    seq: int
    height: int
    position: int
    status: str
    code: str | None
    message: str | None


class LedgerStore:
    """One node's ledger file. Not thread-safe: one writer, driven by the pipeline."""

    def __init__(self, conn: sqlite3.Connection, genesis: Genesis, *, path: Path | None = None) -> None:
        self._conn = conn
        self._checkpointer: Checkpointer | None = None
        self._lock: WriterLock | None = None
        if path is not None:  # the writer: one per file; checkpoints go to a background thread
            self._lock = WriterLock(path)
            conn.execute("PRAGMA wal_autocheckpoint=0")
            conn.execute("PRAGMA cache_size=-65536")
            self._checkpointer = Checkpointer(path)
            self._checkpointer.start()
        self.genesis = genesis
        self.suite: SignatureSuite = get_suite(genesis.suite)
        self._h = self.suite.hash
        self.txlog = TxLog(conn, self._h)
        self._smt = SparseMerkleTree(CachingNodeStore(SqliteNodeStore(conn)), self._h)
        self._head: BlockHeader | None = None
        self._head_hash = genesis.chain_id
        self._current: dict[str, _Current | None] = {}
        self._load_head()

    @classmethod
    def create(cls, directory: Path, genesis: Genesis) -> LedgerStore:
        """Create a new ledger file for ``genesis`` in ``directory``.

        Raises:
            Conflict: the directory already holds a ledger.

        """
        path = directory / LEDGER_FILE
        if path.exists():
            raise Conflict(f"{path} already exists; use a new directory or open the existing ledger")
        directory.mkdir(parents=True, exist_ok=True)
        conn = connect(path)
        conn.execute("BEGIN IMMEDIATE")
        create_schema(conn)
        conn.executemany(
            "INSERT INTO meta(key, value) VALUES (?, ?)",
            [("genesis", genesis.canonical_bytes()), ("schema_version", str(SCHEMA_VERSION).encode())],
        )
        conn.execute("COMMIT")
        return cls(conn, genesis, path=path)

    @classmethod
    def open(cls, directory: Path, *, readonly: bool = False) -> LedgerStore:
        """Open the ledger file in ``directory``; its genesis comes from the file itself.

        Raises:
            NotFound: there is no ledger in ``directory``.
            IntegrityFault: the file is no readable ledger, or the stored genesis does not parse.
            Conflict: the file has another format version than this build reads.

        """
        path = directory / LEDGER_FILE
        if not path.exists():
            raise NotFound(f"no ledger at {path}; create one with `estatechain init`")
        try:
            conn = connect(path, readonly=readonly)
            row = conn.execute("SELECT value FROM meta WHERE key = 'genesis'").fetchone()
        except sqlite3.DatabaseError as exc:  # not SQLite, damaged, or another program's database
            raise IntegrityFault(str(path), f"is not a readable estatechain ledger ({exc}); restore the node "
                                 "from a backup (`estatechain restore`) or rebuild it from a member's snapshot "
                                 "(`estatechain node --join-from`)") from None
        if row is None:
            raise IntegrityFault("meta key=genesis", "the ledger file holds no genesis")
        try:
            genesis = Genesis.from_json(canonical.decode(bytes(row[0]), what="stored genesis"))
        except InputError as exc:
            raise IntegrityFault("meta key=genesis", f"stored genesis is invalid: {exc}") from None
        version = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        found = "none" if version is None else bytes(version[0]).decode(errors="replace")
        if found not in {"3", str(SCHEMA_VERSION)}:
            conn.close()
            raise Conflict(f"{path} has file format {found}; this build reads format {SCHEMA_VERSION} and upgrades "
                           "format 3 in place (format 3 stores the state tree a 3-level page a row). A development "
                           "consortium: move its folder aside and run `estatechain init` (or `up`) into a new one. A "
                           "member's node: move the old ledger file aside and start the node with `estatechain node "
                           "… --join-from <peer URL>`")
        if not readonly:
            conn.execute(EVENTS_INDEX)
            conn.execute(PARTIES_INDEX)
            conn.execute(PRESALE_INDEX)
        store = cls(conn, genesis, path=None if readonly else path)
        if found == "3" and not readonly:  # under the writer lock the constructor took
            try:
                upgrade_from_3(conn)  # format 3 differs only by a table of copies; a reader reads either alike
            except BaseException:
                store.close()
                raise
        return store

    @property
    def connection(self) -> sqlite3.Connection:
        """The underlying connection (audits and queries read through it)."""
        return self._conn

    def close(self) -> None:
        """Close the file; committed blocks are already durable."""
        if self._checkpointer is not None:
            self._checkpointer.stop()
        self._conn.close()
        if self._lock is not None:
            self._lock.release()

    def _load_head(self) -> None:
        row = self._conn.execute("SELECT height, hash, header FROM blocks ORDER BY height DESC LIMIT 1").fetchone()
        if row is None:
            self._head, self._head_hash = None, self.genesis.chain_id
            return
        self._head = BlockHeader.from_bytes(bytes(row[2]), where=f"blocks height={row[0]}")
        self._head_hash = str(row[1])

    @property
    def head(self) -> BlockHeader | None:
        """The last committed block's header; None before the first block."""
        return self._head

    @property
    def height(self) -> int:
        """Height of the last committed block (0 before the first)."""
        return 0 if self._head is None else self._head.height

    @property
    def head_hash(self) -> str:
        """Hash of the last committed block (the chain id before the first)."""
        return self._head_hash

    @property
    def state_root(self) -> bytes:
        """The state commitment after the last committed block."""
        return self._smt.EMPTY_ROOT if self._head is None else bytes.fromhex(self._head.state_root)

    def block_at(self, height: int) -> tuple[BlockHeader, str] | None:
        """The committed block at ``height``: its header and hash (None above the head)."""
        row = self._conn.execute("SELECT hash, header FROM blocks WHERE height = ?", (height,)).fetchone()
        if row is None:
            return None
        return BlockHeader.from_bytes(bytes(row[1]), where=f"blocks height={height}"), str(row[0])

    def claim(self, height: int) -> tuple[str, str] | None:
        """What this ledger says of ``height`` and peers' attestations must match: (block hash, state root)."""
        block = self.block_at(height)
        return None if block is None else (block[1], block[0].state_root)

    @property
    def stream_position(self) -> int:
        """The ordering stream sequence the committed blocks consumed up to (0: none, or not a cluster node)."""
        row = self._conn.execute("SELECT value FROM meta WHERE key = ?", (STREAM_POSITION,)).fetchone()
        return 0 if row is None else int(bytes(row[0]))

    def next_seq(self) -> int:
        """The tx-log index the next committed transaction will get."""
        return self.txlog.size()

    # -- the committed-state view (estatechain.contract.view.StateView) --------------------------------

    def _current_row(self, key: str) -> _Current | None:
        """A key's current row, read through a write-through cache of committed rows.

        Admission and execution read the same few keys (certificates, revocations) for every
        transaction; the cache is updated only after a block commits, so it never shows
        uncommitted data.
        """
        if key in self._current:
            return self._current[key]
        row = self._conn.execute(_CURRENT, (key,)).fetchone()
        current = None if row is None else _as_current(*row)
        if len(self._current) >= _CACHE_LIMIT:
            self._current.clear()
        self._current[key] = current
        return current

    def _stored_rows(self, keys: set[str]) -> dict[str, _Current]:
        """The current rows of ``keys`` that exist, from the cache or in a few ``IN`` queries.

        A block commonly writes hundreds of keys that nothing read before (new applications, new
        notes): one query per few hundred keys rather than one per key.
        """
        found: dict[str, _Current] = {}
        missing: list[str] = []
        for key in keys:
            if key not in self._current:
                missing.append(key)
            elif (row := self._current[key]) is not None:
                found[key] = row
        for start in range(0, len(missing), _NEWEST_CHUNK):
            chunk = missing[start:start + _NEWEST_CHUNK]
            for key, seq, value, chain in self._conn.execute(_newest_of(len(chunk)), chunk):
                found[str(key)] = _as_current(seq, value, chain)
        return found

    def get(self, key: str) -> Record | None:
        """Current committed version of ``key``."""
        row = self._current_row(key)
        if row is None or row[1] is None:
            return None
        value: dict[str, JSONValue] = orjson.loads(row[1])
        return value

    def scan(self, prefix: str) -> Iterator[tuple[str, Record]]:
        """Current committed rows under ``prefix`` in key order.

        Every version in the range is read and the newest of each key kept here: the rules scan short
        ranges (a unit's index rows, rarely more than one version a key), where the ``state_current``
        view's subquery per row costs about twice as much as the plain range read.
        """
        newest: dict[str, bytes | None] = {}
        for key, value in self._conn.execute(
            "SELECT key, value FROM state_rows WHERE key >= ? AND key < ? ORDER BY key, seq",
            (prefix, prefix + "\U0010ffff"),
        ):
            newest[str(key)] = value  # in (key, seq) order: the last version of a key is its current one
        for key, value in newest.items():
            if value is not None:
                yield key, orjson.loads(value)

    # -- replay protection ------------------------------------------------------------------------------

    def replay_status(self, tx_id: str, signer: str, nonce: str) -> tuple[bool, bool]:
        """(tx id already committed, signer already used nonce) from one index probe.

        The tx id hashes the payload, and the payload names its signer and nonce, so a committed tx
        with this id is the one committed under (signer, nonce): looking that pair up answers both.
        """
        row = self._conn.execute("SELECT tx_id FROM txs WHERE signer = ? AND nonce = ?", (signer, nonce)).fetchone()
        return row is not None and row[0] == tx_id, row is not None

    def nonce_tx(self, signer: str, nonce: str) -> str | None:
        """The committed transaction in which ``signer`` used ``nonce``, or None."""
        row = self._conn.execute("SELECT tx_id FROM txs WHERE signer = ? AND nonce = ?", (signer, nonce)).fetchone()
        return None if row is None else str(row[0])

    def tx_known(self, tx_id: str) -> bool:
        """True when ``tx_id`` is already in a committed block."""
        return self._conn.execute("SELECT 1 FROM txs WHERE tx_id = ?", (tx_id,)).fetchone() is not None

    def nonce_used(self, signer: str, nonce: str) -> bool:
        """True when ``signer`` already used ``nonce`` in a committed transaction."""
        row = self._conn.execute("SELECT 1 FROM txs WHERE signer = ? AND nonce = ?", (signer, nonce)).fetchone()
        return row is not None

    def tx_record(self, tx_id: str) -> TxRecord | None:
        """Where and how ``tx_id`` was committed, or None."""
        row = self._conn.execute(
            "SELECT seq, height, position, status, code, message FROM txs WHERE tx_id = ?", (tx_id,)
        ).fetchone()
        if row is None:
            return None
        return TxRecord(tx_id=tx_id, seq=row[0], height=row[1], position=row[2], status=row[3], code=row[4],
                        message=row[5])

    # -- commit -----------------------------------------------------------------------------------------

    def commit_block(
        self,
        *,
        time_ms: int,
        executed: Sequence[ExecutedTx],
        writes: Sequence[Write],
        stream_position: int | None = None,
    ) -> BlockHeader:
        """Commit one block atomically and return its header.

        ``executed`` are the block's transactions in order (their seqs follow ``next_seq()``);
        ``writes`` are the state versions the valid ones made, in order. A cluster node passes the
        ordering stream's sequence number up to which this block consumed the stream: stored in the
        same SQLite transaction, it is exactly where the node resumes reading after any crash.
        """
        height = self.height + 1
        first_seq = self.txlog.size()
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            header, current = self._write_block(height, first_seq, time_ms, executed, writes)
            if stream_position is not None:
                self._conn.execute("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)",
                                   (STREAM_POSITION, str(stream_position).encode()))
            self._conn.execute("COMMIT")
        except BaseException:
            # SQLite has already rolled back a COMMIT that failed on I/O (disk full, EIO): a second ROLLBACK
            # would raise "no transaction is active" and hide the real error from the operator.
            if self._conn.in_transaction:
                self._conn.execute("ROLLBACK")
            self.txlog.reload()
            raise
        self._current.update(current)
        self._head, self._head_hash = header, header.hash(self.suite)
        if self._checkpointer is not None:
            self._checkpointer.after_commit(self._conn)
        return header

    def _write_block(
        self, height: int, first_seq: int, time_ms: int, executed: Sequence[ExecutedTx], writes: Sequence[Write]
    ) -> tuple[BlockHeader, dict[str, _Current]]:
        h = self._h
        leaves: list[bytes] = []
        tx_rows: list[tuple[object, ...]] = []
        for position, item in enumerate(executed):
            tx, result = item.tx, item.result
            leaves.append(leaf_hash(h, leaf_bytes(tx_id=tx.tx_id, envelope_hash=h(tx.raw).hex(), height=height,
                                                  position=position, result=result)))
            detail = canonical.encode(result.detail).decode() if result.detail else None
            tx_rows.append((first_seq + position, tx.tx_id, height, position, tx.signer, tx.nonce, tx.command,
                            "valid" if result.valid else "invalid", result.code, result.message, detail, tx.raw))
        self.txlog.append_leaf_hashes(leaves)
        self._conn.executemany("INSERT INTO txs VALUES (?,?,?,?,?,?,?,?,?,?,?,?)", tx_rows)
        current = self._write_state(height, writes)
        state_root = self._smt.update(self.state_root, {key_hash(h, key): row[2] for key, row in current.items()},
                                      version=height)
        header = BlockHeader(
            chain_id=self.genesis.chain_id,
            height=height,
            prev_hash=self._head_hash,
            time_ms=time_ms,
            tx_count=len(executed),
            txlog_size=self.txlog.size(),
            txlog_root=self.txlog.root().hex(),
            state_root=state_root.hex(),
        )
        self._conn.execute("INSERT INTO blocks VALUES (?,?,?)", (height, header.hash(self.suite), header.to_bytes()))
        return header, current

    def _write_state(self, height: int, writes: Sequence[Write]) -> dict[str, _Current]:
        """Store every version written in this block; return each touched key's new current row."""
        current: dict[str, _Current] = {}
        history: list[tuple[str, int, int, bytes | None, bytes]] = []
        stored = self._stored_rows({key for _, key, _ in writes})
        for seq, key, value in writes:
            before = current.get(key) or stored.get(key)
            previous = NO_HISTORY if before is None else before[2]
            value_bytes = None if value is None else canonical.encode_produced(value)
            row = StateRow(key=key, seq=seq, height=height, value=value)
            head = chain_head(self._h, previous, row.to_bytes_around(value_bytes))
            current[key] = (seq, value_bytes, head)
            history.append((key, seq, height, value_bytes, head))
        self._conn.executemany("INSERT INTO state_rows VALUES (?,?,?,?,?)", history)
        return current
