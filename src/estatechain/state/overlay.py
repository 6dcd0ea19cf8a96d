"""A block's pending writes layered over committed state, so each tx sees the txs before it."""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterator
from typing import Protocol

from estatechain.canonical import JSONValue
from estatechain.contract.effects import Delete, Effect, Put, Record


class ScanningView(Protocol):
    """**Protocol:** the committed state the overlay reads through (same shape as the contract's view)."""

    def get(self, key: str) -> Record | None:
        """Current committed version of ``key``."""
        ...

    def scan(self, prefix: str) -> Iterator[tuple[str, Record]]:
        """Committed rows under ``prefix`` in key order."""
        ...


class Overlay:
    """Read-your-writes view for one block: pending writes win over the committed base.

    Writes are recorded in order with the tx sequence number that made them, so the ledger can
    store every version (two txs of one block writing one key make two history rows).

    Committed reads are remembered for the block: the base does not change while a block executes
    (the store commits only after ``execute_block`` returns), and the lifecycle reads the same rows
    and index ranges at several points of one transaction (a review loads the application, then the
    V16 check scans the unit's filings and mortgages and reads the application again; a recording
    scans the mortgages twice), each a SQLite query and a JSON parse. A remembered row is handed out
    again as the same mapping, as this block's own writes already are; no caller mutates a row.

    ``scan_group`` widens a committed scan to a range read together: a rule asks for a unit's
    ownership, seizures, notices, open applications and mortgages one kind at a time, each a range
    read of about one row, and a range read costs about ten times the row (five of them 48 µs, the
    unit's whole index in one read 10 µs, on a 10,000-unit register). So the overlay reads
    ``scan_group(prefix)`` once and answers every prefix inside it from that list; the rows and their
    order are the ones a scan of ``prefix`` itself would give. The default, ``str``, gives each prefix
    its own read.
    """

    def __init__(self, base: ScanningView, *, scan_group: Callable[[str], str] = str) -> None:
        self._base = base
        self._scan_group = scan_group
        self._latest: dict[str, dict[str, JSONValue] | None] = {}
        self._sorted: list[str] = []  # keys of _latest in order, so a prefix scan is a bisect, not a sweep
        self._writes: dict[tuple[int, str], dict[str, JSONValue] | None] = {}
        self._read: dict[str, Record | None] = {}  # committed rows read in this block
        self._scanned: dict[str, list[tuple[str, Record]]] = {}  # committed scans made in this block

    def get(self, key: str) -> Record | None:
        """The newest version of ``key``: this block's writes first, then committed state."""
        if key in self._latest:
            return self._latest[key]
        if key in self._read:
            return self._read[key]
        value = self._read[key] = self._base.get(key)
        return value

    def scan(self, prefix: str) -> Iterator[tuple[str, Record]]:
        """Rows under ``prefix`` in key order, merging this block's writes over committed state.

        The block's written keys under ``prefix`` are found by bisection and read by index: an
        ``islice`` from the bisection point would step through every written key before it, and a
        block writes about a thousand. With none under ``prefix``, the committed rows are the answer.
        """
        committed = self._committed(prefix)
        written = self._sorted
        start = end = bisect.bisect_left(written, prefix)
        while end < len(written) and written[end].startswith(prefix):
            end += 1
        if start == end:
            yield from committed
            return
        merged: dict[str, Record | None] = dict(committed)
        for key in written[start:end]:
            merged[key] = self._latest[key]
        for key in sorted(merged):
            current = merged[key]
            if current is not None:
                yield key, current

    def _committed(self, prefix: str) -> list[tuple[str, Record]]:
        """Committed rows under ``prefix`` in key order, read once per block (through its scan group)."""
        rows = self._scanned.get(prefix)
        if rows is not None:
            return rows
        group = self._scan_group(prefix)
        if group == prefix or not prefix.startswith(group):
            rows = list(self._base.scan(prefix))
        else:
            whole = self._committed(group)
            start = bisect.bisect_left(whole, prefix, key=_row_key)
            end = start
            while end < len(whole) and whole[end][0].startswith(prefix):
                end += 1
            rows = whole[start:end]
        self._scanned[prefix] = rows
        return rows

    def apply(self, seq: int, effects: tuple[Effect, ...]) -> None:
        """Record a valid transaction's effects (events are not state and are ignored here)."""
        for effect in effects:
            if isinstance(effect, (Put, Delete)) and effect.key not in self._latest:
                bisect.insort(self._sorted, effect.key)
            if isinstance(effect, Put):
                value: dict[str, JSONValue] = dict(effect.value)
                self._latest[effect.key] = value
                self._writes[seq, effect.key] = value
            elif isinstance(effect, Delete):
                self._latest[effect.key] = None
                self._writes[seq, effect.key] = None

    @property
    def writes(self) -> list[tuple[int, str, dict[str, JSONValue] | None]]:
        """Every version this block wrote, in order; a tx writing one key twice leaves its last value."""
        return [(seq, key, value) for (seq, key), value in self._writes.items()]


def _row_key(row: tuple[str, Record]) -> str:
    return row[0]
