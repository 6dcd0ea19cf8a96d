"""Opening a file that is no ledger fails with one clear error: which file, and how to get the node back.

An operator meets these after a disk fault or a wrong copy; a raw sqlite3 traceback named neither.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from estatechain.errors import IntegrityFault
from estatechain.storage.store import LEDGER_FILE, LedgerStore


@pytest.mark.parametrize("kind", ["garbage", "another database"])
def test_a_file_that_is_no_ledger_is_an_integrity_fault_naming_it_and_the_way_back(tmp_path: Path, kind: str) -> None:
    path = tmp_path / LEDGER_FILE
    if kind == "garbage":
        path.write_bytes(b"not a database " * 400)
    else:
        with sqlite3.connect(path) as other:
            other.execute("CREATE TABLE customers(name TEXT)")
        other.close()
    for readonly in (False, True):
        with pytest.raises(IntegrityFault) as fault:
            LedgerStore.open(tmp_path, readonly=readonly)
        assert str(path) in str(fault.value)
        assert "estatechain restore" in str(fault.value)
