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

import pytest

from estatechain.contract.records.application import AppState
from estatechain.storage.store import LEDGER_FILE, LedgerStore
from estatechain.web import caseindex
from estatechain.web.cases import Viewer, cases, listed, person_party, who
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
    assert caseindex.desk_state("RECORDED", "粤(2026)广州市不动产证明第00000001号") == "RECORDED"
    assert caseindex.desk_state("RECORDED", "粤(2026)广州市不动产权第00000001号") == caseindex.COMPLETE  # a title
    assert caseindex.desk_state("RECORDED", None) == caseindex.COMPLETE  # a cancellation draws no number
    assert caseindex.desk_state("CERTIFIED", "粤(2026)广州市不动产证明第00000001号") == "CERTIFIED"
