"""A small synthetic register imported through the real pipeline, and the steps of a registration case.

Shared by the scenario tests of this folder (imported by module name, not a conftest, so it cannot
shadow the contract tests' conftest). Every step is a signed transaction by the party that acts,
committed in its own block by ``LedgerHarness``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from estatechain.canonical import JSONValue
from estatechain.contract.effects import Record
from estatechain.node.pipeline import Receipt
from estatechain.testing.builders import material_ref as material
from estatechain.testing.harness import LedgerHarness
from estatechain.testing.register import (
    SEALED_DIR,
    ImportTx,
    OwnerCandidate,
    RegisterImporter,
    RegisterKeys,
    binding_envelopes,
    create_register_keys,
)
from estatechain.testing.synthetic import Batch, generate

SEED = 20260104
UNITS = 150


@dataclass
class Register:
    """The harness with the imported register and the importer that built it."""

    harness: LedgerHarness
    keys: RegisterKeys
    importer: RegisterImporter
    batches: list[Batch]
    import_txs: list[ImportTx]
    import_receipts: list[Receipt]

    @property
    def node(self) -> Path:
        return self.harness.ledger_dir

    def row(self, key: str) -> Record:
        value = self.harness.store.get(key)
        assert value is not None, key
        return value

    def step(self, handle: str, command: str, body: Mapping[str, JSONValue]) -> Receipt:
        factory = self.harness.factory
        (receipt,) = self.harness.commit([factory.sign(factory.identity(handle), command, body)])
        return receipt

    def ok(self, handle: str, command: str, body: Mapping[str, JSONValue]) -> Receipt:
        receipt = self.step(handle, command, body)
        assert receipt.valid, (command, receipt.code, receipt.message)
        return receipt

    def bind(self, persons: Mapping[str, OwnerCandidate]) -> None:
        envelopes = binding_envelopes(self.harness.factory, persons, self.importer.bank_parties)
        assert all(r.valid for r in self.harness.commit(envelopes))

    def owner(self, *, legacy_mortgages: int, held_by_member_bank: bool = False, skip: int = 0) -> OwnerCandidate:
        """A sole natural-person owner of an unseized unit with that many imported mortgages."""
        found = [c for c in self.importer.owners if len(c.mortgages) == legacy_mortgages
                 and (not held_by_member_bank or all(m.mortgagee_org is not None for m in c.mortgages))]
        assert len(found) > skip, "the synthetic register of this seed has no such owner; change SEED or UNITS"
        return found[skip]

    def file_first_mortgage(self, owner: OwnerCandidate, bank: str, contract: str) -> str:
        """``mortgage.first`` filed by ``bank``'s operator for ``owner``; returns the application id."""
        receipt = self.ok(f"{bank}/operator1", "application.file", {
            "business_type": "mortgage.first", "unit_number": owner.unit_number,
            "applicants": [{"party_id": owner.party_id, "record_ref": owner.record_ref, "capacity": "mortgagor"},
                           {"party_id": self.importer.bank_parties[bank], "capacity": "mortgagee"}],
            "materials": [material("APPLICATION_FORM"), material("POWER_OF_ATTORNEY"), material("LOAN_CONTRACT")],
            "details": {"method": 1, "secured_principal_fen": 120_000_000, "currency": "CNY",
                        "debt_term": {"start": "2026-01-04", "end": "2046-01-03"}, "scope": "主债权及利息",
                        "contract_numbers": [contract], "transfer_restricted": False,
                        "title_number": owner.title_number},
        })
        return receipt.tx_id

    def confirm(self, application_id: str, handle: str, party_id: str) -> None:
        self.ok(handle, "application.confirm",
                {"application_id": application_id, "application_hash": application_id, "party_id": party_id})


def import_register(tmp_path: Path, units: int = UNITS) -> Register:
    """A fresh ledger holding the synthetic register of ``SEED``: every import tx committed valid."""
    harness = LedgerHarness(tmp_path)
    keys = create_register_keys(harness.consortium.directory, harness.consortium.genesis)
    importer = RegisterImporter(harness.factory, keys, harness.ledger_dir / SEALED_DIR, keep_owners=10_000)
    batches = list(generate(SEED, units, batch_size=50))
    txs = list(importer.transactions(batches))
    receipts = harness.commit([tx.envelope for tx in txs])
    assert [(r.code, r.message) for r in receipts if not r.valid] == []
    return Register(harness=harness, keys=keys, importer=importer, batches=batches, import_txs=txs,
                    import_receipts=receipts)
