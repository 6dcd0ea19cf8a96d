"""The pre-sale pages' index of contracts by party: a developer's contracts, a buyer's contracts to sign.

The developer desk lists the contracts a developer filed, and an owner's desk the contracts that
name the person as a buyer. Finding them by scanning every ``presale/`` row on each view grows with
every pre-sale in the city, on the event loop that also commits blocks. This index holds, per
contract and party named in it, whether the party is its developer or a buyer and when it was filed,
and nothing else: the contract itself is read back from the ledger's current state, with its state
and signatures as the ledger has them, so the index only has to be complete, never authoritative.

It follows the ledger like the court desk's seizure index (``seizureindex.py``, ``follower.py``), in
``presale-index.sqlite``; its catch-ups read through the ledger's partial index ``state_rows_presale``
(``storage/schema.py``), so their cost follows the contracts written since the last view. A
contract's parties never change after filing (signatures and termination change its state only), so
a row is written once per contract and party.
"""

from __future__ import annotations

from typing import Final

import orjson

from estatechain.storage.follower import Follower
from estatechain.storage.schema import PRESALE_ROWS, current_rows

FILE: Final = "presale-index.sqlite"
DEVELOPER: Final = "developer"
BUYER: Final = "buyer"

_SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS named(
    party_id    TEXT NOT NULL,
    side        TEXT NOT NULL,
    filed_ms    INTEGER NOT NULL,
    contract_id TEXT NOT NULL,
    PRIMARY KEY(party_id, side, filed_ms, contract_id)
) WITHOUT ROWID;
"""

_CHANGED_ROWS: Final = (
    f"SELECT key, value FROM state_rows WHERE seq > ? AND {PRESALE_ROWS} ORDER BY seq"  # noqa: S608  (a constant of schema.py)
)
"""Contract rows written after a cursor. ``PRESALE_ROWS``, the partial index's own condition, lets
SQLite's planner use that index."""

_CURRENT_ROWS: Final = current_rows("key, value", "presale/")
"""Every contract's current version, for the first build (a range of the primary key)."""


class PresaleIndex(Follower):
    """The index file beside one ledger, caught up from the ledger's connection on every query."""

    SCHEMA = _SCHEMA
    TABLES = ("named",)
    CURRENT_ROWS = _CURRENT_ROWS
    CHANGED_ROWS = _CHANGED_ROWS

    def take(self, cursor: int) -> int:
        """Apply every contract row written after ``cursor`` (the current rows for a first build)."""
        rows = self.rows_after(cursor)
        for _, value in rows:
            if value is None:  # contracts are never deleted; a deleted row would simply not be read back
                continue
            row = orjson.loads(bytes(value))
            contract_id, filed_ms = str(row["contract_id"]), int(row["filed_ms"])
            named = [(str(row["developer"]["party_id"]), DEVELOPER),
                     *((str(buyer["party_id"]), BUYER) for buyer in row["buyers"])]
            self._db.executemany(
                "INSERT OR IGNORE INTO named(party_id, side, filed_ms, contract_id) VALUES (?, ?, ?, ?)",
                [(party, side, filed_ms, contract_id) for party, side in named])
        return len(rows)

    def ids(self, party_id: str, side: str, *, limit: int) -> list[str]:
        """Up to ``limit`` contracts naming ``party_id`` on ``side`` (developer or buyer), newest first."""
        self.refresh()
        return [str(r[0]) for r in self._db.execute(
            "SELECT contract_id FROM named WHERE party_id = ? AND side = ? ORDER BY filed_ms DESC, contract_id "
            "LIMIT ?", (party_id, side, limit))]

    def count(self, party_id: str, side: str) -> int:
        """How many contracts name ``party_id`` on ``side`` in all (a page shows it beside a list cut at its limit)."""
        self.refresh()
        return int(self._db.execute("SELECT count(*) FROM named WHERE party_id = ? AND side = ?",
                                    (party_id, side)).fetchone()[0])
