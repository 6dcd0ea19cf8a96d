"""A block whose commit fails on a full disk: the operator is told the real cause, and nothing is lost.

SQLite rolls a transaction back by itself when a write fails for lack of space; the store used to
issue its own ROLLBACK after that, whose "cannot rollback - no transaction is active" replaced the
"database or disk is full" the operator needed to read. The disk is filled here with SQLite's own
page limit (``max_page_count``), a real SQLITE_FULL from the real file.
"""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path

import pytest

from estatechain.storage.audit import audit_ledger
from estatechain.testing.harness import LedgerHarness


def test_a_commit_that_fills_the_disk_names_the_full_disk_and_the_ledger_stays_whole(
    tmp_path: Path, caplog: pytest.LogCaptureFixture,
) -> None:
    harness = LedgerHarness(tmp_path)
    writer = harness.factory.identity("gz-registry/intake1")
    first = harness.commit([harness.factory.note(writer, "before-1", {"n": 1})])
    assert first[0].valid
    pages = int(harness.store.connection.execute("PRAGMA page_count").fetchone()[0])
    harness.store.connection.execute(f"PRAGMA max_page_count = {pages + 2}")
    big = {"text": "x" * 20_000}
    with caplog.at_level(logging.ERROR, logger="estatechain.pipeline"), \
            pytest.raises(sqlite3.OperationalError, match="database or disk is full"):
        harness.commit([harness.factory.note(writer, f"full-{n}", big) for n in range(20)])
    assert "block 2 not committed, the pipeline stops" in caplog.text
    assert "database or disk is full" in caplog.text
    assert harness.store.height == 1  # nothing of the failed block
    harness.store.connection.execute("PRAGMA max_page_count = 1073741823")
    after = harness.commit([harness.factory.note(writer, "after-1", {"n": 2})])
    assert (after[0].valid, after[0].height) == (True, 2)
    harness.store.close()
    report = audit_ledger(harness.ledger_dir)  # raises IntegrityFault naming the first bad place
    assert (report.blocks, report.valid_txs) == (2, 2)
