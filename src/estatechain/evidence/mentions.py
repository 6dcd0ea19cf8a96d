"""Which transactions name which unit, application or record: a node-local index for evidence selection.

Why it exists: a unit's or an application's evidence holds every transaction that names it, valid or
invalid (a failed attempt is part of the record, design §3.1), and an invalid transaction wrote no
state row that could lead to it. Without an index, finding them is a pass over every stored envelope,
and one more for each application filed for the unit: 7 s for a unit at 1,000,000 units (p50; 46 s at
p95, a unit with several filings; ``bench_evidence.py``), growing with the ledger. The hot path should
not pay for an index that only the exporter reads. So the exporter keeps it beside the ledger, in
``mentions.sqlite``, as a ``Follower``: it is brought up to the head before each selection, reading only
the transactions committed since the last export, and started again when the ledger under it is no
longer the one it followed. It is derived data, never hashed and never shared: deleting the file costs
one full pass at the next export.

Terms are read from the canonical envelope bytes with three patterns, each a superset of what selection
asks for: every 28-character string value of unit-number shape, every ``application_id`` value, and
every ``seizure_id``, ``contract_id`` and ``consent_id`` value of the shape the contract gives such ids
(a tx id, or an imported seizure's id: 1-96 characters of A-Z a-z 0-9 . _ : -), by which a seizure's
release, a pre-sale contract's signature and a consent's revocation name their record
(``package.CREATED_BY_TX``).
Selection parses each candidate and keeps only real matches, so a false candidate costs one parse, and
a missed one cannot happen for a subject of that shape: in canonical JSON such a string value is
written as these very bytes (RFC 8785 escapes none of its characters). A unit subject of another shape
(a mis-typed number that only invalid transactions could name: V1 refuses it) is refused with
``InputError`` rather than answered from an index that cannot hold it.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import ClassVar, Final

from estatechain.storage.follower import Follower
from estatechain.storage.store import LEDGER_FILE

MENTIONS_FILE: Final = "mentions.sqlite"
_UNIT_VALUE: Final = re.compile(rb'"([0-9]{12}[A-Z]{2}[0-9]{5}[A-Z][0-9]{8})"')
_APPLICATION_ID: Final = re.compile(rb'"application_id":"([0-9a-f]{64})"')
_RECORD_ID: Final = re.compile(rb'"(?:consent_id|contract_id|seizure_id)":"([A-Za-z0-9._:-]{1,96})"')  # fields.IDENT
_UNIT_SHAPE: Final = re.compile(r"[0-9]{12}[A-Z]{2}[0-9]{5}[A-Z][0-9]{8}")
_IN_CHUNK: Final = 500


def indexed_unit_number(text: str) -> bool:
    """Whether ``text`` has the shape of the unit numbers the index holds (what a unit subject must have)."""
    return _UNIT_SHAPE.fullmatch(text) is not None


def terms_of(envelope: bytes) -> set[str]:
    """The unit numbers, application ids and record ids an envelope names (a superset; see the module docstring)."""
    found = {m.decode() for m in _UNIT_VALUE.findall(envelope)}
    found.update(m.decode() for m in _APPLICATION_ID.findall(envelope))
    found.update(m.decode() for m in _RECORD_ID.findall(envelope))
    return found


class MentionIndex(Follower):
    """``mentions.sqlite`` of one ledger directory: (term, seq) for every unit number, application and record id."""

    SCHEMA: ClassVar[str] = (
        "CREATE TABLE IF NOT EXISTS mentions(term TEXT NOT NULL, seq INTEGER NOT NULL, PRIMARY KEY(term, seq))"
        " WITHOUT ROWID;"
    )
    TABLES: ClassVar[tuple[str, ...]] = ("mentions",)
    VERSION: ClassVar[int] = 1
    """1: record ids are terms (a file built before holds none, so it is built again)."""
    WAIT_S: ClassVar[float] = 120.0
    """A second export waits for a first one's build of the same file (one pass over the ledger), then uses it."""

    def __init__(self, path: Path, ledger: sqlite3.Connection) -> None:
        super().__init__(path, ledger)
        self.last_read = 0
        """How many transactions the last catch-up read (the exporter's summary; a test's witness)."""

    @classmethod
    def caught_up(cls, ledger_dir: Path, ledger: sqlite3.Connection) -> MentionIndex:
        """The index beside the ledger in ``ledger_dir``, brought up to its head from one read snapshot.

        ``ledger`` is the caller's connection to that ledger, which ``seqs`` callers read candidates from.
        """
        index = cls(ledger_dir / MENTIONS_FILE, ledger)
        try:
            index.last_read = index.build(ledger_dir / LEDGER_FILE)
        except BaseException:
            index.close()
            raise
        return index

    @property
    def cursor(self) -> int:
        """The highest seq indexed (-1: none): selection reads no further than this."""
        return self._cursor()

    def take(self, cursor: int) -> int:
        """Index every transaction after ``cursor``, the whole ledger for a first build (-1)."""
        read = 0

        def rows() -> Iterator[tuple[str, int]]:
            nonlocal read
            for seq, envelope in self._ledger.execute("SELECT seq, envelope FROM txs WHERE seq > ? ORDER BY seq",
                                                      (cursor,)):
                read += 1
                for term in terms_of(bytes(envelope)):
                    yield term, int(seq)

        self._db.executemany("INSERT OR IGNORE INTO mentions VALUES (?, ?)", rows())
        return read

    def seqs(self, terms: Iterable[str], first_seq: int, last_seq: int) -> list[int]:
        """Seqs in [first_seq, last_seq] of the transactions that may name any of ``terms``, ascending."""
        wanted = sorted(set(terms))
        found: set[int] = set()
        for start in range(0, len(wanted), _IN_CHUNK):
            chunk = wanted[start:start + _IN_CHUNK]
            marks = ",".join("?" * len(chunk))
            found.update(int(r[0]) for r in self._db.execute(
                f"SELECT seq FROM mentions WHERE term IN ({marks}) AND seq BETWEEN ? AND ?",  # noqa: S608  (marks only)
                (*chunk, first_seq, last_seq),
            ))
        return sorted(found)
