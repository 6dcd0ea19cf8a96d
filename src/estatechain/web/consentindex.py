"""The banks' index of owners' inquiry consents by unit and bank: a node-local cache of the ledger.

A bank's filing and inquiry pages ask, on every view, which consents the unit's owners gave that bank
and which of them are in force. The contract keeps consents by id (``consent/<tx id>``), so without
this index every view passed over the whole ``consent/`` range, on the event loop that also commits
blocks. In Guangzhou's first two months banks made 86,000 inquiries, most of them before a loan and on
a consent, so that range grows by hundreds of thousands of rows a year and each view would read all
of them. This index holds, per consent, only its unit, bank, time and id; the consent itself is read
back from the ledger's current state and checked there (revoked, expired, purpose), so the index only
has to be complete, never authoritative. A consent's unit and bank never change after it is given.

It follows the ledger like the other desk indexes (``follower.py``), in ``consent-index.sqlite``; its
catch-ups read through the ledger's partial index ``state_rows_parties`` (``storage/schema.py``),
which covers the ``consent/`` rows, so their cost follows the consents written since the last view.
"""

from __future__ import annotations

from typing import Final

import orjson

from estatechain.storage.follower import Follower
from estatechain.storage.schema import PARTY_ROWS, current_rows

FILE: Final = "consent-index.sqlite"

_SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS consents(
    unit_number TEXT NOT NULL,
    bank_party  TEXT NOT NULL,
    given_ms    INTEGER NOT NULL,
    consent_id  TEXT NOT NULL,
    PRIMARY KEY(unit_number, bank_party, given_ms, consent_id)
) WITHOUT ROWID;
"""

_CHANGED_ROWS: Final = (
    f"SELECT value FROM state_rows WHERE seq > ? AND {PARTY_ROWS} "  # noqa: S608  (a constant of schema.py)
    "AND key >= 'consent/' AND key < 'consent0' ORDER BY seq"
)
"""Consent rows written after a cursor. ``PARTY_ROWS``, the partial index's own condition, lets
SQLite's planner use that index; the last two terms then keep only the consents."""

_CURRENT_ROWS: Final = current_rows("value", "consent/")
"""Every consent's current version, for the first build (a range of the primary key)."""


class ConsentIndex(Follower):
    """The index file beside one ledger, caught up from the ledger's connection on every query."""

    SCHEMA = _SCHEMA
    TABLES = ("consents",)
    CURRENT_ROWS = _CURRENT_ROWS
    CHANGED_ROWS = _CHANGED_ROWS

    def take(self, cursor: int) -> int:
        """Apply every consent row written after ``cursor`` (the current rows for a first build)."""
        rows = self.rows_after(cursor)
        entries = []
        for (value,) in rows:
            if value is None:
                continue
            row = orjson.loads(bytes(value))
            entries.append((str(row["unit_number"]), str(row["bank_party"]), int(row["given_ms"]),
                            str(row["consent_id"])))
        self._db.executemany("INSERT OR IGNORE INTO consents(unit_number, bank_party, given_ms, consent_id) "
                             "VALUES (?, ?, ?, ?)", entries)
        return len(rows)

    def ids(self, unit_number: str, bank_party: str) -> list[str]:
        """Every consent the unit's owners (present or past) gave ``bank_party`` on the unit, newest first."""
        self.refresh()
        return [str(r[0]) for r in self._db.execute(
            "SELECT consent_id FROM consents WHERE unit_number = ? AND bank_party = ? "
            "ORDER BY given_ms DESC, consent_id", (unit_number, bank_party))]
