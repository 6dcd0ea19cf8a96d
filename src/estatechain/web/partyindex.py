"""The owner pages' index by party: which ownership rights, notices and consents name a person.

An owner's pages (my units, who looked at them, my consents) need the few rows that name one party
among a million units' ``ownership/``, ``notice/`` and ``consent/`` rows; scanning them on every view
takes seconds and runs on the event loop that also commits blocks. This index maps a party id to
the keys of the rows that name it: the current ownership rights it holds, the current advance notices
it holds, and every consent it gave (in force, revoked or expired: the consents page lists them all).
The pages read those rows back from the ledger's current state and check them again, so the index
only has to be complete, never authoritative.

It is derived and node-local, built like the desks' case index (``caseindex.py``): its own file
beside the ledger (``party-index.sqlite``), a cursor that is the ``seq`` of the last ledger row taken
and the block (height and hash) it was taken at, a catch-up on every query that applies every version
of those rows written after the cursor in ``seq`` order, in one SQLite transaction with the new
cursor. Later catch-ups read through the ledger's partial index ``state_rows_parties``
(``storage/schema.py``), so their cost follows the rows written since the last view. Deleting the
file is safe, and a ledger that no longer has the block the cursor names (a restore) makes the index
start again.

The first build reads every current row of the three namespaces by key range: at a million units
that is half a million rows and tens of seconds, too long for the event loop that commits blocks.
``build`` (``follower.py``) therefore reads a snapshot of the ledger on a connection of its own (one
read transaction: the head, the last seq and the rows agree) and is meant for a worker thread; the
catch-ups after it run on the loop. ``refresh`` alone also builds, in place, for callers without a loop.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Final

import orjson

from estatechain.contract.records.party import Status
from estatechain.storage.follower import Follower
from estatechain.storage.schema import PARTY_ROWS, current_rows

FILE: Final = "party-index.sqlite"
KINDS: Final = ("ownership", "notice", "consent")
"""The namespaces indexed, each the first part of its rows' keys."""

_SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS named(
    party_id TEXT NOT NULL,
    kind     TEXT NOT NULL,
    key      TEXT NOT NULL,
    PRIMARY KEY(party_id, kind, key)
) WITHOUT ROWID;
"""
_BY_KEY: Final = "CREATE INDEX IF NOT EXISTS named_by_key ON named(key)"
"""Which parties a key names, to replace them when the row changes (dropped and made again by a first build)."""

_CHANGED_ROWS: Final = (
    f"SELECT key, value FROM state_rows WHERE seq > ? AND {PARTY_ROWS} ORDER BY seq"  # noqa: S608  (a constant of schema.py)
)
"""Every version of the indexed rows written after a cursor. ``PARTY_ROWS``, the partial index's own
condition, lets SQLite's planner use that index."""

_CURRENT_ROWS: Final = current_rows("key, value") + " WHERE value IS NOT NULL"
"""One namespace's current rows, for the first build (a range of the primary key)."""
_BATCH: Final = 10_000
"""Entries inserted at once during the first build."""
_HEAD: Final = "SELECT height, hash FROM blocks ORDER BY height DESC LIMIT 1"
_LAST_SEQ: Final = "SELECT COALESCE(MAX(seq), -1) FROM txs"
_SET_CURSOR: Final = ("INSERT INTO cursor(id, seq, height, hash) VALUES (1, ?, ?, ?) ON CONFLICT(id) "
                      "DO UPDATE SET seq = excluded.seq, height = excluded.height, hash = excluded.hash")


def parties_named(kind: str, row: dict[str, object]) -> set[str]:
    """The parties a row names for the owner pages: current holders of a right or notice, a consent's owner.

    Reads the stored JSON directly (a co-owner's party fields sit at the top of its holder entry, a
    notice holder is a party reference): the first build at a million units parses nothing else.
    """
    if kind == "consent":
        return {str(row["owner"])} if "owner" in row else set()
    holders = row.get("holders")
    if row.get("status") != Status.CURRENT.value or not isinstance(holders, list):
        return set()
    return {str(holder["party_id"]) for holder in holders if isinstance(holder, dict) and "party_id" in holder}


def _first_build(ledger: sqlite3.Connection, db: sqlite3.Connection) -> int:
    """Fill an emptied index from the current rows, inside the caller's transactions on both; rows taken.

    The entries arrive in key order, not in the index's (party) order: they are appended to a
    scratch table and then inserted sorted, with the by-key index made afterwards, since random
    inserts into a B-tree of half a million entries cost several times more than one sort.
    """
    head = ledger.execute(_HEAD).fetchone()
    if head is None:
        return 0
    last = int(ledger.execute(_LAST_SEQ).fetchone()[0])
    db.execute("CREATE TEMP TABLE IF NOT EXISTS first_build(party_id TEXT, kind TEXT, key TEXT)")
    db.execute("DROP INDEX IF EXISTS named_by_key")
    taken = 0
    for kind in KINDS:
        batch: list[tuple[str, str, str]] = []
        for key, value in ledger.execute(_CURRENT_ROWS, (f"{kind}/", f"{kind}0")):
            taken += 1
            batch.extend((party, kind, str(key)) for party in parties_named(kind, orjson.loads(bytes(value))))
            if len(batch) >= _BATCH:
                db.executemany("INSERT INTO first_build VALUES (?, ?, ?)", batch)
                batch = []
        db.executemany("INSERT INTO first_build VALUES (?, ?, ?)", batch)
    db.execute("INSERT OR IGNORE INTO named(party_id, kind, key) SELECT party_id, kind, key FROM first_build "
               "ORDER BY party_id, kind, key")
    db.execute("DROP TABLE first_build")
    db.execute(_BY_KEY)
    db.execute(_SET_CURSOR, (last, int(head[0]), str(head[1])))
    return taken


class PartyIndex(Follower):
    """The index file beside one ledger, caught up from the ledger's connection on every query."""

    SCHEMA = _SCHEMA
    TABLES = ("named",)

    def __init__(self, path: Path, ledger: sqlite3.Connection) -> None:
        super().__init__(path, ledger)
        self._db.execute(_BY_KEY)

    def take(self, cursor: int) -> int:
        """Apply every indexed row version written after ``cursor``; -1: build from the current rows in place."""
        if cursor < 0:  # the current rows alone, by key range, instead of all history
            return _first_build(self._ledger, self._db)
        rows = self._ledger.execute(_CHANGED_ROWS, (cursor,)).fetchall()
        for key, value in rows:
            self._apply(str(key), None if value is None else orjson.loads(bytes(value)))
        return len(rows)

    def _apply(self, key: str, row: dict[str, object] | None) -> None:
        """Make the key's entries those of its new version (none for a tombstone)."""
        kind = key.split("/", 1)[0]
        self._db.execute("DELETE FROM named WHERE key = ?", (key,))
        if row is not None:
            self._db.executemany("INSERT OR IGNORE INTO named(party_id, kind, key) VALUES (?, ?, ?)",
                                 [(party, kind, key) for party in sorted(parties_named(kind, row))])

    def keys(self, party: str, kind: str) -> list[str]:
        """The keys of the ``kind`` rows (``ownership``, ``notice``, ``consent``) that name ``party``, in key order."""
        self.refresh()
        return [str(r[0]) for r in self._db.execute(
            "SELECT key FROM named WHERE party_id = ? AND kind = ? ORDER BY key", (party, kind))]
