"""Who may open a ledger file: one writer at a time, and only a file in the format this build reads."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from estatechain.errors import Conflict
from estatechain.storage.store import LedgerStore
from estatechain.testing.harness import LedgerHarness

OPEN_FROM_CHILD = (
    "import sys; from pathlib import Path; from estatechain.storage.store import LedgerStore\n"
    "try:\n    LedgerStore.open(Path(sys.argv[1]))\nexcept Exception as exc:\n    print(type(exc).__name__, exc)\n"
)


def test_a_second_writer_is_refused_with_the_holders_pid(tmp_path: Path) -> None:
    ledger = LedgerHarness(tmp_path)
    result = subprocess.run([sys.executable, "-c", OPEN_FROM_CHILD, str(ledger.ledger_dir)],
                            capture_output=True, text=True, timeout=60, check=True)
    assert result.stdout.startswith("Conflict")
    assert "already open for writing" in result.stdout
    with pytest.raises(Conflict):
        LedgerStore.open(ledger.ledger_dir)


def test_the_lock_is_released_on_close_and_readers_are_never_blocked(tmp_path: Path) -> None:
    ledger = LedgerHarness(tmp_path)
    reader = LedgerStore.open(ledger.ledger_dir, readonly=True)
    assert reader.height == 0
    reader.close()
    ledger.store.close()
    again = LedgerStore.open(ledger.ledger_dir)
    assert again.height == 0
    again.close()


def test_a_ledger_of_another_file_format_is_refused_with_what_to_do(tmp_path: Path) -> None:
    ledger = LedgerHarness(tmp_path)
    ledger.store.connection.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (b"2",))
    ledger.store.close()
    for readonly in (False, True):  # format 2 (one state-tree node a row) cannot be read as pages
        with pytest.raises(Conflict, match="has file format 2; this build reads format 4") as caught:
            LedgerStore.open(ledger.ledger_dir, readonly=readonly)
        assert "move its folder aside and run `estatechain init`" in str(caught.value)  # init refuses a used one
        assert "--join-from" in str(caught.value)
