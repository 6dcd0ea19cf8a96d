"""Ledger format 4 reads each key's current version from ``state_rows``; a format-3 file is upgraded in place.

Format 3 kept a second copy of every current value in a ``state_current`` table. An operator upgrading a
node must not have to rebuild a large register: the writer turns the table into the view when it opens
the file, a reader (``verify``, a backup, the portal's read connection) reads either format alike, and
nothing any hash covers changes.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from estatechain.contract.effects import Record
from estatechain.errors import IntegrityFault
from estatechain.storage.audit import audit_ledger
from estatechain.storage.store import LEDGER_FILE, LedgerStore
from estatechain.testing.harness import LedgerHarness

FORMAT_3_TABLE = ("CREATE TABLE state_current(key TEXT PRIMARY KEY, seq INTEGER NOT NULL, value BLOB, "
                  "chain BLOB NOT NULL) WITHOUT ROWID")
"""The table format 3 defined, as its ledgers hold it."""


def _ledger(tmp_path: Path) -> tuple[Path, dict[str, Record | None]]:
    """A ledger whose keys have several versions, and what ``get`` read for each key before any change."""
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


def _as_format_3(directory: Path) -> None:
    """Rewrite a format-4 file the way format 3 stored it: the table of current copies instead of the view."""
    conn = sqlite3.connect(directory / LEDGER_FILE, isolation_level=None)
    conn.execute("BEGIN")
    rows = conn.execute("SELECT key, seq, value, chain FROM state_current").fetchall()
    conn.execute("DROP VIEW state_current")
    conn.execute(FORMAT_3_TABLE)
    conn.executemany("INSERT INTO state_current VALUES (?,?,?,?)", rows)
    conn.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (b"3",))
    conn.execute("COMMIT")
    conn.close()


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
    directory, seen = _ledger(tmp_path)
    _as_format_3(directory)
    assert _kind_and_format(directory) == ("table", b"3")
    assert audit_ledger(directory).blocks == 2  # verify reads a format-3 copy as it is (a judge's copy stays intact)

    reader = LedgerStore.open(directory, readonly=True)
    try:
        assert {key: reader.get(key) for key in seen} == seen
    finally:
        reader.close()
    assert _kind_and_format(directory) == ("table", b"3")  # a reader changes nothing

    writer = LedgerStore.open(directory)
    try:
        assert _kind_and_format(directory) == ("view", b"4")
        assert {key: writer.get(key) for key in seen} == seen
        head = writer.head_hash
    finally:
        writer.close()
    report = audit_ledger(directory)
    assert (report.blocks, report.head_hash) == (2, head)


def test_a_format_3_table_that_disagrees_with_the_rows_still_fails_verify(tmp_path: Path) -> None:
    directory, _ = _ledger(tmp_path)
    _as_format_3(directory)
    conn = sqlite3.connect(directory / LEDGER_FILE, isolation_level=None)
    conn.execute("UPDATE state_current SET seq = seq - 1 WHERE key = 'note/upgrade/2'")
    conn.close()
    with pytest.raises(IntegrityFault, match="state_current key=note/upgrade/2"):
        audit_ledger(directory)
