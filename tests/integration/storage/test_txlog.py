"""The SQLite tx-log over real database files: proofs from stored nodes, rollbacks, audit."""

from __future__ import annotations

import hashlib
import re
import sqlite3
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from estatechain.crypto.merkle import (
    consistency_proof_naive,
    empty_root,
    inclusion_proof_naive,
    leaf_hash,
    root_from_leaf_hashes,
)
from estatechain.errors import Conflict, InputError, IntegrityFault
from estatechain.storage.txlog import TXLOG_SCHEMA, TxLog


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def leaves(n: int, start: int = 0) -> list[bytes]:
    return [leaf_hash(sha256, i.to_bytes(8, "big")) for i in range(start, start + n)]


def connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute(TXLOG_SCHEMA)
    return conn


def commit_batch(conn: sqlite3.Connection, log: TxLog, batch: list[bytes]) -> None:
    conn.execute("BEGIN")
    log.append_leaf_hashes(batch)
    conn.execute("COMMIT")


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "ledger.sqlite"


@pytest.fixture
def conn(db: Path) -> Iterator[sqlite3.Connection]:
    connection = connect(db)
    yield connection
    connection.close()


def built(conn: sqlite3.Connection, n: int, batch: int = 37) -> tuple[TxLog, list[bytes]]:
    log = TxLog(conn, sha256)
    data = leaves(n)
    for start in range(0, n, batch):
        commit_batch(conn, log, data[start : start + batch])
    return log, data


@settings(max_examples=15, deadline=None)
@given(batches=st.lists(st.integers(0, 200), min_size=1, max_size=12), data=st.data())
def test_roots_and_proofs_match_the_reference_after_batches_of_random_sizes(
    batches: list[int], data: st.DataObject
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        conn = connect(Path(tmp) / "ledger.sqlite")
        log = TxLog(conn, sha256)
        appended: list[bytes] = []
        for count in batches:
            batch = leaves(count, start=len(appended))
            commit_batch(conn, log, batch)
            appended += batch
            n = len(appended)
            assert log.size() == n
            assert log.root() == root_from_leaf_hashes(sha256, appended)
            past = data.draw(st.integers(0, n))
            assert log.root(past) == root_from_leaf_hashes(sha256, appended[:past])
            if n:
                size = data.draw(st.integers(1, n))
                index = data.draw(st.integers(0, size - 1))
                old = data.draw(st.integers(1, size))
                assert log.leaf_hash(index) == appended[index]
                assert log.inclusion_proof(index, size) == inclusion_proof_naive(sha256, appended[:size], index)
                assert log.consistency_proof(old, size) == consistency_proof_naive(sha256, appended[:size], old)
        log.audit(appended)
        conn.close()


def test_every_proof_of_a_200_leaf_log_matches_the_reference(conn: sqlite3.Connection) -> None:
    log, data = built(conn, 200, batch=13)
    for size in (1, 2, 3, 64, 127, 128, 129, 199, 200):
        for index in range(size):
            assert log.inclusion_proof(index, size) == inclusion_proof_naive(sha256, data[:size], index)
        for old in range(1, size + 1):
            assert log.consistency_proof(old, size) == consistency_proof_naive(sha256, data[:size], old)
    for size in range(201):
        assert log.root(size) == root_from_leaf_hashes(sha256, data[:size])


def test_a_proof_reads_only_a_logarithmic_number_of_rows(conn: sqlite3.Connection) -> None:
    log, data = built(conn, 3000, batch=500)
    statements: list[str] = []
    conn.set_trace_callback(statements.append)
    assert log.inclusion_proof(1234, 2999) == inclusion_proof_naive(sha256, data[:2999], 1234)
    assert log.consistency_proof(1111, 2999) == consistency_proof_naive(sha256, data[:2999], 1111)
    assert log.root(2047) == root_from_leaf_hashes(sha256, data[:2047])
    conn.set_trace_callback(None)
    bound = 3 * 2 * (2999).bit_length()
    assert 0 < len(statements) <= bound
    point_lookup = re.compile(r"SELECT hash FROM txlog_nodes WHERE level = \d+ AND idx = \d+")
    assert all(point_lookup.fullmatch(s) for s in statements), statements


def test_append_writes_into_the_callers_transaction_and_never_commits(db: Path, conn: sqlite3.Connection) -> None:
    log = TxLog(conn, sha256)
    reader = connect(db)
    conn.execute("BEGIN")
    log.append_leaf_hashes(leaves(5))
    assert conn.in_transaction
    assert reader.execute("SELECT COUNT(*) FROM txlog_nodes").fetchone() == (0,)
    conn.execute("COMMIT")
    assert reader.execute("SELECT COUNT(*) FROM txlog_nodes").fetchone() == (5 + 2 + 1,)
    reader.close()


def test_the_log_survives_closing_and_reopening_the_database(db: Path, conn: sqlite3.Connection) -> None:
    log, data = built(conn, 1000, batch=99)
    root, proof = log.root(), log.inclusion_proof(500, 777)
    conn.close()

    reopened = connect(db)
    again = TxLog(reopened, sha256)
    assert again.size() == 1000
    assert again.root() == root
    assert again.inclusion_proof(500, 777) == proof
    more = leaves(300, start=1000)
    commit_batch(reopened, again, more)
    assert again.root() == root_from_leaf_hashes(sha256, data + more)
    again.audit(data + more)
    reopened.close()


def test_rollback_then_reload_returns_to_the_committed_log(conn: sqlite3.Connection) -> None:
    log, data = built(conn, 21)
    committed_root = log.root()
    conn.execute("BEGIN")
    log.append_leaf_hashes(leaves(11, start=21))
    assert log.size() == 32
    conn.execute("ROLLBACK")
    log.reload()
    assert log.size() == 21
    assert log.root() == committed_root
    other = leaves(11, start=9000)
    commit_batch(conn, log, other)
    assert log.root() == root_from_leaf_hashes(sha256, data + other)
    log.audit(data + other)


def test_appending_after_a_rollback_without_reload_is_refused(conn: sqlite3.Connection) -> None:
    log, _ = built(conn, 10)
    conn.execute("BEGIN")
    log.append_leaf_hashes(leaves(3, start=10))
    conn.execute("ROLLBACK")
    conn.execute("BEGIN")
    with pytest.raises(Conflict, match=r"holds 10 leaves but this TxLog expected 13; call reload\(\)"):
        log.append_leaf_hashes(leaves(1, start=10))
    conn.execute("ROLLBACK")


def test_a_failed_append_leaves_the_cache_untouched(conn: sqlite3.Connection) -> None:
    log, data = built(conn, 6)
    conn.execute("INSERT INTO txlog_nodes(level, idx, hash) VALUES (1, 3, ?)", (b"\x00" * 32,))
    conn.execute("BEGIN")
    with pytest.raises(sqlite3.IntegrityError):
        log.append_leaf_hashes(leaves(2, start=6))  # completes (1, 3), which is already taken
    conn.execute("ROLLBACK")
    assert log.size() == 6
    assert log.root() == root_from_leaf_hashes(sha256, data)


def test_appending_outside_a_transaction_is_refused(conn: sqlite3.Connection) -> None:
    log = TxLog(conn, sha256)
    with pytest.raises(InputError, match="needs an open transaction"):
        log.append_leaf_hashes(leaves(1))


@pytest.mark.parametrize("bad", [b"short", b"x" * 33, "not bytes"])
def test_a_leaf_hash_that_is_not_a_digest_is_refused(conn: sqlite3.Connection, bad: object) -> None:
    log = TxLog(conn, sha256)
    conn.execute("BEGIN")
    with pytest.raises(InputError, match="leaf hash #1 must be 32 bytes"):
        log.append_leaf_hashes([leaves(1)[0], bad])  # type: ignore[list-item]
    conn.execute("ROLLBACK")
    assert conn.execute("SELECT COUNT(*) FROM txlog_nodes").fetchone() == (0,)


def test_an_empty_log_has_the_empty_root_and_no_proofs(conn: sqlite3.Connection) -> None:
    log = TxLog(conn, sha256)
    assert log.size() == 0
    assert log.root() == log.root(0) == empty_root(sha256)
    with pytest.raises(InputError, match="log holds no leaves yet"):
        log.inclusion_proof(0, 1)
    with pytest.raises(InputError, match="log holds no leaves yet"):
        log.leaf_hash(0)
    log.audit([])


@pytest.mark.parametrize(
    ("call", "message"),
    [
        pytest.param(lambda log: log.root(11), r"tree size 11 is invalid: it must be in 0\.\.10", id="root-above-size"),
        pytest.param(lambda log: log.root(-1), r"tree size -1 is invalid: it must be in 0\.\.10", id="root-negative"),
        pytest.param(
            lambda log: log.leaf_hash(10), r"leaf index 10 is invalid: it must be in 0\.\.9", id="leaf-beyond-end"
        ),
        pytest.param(
            lambda log: log.inclusion_proof(0, 0),
            r"tree size 0 is invalid: it must be in 1\.\.10",
            id="inclusion-size-0",
        ),
        pytest.param(
            lambda log: log.inclusion_proof(0, 11),
            r"tree size 11 is invalid: it must be in 1\.\.10",
            id="inclusion-size-above",
        ),
        pytest.param(
            lambda log: log.inclusion_proof(4, 4),
            r"leaf index 4 is invalid: it must be in 0\.\.3",
            id="inclusion-index-at-size",
        ),
        pytest.param(
            lambda log: log.inclusion_proof(-1, 4),
            r"leaf index -1 is invalid: it must be in 0\.\.3",
            id="inclusion-index-negative",
        ),
        pytest.param(
            lambda log: log.consistency_proof(0, 5),
            r"old tree size 0 is invalid: it must be in 1\.\.5",
            id="consistency-from-empty",
        ),
        pytest.param(
            lambda log: log.consistency_proof(6, 5),
            r"old tree size 6 is invalid: it must be in 1\.\.5",
            id="consistency-old-above-new",
        ),
        pytest.param(
            lambda log: log.consistency_proof(1, 11),
            r"tree size 11 is invalid: it must be in 1\.\.10",
            id="consistency-new-above-size",
        ),
    ],
)
def test_bad_arguments_name_the_valid_range(
    conn: sqlite3.Connection, call: Callable[[TxLog], object], message: str
) -> None:
    log, _ = built(conn, 10)
    with pytest.raises(InputError, match=message):
        call(log)


def test_audit_passes_on_a_good_log(conn: sqlite3.Connection) -> None:
    log, data = built(conn, 1025, batch=100)
    log.audit(iter(data))
    rows = conn.execute("SELECT COUNT(*) FROM txlog_nodes").fetchone()[0]
    assert rows == sum(1025 >> level for level in range(11))


@pytest.mark.parametrize(("level", "idx"), [(0, 0), (0, 99), (1, 17), (3, 6), (6, 0)])
def test_audit_names_a_row_whose_hash_was_changed(conn: sqlite3.Connection, level: int, idx: int) -> None:
    log, data = built(conn, 100)
    conn.execute("UPDATE txlog_nodes SET hash = ? WHERE level = ? AND idx = ?", (b"\xee" * 32, level, idx))
    with pytest.raises(IntegrityFault, match="differs from") as fault:
        log.audit(data)
    assert fault.value.where == f"txlog_nodes level={level} idx={idx}"


@pytest.mark.parametrize(("level", "idx"), [(0, 0), (0, 99), (1, 17), (3, 6), (6, 0), (2, 24)])
def test_audit_names_a_deleted_row(conn: sqlite3.Connection, level: int, idx: int) -> None:
    log, data = built(conn, 100)
    conn.execute("DELETE FROM txlog_nodes WHERE level = ? AND idx = ?", (level, idx))
    with pytest.raises(IntegrityFault, match="row missing") as fault:
        log.audit(data)
    assert fault.value.where == f"txlog_nodes level={level} idx={idx}"


@pytest.mark.parametrize(
    ("level", "idx"),
    [(0, 100), (1, 50), (2, 25), (3, 13), (6, 1), (7, 0), (40, 3), (-1, 0), (0, -5), (2, "x")],
)
def test_audit_names_an_extra_row(conn: sqlite3.Connection, level: int, idx: object) -> None:
    log, data = built(conn, 100)
    conn.execute("INSERT INTO txlog_nodes(level, idx, hash) VALUES (?, ?, ?)", (level, idx, b"\x01" * 32))
    with pytest.raises(IntegrityFault, match="extra row") as fault:
        log.audit(data)
    assert fault.value.where == f"txlog_nodes level={level} idx={idx}"


def test_audit_with_fewer_or_more_leaves_than_stored_fails_at_the_boundary(conn: sqlite3.Connection) -> None:
    log, data = built(conn, 50)
    with pytest.raises(IntegrityFault, match="extra row") as fewer:
        log.audit(data[:49])
    assert fewer.value.where == "txlog_nodes level=0 idx=49"
    with pytest.raises(IntegrityFault, match="row missing") as more:
        log.audit([*data, *leaves(1, start=50)])
    assert more.value.where == "txlog_nodes level=0 idx=50"


def test_a_damaged_table_can_still_be_opened_and_audited(db: Path, conn: sqlite3.Connection) -> None:
    _, data = built(conn, 100)
    conn.execute("DELETE FROM txlog_nodes WHERE level = 5 AND idx = 2")  # on the right edge of 100 = 64+32+4
    conn.close()
    damaged = connect(db)
    log = TxLog(damaged, sha256)
    with pytest.raises(IntegrityFault) as fault:
        log.audit(data)
    assert fault.value.where == "txlog_nodes level=5 idx=2"
    with pytest.raises(IntegrityFault, match="row missing") as on_use:
        log.root()
    assert on_use.value.where == "txlog_nodes level=5 idx=2"
    damaged.close()
