"""The state tree over a real SQLite file: durable across reopen, and audited row by row."""

from __future__ import annotations

import hashlib
import sqlite3
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from estatechain.errors import InputError, IntegrityFault
from estatechain.state.commitment import EMPTY, CachingNodeStore, SparseMerkleTree, verify_proof
from estatechain.storage.smt import SMT_SCHEMA, SqliteNodeStore, audit_nodes

State = dict[bytes, bytes]


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.executescript(SMT_SCHEMA)
    return conn


def commit_blocks(conn: sqlite3.Connection, blocks: list[State]) -> list[bytes]:
    """One SQLite transaction per block, as the ledger's commit does; returns every root."""
    tree = SparseMerkleTree(CachingNodeStore(SqliteNodeStore(conn), capacity=256), sha256)
    roots = [EMPTY]
    for block in blocks:
        conn.execute("BEGIN")
        roots.append(tree.update(roots[-1], block))
        conn.execute("COMMIT")
    return roots


def key(i: int) -> bytes:
    return sha256(b"key %d" % i)


def blocks_of(count: int, size: int) -> list[State]:
    """Blocks that both add keys and overwrite keys of earlier blocks."""
    return [{key(b * size // 2 + i): sha256(b"%d/%d" % (b, i)) for i in range(size)} for b in range(count)]


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "state.sqlite"


digests = st.binary(min_size=32, max_size=32)


@settings(max_examples=15, deadline=None)
@given(st.lists(st.dictionaries(digests, digests, max_size=20), min_size=1, max_size=4))
def test_roots_values_and_proofs_survive_reopening(blocks: list[State]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "state.sqlite"
        conn = connect(path)
        roots = commit_blocks(conn, blocks)
        conn.close()

        reopened = connect(path)
        tree = SparseMerkleTree(SqliteNodeStore(reopened), sha256)
        merged: State = {}
        for root, block in zip(roots[1:], blocks, strict=True):
            merged = {**merged, **block}
            reopened.execute("BEGIN")
            assert tree.update(EMPTY, merged) == root  # rebuilt from scratch: same root
            reopened.execute("ROLLBACK")
            for k in [*merged, b"\x00" * 32]:
                value = merged.get(k)
                assert tree.get(root, k) == value
                assert verify_proof(sha256, root, k, value, tree.prove(root, k))
        reopened.close()


def test_audit_counts_every_row_of_a_clean_store(db: Path) -> None:
    conn = connect(db)
    roots = commit_blocks(conn, blocks_of(4, 50))
    reachable = SparseMerkleTree(SqliteNodeStore(conn), sha256).reachable(roots)
    rows = conn.execute("SELECT count(*) FROM smt_nodes").fetchone()[0]
    assert audit_nodes(conn, sha256) == rows == len(reachable)
    assert audit_nodes(conn, sha256, reachable) == rows


def test_audit_names_a_node_whose_bytes_were_changed(db: Path) -> None:
    conn = connect(db)
    commit_blocks(conn, blocks_of(2, 30))
    victim, node = conn.execute("SELECT hash, node FROM smt_nodes ORDER BY hash LIMIT 1 OFFSET 7").fetchone()
    bent = node[:40] + bytes([node[40] ^ 0x01]) + node[41:]
    conn.execute("UPDATE smt_nodes SET node = ? WHERE hash = ?", (bent, victim))
    with pytest.raises(IntegrityFault, match="the row was changed") as caught:
        audit_nodes(conn, sha256)
    assert caught.value.where == f"smt_nodes hash={victim.hex()}"


def test_audit_names_a_deleted_node_and_an_unattested_row(db: Path) -> None:
    conn = connect(db)
    roots = commit_blocks(conn, blocks_of(3, 30))
    reachable = SparseMerkleTree(SqliteNodeStore(conn), sha256).reachable(roots)
    victim = sorted(reachable)[len(reachable) // 2]
    conn.execute("DELETE FROM smt_nodes WHERE hash = ?", (victim,))
    assert audit_nodes(conn, sha256) == len(reachable) - 1  # every remaining row is itself fine
    with pytest.raises(IntegrityFault, match="node missing") as caught:
        audit_nodes(conn, sha256, reachable)
    assert caught.value.where == f"smt_nodes hash={victim.hex()}"

    stray = b"\x10" + b"\x01" * 64
    conn.execute("BEGIN")
    SqliteNodeStore(conn).put_many([(sha256(stray), stray)])
    conn.execute("COMMIT")
    with pytest.raises(IntegrityFault, match="not reachable"):
        audit_nodes(conn, sha256, reachable - {victim})
    assert audit_nodes(conn, sha256, (reachable - {victim}) | {sha256(stray)}) == len(reachable)


def test_last_node_missing_is_reported_after_the_scan(db: Path) -> None:
    conn = connect(db)
    roots = commit_blocks(conn, blocks_of(1, 10))
    reachable = SparseMerkleTree(SqliteNodeStore(conn), sha256).reachable(roots)
    last = max(reachable)
    conn.execute("DELETE FROM smt_nodes WHERE hash = ?", (last,))
    with pytest.raises(IntegrityFault, match="node missing") as caught:
        audit_nodes(conn, sha256, reachable)
    assert caught.value.where == f"smt_nodes hash={last.hex()}"


def test_a_rolled_back_block_leaves_no_rows_and_writes_need_a_transaction(db: Path) -> None:
    conn = connect(db)
    roots = commit_blocks(conn, blocks_of(1, 20))
    before = conn.execute("SELECT count(*) FROM smt_nodes").fetchone()[0]
    tree = SparseMerkleTree(CachingNodeStore(SqliteNodeStore(conn)), sha256)
    conn.execute("BEGIN")
    discarded = tree.update(roots[-1], {key(999): sha256(b"x")})
    conn.execute("ROLLBACK")  # the cache still holds the discarded nodes; the file must not
    assert conn.execute("SELECT count(*) FROM smt_nodes").fetchone()[0] == before
    assert tree.get(roots[-1], key(999)) is None
    with pytest.raises(InputError, match="BEGIN"):
        tree.update(roots[-1], {key(999): sha256(b"x")})
    conn.execute("BEGIN")
    redone = tree.update(roots[-1], {key(999): sha256(b"x"), key(1000): sha256(b"y")})  # a different block
    conn.execute("COMMIT")
    conn.execute("BEGIN")
    assert tree.update(roots[-1], {key(999): sha256(b"x")}) == discarded  # the same block again
    conn.execute("COMMIT")
    uncached = SparseMerkleTree(SqliteNodeStore(conn), sha256)  # reads the file only
    reachable = uncached.reachable([*roots, redone, discarded])
    assert audit_nodes(conn, sha256, reachable) == len(reachable)
    assert uncached.get(redone, key(1000)) == sha256(b"y")
