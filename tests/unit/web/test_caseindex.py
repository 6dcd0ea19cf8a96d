"""The desks' case index lists exactly what a scan of every application would, for every kind of viewer.

A real ledger (SQLite file, the real pipeline) over a small imported register: two banks file
mortgage registrations for different owners, one owner confirms, one bank withdraws. Each desk's
list through the index must equal the reference scan (``cases.cases``, newest first) — by filing
org, by party, by state — after the first build, after later blocks (the incremental catch-up), after
the index file is deleted, and after the ledger is replaced by an older copy (a restore).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import cast

import pytest

from estatechain.contract.records.application import AppState
from estatechain.storage.store import LEDGER_FILE, LedgerStore
from estatechain.web import caseindex
from estatechain.web.cases import Viewer, cases, listed, matching, person_party, who
from web.registerledger import PERSONS, Ledger, registry_ledger

BANKS = ("icbc-gz", "ccb-gz")


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[Ledger]:
    with registry_ledger(tmp_path) as found:
        yield found


def viewers(ledger: Ledger) -> list[Viewer]:
    people = [Viewer(org="gz-identity", org_type="identity", role="person",
                     party=person_party(ledger.store, ledger.factory.identity(handle).fingerprint))
              for handle in PERSONS]
    banks = [Viewer(org=bank, org_type="bank", role="bank.operator", party=None) for bank in BANKS]
    registry = Viewer(org="gz-registry", org_type="registry", role="registry.intake", party=None)
    return [*people, *banks, registry]


def assert_index_matches_the_scan(ledger: Ledger, index: caseindex.CaseIndex) -> None:
    now = ledger.clock.now_ms()
    for viewer in viewers(ledger):
        expected = [c.application.application_id for c in cases(ledger.store, viewer, now)]
        assert [c.application.application_id for c in listed(index, ledger.store, viewer, now)] == expected, viewer
        for state in (AppState.FILED, AppState.CONFIRMED, AppState.WITHDRAWN):
            wanted = [c.application.application_id for c in cases(ledger.store, viewer, now) if c.state is state]
            got = listed(index, ledger.store, viewer, now, states=[state])
            assert [c.application.application_id for c in got] == wanted, (viewer, state)
            queue = listed(index, ledger.store, viewer, now, states=[state], oldest_first=True)
            in_state = [c for c in cases(ledger.store, viewer, now) if c.state is state]
            oldest = [c.application.application_id
                      for c in sorted(in_state, key=lambda c: (c.application.filed_ms, c.application.application_id))]
            assert [c.application.application_id for c in queue] == oldest, (viewer, state)  # nearest limit first
        assert index.count(who(ledger.store, viewer)) == len(expected)
        assert_pages_match_the_scan(ledger, index, viewer)


def assert_pages_match_the_scan(ledger: Ledger, index: caseindex.CaseIndex, viewer: Viewer) -> None:
    """Pages of one and of two cases, laid end to end, are the whole list; counts by state are the scan's."""
    now = ledger.clock.now_ms()
    scan = cases(ledger.store, viewer, now)
    entitled = who(ledger.store, viewer)
    for oldest_first in (False, True):
        whole = index.ids(entitled, limit=len(scan) + 1, oldest_first=oldest_first)
        assert len(whole) == len(scan)
        for size in (1, 2):
            pages = [index.ids(entitled, limit=size, offset=start, oldest_first=oldest_first)
                     for start in range(0, len(scan) + size, size)]
            assert [a for page in pages for a in page] == whole, (viewer, size)
    for state in {c.state.value for c in scan} | {AppState.ON_HOLD.value}:
        assert index.count(entitled, states=[state]) == sum(c.desk_state == state for c in scan), (viewer, state)


def test_every_desk_lists_through_the_index_what_the_full_scan_finds(ledger: Ledger) -> None:
    a, b, *others = ledger.owners
    first = ledger.file("icbc-gz", a, "LOAN-IDX-1")
    ledger.clock.advance(1_000)
    ledger.file("ccb-gz", b, "LOAN-IDX-2")
    ledger.clock.advance(1_000)
    ledger.file("icbc-gz", others[0], "LOAN-IDX-3")
    index = caseindex.CaseIndex(ledger.directory / caseindex.FILE, ledger.store.connection)
    try:
        assert_index_matches_the_scan(ledger, index)
        bank_view = viewers(ledger)[2]
        assert len(listed(index, ledger.store, bank_view, ledger.clock.now_ms())) == 2  # its own two, not ccb's

        # later blocks: the owner of the first filing confirms it, ccb files again, icbc withdraws one
        ledger.commit(PERSONS[0], "application.confirm",
                      {"application_id": first, "party_id": a.party_id, "application_hash": first})
        ledger.clock.advance(1_000)
        ledger.file("ccb-gz", others[1], "LOAN-IDX-4")
        ledger.commit("icbc-gz/approver1", "application.withdraw",
                      {"application_id": ledger.filed[2], "party_id": ledger.bank_parties["icbc-gz"]})
        assert index.refresh() == 3  # the catch-up takes the three new application rows, not the whole history
        assert index.refresh() == 0
        assert_index_matches_the_scan(ledger, index)
    finally:
        index.close()

    (ledger.directory / caseindex.FILE).unlink()
    rebuilt = caseindex.CaseIndex(ledger.directory / caseindex.FILE, ledger.store.connection)
    try:
        assert not rebuilt.built()
        assert rebuilt.build(ledger.directory / LEDGER_FILE) == 4  # the desks' way: a snapshot, in a worker thread
        assert rebuilt.built()
        ledger.clock.advance(1_000)
        ledger.file("ccb-gz", others[2], "LOAN-IDX-7")
        assert rebuilt.refresh() == 1  # after the build, catch-ups take only what came since
        assert_index_matches_the_scan(ledger, rebuilt)
    finally:
        rebuilt.close()


def test_an_index_ahead_of_a_restored_ledger_is_rebuilt(ledger: Ledger, tmp_path: Path) -> None:
    a, b, *_ = ledger.owners
    ledger.file("icbc-gz", a, "LOAN-IDX-5")
    ledger.store.close()
    backup = tmp_path / "backup"
    shutil.copytree(ledger.directory, backup)
    ledger.store = LedgerStore.open(ledger.directory)
    ledger.file("ccb-gz", b, "LOAN-IDX-6")
    index = caseindex.CaseIndex(ledger.directory / caseindex.FILE, ledger.store.connection)
    assert_index_matches_the_scan(ledger, index)  # knows both filings
    index.close()
    ledger.store.close()

    shutil.rmtree(backup / caseindex.FILE, ignore_errors=True)
    for name in ("ledger.sqlite", "ledger.sqlite-wal", "ledger.sqlite-shm"):
        if (backup / name).exists():
            shutil.copy2(backup / name, ledger.directory / name)
        else:
            (ledger.directory / name).unlink(missing_ok=True)
    ledger.store = LedgerStore.open(ledger.directory)
    index = caseindex.CaseIndex(ledger.directory / caseindex.FILE, ledger.store.connection)  # the newer index file
    try:
        assert_index_matches_the_scan(ledger, index)
        registry = viewers(ledger)[-1]
        assert len(listed(index, ledger.store, registry, ledger.clock.now_ms())) == 1
    finally:
        index.close()


def test_a_recorded_case_waits_for_the_issuer_only_with_a_registration_certificate() -> None:
    def state(stored: str, number: str | None, business_type: str) -> str:
        return caseindex.desk_state(stored, number, business_type=business_type, steps={})

    assert state("RECORDED", "粤(2026)广州市不动产证明第00000001号", "mortgage.first") == "RECORDED"
    assert state("RECORDED", "粤(2026)广州市不动产权第00000001号", "ownership.transfer") == caseindex.COMPLETE
    assert state("RECORDED", None, "mortgage.cancel") == caseindex.COMPLETE  # a cancellation draws no number
    assert state("CERTIFIED", "粤(2026)广州市不动产证明第00000001号", "mortgage.first") == "CERTIFIED"


def test_a_transfer_with_a_new_mortgage_waits_for_the_mortgages_certificate_whatever_its_title_did() -> None:
    title, combined = "粤(2026)广州市不动产权第00000001号", "ownership.transfer_mortgage"
    recorded = {"recorded": {"tx_id": "a"}}
    assert caseindex.desk_state("RECORDED", title, business_type=combined, steps=recorded) == "RECORDED"
    title_first = {**recorded, "issued": {"tx_id": "b"}}  # its title issued with a document from elsewhere
    assert caseindex.desk_state("CERTIFIED", title, business_type=combined, steps=title_first) == "RECORDED"
    done = {**recorded, "issued_second": {"tx_id": "c"}}
    assert caseindex.desk_state("CERTIFIED", title, business_type=combined, steps=done) == "CERTIFIED"
    assert caseindex.desk_state("RECORDED", title, business_type="ownership.transfer", steps=recorded) == (
        caseindex.COMPLETE)


class _Rows:
    """The two reads ``matching`` makes of a ledger, over a few application rows."""

    def __init__(self, rows: dict[str, dict[str, object]]) -> None:
        self.rows = rows

    def scan(self, prefix: str) -> Iterator[tuple[str, dict[str, object]]]:
        return ((key, row) for key, row in sorted(self.rows.items()) if key.startswith(prefix))


def test_a_case_is_found_by_a_unique_prefix_of_its_id_and_an_ambiguous_one_finds_two(ledger: Ledger) -> None:
    a, *_ = ledger.owners
    filed = ledger.file("icbc-gz", a, "LOAN-IDX-8")
    row = ledger.store.get(f"application/{filed}")
    assert row is not None
    twin = filed[:12] + ("0" if filed[12] != "0" else "1") + filed[13:]
    rows = _Rows({f"application/{filed}": dict(row), f"application/{twin}": {**row, "application_id": twin}})
    registry = viewers(ledger)[-1]
    store = cast("LedgerStore", rows)
    assert matching(ledger.store, registry, filed[:12]) == (filed,)  # the short id the lists print
    assert matching(ledger.store, registry, filed[:12].upper()) == (filed,)
    assert matching(ledger.store, registry, filed[:11]) == ()  # shorter than the lists print: not a lookup
    assert len(matching(store, registry, filed[:12])) == 2  # ambiguous
    assert matching(store, registry, filed[:13]) == (filed,)
    assert matching(ledger.store, viewers(ledger)[3], filed[:12]) == ()  # ccb may not see icbc's case
