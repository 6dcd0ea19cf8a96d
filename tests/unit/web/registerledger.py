"""A real registry ledger over a small imported register, for the tests of the desks' derived files.

The case, party and seizure indexes and the regulator's figures are each tested against a scan of
the same ledger; they all need one: a dev consortium, the registry node's SQLite ledger, 100
imported units, two demo persons bound to unmortgaged units, and a way to commit signed commands
through the real pipeline with a fixed clock.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from estatechain.canonical import JSONValue
from estatechain.clock import FixedClock, SystemClock
from estatechain.identity.devca import create_dev_consortium
from estatechain.storage.store import LedgerStore
from estatechain.testing.builders import TxFactory, mortgage_first_body
from estatechain.testing.register import (
    SEALED_DIR,
    OwnerCandidate,
    RegisterImporter,
    binding_envelopes,
    commit_all,
    create_register_keys,
)
from estatechain.testing.synthetic import generate

PERSONS = ("gz-identity/person1", "gz-identity/person2")


@dataclass
class Ledger:
    """The ledger, its signer and clock, and the units the tests may act on."""

    directory: Path
    store: LedgerStore
    factory: TxFactory
    clock: FixedClock
    owners: list[OwnerCandidate]
    """Current owners of units with no mortgage, in register order; the first two are ``persons``."""
    bank_parties: dict[str, str]
    persons: dict[str, OwnerCandidate]
    filed: list[str] = field(default_factory=list)
    """Application ids filed through ``file``, in order."""

    def commit_envelopes(self, envelopes: list[bytes]) -> list[str]:
        """Commit signed envelopes; every one must be valid."""
        receipts = commit_all(self.store, self.clock, envelopes)
        assert [(r.code, r.message) for r in receipts if not r.valid] == []
        return [r.tx_id for r in receipts]

    def commit(self, handle: str, command: str, body: dict[str, JSONValue]) -> str:
        """``handle`` signs ``command``; it must be valid."""
        (tx_id,) = self.commit_envelopes([self.factory.sign(self.factory.identity(handle), command, body)])
        return tx_id

    def file(self, bank: str, owner: OwnerCandidate, contract: str) -> str:
        """``bank``'s operator files a mortgage first registration on ``owner``'s unit."""
        today = dt.datetime.fromtimestamp(self.clock.now_ms() / 1000, tz=dt.UTC).date()
        body = mortgage_first_body(unit_number=owner.unit_number, party_id=owner.party_id,
                                   record_ref=owner.record_ref, bank_party=self.bank_parties[bank],
                                   title_number=owner.title_number, contract=contract, today=today)
        tx_id = self.commit(f"{bank}/operator1", "application.file", body)
        self.filed.append(tx_id)
        return tx_id

    def consent(self, handle: str, bank: str) -> str:
        """The person ``handle`` consents to ``bank``'s pre-loan inquiries on their unit."""
        return self.commit(handle, "inquiry.consent", {
            "unit_number": self.persons[handle].unit_number, "bank_party": self.bank_parties[bank],
            "purpose": "PRE_LOAN", "expires_on": "2099-12-31"})

    def inquire(self, unit: str, basis: str, purpose: str) -> str:
        """icbc-gz's operator inquires about ``unit`` as the bank's party (an own-right one is refused: no right)."""
        return self.commit("icbc-gz/operator1", "inquiry.request", {
            "unit_number": unit, "basis": basis, "purpose": purpose, "requester_party": self.bank_parties["icbc-gz"]})


@contextmanager
def registry_ledger(tmp_path: Path, *, seed: int = 20260104, units: int = 100) -> Iterator[Ledger]:
    """A fresh ledger in ``tmp_path/net`` (closed on exit)."""
    clock = FixedClock(SystemClock().now_ms())
    consortium = create_dev_consortium(tmp_path / "net", now_ms=clock.now_ms())
    factory = TxFactory(consortium, clock)
    directory = tmp_path / "net" / "nodes" / "gz-registry"
    store = LedgerStore.create(directory, consortium.genesis)
    try:
        keys = create_register_keys(tmp_path / "net", consortium.genesis)
        importer = RegisterImporter(factory, keys, directory / SEALED_DIR, keep_owners=10_000)
        receipts = commit_all(store, clock, [tx.envelope for tx in importer.transactions(
            generate(seed, units, batch_size=50))])
        assert all(r.valid for r in receipts)
        owners = [c for c in importer.owners if not c.mortgages]
        assert len(owners) >= 6
        found = Ledger(directory, store, factory, clock, owners, dict(importer.bank_parties),
                       dict(zip(PERSONS, owners, strict=False)))
        found.commit_envelopes(binding_envelopes(factory, found.persons, found.bank_parties))
        yield found
    finally:
        store.close()
