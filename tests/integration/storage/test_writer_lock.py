"""Only one process may append to a ledger file at a time."""

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
