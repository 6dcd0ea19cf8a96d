"""The court desk's index of seizures by the authority that delivered them: a node-local cache of the ledger.

A court's desk lists the seizures it delivered. Finding them by scanning every ``seizure/`` row on
each view costs seconds at a million units, on the event loop that also commits blocks. This index
holds, per seizure, its authority, unit, delivery time and whether it was released, and nothing
else: the seizure itself is read back from the ledger's current state, and its state (in effect,
queued, released, lapsed) is derived there from the unit's queue at block time (design §3.14).

It follows the ledger like the desks' case index (``follower.py``), in ``seizure-index.sqlite``; its
catch-ups read through the ledger's partial index ``state_rows_events`` (``storage/schema.py``),
which covers the ``seizure/`` rows, so their cost follows the seizures written since the last view.
"""

from __future__ import annotations

from typing import Final

import orjson

from estatechain.storage.follower import Follower
from estatechain.storage.schema import EVENT_ROWS, current_rows

FILE: Final = "seizure-index.sqlite"

_SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS seizures(
    seizure_id    TEXT PRIMARY KEY,
    authority_org TEXT NOT NULL,
    unit_number   TEXT NOT NULL,
    delivered_ms  INTEGER NOT NULL,
    released      INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS seizures_by_authority ON seizures(authority_org, released, delivered_ms DESC);
"""

_CHANGED_ROWS: Final = (
    f"SELECT key, value FROM state_rows WHERE seq > ? AND {EVENT_ROWS} "  # noqa: S608  (a constant of schema.py)
    "AND key >= 'seizure/' AND key < 'seizure0' ORDER BY seq"
)
"""Seizure rows written after a cursor. ``EVENT_ROWS``, the partial index's own condition, lets
SQLite's planner use that index; the last two terms then keep only the seizures."""

_CURRENT_ROWS: Final = current_rows("key, value", "seizure/")
"""Every seizure's current version, for the first build (a range of the primary key)."""


class SeizureIndex(Follower):
    """The index file beside one ledger, caught up from the ledger's connection on every query."""

    SCHEMA = _SCHEMA
    TABLES = ("seizures",)
    CURRENT_ROWS = _CURRENT_ROWS
    CHANGED_ROWS = _CHANGED_ROWS

    def take(self, cursor: int) -> int:
        """Apply every seizure row written after ``cursor`` (the current rows for a first build)."""
        rows = self.rows_after(cursor)
        for key, value in rows:
            if value is None:
                self._db.execute("DELETE FROM seizures WHERE seizure_id = ?", (str(key).split("/", 1)[1],))
                continue
            row = orjson.loads(bytes(value))
            self._db.execute(
                "INSERT INTO seizures(seizure_id, authority_org, unit_number, delivered_ms, released) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT(seizure_id) DO UPDATE SET released = excluded.released",
                (str(row["seizure_id"]), str(row["authority_org"]), str(row["unit_number"]),
                 int(str(row["delivered_ms"])), int(row.get("released_ms") is not None)),
            )
        return len(rows)

    def ids(self, org: str, *, limit: int) -> list[str]:
        """Up to ``limit`` seizures ``org`` delivered: those not released first, each group newest first."""
        self.refresh()
        return [str(r[0]) for r in self._db.execute(
            "SELECT seizure_id FROM seizures WHERE authority_org = ? ORDER BY released, delivered_ms DESC, "
            "seizure_id LIMIT ?", (org, limit))]

    def count(self, org: str) -> int:
        """How many seizures ``org`` delivered in all (the desk shows it beside a list cut at its limit)."""
        self.refresh()
        return int(self._db.execute("SELECT count(*) FROM seizures WHERE authority_org = ?", (org,)).fetchone()[0])
