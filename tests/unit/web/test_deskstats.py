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
from estatechain.testing.builders import material_ref
from estatechain.testing.register import OwnerCandidate
from estatechain.web import deskstats, history, review
from estatechain.web.cases import Case
from estatechain.web.pages import environment
from estatechain.web.timelimits import Hold, due_day, sla
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
    expected = sla([Application.from_json(row) for _, row in store.scan("application/")], now, WorkingDays(store),
                   holds=lambda application: history.holds(store, application))
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


def record_case(ledger: Ledger, application_id: str) -> None:
    """Intake accepts, a reviewer reviews and another officer records ``application_id`` (confirmed)."""
    ledger.commit("gz-registry/intake1", "application.accept", {"application_id": application_id})
    ledger.commit("gz-registry/reviewer1", "application.review", {"application_id": application_id})
    ledger.commit("gz-registry/recorder2", "application.record", {"application_id": application_id})


def test_a_recorded_cancellation_is_counted_finished_not_awaiting_a_certificate(ledger: Ledger) -> None:
    """The regulator's table names a recorded case as the desks do: a cancellation draws no certificate,
    so it is 已登簿（办结）, while a recorded first registration still awaits its 不动产登记证明."""
    owner = ledger.owners[0]
    first = ledger.file("icbc-gz", owner, "LOAN-STATS-7")
    confirm_both(ledger, first, PERSONS[0], owner, "icbc-gz")
    record_case(ledger, first)
    mortgage = ledger.store.get(f"mortgage/{first}")
    assert mortgage is not None
    bank = ledger.bank_parties["icbc-gz"]
    cancel = ledger.commit("icbc-gz/operator1", "application.file", {
        "business_type": "mortgage.cancel", "unit_number": owner.unit_number,
        "applicants": [{"party_id": bank, "capacity": "mortgagee"}],
        "materials": [material_ref("APPLICATION_FORM"), material_ref("PAYOFF_PROOF")],
        "details": {"certificate_number": str(mortgage["certificate_number"]), "reason": "REPAID"}})
    ledger.commit("icbc-gz/approver1", "application.confirm",
                  {"application_id": cancel, "party_id": bank, "application_hash": cancel})
    record_case(ledger, cancel)
    stats = deskstats.DeskStats(ledger.directory / deskstats.FILE, ledger.store)
    try:
        assert_figures_match_the_scan(ledger, stats)
        per_state = stats.sla(ledger.clock.now_ms()).per_state
        assert (per_state.get("RECORDED"), per_state.get("RECORDED_COMPLETE")) == (1, 1)
        assert list(per_state)[-2:] == ["RECORDED", "RECORDED_COMPLETE"]  # lifecycle order, the finished one after
    finally:
        stats.close()
    for locale, pending, finished in (("zh-CN", "已登簿，待发证", "已登簿（办结）"),
                                      ("en", "Recorded, certificate pending", "Recorded (complete)")):
        row = environment(locale).from_string('{{ state|name("states") }}')  # as regulator.html names each row
        assert (row.render(state="RECORDED"), row.render(state="RECORDED_COMPLETE")) == (pending, finished)


def step_ms(ledger: Ledger, application_id: str, step: str) -> int:
    """When the case's latest ``step`` was signed (its block's time), as the record keeps it."""
    row = ledger.store.get(f"application/{application_id}")
    assert row is not None
    steps = row["steps"]
    assert isinstance(steps, dict)
    record = steps[step]
    assert isinstance(record, dict)
    return int(str(record["at_ms"]))


def test_the_clock_reads_each_hold_from_its_transactions_and_the_desks_agree(ledger: Ledger) -> None:
    """Two holds on the ledger, the first of a minute: the record keeps only the second, yet the holds the
    clock counts are both, with their block times; the review desk's due day and the regulator's figures
    come from the one ``due_day``, and a one-minute hold moves the limit by nothing."""
    owner = ledger.owners[1]
    case = ledger.file("ccb-gz", owner, "LOAN-STATS-8")
    confirm_both(ledger, case, PERSONS[1], owner, "ccb-gz")
    ledger.commit("gz-registry/intake1", "application.accept", {"application_id": case})
    ledger.clock.advance((10 * 3_600_000 - (ledger.clock.now_ms() + 8 * 3_600_000)) % DAY)  # 10:00 in Guangzhou
    spans = []
    for held in (60_000, 3 * DAY):
        ledger.commit("gz-registry/reviewer1", "application.hold", {"application_id": case, "reason": "现场查看"})
        ledger.clock.advance(held)
        ledger.commit("gz-registry/reviewer1", "application.resume", {"application_id": case})
        spans.append(Hold(step_ms(ledger, case, "held"), step_ms(ledger, case, "resumed")))
        ledger.clock.advance(DAY)
    application = Application.from_json(ledger.store.get(f"application/{case}") or {})
    assert history.holds(ledger.store, application) == tuple(spans)
    assert spans[0].end_ms is not None
    assert spans[0].end_ms - spans[0].start_ms >= 60_000

    now = ledger.clock.now_ms()
    calendar = WorkingDays(ledger.store)
    accepted = step_ms(ledger, case, "accepted")
    shown = review.clocks(ledger.store, [Case(application=application, state=application.state)], now, calendar)
    assert shown[case].due_day == due_day(calendar, accepted, spans, now)
    assert shown[case].due_day == due_day(calendar, accepted, spans[1:], now)  # the minute's hold took no day
    stats = deskstats.DeskStats(ledger.directory / deskstats.FILE, ledger.store)
    try:
        assert_figures_match_the_scan(ledger, stats)
        ledger.commit("gz-registry/reviewer1", "application.hold", {"application_id": case, "reason": "调查"})
        ledger.clock.advance(DAY)
        ledger.commit("gz-registry/reviewer1", "application.refuse", {  # refused while held: that hold ends there
            "application_id": case, "reason_code": "OTHER", "reason_text": "不符合登记条件"})
        refused = Application.from_json(ledger.store.get(f"application/{case}") or {})
        assert history.holds(ledger.store, refused) == (*spans, Hold(step_ms(ledger, case, "held")))
        assert_figures_match_the_scan(ledger, stats)
        assert stats.sla(ledger.clock.now_ms()).finished_late == 0
    finally:
        stats.close()
