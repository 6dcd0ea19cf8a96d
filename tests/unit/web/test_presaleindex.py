"""The pre-sale index lists a developer's and a buyer's contracts as a scan of every ``presale/`` row finds them.

A real ledger (SQLite file, the real pipeline) over a small imported register: the registry enters two
predicted flats of the dev developer, whose company the identity authority binds to its org; the developer
files a contract on each (one with two buyers), one buyer signs. The index must list each party's contracts,
newest first, after the first build, after later blocks (taking only the rows written since) and after the
file is deleted; signatures change a contract's state, never who it names.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from estatechain.cli.demo_world import new_flat
from estatechain.contract.records.presale import PresaleContract
from estatechain.storage.store import LEDGER_FILE, LedgerStore
from estatechain.testing.register import IDENTITY_ORG, PARTY_ID_KEY
from estatechain.web import presaleindex
from estatechain.web.presale import named
from estatechain.web.presaleindex import BUYER, DEVELOPER, PresaleIndex
from web.registerledger import PERSONS, Ledger, registry_ledger

DEVELOPER_HANDLE = "poly-developer/developer1"


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[Ledger]:
    with registry_ledger(tmp_path) as found:
        yield found


def by_scan(store: LedgerStore, party: str, side: str) -> list[str]:
    found = [PresaleContract.from_json(row) for _, row in store.scan("presale/")]
    mine = [c for c in found if (c.developer.party_id == party if side == DEVELOPER else party in c.buyer_ids())]
    mine.sort(key=lambda c: (-c.filed_ms, c.contract_id))
    return [c.contract_id for c in mine]


def test_the_index_lists_each_party_s_contracts_as_a_scan_does(ledger: Ledger) -> None:
    key = (ledger.directory.parents[1] / "orgs" / IDENTITY_ORG / PARTY_ID_KEY).read_bytes()
    first, second = new_flat(key, 1_700_000_000), new_flat(key, 1_700_000_001)
    developer = first.developer
    ledger.commit("gz-identity/officer1", "identity.bind_party", {"org": "poly-developer", "party_id": developer})
    for flat in (first, second):
        ledger.commit("gz-registry/admin1", "register.import", flat.import_body())
    one, two = (ledger.persons[handle].party_id for handle in PERSONS[:2])

    def file(unit: str, buyers: list[str]) -> str:
        ledger.clock.advance(1_000)
        return ledger.commit(DEVELOPER_HANDLE, "presale.contract", {
            "unit_number": unit, "developer": developer, "buyers": list(buyers), "price_fen": 250_000_000,
            "contract_no": f"HC-{unit[-6:]}", "filing_no": f"GZYS-{unit[-6:]}", "document_sha256": "a" * 64})

    index = PresaleIndex(ledger.directory / presaleindex.FILE, ledger.store.connection)
    try:
        assert index.ids(developer, DEVELOPER, limit=10) == []
        older = file(first.predicted, [one])
        newer = file(second.predicted, [one, two])
        assert index.ids(developer, DEVELOPER, limit=10) == [newer, older] == by_scan(ledger.store, developer,
                                                                                      DEVELOPER)
        assert index.ids(one, BUYER, limit=10) == [newer, older]
        assert index.ids(two, BUYER, limit=10) == [newer] == by_scan(ledger.store, two, BUYER)
        assert index.ids(one, DEVELOPER, limit=10) == []  # a buyer is not listed as developer
        assert index.count(developer, DEVELOPER) == 2
        ledger.commit(PERSONS[1], "presale.sign", {"contract_id": newer, "document_sha256": "a" * 64})
        assert index.refresh() == 1  # the signed contract's row, not every contract again
        assert index.ids(two, BUYER, limit=10) == [newer]
        lines = {line.contract.contract_id: line for line in named(ledger.store, index, one, BUYER)}
        assert lines[newer].awaiting == (one,)  # two signed; one has not
        assert lines[older].awaiting == (one,)
    finally:
        index.close()

    (ledger.directory / presaleindex.FILE).unlink()
    rebuilt = PresaleIndex(ledger.directory / presaleindex.FILE, ledger.store.connection)
    try:
        assert rebuilt.build(ledger.directory / LEDGER_FILE) == 2  # the current rows: one per contract
        assert rebuilt.ids(developer, DEVELOPER, limit=1) == [newer]
        assert rebuilt.ids(one, BUYER, limit=10) == by_scan(ledger.store, one, BUYER)
    finally:
        rebuilt.close()
