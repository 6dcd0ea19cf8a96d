"""Ledger format 4 reads each key's current version from ``state_rows``; a format-3 file is upgraded in place.

Format 3 kept a second copy of every current value in a ``state_current`` table. An operator upgrading a
node must not have to rebuild a large register: the writer turns the table into the view when it opens
the file, a reader (``verify``, a backup, the portal's read connection) reads either format alike, and
nothing any hash covers changes.
"""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path
from typing import Final

import orjson
import pytest

from estatechain.contract.effects import Record
from estatechain.errors import IntegrityFault
from estatechain.storage.audit import audit_ledger
from estatechain.storage.schema import CURRENT_VIEW, SCHEMA_VERSION, current_rows
from estatechain.storage.store import LEDGER_FILE, LedgerStore
from estatechain.testing.harness import LedgerHarness

FORMAT_3: Final = Path(__file__).parents[2] / "vectors" / "ledger-format-3"
"""A ledger written by the format-3 code (main at 6923b60): the synthetic register of 12 units imported, then the
registrations of ``register/test_block_replay.py`` — 15 blocks, 17 txs (5 invalid), 95 state versions of 87 keys,
one of them a tombstone (a declined application's unit index row). Kept as a file: only the old code can write it."""
CURRENT = "SELECT key, seq, value, chain FROM state_current ORDER BY key"


def _ledger(tmp_path: Path) -> tuple[Path, dict[str, Record | None]]:
    """A format-4 ledger whose keys have several versions, and what ``get`` read for each key."""
    harness = LedgerHarness(tmp_path)
    bank = harness.factory.identity("icbc-gz/operator1")
    registry = harness.factory.identity("gz-registry/intake1")
    harness.commit([harness.factory.note(bank, f"upgrade/{n}", {"rev": 1}) for n in range(5)])
    harness.clock.advance(1_000)
    harness.commit([harness.factory.note(registry, "upgrade/1", {"rev": 2}),
                    harness.factory.note(bank, "upgrade/2", {"rev": 2}),
                    harness.factory.note(registry, "upgrade/2", {"rev": 3})])  # two versions in one block
    seen = {f"note/upgrade/{n}": harness.store.get(f"note/upgrade/{n}") for n in range(5)}
    harness.store.close()
    return harness.ledger_dir, seen


def _format_3_copy(tmp_path: Path) -> Path:
    target = tmp_path / "ledger"
    shutil.copytree(FORMAT_3, target)
    return target


def _kind_and_format(directory: Path) -> tuple[str, bytes]:
    conn = sqlite3.connect(f"{(directory / LEDGER_FILE).resolve().as_uri()}?mode=ro", uri=True)
    try:
        kind = conn.execute("SELECT type FROM sqlite_master WHERE name = 'state_current'").fetchone()[0]
        version = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0]
        return str(kind), bytes(version)
    finally:
        conn.close()


def test_the_current_version_of_each_key_is_its_newest_row_and_no_copy_is_stored(tmp_path: Path) -> None:
    directory, seen = _ledger(tmp_path)
    two, one = seen["note/upgrade/2"], seen["note/upgrade/1"]
    assert two is not None
    assert one is not None
    assert two["data"] == {"rev": 3}  # the block's later write wins
    assert one["data"] == {"rev": 2}
    assert _kind_and_format(directory) == ("view", b"4")
    store = LedgerStore.open(directory, readonly=True)
    try:
        current = dict(store.connection.execute("SELECT key, seq FROM state_current WHERE key >= 'note/upgrade/' "
                                                "AND key < 'note/upgrade0'").fetchall())
        newest = dict(store.connection.execute("SELECT key, max(seq) FROM state_rows WHERE key >= 'note/upgrade/' "
                                               "AND key < 'note/upgrade0' GROUP BY key").fetchall())
        assert current == newest
        assert len(current) == 5
        assert [key for key, _ in store.scan("note/upgrade/")] == [f"note/upgrade/{n}" for n in range(5)]
    finally:
        store.close()


def test_a_format_3_ledger_is_read_as_it_is_and_upgraded_in_place_by_its_writer(tmp_path: Path) -> None:
    directory = _format_3_copy(tmp_path)
    assert _kind_and_format(directory) == ("table", b"3")
    before = audit_ledger(directory)  # verify reads a format-3 copy as it is (a judge's copy stays intact)
    reader = LedgerStore.open(directory, readonly=True)
    try:
        table = reader.connection.execute(CURRENT).fetchall()  # the rows the format-3 code wrote
        read = {str(key): reader.get(str(key)) for key, *_ in table}
    finally:
        reader.close()
    assert _kind_and_format(directory) == ("table", b"3")  # a reader changes nothing
    assert any(value is None for _, _, value, _ in table), "the fixture must hold a tombstone"

    writer = LedgerStore.open(directory)
    try:
        assert _kind_and_format(directory) == ("view", b"4")
        assert writer.connection.execute(CURRENT).fetchall() == table  # tombstones included, as the table had them
        assert {key: writer.get(key) for key in read} == read
        stored = writer._stored_rows(set(read))  # the block commit's read of the rows it overwrites
        assert {key: (seq, value, chain) for key, seq, value, chain in table} == stored
        for prefix in sorted({key.split("/", 1)[0] + "/" for key in read}):
            assert list(writer.scan(prefix)) == [(str(key), orjson.loads(value)) for key, _, value, _ in table
                                                 if str(key).startswith(prefix) and value is not None]
        head = writer.head_hash
    finally:
        writer.close()
    after = audit_ledger(directory)
    assert (after.blocks, after.state_keys, after.state_versions, after.head_hash) == (
        before.blocks, before.state_keys, before.state_versions, before.head_hash) == (15, 87, 95, head)


def test_the_index_builders_range_read_gives_the_current_rows_and_no_version_behind_a_tombstone(
    tmp_path: Path,
) -> None:
    """The portal's indexes build from ``current_rows`` (one pass over ``state_rows``), not from the view.

    They must see exactly what the format-3 table held: the newest version of every key, a tombstone as
    a row without a value, and never the older, live version of a key whose newest is a tombstone.
    """
    directory = _format_3_copy(tmp_path)
    reader = LedgerStore.open(directory, readonly=True)
    try:
        table = reader.connection.execute(CURRENT).fetchall()
    finally:
        reader.close()
    buried = [str(key) for key, _, value, _ in table if value is None]
    assert buried, "the fixture must hold a tombstone"
    writer = LedgerStore.open(directory)
    try:
        conn = writer.connection
        assert all(conn.execute("SELECT count(*) FROM state_rows WHERE key = ? AND value IS NOT NULL",
                                (key,)).fetchone()[0] > 0 for key in buried), "each tombstone must bury a live version"
        prefixes = sorted({str(key).split("/", 1)[0] + "/" for key, *_ in table})
        assert len(prefixes) >= 5
        for prefix in prefixes:
            mine = [row for row in table if str(row[0]).startswith(prefix)]
            assert conn.execute(current_rows("key, seq, value, chain", prefix) + " ORDER BY key").fetchall() == mine
            live = conn.execute(current_rows("key, value") + " WHERE value IS NOT NULL ORDER BY key",
                                (prefix, prefix[:-1] + "0")).fetchall()
            assert live == [(key, value) for key, _, value, _ in mine if value is not None]
    finally:
        writer.close()
    with pytest.raises(ValueError, match="must end in '/'"):
        current_rows("key", "unit")


def test_a_format_3_table_that_disagrees_with_the_rows_still_fails_verify(tmp_path: Path) -> None:
    directory = _format_3_copy(tmp_path)
    conn = sqlite3.connect(directory / LEDGER_FILE, isolation_level=None)
    (key,) = conn.execute("SELECT key FROM state_current WHERE key LIKE 'unit/%' ORDER BY key LIMIT 1").fetchone()
    conn.execute("UPDATE state_current SET seq = seq - 1 WHERE key = ?", (key,))
    conn.close()
    with pytest.raises(IntegrityFault, match=f"state_current key={key}"):
        audit_ledger(directory)


def test_the_view_a_format_4_ledger_defines_is_pinned() -> None:
    """``verify`` compares a ledger's view with this text: changing it (even its spacing) needs a new format number."""
    assert " ".join(CURRENT_VIEW.split()) == (
        "CREATE VIEW IF NOT EXISTS state_current(key, seq, value, chain) AS SELECT key, seq, value, chain FROM "
        "state_rows AS newest WHERE seq = (SELECT max(seq) FROM state_rows WHERE key = newest.key)")
    assert SCHEMA_VERSION == 4
