"""``verify``: re-check a ledger file from its stored bytes alone, naming the first bad place.

The audit trusts nothing that was derived and stored: it re-parses every header and envelope,
re-verifies every signature against the genesis CAs, replays every block through the same execution
code the pipeline used, and compares what it recomputes — results, tx-log leaves and nodes, every
state version and the current-state table, the commitment tree's nodes and roots, block hashes and
their chain — with every column of every stored row. Any difference raises ``IntegrityFault`` whose
``where`` names the table, the row and the column.

It runs at the register's full size: the replayed state lives in a scratch SQLite file in the
system's temporary directory (``TMPDIR``), removed afterwards, and the state tree's nodes are checked
block by block against the stored rows (``storage.smt.ReplayNodeStore``) instead of being rebuilt in
memory, so memory stays bounded whatever the number of units.
"""

from __future__ import annotations

import sqlite3
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Final

from estatechain import canonical
from estatechain.canonical import JSONValue
from estatechain.contract.effects import Record
from estatechain.crypto.merkle import MerkleAccumulator, leaf_hash
from estatechain.errors import InputError, IntegrityFault, NotFound, Unavailable
from estatechain.identity.genesis import Genesis
from estatechain.ledger.admission import AdmittedTx, Authenticator
from estatechain.ledger.block import BlockHeader
from estatechain.ledger.execution import execute_block
from estatechain.ledger.results import ExecutedTx, leaf_bytes
from estatechain.state.commitment import CachingNodeStore, SparseMerkleTree
from estatechain.state.rows import NO_HISTORY, StateRow, chain_head, key_hash
from estatechain.storage.connection import connect
from estatechain.storage.schema import SCHEMA_VERSION, STREAM_POSITION, TABLES, create_schema
from estatechain.storage.smt import ReplayNodeStore
from estatechain.storage.store import LEDGER_FILE
from estatechain.storage.txlog import TxLog

Progress = Callable[[int, int], None]
"""Called with (blocks done, blocks in all) as the audit goes."""


@dataclass(frozen=True, slots=True, kw_only=True)
class AuditReport:
    """What a passing audit checked."""

    chain_id: str
    blocks: int
    txs: int
    valid_txs: int
    invalid_txs: int
    state_versions: int
    state_keys: int
    txlog_nodes: int
    smt_nodes: int
    """Rows of ``smt_nodes``: pages of three tree levels since ledger format 3 (the name is the table's)."""
    head_hash: str


_Row = tuple[int, bytes | None, bytes]
"""A key's current version as the replay has it: (seq, canonical value or None for a tombstone, chain head)."""

_SCRATCH_SCHEMA: Final = """
CREATE TABLE current(key TEXT PRIMARY KEY, seq INTEGER NOT NULL, value BLOB, chain BLOB NOT NULL) WITHOUT ROWID;
CREATE TABLE versions(key TEXT NOT NULL, seq INTEGER NOT NULL, PRIMARY KEY(key, seq)) WITHOUT ROWID;
"""
_CACHE_LIMIT: Final = 200_000


class _ReplayState:
    """Current state as the replay has rebuilt it (the view execution reads), in a scratch SQLite file.

    At a million units the state has millions of keys: held in a dict, and scanned by prefix with a
    pass over every key, the replay needed gigabytes and never finished. The scratch file (journal
    and fsync off: it is thrown away) keeps memory bounded and serves prefix scans as key ranges; a
    bounded cache in front serves the keys every transaction reads again (certificates, roles). It
    also lists every version the blocks wrote, which is how a stored version no block wrote is named.
    """

    def __init__(self, path: Path) -> None:
        self._path = path
        with self._scratch():
            self._db = sqlite3.connect(path, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=OFF")
            self._db.execute("PRAGMA synchronous=OFF")
            self._db.execute("PRAGMA cache_size=-262144")
            self._db.executescript(_SCRATCH_SCHEMA)
        self._cache: dict[str, _Row | None] = {}
        self.keys = 0
        """Keys written so far."""

    def close(self) -> None:
        """Close the scratch file (its directory is the caller's to remove)."""
        self._db.close()

    @contextmanager
    def _scratch(self) -> Iterator[None]:
        """Turn a failure of the scratch file (a full disk, an unwritable ``TMPDIR``) into ``Unavailable``.

        It must not surface as a ``sqlite3.DatabaseError``, which the audit reports as a damaged ledger:
        a healthy ledger would fail ``verify``, a good snapshot would be refused at a join, a good backup
        at a restore.
        """
        try:
            yield
        except sqlite3.Error as exc:
            raise Unavailable(f"verify's scratch file {self._path} failed ({exc}); it needs space about a quarter "
                              "of the ledger's size: free some there or point TMPDIR at a larger disk, then "
                              "run verify again (the ledger was not found faulty)") from None

    def row(self, key: str) -> _Row | None:
        """The key's current version, or None if no block wrote it."""
        if key in self._cache:
            return self._cache[key]
        row = self.stored(key)
        if len(self._cache) >= _CACHE_LIMIT:
            self._cache.clear()
        self._cache[key] = row
        return row

    def get(self, key: str) -> Record | None:
        """The key's current value (None when absent or a tombstone)."""
        row = self.row(key)
        if row is None or row[1] is None:
            return None
        value = canonical.decode(row[1])
        assert isinstance(value, dict)
        return value

    def scan(self, prefix: str) -> Iterator[tuple[str, Record]]:
        """Current values under ``prefix`` in key order."""
        with self._scratch():
            rows = self._db.execute(
                "SELECT key, value FROM current WHERE key >= ? AND key < ? AND value IS NOT NULL ORDER BY key",
                (prefix, prefix + "\U0010ffff")).fetchall()
        for key, value in rows:
            decoded = canonical.decode(value)
            assert isinstance(decoded, dict)
            yield str(key), decoded

    def put_block(self, rows: dict[str, _Row], versions: list[tuple[str, int]], new_keys: int) -> None:
        """Store one block's new current rows and the versions it wrote (``new_keys`` of its keys are new)."""
        self.keys += new_keys
        with self._scratch():
            self._db.execute("BEGIN")
            self._db.executemany(
                "INSERT INTO current(key, seq, value, chain) VALUES (?, ?, ?, ?) ON CONFLICT(key) DO UPDATE SET "
                "seq = excluded.seq, value = excluded.value, chain = excluded.chain",
                [(key, *row) for key, row in rows.items()])
            self._db.executemany("INSERT INTO versions(key, seq) VALUES (?, ?)", versions)
            self._db.execute("COMMIT")
        for key, row in rows.items():
            if key in self._cache or len(self._cache) < _CACHE_LIMIT:
                self._cache[key] = row

    def stored(self, key: object) -> _Row | None:
        """The replay's current row for a key (any SQLite type, as read from the ledger), bypassing the cache."""
        with self._scratch():
            found = self._db.execute("SELECT seq, value, chain FROM current WHERE key = ?", (key,)).fetchone()
        return None if found is None else (int(found[0]), found[1], bytes(found[2]))

    def wrote(self, key: object, seq: object) -> bool:
        """Whether a block wrote version (``key``, ``seq``)."""
        with self._scratch():
            found = self._db.execute("SELECT 1 FROM versions WHERE key = ? AND seq = ?", (key, seq)).fetchone()
        return found is not None


def _differ(where: str, column: str, stored: object, expected: object) -> None:
    if stored != expected:
        raise IntegrityFault(f"{where} column={column}", f"stored {stored!r} but the ledger implies {expected!r}")


def _blob(where: str, stored: object) -> bytes:
    """``stored`` if SQLite returned it as a BLOB; a fault naming ``where`` if someone rewrote it as another type."""
    if not isinstance(stored, bytes):
        raise IntegrityFault(where, f"stored as {type(stored).__name__}, but this column holds bytes")
    return stored


class _Auditor:
    def __init__(self, conn: sqlite3.Connection, genesis: Genesis, scratch: Path, ledger_format: str) -> None:
        self.conn = conn
        self.format = ledger_format
        self.genesis = genesis
        self.auth = Authenticator(genesis)
        self.h = self.auth.suite.hash
        self.state = _ReplayState(scratch / "replay.sqlite")
        self.log = MerkleAccumulator(self.h)
        self.leaves: list[bytes] = []
        self.nodes = ReplayNodeStore(conn)
        self.smt = SparseMerkleTree(CachingNodeStore(self.nodes), self.h)
        self.root = self.smt.EMPTY_ROOT
        self.height = 0
        self.prev_hash = genesis.chain_id
        self.prev_time = 0
        self.versions = 0
        self.valid = 0

    def block(self, height: int, stored_hash: str, header_bytes: bytes) -> None:
        where = f"blocks height={height}"
        header = BlockHeader.from_bytes(header_bytes, where=f"{where} column=header")
        _differ(where, "hash", stored_hash, self.h(header_bytes).hex())
        if height == 1 and header.chain_id == header.prev_hash != self.genesis.chain_id:
            # Block 1 agrees with itself on its chain; the genesis it should hash to does not.
            raise IntegrityFault("meta key=genesis column=value",
                                 f"the stored genesis hashes to {self.genesis.chain_id} but block 1 names chain "
                                 f"{header.chain_id}: the genesis was changed")
        _differ(where, "header.chain_id", header.chain_id, self.genesis.chain_id)
        _differ(where, "header.height", header.height, height)
        _differ(where, "header.prev_hash", header.prev_hash, self.prev_hash)
        if header.time_ms < self.prev_time:
            raise IntegrityFault(f"{where} column=header.time_ms", "block time goes backwards")
        rows = self.conn.execute(
            "SELECT seq, tx_id, height, position, signer, nonce, command, status, code, message, detail, envelope "
            "FROM txs WHERE height = ? ORDER BY position", (height,)).fetchall()
        if len(rows) != header.tx_count:
            self._moved_tx(height, header.tx_count)
        _differ(where, "header.tx_count", header.tx_count, len(rows))
        admitted = [self._tx(self.log.size + i, i, row) for i, row in enumerate(rows)]
        executed, overlay = execute_block(
            self.state, admitted, chain_id=self.genesis.chain_id, policies=self.genesis.policies, height=height,
            time_ms=header.time_ms, first_seq=self.log.size)
        for row, item in zip(rows, executed, strict=True):
            self._result(row, item, height)
        _differ(where, "header.txlog_size", header.txlog_size, self.log.size)
        _differ(where, "header.txlog_root", header.txlog_root, self.log.root().hex())
        changes = self._state(height, overlay.writes)
        self.root = self.smt.update(self.root, changes, version=height)
        self.nodes.check_version(height)
        _differ(where, "header.state_root", header.state_root, self.root.hex())
        self.prev_hash, self.prev_time, self.height = stored_hash, header.time_ms, height

    def _moved_tx(self, height: int, tx_count: int) -> None:
        """Name the transaction row whose height no longer matches the block its seq places it in."""
        first, end = self.log.size, self.log.size + tx_count
        moved = self.conn.execute(
            "SELECT seq, height FROM txs WHERE (seq >= ? AND seq < ? AND height != ?) "
            "OR (height = ? AND (seq < ? OR seq >= ?)) ORDER BY seq LIMIT 1",
            (first, end, height, height, first, end)).fetchone()
        if moved is not None:
            raise IntegrityFault(f"txs seq={moved[0]} column=height",
                                 f"stored height {moved[1]!r} but block {height} holds seqs {first}..{end - 1}")

    def _tx(self, seq: int, position: int, row: tuple[object, ...]) -> AdmittedTx:
        where = f"txs seq={seq}"
        _differ(where, "seq", row[0], seq)
        _differ(where, "position", row[3], position)
        envelope = row[11]
        if not isinstance(envelope, bytes):
            raise IntegrityFault(f"{where} column=envelope", "envelope is not stored as bytes")
        try:
            tx = self.auth.parse(envelope)
            admitted = self.auth.authenticate(tx, self.state)
        except InputError as exc:
            raise IntegrityFault(f"{where} column=envelope", f"envelope does not check out: {exc}") from None
        _differ(where, "tx_id", row[1], tx.tx_id)
        _differ(where, "signer", row[4], tx.signer)
        _differ(where, "nonce", row[5], tx.nonce)
        _differ(where, "command", row[6], tx.command)
        return admitted

    def _result(self, row: tuple[object, ...], item: ExecutedTx, height: int) -> None:
        seq = int(str(row[0]))
        where = f"txs seq={seq}"
        result = item.result
        _differ(where, "height", row[2], height)
        _differ(where, "status", row[7], "valid" if result.valid else "invalid")
        _differ(where, "code", row[8], result.code)
        _differ(where, "message", row[9], result.message)
        _differ(where, "detail", row[10], canonical.encode(result.detail).decode() if result.detail else None)
        self.valid += result.valid
        leaf = leaf_hash(self.h, leaf_bytes(tx_id=item.tx.tx_id, envelope_hash=self.h(item.tx.raw).hex(),
                                            height=height, position=int(str(row[3])), result=result))
        self.log.append(leaf)
        self.leaves.append(leaf)

    def _state(self, height: int, writes: list[tuple[int, str, dict[str, JSONValue] | None]]) -> dict[bytes, bytes]:
        """Check every version the block's writes imply, looked up by (key, seq), and extend each key's chain."""
        changes: dict[bytes, bytes] = {}
        rows: dict[str, _Row] = {}
        versions: list[tuple[str, int]] = []
        new_keys = 0
        for w_seq, w_key, w_value in sorted(writes, key=lambda w: (w[0], w[1])):
            where = f"state_rows key={w_key} seq={w_seq}"
            row = self.conn.execute(
                "SELECT height, value, chain FROM state_rows WHERE key = ? AND seq = ?", (w_key, w_seq)
            ).fetchone()
            if row is None:
                raise IntegrityFault(where, f"block {height} wrote this version but it is not stored")
            row_height, value, chain = row
            _differ(where, "height", row_height, height)
            value_bytes = None if w_value is None else canonical.encode(w_value)
            _differ(where, "value", value, value_bytes)
            before = rows.get(w_key) or self.state.row(w_key)
            new_keys += before is None
            previous = NO_HISTORY if before is None else before[2]
            head = chain_head(self.h, previous, StateRow(key=w_key, seq=w_seq, height=height, value=w_value).to_bytes())
            _differ(where, "chain", chain, head)
            rows[w_key] = (w_seq, value_bytes, head)
            versions.append((w_key, w_seq))
            changes[key_hash(self.h, w_key)] = head
            self.versions += 1
        self.state.put_block(rows, versions, new_keys)
        return changes

    def _extra_state_row(self) -> None:
        """Name the first stored version that no block's transactions wrote."""
        for key, seq in self.conn.execute("SELECT key, seq FROM state_rows"):
            if not self.state.wrote(key, seq):
                raise IntegrityFault(f"state_rows key={key} seq={seq}", "no block's transactions wrote this version")
        raise IntegrityFault("state_rows", "the row count differs from the versions the blocks wrote")

    def _current_table(self) -> None:
        """Format 3's ``state_current`` table: each key's copy of its newest version, as the replay has it."""
        conn = self.conn
        stored_keys = conn.execute("SELECT COUNT(*) FROM state_current").fetchone()[0]
        if stored_keys != self.state.keys:
            raise IntegrityFault("state_current", f"{stored_keys} keys stored, the replay has {self.state.keys}")
        for key, seq, value, chain in conn.execute("SELECT key, seq, value, chain FROM state_current ORDER BY key"):
            expected = self.state.stored(key)
            if expected is None:
                raise IntegrityFault(f"state_current key={key}", "no transaction ever wrote this key")
            where = f"state_current key={key}"
            _differ(where, "seq", seq, expected[0])
            _differ(where, "value", value, expected[1])
            _differ(where, "chain", chain, expected[2])

    def finish(self) -> AuditReport:
        conn = self.conn
        extra = conn.execute("SELECT seq FROM txs WHERE seq >= ? ORDER BY seq LIMIT 1", (self.log.size,)).fetchone()
        if extra is not None or conn.execute("SELECT COUNT(*) FROM txs").fetchone()[0] != self.log.size:
            raise IntegrityFault(f"txs seq={extra[0] if extra else '?'}", "a transaction row belongs to no block")
        if conn.execute("SELECT COUNT(*) FROM state_rows").fetchone()[0] != self.versions:
            self._extra_state_row()
        if self.format == "3":
            self._current_table()
        TxLog(conn, self.h).audit(iter(self.leaves))
        smt_nodes = self.nodes.finish(self.height)
        return AuditReport(
            chain_id=self.genesis.chain_id, blocks=0, txs=self.log.size, valid_txs=self.valid,
            invalid_txs=self.log.size - self.valid, state_versions=self.versions, state_keys=self.state.keys,
            txlog_nodes=conn.execute("SELECT COUNT(*) FROM txlog_nodes").fetchone()[0], smt_nodes=smt_nodes,
            head_hash=self.prev_hash)


def _genesis(conn: sqlite3.Connection) -> Genesis:
    meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
    if not {"genesis", "schema_version"} <= set(meta) <= {"genesis", "schema_version", STREAM_POSITION}:
        raise IntegrityFault("meta", f"expected keys genesis and schema_version (and {STREAM_POSITION} on a cluster "
                             f"node), found {sorted(meta, key=repr)}")
    if meta["schema_version"] not in {b"3", str(SCHEMA_VERSION).encode()}:  # 3: upgraded in place by its writer
        stored = meta["schema_version"]
        found = stored.decode(errors="replace") if isinstance(stored, bytes) else f"{stored!r} (not a blob)"
        raise IntegrityFault("meta key=schema_version", f"the file is ledger format {found!r}; this build reads "
                             f"formats 3 and {SCHEMA_VERSION}: check it with the estatechain release that wrote it "
                             "(a format this build does not know is no sign of tampering by itself)")
    try:
        return Genesis.from_bytes(_blob("meta key=genesis column=value", meta["genesis"]))
    except InputError as exc:
        raise IntegrityFault("meta key=genesis column=value", f"genesis does not parse: {exc}") from None


def audit_ledger(directory: Path, *, progress: Progress | None = None) -> AuditReport:
    """Re-check the ledger in ``directory`` from its stored bytes.

    Raises:
        NotFound: no ledger file there.
        IntegrityFault: the first place where stored data and recomputation disagree.

    """
    path = directory / LEDGER_FILE
    if not path.exists():
        raise NotFound(f"no ledger at {path}; pass the directory `estatechain init` created")
    conn = connect(path, readonly=True)
    try:
        return _audit(conn, progress)
    except sqlite3.DatabaseError as exc:
        raise IntegrityFault(str(path), f"SQLite cannot read the file: {exc}") from None
    finally:
        conn.close()


def _audit(conn: sqlite3.Connection, progress: Progress | None) -> AuditReport:
    _sqlite_check(conn, "quick_check")
    tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if missing := set(TABLES) - tables:
        raise IntegrityFault("sqlite file", f"tables missing: {', '.join(sorted(missing))}")
    genesis = _genesis(conn)  # checks the format too: 3 or 4
    ledger_format = bytes(conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0]).decode()
    _current_view(conn, ledger_format)
    try:
        scratch_dir = tempfile.TemporaryDirectory(prefix="estatechain-verify-")
    except OSError as exc:
        raise Unavailable(f"verify cannot make its scratch directory ({exc}): point TMPDIR at a writable disk "
                          "with space about a quarter of the ledger's size") from None
    with scratch_dir as scratch:
        auditor = _Auditor(conn, genesis, Path(scratch), ledger_format)
        try:
            total = conn.execute("SELECT COUNT(*) FROM blocks").fetchone()[0]
            expected_height = 1
            for height, stored_hash, header in conn.execute("SELECT height, hash, header FROM blocks ORDER BY height"):
                if height != expected_height:
                    raise IntegrityFault(f"blocks height={expected_height}", f"block missing (next stored is {height})")
                auditor.block(height, stored_hash, _blob(f"blocks height={height} column=header", header))
                if progress is not None:
                    progress(height, total)
                expected_height += 1
            report = replace(auditor.finish(), blocks=expected_height - 1)
        finally:
            auditor.state.close()
    # Every row checked out; now prove each index matches its table (quick_check does not). Replay protection
    # reads the tx_id and (signer, nonce) indexes, so a damaged entry there would silently re-admit a tx.
    _sqlite_check(conn, "integrity_check")
    return report


def _current_view(conn: sqlite3.Connection, ledger_format: str) -> None:
    """Format 4: ``state_current`` must be the view a new ledger defines, or its readers could be shown other rows."""
    row = conn.execute("SELECT type, sql FROM sqlite_master WHERE name = 'state_current'").fetchone()
    if ledger_format == "3":
        if row is None or row[0] != "table":  # the marker or the schema was changed: the marker is the row to name
            raise IntegrityFault("meta key=schema_version", "says format 3, but the file has no format-3 "
                                 f"state_current table (found: {'nothing' if row is None else row[0]})")
        return
    fresh = sqlite3.connect(":memory:")
    try:
        create_schema(fresh)
        expected = fresh.execute("SELECT type, sql FROM sqlite_master WHERE name = 'state_current'").fetchone()
    finally:
        fresh.close()
    if row is None or tuple(row) != tuple(expected):
        raise IntegrityFault("sqlite file", "the state_current view is missing or not the one a ledger defines "
                             f"(found: {'nothing' if row is None else row[1]!r}); restore the node from a backup")


def _sqlite_check(conn: sqlite3.Connection, pragma: str) -> None:
    check = conn.execute(f"PRAGMA {pragma}").fetchall()
    if check != [("ok",)]:
        raise IntegrityFault("sqlite file", f"page-level corruption: {'; '.join(str(r[0]) for r in check[:3])}")
