"""A bank's or state organ's own inquiries, by requesting org: a node-local cache of the ledger.

The inquiry desk lists the inquiries the clerk's org made, newest first. Guangzhou's first two
months had 86,000 inquiries from many banks, so "the newest few thousand inquiries, filtered to this
org" (what the desk did before) hides a small bank's inquiries of last week behind the big banks' of
today, and reading every ``inquiry/`` row on each view costs seconds on the event loop that commits
blocks. This index holds, per inquiry, only its requesting org and its ledger position (``seq``);
the inquiry record itself is read back from the ledger's current state.

It follows the ledger like the desks' case index (``follower.py``), in ``inquiry-index.sqlite``. An
inquiry record is written once, by its own ``inquiry.request`` transaction, under the key
``inquiry/<tx id>``, so a catch-up walks the ``txs`` rows after the cursor (a range of their integer
primary key), keeps the valid inquiry requests and reads each one's row by primary key: its cost
follows the transactions committed since the last view, not the size of the inquiry log.
"""

from __future__ import annotations

from typing import Final

import orjson

from estatechain.storage.follower import Follower

FILE: Final = "inquiry-index.sqlite"

_SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS inquiries(
    inquiry_id    TEXT PRIMARY KEY,
    requester_org TEXT NOT NULL,
    seq           INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS inquiries_by_org ON inquiries(requester_org, seq DESC);
"""

_CHANGED_ROWS: Final = (
    "SELECT t.tx_id, r.seq, r.value FROM txs AS t JOIN state_rows AS r ON r.key = 'inquiry/' || t.tx_id "
    "AND r.seq = t.seq WHERE t.seq > ? AND t.command = 'inquiry.request' AND t.status = 'valid' ORDER BY t.seq"
)
"""Inquiry records written after a cursor: each by its own valid ``inquiry.request`` tx (``txs.seq``)."""

_CURRENT_ROWS: Final = (
    "SELECT substr(key, 9), seq, value FROM state_current WHERE key >= 'inquiry/' AND key < 'inquiry0'"
)
"""Every inquiry record, for the first build (a range of the primary key; ``substr`` drops ``inquiry/``)."""


class InquiryIndex(Follower):
    """The index file beside one ledger, caught up from the ledger's connection on every query."""

    SCHEMA = _SCHEMA
    TABLES = ("inquiries",)
    CURRENT_ROWS = _CURRENT_ROWS
    CHANGED_ROWS = _CHANGED_ROWS

    def take(self, cursor: int) -> int:
        """Apply every inquiry record written after ``cursor`` (every current one for a first build)."""
        rows = self.rows_after(cursor)
        taken = 0
        for inquiry_id, seq, value in rows:
            record = orjson.loads(bytes(value)) if value is not None else None
            if not isinstance(record, dict) or not isinstance(record.get("requester_org"), str):
                continue  # not an inquiry-log record: nothing the desk could list
            self._db.execute("INSERT OR REPLACE INTO inquiries(inquiry_id, requester_org, seq) VALUES (?, ?, ?)",
                             (str(inquiry_id), record["requester_org"], int(seq)))
            taken += 1
        return taken

    def ids(self, org: str, *, limit: int) -> list[str]:
        """Up to ``limit`` inquiries ``org`` made, newest first (ledger order)."""
        self.refresh()
        return [str(row[0]) for row in self._db.execute(
            "SELECT inquiry_id FROM inquiries WHERE requester_org = ? ORDER BY seq DESC LIMIT ?", (org, limit))]

    def count(self, org: str) -> int:
        """How many inquiries ``org`` made in all (the desk shows it beside a list cut at its limit)."""
        self.refresh()
        return int(self._db.execute("SELECT count(*) FROM inquiries WHERE requester_org = ?", (org,)).fetchone()[0])
