"""The bank's view of a unit's consents finds, among every consent on the ledger, exactly the unit's own.

``consents_in_force`` reads the unit's consents to one bank through the node-local index by unit and
bank (``consentindex.py``) and checks each against the ledger; the result must equal a full scan's,
whatever the other consents on the ledger are, newest first, and stay so as consents are given and
revoked, after a rebuild, and when the first build runs in a worker thread over a snapshot.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from estatechain.contract.checks.unit import current_ownership
from estatechain.contract.civil_date import parse_iso_date
from estatechain.contract.records import Consent
from estatechain.storage.store import LEDGER_FILE, LedgerStore
from estatechain.web import consentindex
from estatechain.web.cases import consent_in_force, consents_in_force
from web.registerledger import PERSONS, Ledger, registry_ledger

TODAY = 20_000
"""A day number before every test consent's expiry (2099-12-31)."""


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[Ledger]:
    with registry_ledger(tmp_path, seed=20260107) as found:
        yield found


def by_full_scan(store: LedgerStore, unit: str, bank: str, purpose: str | None = None) -> list[str]:
    """The consent ids a scan of every consent row finds in force for ``unit`` and ``bank``, newest first."""
    found = []
    for _, row in store.scan("consent/"):
        given = Consent.from_json(row)
        if (given.unit_number == unit and given.bank_party == bank and given.revoked_ms is None
                and (purpose is None or given.purpose == purpose)
                and (parse_iso_date(given.expires_on) or -1) >= TODAY):
            found.append(given)
    return [c.consent_id for c in sorted(found, key=lambda c: (-c.given_ms, c.consent_id))]


def test_only_the_units_consents_in_force_to_that_bank_are_found(ledger: Ledger) -> None:
    first, second = (ledger.persons[handle] for handle in PERSONS)
    icbc, ccb = ledger.bank_parties["icbc-gz"], ledger.bank_parties["ccb-gz"]
    older = ledger.consent(PERSONS[0], "icbc-gz")
    ledger.clock.advance(1_000)
    kept = ledger.consent(PERSONS[0], "icbc-gz")
    revoked = ledger.consent(PERSONS[0], "icbc-gz")
    ledger.commit(PERSONS[0], "inquiry.consent_revoke", {"consent_id": revoked})
    other_bank = ledger.consent(PERSONS[0], "ccb-gz")
    other_unit = ledger.consent(PERSONS[1], "icbc-gz")
    store = ledger.store
    index = consentindex.ConsentIndex(ledger.directory / consentindex.FILE, store.connection)

    def ids(unit: str, bank: str, purpose: str | None = None) -> list[str]:
        return [c.consent_id for c in consents_in_force(store, index, unit, bank, today=TODAY, purpose=purpose)]

    try:
        assert ids(first.unit_number, icbc) == [kept, older] == by_full_scan(store, first.unit_number, icbc)
        assert ids(first.unit_number, ccb) == [other_bank] == by_full_scan(store, first.unit_number, ccb)
        assert ids(second.unit_number, icbc) == [other_unit] == by_full_scan(store, second.unit_number, icbc)
        assert ids(second.unit_number, ccb) == [] == by_full_scan(store, second.unit_number, ccb)
        assert ids(first.unit_number, icbc, purpose="PRE_LOAN") == [kept, older]
        assert ids(first.unit_number, icbc, purpose="POST_LOAN") == []
        # a unit number that is a prefix of another's, or absent from the register, matches nothing
        assert ids(first.unit_number[:-1], icbc) == []
        right = current_ownership(store, second.unit_number)
        assert right is not None
        assert right.holder_ids() == {second.party_id}  # the unit's only owner: its consent is all it takes
        assert consent_in_force(store, index, second.unit_number, icbc, TODAY)
        assert not consent_in_force(store, index, second.unit_number, ccb, TODAY)

        # later blocks: the newest is revoked, a new one is given; the catch-up takes the two rows only
        ledger.commit(PERSONS[0], "inquiry.consent_revoke", {"consent_id": kept})
        ledger.clock.advance(1_000)
        newest = ledger.consent(PERSONS[0], "icbc-gz")
        assert index.refresh() == 2
        assert ids(first.unit_number, icbc) == [newest, older] == by_full_scan(store, first.unit_number, icbc)
    finally:
        index.close()

    (ledger.directory / consentindex.FILE).unlink()
    rebuilt = consentindex.ConsentIndex(ledger.directory / consentindex.FILE, store.connection)
    try:
        assert not rebuilt.built()
        assert rebuilt.build(ledger.directory / LEDGER_FILE) == 6  # the desks' way: a snapshot, in a worker thread
        assert rebuilt.built()
        assert [c.consent_id for c in consents_in_force(store, rebuilt, first.unit_number, icbc, today=TODAY)] == (
            by_full_scan(store, first.unit_number, icbc))
    finally:
        rebuilt.close()


def test_the_catch_up_reads_through_the_ledgers_partial_index(ledger: Ledger) -> None:
    plan = " ".join(str(row[3]) for row in ledger.store.connection.execute(
        "EXPLAIN QUERY PLAN " + consentindex._CHANGED_ROWS, (0,)))
    assert "state_rows_parties" in plan
