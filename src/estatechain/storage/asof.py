"""The committed state as it stood after a given block, read from the row history.

The ledger keeps every version of every state row with the height of the block that wrote it
(``state_rows``, design §3.15). An inquiry's answer is built from the register as of the inquiry's
height (design §3.19), and the portal's register page shows a unit as of any height; both read the
same history the same way, through ``StateAsOf`` (a ``StateView``: ``get`` and ``scan``).
"""

from __future__ import annotations

from collections.abc import Iterator

import orjson

from estatechain.canonical import JSONValue
from estatechain.storage.store import LedgerStore


class StateAsOf:
    """The state after block ``height``: each key's last version written at or below it."""

    def __init__(self, store: LedgerStore, height: int) -> None:
        self._conn = store.connection
        self.height = height

    def get(self, key: str) -> dict[str, JSONValue] | None:
        """``key`` as of the height (None when absent or deleted)."""
        row = self._conn.execute(
            "SELECT value FROM state_rows WHERE key = ? AND height <= ? ORDER BY seq DESC LIMIT 1",
            (key, self.height),
        ).fetchone()
        if row is None or row[0] is None:
            return None
        value: dict[str, JSONValue] = orjson.loads(row[0])
        return value

    def scan(self, prefix: str) -> Iterator[tuple[str, dict[str, JSONValue]]]:
        """Rows under ``prefix`` as of the height, in key order."""
        rows = self._conn.execute(
            "SELECT key, value FROM state_rows AS r WHERE key >= ? AND key < ? AND height <= ? AND seq = "
            "(SELECT MAX(seq) FROM state_rows WHERE key = r.key AND height <= ?) ORDER BY key",
            (prefix, prefix + "\U0010ffff", self.height, self.height),
        ).fetchall()
        for key, value in rows:
            if value is not None:
                yield str(key), orjson.loads(value)

    def ever(self, prefix: str) -> list[str]:
        """Every key under ``prefix`` written at or below the height, whether deleted since or not.

        The index rows of mortgages and notices are removed when they become historic; their
        records are not, so the register's historic entries are found through these keys.
        """
        rows = self._conn.execute(
            "SELECT DISTINCT key FROM state_rows WHERE key >= ? AND key < ? AND height <= ? ORDER BY key",
            (prefix, prefix + "\U0010ffff", self.height),
        ).fetchall()
        return [str(row[0]) for row in rows]
