"""The regulator's figures kept incrementally equal what a full scan of the inquiry log and the applications finds.

A real ledger (SQLite file, the real pipeline) over a small imported register: banks inquire (granted and
refused), file applications, the registry accepts and records one after more than 30 working days, time
passes (a filing expires, an open case becomes overdue), the registry records a holiday calendar (which
decides lateness again). After every step the figures (``deskstats.DeskStats``) must equal the reference
scans (``timelimits.sla`` over every application, a count of every ``inquiry/`` row), also after the file
is deleted and rebuilt and after the ledger is replaced by an older copy (a restore).
"""

from __future__ import annotations

import datetime as dt
import shutil
import sqlite3
from collections import Counter, defaultdict
from collections.abc import Iterator
from pathlib import Path

import pytest

from estatechain.contract.civil_date import iso_date, parse_iso_date, shanghai_day
from estatechain.contract.records import Application
from estatechain.contract.working_days import WorkingDays
from estatechain.storage.store import LEDGER_FILE, LedgerStore
from estatechain.testing.register import OwnerCandidate
from estatechain.web import deskstats
from estatechain.web.timelimits import sla
from web.registerledger import PERSONS, Ledger, registry_ledger

DAY = 86_400_000


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[Ledger]:
    with registry_ledger(tmp_path) as found:
        yield found


def assert_figures_match_the_scan(ledger: Ledger, stats: deskstats.DeskStats) -> None:
    store = ledger.store
    head = store.head
    assert head is not None
    now = head.time_ms
    expected = sla([Application.from_json(row) for _, row in store.scan("application/")], now, WorkingDays(store))
    assert stats.sla(now) == expected
    counts = Counter((str(row.get("purpose") or ""), str(row["outcome"])) for _, row in store.scan("inquiry/"))
    purposes = sorted({purpose for purpose, _ in counts})
    assert stats.inquiries() == [(p, counts[p, "GRANTED"], counts[p, "REFUSED"]) for p in purposes]
    assert stats.busiest_requesters(since_day=0, limit=1000) == busiest_by_scan(ledger)


def busiest_by_scan(ledger: Ledger) -> list[deskstats.RequesterDay]:
    """Every (day, signer) with its distinct units, inquiries and refusals, from every ``inquiry/`` row."""
    units: dict[tuple[int, str], set[str]] = defaultdict(set)
    asked: Counter[tuple[int, str]] = Counter()
    refused: Counter[tuple[int, str]] = Counter()
    who: dict[str, tuple[str, str]] = {}
    for _, row in ledger.store.scan("inquiry/"):
        key = (shanghai_day(int(str(row["at_ms"]))), str(row["requester"]))
        units[key].add(str(row["unit_number"]))
        asked[key] += 1
        refused[key] += row["outcome"] != "GRANTED"
        who[key[1]] = (str(row["requester_org"]), str(row["requester_role"]))
    found = [deskstats.RequesterDay(day=iso_date(day), requester=signer, org=who[signer][0], role=who[signer][1],
                                    units=len(units[day, signer]), inquiries=asked[day, signer],
                                    refused=refused[day, signer]) for day, signer in units]
    return sorted(found, key=lambda r: (-r.units, -r.inquiries, -(shanghai_day_of(r.day)), r.requester))


def shanghai_day_of(iso: str) -> int:
    day = parse_iso_date(iso)
    assert day is not None
    return day


def confirm_both(ledger: Ledger, application_id: str, person: str, owner: OwnerCandidate, bank: str) -> None:
    ledger.commit(person, "application.confirm", {"application_id": application_id, "party_id": owner.party_id,
                                                  "application_hash": application_id})
    ledger.commit(f"{bank}/approver1", "application.confirm",
                  {"application_id": application_id, "party_id": ledger.bank_parties[bank],
                   "application_hash": application_id})


def test_the_figures_follow_the_ledger_and_equal_the_full_scan(ledger: Ledger) -> None:
    a, b, c, *_ = ledger.owners
    stats = deskstats.DeskStats(ledger.directory / deskstats.FILE, ledger.store)
    try:
        assert_figures_match_the_scan(ledger, stats)  # the first build: no application, no inquiry yet
        ledger.inquire(c.unit_number, "intent", "PRE_LOAN")
        ledger.inquire(c.unit_number, "own_right", "POST_LOAN")
        first = ledger.file("icbc-gz", a, "LOAN-STATS-1")
        second = ledger.file("ccb-gz", b, "LOAN-STATS-2")
        ledger.file("icbc-gz", c, "LOAN-STATS-3")  # never confirmed: it expires
        assert_figures_match_the_scan(ledger, stats)
        assert stats.inquiries() == [("POST_LOAN", 0, 1), ("PRE_LOAN", 1, 0)]

        confirm_both(ledger, first, PERSONS[0], a, "icbc-gz")
        confirm_both(ledger, second, PERSONS[1], b, "ccb-gz")
        ledger.commit("gz-registry/intake1", "application.accept", {"application_id": first})
        ledger.commit("gz-registry/intake1", "application.accept", {"application_id": second})
        assert_figures_match_the_scan(ledger, stats)
        assert stats.refresh() == 0

        ledger.clock.advance(50 * DAY)  # about 35 weekdays: late by a calendar, not surely late without one
        ledger.commit("gz-registry/reviewer1", "application.review", {"application_id": first})
        ledger.commit("gz-registry/recorder2", "application.record", {"application_id": first})
        assert stats.refresh() == 2  # the catch-up takes the two new application rows, not the whole history
        assert_figures_match_the_scan(ledger, stats)
        figures = stats.sla(ledger.clock.now_ms())
        assert (figures.per_state.get("EXPIRED"), figures.on_the_clock, figures.finished) == (1, 1, 1)
        assert figures.finished_late == 0

        year = dt.datetime.fromtimestamp(ledger.clock.now_ms() / 1000, tz=dt.UTC).year
        for each in range(year - 1, year + 1):
            ledger.commit("gz-registry/admin1", "calendar.set", {"year": each, "holidays": [f"{each}-10-01"],
                                                                 "workdays": [], "basis": "test"})
        assert_figures_match_the_scan(ledger, stats)
        assert stats.sla(ledger.clock.now_ms()).finished_late == 1  # decided again by the recorded calendar
    finally:
        stats.close()

    (ledger.directory / deskstats.FILE).unlink()
    rebuilt = deskstats.DeskStats(ledger.directory / deskstats.FILE, ledger.store)
    try:
        assert not rebuilt.built()
        assert rebuilt.build(ledger.directory / LEDGER_FILE) > 0  # the desk's way: a snapshot, in a worker thread
        assert rebuilt.built()
        assert_figures_match_the_scan(ledger, rebuilt)
        # the recorded calendar was read through the snapshot's own view
        assert rebuilt.sla(ledger.clock.now_ms()).finished_late == 1
    finally:
        rebuilt.close()


def test_figures_ahead_of_a_restored_ledger_are_built_again(ledger: Ledger, tmp_path: Path) -> None:
    a, b, *_ = ledger.owners
    ledger.file("icbc-gz", a, "LOAN-STATS-5")
    ledger.store.close()
    backup = tmp_path / "backup"
    shutil.copytree(ledger.directory, backup)
    ledger.store = LedgerStore.open(ledger.directory)
    ledger.file("ccb-gz", b, "LOAN-STATS-6")
    ledger.inquire(b.unit_number, "intent", "PRE_LOAN")
    stats = deskstats.DeskStats(ledger.directory / deskstats.FILE, ledger.store)
    assert_figures_match_the_scan(ledger, stats)  # knows both filings and the inquiry
    stats.close()
    ledger.store.close()

    for name in ("ledger.sqlite", "ledger.sqlite-wal", "ledger.sqlite-shm"):
        if (backup / name).exists():
            shutil.copy2(backup / name, ledger.directory / name)
        else:
            (ledger.directory / name).unlink(missing_ok=True)
    ledger.store = LedgerStore.open(ledger.directory)
    stats = deskstats.DeskStats(ledger.directory / deskstats.FILE, ledger.store)  # the newer file
    try:
        assert_figures_match_the_scan(ledger, stats)
        assert stats.inquiries() == []
    finally:
        stats.close()


def test_the_catch_up_reads_applications_through_the_ledgers_partial_index(ledger: Ledger) -> None:
    plan = " ".join(str(row[3]) for row in ledger.store.connection.execute(
        "EXPLAIN QUERY PLAN " + deskstats._CHANGED_APPLICATIONS, (0,)))
    assert "state_rows_events" in plan
    plan = " ".join(str(row[3]) for row in ledger.store.connection.execute(
        "EXPLAIN QUERY PLAN " + deskstats._NEW_INQUIRIES, (0,)))
    assert "SCAN r" not in plan  # the inquiry rows are found by their keys, not by scanning the history


def test_one_officer_asking_about_many_units_in_a_day_tops_the_auditors_list(ledger: Ledger) -> None:
    """domain.md §7: many units per bank officer per day is the pattern an auditor looks for."""
    stats = deskstats.DeskStats(ledger.directory / deskstats.FILE, ledger.store)
    try:
        for owner in ledger.owners[:6]:
            ledger.inquire(owner.unit_number, "intent", "PRE_LOAN")
        ledger.inquire(ledger.owners[0].unit_number, "intent", "PRE_LOAN")  # the same unit again
        ledger.clock.advance(DAY)
        ledger.inquire(ledger.owners[7].unit_number, "intent", "PRE_LOAN")
        [busiest, next_day] = stats.busiest_requesters(since_day=0, limit=10)
        assert (busiest.org, busiest.role, busiest.units, busiest.inquiries, busiest.refused) == (
            "icbc-gz", "bank.operator", 6, 7, 0)
        assert (next_day.units, next_day.inquiries) == (1, 1)
        assert stats.busiest_requesters(since_day=parse_iso_date(next_day.day) or 0, limit=10) == [next_day]
        assert_figures_match_the_scan(ledger, stats)
    finally:
        stats.close()


def test_a_figures_file_of_an_older_format_is_built_again(ledger: Ledger) -> None:
    """A table added by a later release would miss every row taken before it: the file starts again."""
    ledger.inquire(ledger.owners[0].unit_number, "intent", "PRE_LOAN")
    stats = deskstats.DeskStats(ledger.directory / deskstats.FILE, ledger.store)
    stats.refresh()
    stats.close()
    with sqlite3.connect(ledger.directory / deskstats.FILE) as old:
        old.execute("DELETE FROM requester_units")  # what a file made before the table existed holds
        old.execute("PRAGMA user_version = 1")
    again = deskstats.DeskStats(ledger.directory / deskstats.FILE, ledger.store)
    try:
        assert not again.built()
        assert again.build(ledger.directory / LEDGER_FILE) > 0
        assert_figures_match_the_scan(ledger, again)
    finally:
        again.close()
