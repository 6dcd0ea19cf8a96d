"""The bank's view of a unit's consents finds, among every consent on the ledger, exactly the unit's own.

``consents_in_force`` lets SQLite pick the unit's ``consent/`` rows by their stored bytes before it
decodes them; the result must equal a full scan's, whatever the other consents on the ledger are.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from estatechain.contract.civil_date import parse_iso_date
from estatechain.contract.records import Consent
from estatechain.storage.store import LedgerStore
from estatechain.web.cases import consents_in_force
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
            found.append(given.consent_id)
    return found[::-1]


def test_only_the_units_consents_in_force_to_that_bank_are_found(ledger: Ledger) -> None:
    first, second = (ledger.persons[handle] for handle in PERSONS)
    icbc, ccb = ledger.bank_parties["icbc-gz"], ledger.bank_parties["ccb-gz"]
    kept = ledger.consent(PERSONS[0], "icbc-gz")
    revoked = ledger.consent(PERSONS[0], "icbc-gz")
    ledger.commit(PERSONS[0], "inquiry.consent_revoke", {"consent_id": revoked})
    other_bank = ledger.consent(PERSONS[0], "ccb-gz")
    other_unit = ledger.consent(PERSONS[1], "icbc-gz")
    store = ledger.store

    def ids(unit: str, bank: str, purpose: str | None = None) -> list[str]:
        return [c.consent_id for c in consents_in_force(store, unit, bank, TODAY, purpose=purpose)]

    assert ids(first.unit_number, icbc) == [kept] == by_full_scan(store, first.unit_number, icbc)
    assert ids(first.unit_number, ccb) == [other_bank] == by_full_scan(store, first.unit_number, ccb)
    assert ids(second.unit_number, icbc) == [other_unit] == by_full_scan(store, second.unit_number, icbc)
    assert ids(second.unit_number, ccb) == [] == by_full_scan(store, second.unit_number, ccb)
    assert ids(first.unit_number, icbc, purpose="PRE_LOAN") == [kept]
    assert ids(first.unit_number, icbc, purpose="POST_LOAN") == []
    # a unit number that is a prefix of another's, or absent from the register, matches nothing
    assert ids(first.unit_number[:-1], icbc) == []
