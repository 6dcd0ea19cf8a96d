"""The court desk's index of seizures by authority lists what a scan of every seizure finds; a unit's current
entries hold only the seizures in effect or queued.

A real ledger (SQLite file, the real pipeline) over a small imported register: the court seizes three units,
one a second time (queued, 轮候), one for a term already over (lapsed), and lifts one. The index must list
the court's seizures as a scan of every ``seizure/`` row does (not released first, newest first) after the
first build, after later blocks and after the file is deleted; ``cases.unit_entries`` must leave out the
released and the lapsed ones.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest

from estatechain.contract.records.seizure import Seizure
from estatechain.storage.store import LEDGER_FILE, LedgerStore
from estatechain.web import seizureindex
from estatechain.web.cases import unit_entries
from web.registerledger import Ledger, registry_ledger

COURT = "gz-court/court1"


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[Ledger]:
    with registry_ledger(tmp_path) as found:
        yield found


def by_scan(store: LedgerStore, org: str) -> list[str]:
    found = [Seizure.from_json(row) for _, row in store.scan("seizure/") if row.get("authority_org") == org]
    found.sort(key=lambda s: (s.released_ms is not None, -s.delivered_ms, s.seizure_id))
    return [s.seizure_id for s in found]


def seize(ledger: Ledger, unit: str, order_no: str, start: dt.date, end: dt.date) -> str:
    ledger.clock.advance(1_000)
    return ledger.commit(COURT, "seizure.register", {"unit_number": unit, "order_no": order_no, "kind": "1",
                                                     "start_date": start.isoformat(), "end_date": end.isoformat()})


def test_the_index_lists_the_court_s_seizures_and_unit_entries_only_current_ones(ledger: Ledger) -> None:
    a, b, c, *_ = ledger.owners
    today = dt.datetime.fromtimestamp(ledger.clock.now_ms() / 1000, tz=dt.UTC).date()
    later = today.replace(year=today.year + 2)
    index = seizureindex.SeizureIndex(ledger.directory / seizureindex.FILE, ledger.store.connection)
    try:
        assert index.ids("gz-court", limit=100) == by_scan(ledger.store, "gz-court")
        first = seize(ledger, a.unit_number, "(2026)粤0106执保11号", today, later)
        queued = seize(ledger, a.unit_number, "(2026)粤0106执保12号", today, later)
        lapsed = seize(ledger, b.unit_number, "(2026)粤0106执保13号", today - dt.timedelta(days=20),
                       today - dt.timedelta(days=10))
        assert index.ids("gz-court", limit=100) == by_scan(ledger.store, "gz-court")
        entries = unit_entries(ledger.store, a.unit_number)
        assert entries is not None
        assert [s.seizure.seizure_id for s in entries.seizures] == [first, queued]
        entries = unit_entries(ledger.store, b.unit_number)
        assert entries is not None
        assert entries.seizures == ()  # its term is over: lapsed, though never released
        assert lapsed in index.ids("gz-court", limit=100)

        ledger.clock.advance(1_000)
        ledger.commit(COURT, "seizure.release", {"seizure_id": first, "order_no": "(2026)粤0106执保11号之一"})
        seize(ledger, c.unit_number, "(2026)粤0106执保14号", today, later)
        assert index.refresh() == 2  # the release and the new seizure, not every seizure again
        expected = by_scan(ledger.store, "gz-court")
        assert index.ids("gz-court", limit=100) == expected
        assert expected[-1] == first  # released: listed after those that are not
        assert index.ids("gz-court", limit=2) == expected[:2]
        assert index.count("gz-court") == len(expected)
        assert index.ids("gz-other-court", limit=100) == []
        entries = unit_entries(ledger.store, a.unit_number)
        assert entries is not None
        assert [s.seizure.seizure_id for s in entries.seizures] == [queued]  # released: no longer current
    finally:
        index.close()

    (ledger.directory / seizureindex.FILE).unlink()
    rebuilt = seizureindex.SeizureIndex(ledger.directory / seizureindex.FILE, ledger.store.connection)
    try:
        assert not rebuilt.built()
        assert rebuilt.build(ledger.directory / LEDGER_FILE) > 0  # the desk's way: a snapshot, in a worker thread
        assert rebuilt.built()
        newest = seize(ledger, c.unit_number, "(2026)粤0106执保15号", today, later)
        assert rebuilt.refresh() == 1  # after the build, catch-ups take only what came since
        assert rebuilt.ids("gz-court", limit=100) == by_scan(ledger.store, "gz-court")
        assert newest in rebuilt.ids("gz-court", limit=100)
    finally:
        rebuilt.close()


def test_the_catch_up_reads_through_the_ledgers_partial_index(ledger: Ledger) -> None:
    plan = " ".join(str(row[3]) for row in ledger.store.connection.execute(
        "EXPLAIN QUERY PLAN " + seizureindex._CHANGED_ROWS, (0,)))
    assert "state_rows_events" in plan
