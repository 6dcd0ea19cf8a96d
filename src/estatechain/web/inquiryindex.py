"""Inquiries by requesting org and by unit: a node-local cache of the ledger.

The inquiry desk lists the inquiries the clerk's org made, newest first. Guangzhou's first two
months had 86,000 inquiries from many banks, so "the newest few thousand inquiries, filtered to this
org" (what the desk did before) hides a small bank's inquiries of last week behind the big banks' of
today, and reading every ``inquiry/`` row on each view costs seconds on the event loop that commits
blocks. This index holds, per inquiry, only its requesting org, the unit it named and its ledger
position (``seq``); the inquiry record itself is read back from the ledger's current state.

The same index answers "who looked at my unit" (domain.md §7): the owner's and the pre-sale buyer's
portal pages and the API's ``/v1/units/{unit}/inquiries``. ``inquiry.request`` writes one state row,
its log record, which names the unit it resolved (also for an inquiry by certificate number); the
per-unit index row it once wrote beside it cost about a tenth of the registration mix's CPU per
transaction (docs/benchmarks.md) for a list only the owner's node reads. The list is the unit's
records in ledger order, granted and refused: the order the ledger committed them (``txs.seq``, which
is the contract's ``tx_seq`` and follows block height and position), the order the index row's key
gave before.

It follows the ledger like the desks' case index (``follower.py``), in ``inquiry-index.sqlite``. An
inquiry record is written once, by its own ``inquiry.request`` transaction, under the key
``inquiry/<tx id>``, so a catch-up walks the ``txs`` rows after the cursor (a range of their integer
primary key), keeps the valid inquiry requests and reads each one's row by primary key: its cost
follows the transactions committed since the last view, not the size of the inquiry log.
"""

from __future__ import annotations

from typing import Final

import orjson

from estatechain.contract import keys
from estatechain.contract.effects import Record
from estatechain.contract.view import StateView
from estatechain.storage.follower import Follower
from estatechain.storage.schema import current_rows

FILE: Final = "inquiry-index.sqlite"

_SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS inquiries(
    inquiry_id    TEXT PRIMARY KEY,
    requester_org TEXT NOT NULL,
    unit_number   TEXT NOT NULL,
    seq           INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS inquiries_by_org ON inquiries(requester_org, seq DESC);
CREATE INDEX IF NOT EXISTS inquiries_by_unit ON inquiries(unit_number, seq);
"""

_CHANGED_ROWS: Final = (
    "SELECT t.tx_id, r.seq, r.value FROM txs AS t JOIN state_rows AS r ON r.key = 'inquiry/' || t.tx_id "
    "AND r.seq = t.seq WHERE t.seq > ? AND t.command = 'inquiry.request' AND t.status = 'valid' ORDER BY t.seq"
)
"""Inquiry records written after a cursor: each by its own valid ``inquiry.request`` tx (``txs.seq``)."""

_CURRENT_ROWS: Final = current_rows("substr(key, 9), seq, value", "inquiry/")
"""Every inquiry record, for the first build (a range of the primary key; ``substr`` drops ``inquiry/``)."""


class InquiryIndex(Follower):
    """The index file beside one ledger, caught up from the ledger's connection on every query."""

    SCHEMA = _SCHEMA
    TABLES = ("inquiries",)
    VERSION = 1
    """1: ``unit_number`` and ``inquiries_by_unit`` (who looked at a unit); a file of version 0 is built again."""
    CURRENT_ROWS = _CURRENT_ROWS
    CHANGED_ROWS = _CHANGED_ROWS

    def take(self, cursor: int) -> int:
        """Apply every inquiry record written after ``cursor`` (every current one for a first build)."""
        rows = self.rows_after(cursor)
        taken = 0
        for inquiry_id, seq, value in rows:
            record = orjson.loads(bytes(value)) if value is not None else None
            if (not isinstance(record, dict) or not isinstance(record.get("requester_org"), str)
                    or not isinstance(record.get("unit_number"), str)):
                continue  # not an inquiry-log record: nothing a desk or an owner could list
            self._db.execute("INSERT OR REPLACE INTO inquiries(inquiry_id, requester_org, unit_number, seq) "
                             "VALUES (?, ?, ?, ?)",
                             (str(inquiry_id), record["requester_org"], record["unit_number"], int(seq)))
            taken += 1
        return taken

    def ids(self, org: str, *, limit: int) -> list[str]:
        """Up to ``limit`` inquiries ``org`` made, newest first (ledger order)."""
        self.refresh()
        return [str(row[0]) for row in self._db.execute(
            "SELECT inquiry_id FROM inquiries WHERE requester_org = ? ORDER BY seq DESC LIMIT ?", (org, limit))]

    def of_unit(self, unit_number: str) -> list[str]:
        """Every inquiry of the unit, granted or refused, in ledger order (oldest first)."""
        self.refresh()
        return [str(row[0]) for row in self._db.execute(
            "SELECT inquiry_id FROM inquiries WHERE unit_number = ? ORDER BY seq", (unit_number,))]

    def count(self, org: str) -> int:
        """How many inquiries ``org`` made in all (the desk shows it beside a list cut at its limit)."""
        self.refresh()
        return int(self._db.execute("SELECT count(*) FROM inquiries WHERE requester_org = ?", (org,)).fetchone()[0])


def who_looked(store: StateView, index: InquiryIndex, unit_number: str) -> list[Record]:
    """Every inquiry log record of the unit in ledger order, granted or refused: what an owner (or auditor) may list.

    Who may list it is the contract's ``may_list``; this only finds the records, through the index,
    and reads each back from ``store``'s current state.
    """
    return [record for inquiry_id in index.of_unit(unit_number)
            if (record := store.get(keys.inquiry(inquiry_id))) is not None]
