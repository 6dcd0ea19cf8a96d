"""The state tree over a real SQLite file: durable across reopen, laid out by version, and audited row by row."""

from __future__ import annotations

import hashlib
import sqlite3
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from estatechain.errors import InputError, IntegrityFault, NotFound
from estatechain.state.commitment import (
    EMPTY,
    CachingNodeStore,
    SparseMerkleTree,
    describe_position,
    verify_proof,
)
from estatechain.storage.smt import SMT_SCHEMA, ReplayNodeStore, SqliteNodeStore

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
    """One SQLite transaction per block at version = height, as the ledger's commit does; returns every root."""
    tree = SparseMerkleTree(CachingNodeStore(SqliteNodeStore(conn), capacity=256), sha256)
    roots = [EMPTY]
    for height, block in enumerate(blocks, start=1):
        conn.execute("BEGIN")
        roots.append(tree.update(roots[-1], block, version=height))
        conn.execute("COMMIT")
    return roots


def audit_nodes(conn: sqlite3.Connection, blocks: list[State]) -> int:
    """What ``verify`` does with the tree: replay the blocks, each block's nodes checked against the file as written."""
    store = ReplayNodeStore(conn)
    tree, root = SparseMerkleTree(CachingNodeStore(store, capacity=256), sha256), EMPTY
    for height, block in enumerate(blocks, start=1):
        root = tree.update(root, block, version=height)
        store.check_version(height)
    return store.finish(len(blocks))


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
    blocks = blocks_of(4, 50)
    roots = commit_blocks(conn, blocks)
    rows = conn.execute("SELECT count(*) FROM smt_nodes").fetchone()[0]
    reachable = SparseMerkleTree(SqliteNodeStore(conn), sha256).reachable(roots)
    assert audit_nodes(conn, blocks) == rows == len(reachable)
    assert conn.execute("SELECT count(*) FROM smt_roots").fetchone()[0] == 4


def test_one_blocks_nodes_are_stored_next_to_each_other(db: Path) -> None:
    conn = connect(db)
    blocks = blocks_of(3, 200)
    commit_blocks(conn, blocks)
    versions = [int.from_bytes(pos[:8], "big") for (pos,) in conn.execute("SELECT pos FROM smt_nodes ORDER BY pos")]
    assert versions == sorted(versions)  # key order is block order: each block appends one run
    assert set(versions) == {1, 2, 3}


def nth_row(conn: sqlite3.Connection, n: int) -> tuple[bytes, bytes]:
    pos, node = conn.execute("SELECT pos, node FROM smt_nodes ORDER BY pos LIMIT 1 OFFSET ?", (n,)).fetchone()
    return bytes(pos), bytes(node)


def test_audit_names_a_node_whose_bytes_were_changed(db: Path) -> None:
    conn = connect(db)
    blocks = blocks_of(2, 30)
    commit_blocks(conn, blocks)
    victim, node = nth_row(conn, 7)
    for index in (40, 70):  # a byte of a child's hash; of a leaf's value or a child's version
        bent = node[:index] + bytes([node[index] ^ 0x01]) + node[index + 1:]
        conn.execute("UPDATE smt_nodes SET node = ? WHERE pos = ?", (bent, victim))
        with pytest.raises(IntegrityFault) as caught:
            audit_nodes(conn, blocks)
        assert caught.value.where == f"smt_nodes {describe_position(victim)}"
        conn.execute("UPDATE smt_nodes SET node = ? WHERE pos = ?", (node, victim))
    assert audit_nodes(conn, blocks) > 0


def test_audit_names_a_deleted_node_a_moved_one_and_an_unattested_row(db: Path) -> None:
    conn = connect(db)
    blocks = blocks_of(3, 30)
    commit_blocks(conn, blocks)
    victim, node = nth_row(conn, 20)
    conn.execute("DELETE FROM smt_nodes WHERE pos = ?", (victim,))
    with pytest.raises(IntegrityFault, match="node missing") as caught:
        audit_nodes(conn, blocks)
    assert caught.value.where == f"smt_nodes {describe_position(victim)}"

    moved = victim[:8] + bytes([victim[8] ^ 0x40]) + victim[9:]  # the same record under another depth
    conn.execute("INSERT INTO smt_nodes(pos, node) VALUES (?, ?)", (moved, node))
    with pytest.raises(IntegrityFault) as caught:
        audit_nodes(conn, blocks)
    assert caught.value.where in {f"smt_nodes {describe_position(p)}" for p in (victim, moved)}
    conn.execute("UPDATE smt_nodes SET pos = ? WHERE pos = ?", (victim, moved))
    assert audit_nodes(conn, blocks) == conn.execute("SELECT count(*) FROM smt_nodes").fetchone()[0]

    stray = (99).to_bytes(8, "big") + b"\x00\x00"
    conn.execute("INSERT INTO smt_nodes(pos, node) VALUES (?, ?)", (stray, node))  # a well-formed page
    with pytest.raises(IntegrityFault, match="not written by any block") as caught:
        audit_nodes(conn, blocks)
    assert caught.value.where == f"smt_nodes pos={stray.hex()} (version=99 depth=0 prefix=-)"


def test_audit_names_a_root_row_that_was_changed_or_removed(db: Path) -> None:
    conn = connect(db)
    blocks = blocks_of(3, 20)
    roots = commit_blocks(conn, blocks)
    conn.execute("UPDATE smt_roots SET version = 1 WHERE hash = ?", (roots[2],))
    with pytest.raises(IntegrityFault, match="the blocks wrote this root at 2") as caught:
        audit_nodes(conn, blocks)
    assert caught.value.where == f"smt_roots hash={roots[2].hex()}"
    conn.execute("DELETE FROM smt_roots WHERE hash = ?", (roots[2],))
    with pytest.raises(IntegrityFault, match="state root missing"):
        audit_nodes(conn, blocks)


def test_a_rolled_back_block_leaves_no_rows_and_writes_need_a_transaction(db: Path) -> None:
    conn = connect(db)
    roots = commit_blocks(conn, blocks_of(1, 20))
    before = conn.execute("SELECT count(*) FROM smt_nodes").fetchone()[0]
    tree = SparseMerkleTree(CachingNodeStore(SqliteNodeStore(conn)), sha256)
    conn.execute("BEGIN")
    discarded = tree.update(roots[-1], {key(999): sha256(b"x")}, version=2)
    conn.execute("ROLLBACK")  # the cache still holds the discarded nodes; the file must not
    assert conn.execute("SELECT count(*) FROM smt_nodes").fetchone()[0] == before
    assert tree.get(roots[-1], key(999)) is None
    with pytest.raises(InputError, match="BEGIN"):
        tree.update(roots[-1], {key(999): sha256(b"x")}, version=2)
    conn.execute("BEGIN")
    redone = tree.update(roots[-1], {key(999): sha256(b"x"), key(1000): sha256(b"y")}, version=2)  # another block
    conn.execute("COMMIT")
    uncached = SparseMerkleTree(SqliteNodeStore(conn), sha256)  # reads the file only
    assert uncached.get(redone, key(1000)) == sha256(b"y")
    assert uncached.get(redone, key(999)) == sha256(b"x")
    with pytest.raises(NotFound):
        uncached.get(discarded, key(999))
    blocks = [{key(i): sha256(b"%d/%d" % (0, i)) for i in range(20)}, {key(999): sha256(b"x"), key(1000): sha256(b"y")}]
    assert audit_nodes(conn, blocks) == conn.execute("SELECT count(*) FROM smt_nodes").fetchone()[0]
