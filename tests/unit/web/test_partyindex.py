"""The owner pages' index by party finds exactly what a scan of every ownership, notice and consent row would.

A real ledger (SQLite file, the real pipeline) over a small imported register with two bound persons.
For every party the register names, the index's entries must equal a full scan's (current ownership
holders, current notice holders, consent owners), and the owner pages' own queries (``holdings``,
``consents``) must equal the scanning versions they replaced — after the first build, after later
blocks (consents given and revoked: the incremental catch-up through ``state_rows_parties``), after
the index file is deleted (built again from a snapshot, as the portal does it in a worker thread),
and after the ledger is replaced by an older copy (a restore).
"""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from estatechain.contract import keys
from estatechain.contract.civil_date import parse_iso_date
from estatechain.contract.records import Consent
from estatechain.contract.records.notice import Notice
from estatechain.contract.records.ownership import OwnershipRight
from estatechain.contract.records.party import Status
from estatechain.storage.store import LEDGER_FILE, LedgerStore
from estatechain.web import partyindex
from estatechain.web.routes_owner import ConsentLine, Holding, consents, holdings
from web.registerledger import PERSONS, Ledger, registry_ledger

TODAY = 20_000
"""A day number for the consents' state (the same for both sides of every comparison)."""


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[Ledger]:
    with registry_ledger(tmp_path, seed=20260105) as found:
        yield found


def scanned(store: LedgerStore) -> set[tuple[str, str, str]]:
    """(party, kind, key) for every row naming a party, by scanning every row of the three namespaces."""
    found = set()
    for key, row in store.scan("ownership/"):
        right = OwnershipRight.from_json(row)
        if right.status is Status.CURRENT:
            found |= {(party, "ownership", key) for party in right.holder_ids()}
    for key, row in store.scan("notice/"):
        notice = Notice.from_json(row)
        if notice.status is Status.CURRENT:
            found |= {(party, "notice", key) for party in notice.holder_ids()}
    for key, row in store.scan("consent/"):
        found.add((Consent.from_json(row).owner, "consent", key))
    return found


def indexed(directory: Path) -> set[tuple[str, str, str]]:
    conn = sqlite3.connect(directory / partyindex.FILE)
    try:
        return {(str(p), str(k), str(key)) for p, k, key in conn.execute("SELECT party_id, kind, key FROM named")}
    finally:
        conn.close()


def pages_by_scan(store: LedgerStore, party: str) -> tuple[list[Holding], list[ConsentLine]]:
    """What the owner pages showed before the index: the scanning ``holdings`` and ``consents``."""
    found: dict[str, Holding] = {}
    for _, row in store.scan("ownership/"):
        right = OwnershipRight.from_json(row)
        if right.status is Status.CURRENT and party in right.holder_ids():
            found[right.unit_number] = Holding(unit_number=right.unit_number, title_number=right.title_number,
                                               form=right.form.value, owners=len(right.holders))
    for _, row in store.scan("notice/"):
        notice = Notice.from_json(row)
        if notice.status is Status.CURRENT and party in notice.holder_ids() and notice.unit_number not in found:
            found[notice.unit_number] = Holding(unit_number=notice.unit_number, title_number=None, form="notice",
                                                owners=0)
    lines = []
    for _, row in store.scan("consent/"):
        given = Consent.from_json(row)
        if given.owner == party:
            expiry = parse_iso_date(given.expires_on)
            state = ("revoked" if given.revoked_ms is not None
                     else "expired" if expiry is None or expiry < TODAY else "active")
            bank = store.get(keys.org_of_party(given.bank_party))
            lines.append(ConsentLine(consent=given, bank_org=None if bank is None else str(bank["org"]), state=state))
    lines.sort(key=lambda line: (line.consent.given_ms, line.consent.consent_id), reverse=True)
    return [found[unit] for unit in sorted(found)], lines


def assert_index_matches_the_scan(ledger: Ledger, index: partyindex.PartyIndex) -> None:
    index.refresh()
    expected = scanned(ledger.store)
    assert indexed(ledger.directory) == expected
    for owner in ledger.persons.values():
        by_scan = pages_by_scan(ledger.store, owner.party_id)
        assert (holdings(ledger.store, index, owner.party_id), consents(ledger.store, index, owner.party_id,
                                                                        TODAY)) == by_scan


def test_the_owner_pages_find_through_the_index_what_the_full_scan_finds(ledger: Ledger) -> None:
    index = partyindex.PartyIndex(ledger.directory / partyindex.FILE, ledger.store.connection)
    try:
        assert_index_matches_the_scan(ledger, index)
        person1 = ledger.persons[PERSONS[0]].party_id
        assert [h.unit_number for h in holdings(ledger.store, index, person1)] == [
            ledger.persons[PERSONS[0]].unit_number]

        # later blocks: person1 consents to two banks, person2 to one, person1 revokes one
        first = ledger.consent(PERSONS[0], "icbc-gz")
        ledger.consent(PERSONS[0], "ccb-gz")
        ledger.consent(PERSONS[1], "icbc-gz")
        ledger.commit(PERSONS[0], "inquiry.consent_revoke", {"consent_id": first})
        assert index.refresh() == 4  # the catch-up takes the four consent row versions, not the whole register
        assert index.refresh() == 0
        assert_index_matches_the_scan(ledger, index)
        lines = consents(ledger.store, index, person1, TODAY)
        assert sorted(line.state for line in lines) == ["active", "revoked"]
    finally:
        index.close()

    (ledger.directory / partyindex.FILE).unlink()
    rebuilt = partyindex.PartyIndex(ledger.directory / partyindex.FILE, ledger.store.connection)
    try:
        assert not rebuilt.built()
        rebuilt.build(ledger.directory / LEDGER_FILE)  # the portal's way: a snapshot on its own connection
        assert rebuilt.built()
        assert rebuilt.refresh() == 0  # the snapshot was the head: nothing to catch up
        assert_index_matches_the_scan(ledger, rebuilt)
        ledger.consent(PERSONS[1], "ccb-gz")
        assert_index_matches_the_scan(ledger, rebuilt)
    finally:
        rebuilt.close()


def test_an_index_ahead_of_a_restored_ledger_is_rebuilt(ledger: Ledger, tmp_path: Path) -> None:
    ledger.consent(PERSONS[0], "icbc-gz")
    ledger.store.close()
    backup = tmp_path / "backup"
    shutil.copytree(ledger.directory, backup)
    ledger.store = LedgerStore.open(ledger.directory)
    ledger.consent(PERSONS[1], "ccb-gz")
    index = partyindex.PartyIndex(ledger.directory / partyindex.FILE, ledger.store.connection)
    assert_index_matches_the_scan(ledger, index)  # knows both consents
    index.close()
    ledger.store.close()

    for name in ("ledger.sqlite", "ledger.sqlite-wal", "ledger.sqlite-shm"):
        if (backup / name).exists():
            shutil.copy2(backup / name, ledger.directory / name)
        else:
            (ledger.directory / name).unlink(missing_ok=True)
    ledger.store = LedgerStore.open(ledger.directory)
    index = partyindex.PartyIndex(ledger.directory / partyindex.FILE, ledger.store.connection)  # the newer file
    try:
        assert_index_matches_the_scan(ledger, index)
        person2 = ledger.persons[PERSONS[1]].party_id
        assert consents(ledger.store, index, person2, TODAY) == []  # the restored ledger has no such consent
    finally:
        index.close()


def test_the_catch_up_reads_through_the_ledgers_partial_index(ledger: Ledger) -> None:
    plan = " ".join(str(row[3]) for row in ledger.store.connection.execute(
        "EXPLAIN QUERY PLAN " + partyindex._CHANGED_ROWS, (0,)))
    assert "state_rows_parties" in plan
