"""A small ledger with a mortgage filed on an imported register, exported by the product's exporter.

Imported by module name from this folder's tests. The packages these build are what a court would be
handed; the independent verifier then sees only their bytes. ``resigned`` makes what a dishonest or
faulty exporter could: a statement changed and validly signed again by the same node key.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from estatechain import canonical
from estatechain.canonical import JSONValue
from estatechain.crypto.suites import get_suite
from estatechain.evidence.attestations import NodeKey
from estatechain.evidence.export import export_package
from estatechain.evidence.openings import Opener
from estatechain.node.pipeline import Receipt
from estatechain.testing.builders import material_ref
from estatechain.testing.harness import LedgerHarness
from estatechain.testing.register import (
    SEALED_DIR,
    OwnerCandidate,
    RegisterImporter,
    binding_envelopes,
    create_register_keys,
    dev_auth_ref,
)
from estatechain.testing.synthetic import generate

NODE_ORG = "gz-registry"
PERSON2 = "gz-identity/person2"
MINUTE_MS = 60_000


@dataclass
class Case:
    """A ledger with a small imported register, gz-identity/person1 bound to an owner, the banks bound."""

    harness: LedgerHarness
    owner: OwnerCandidate
    bank_party: str
    application: str = ""

    def step(self, handle: str, command: str, body: Mapping[str, JSONValue]) -> Receipt:
        """One transaction by ``handle`` in its own block, a few minutes after the last."""
        self.harness.clock.advance(7 * MINUTE_MS)
        factory = self.harness.factory
        (receipt,) = self.harness.commit([factory.sign(factory.identity(handle), command, body)])
        return receipt

    def export(self, subject: dict[str, JSONValue]) -> bytes:
        """A court export (records opened) from gz-registry's node."""
        directory = self.harness.consortium.directory
        opener = Opener.from_dev_layout(directory, NODE_ORG, self.harness.ledger_dir)
        key = NodeKey.from_dev_layout(directory, NODE_ORG)
        return export_package(self.harness.ledger_dir, subject, node_key=key, opener=opener).data

    def resigned(self, package: bytes, change: Callable[[dict[str, Any]], None]) -> bytes:
        """``package`` with its export statement changed by ``change`` and signed again by the same node key."""
        doc = json.loads(package)
        change(doc["export"]["payload"])
        key = NodeKey.from_dev_layout(self.harness.consortium.directory, NODE_ORG)
        doc["export"]["signature"] = base64.b64encode(get_suite("ed25519-sha256").sign(
            key.private_key, canonical.encode(doc["export"]["payload"]))).decode()
        return canonical.encode(doc)

    def bind_person2(self, binder: str) -> Receipt:
        """``identity.bind_party`` of person2's certificate to the owner, signed by ``binder``."""
        fingerprint, party = self.harness.factory.identity(PERSON2).fingerprint, self.owner.party_id
        return self.step(binder, "identity.bind_party",
                         {"fingerprint": fingerprint, "party_id": party, "auth_ref": dev_auth_ref(party, fingerprint)})

    def confirm(self, handle: str) -> Receipt:
        """The owner's confirmation of the application, signed by ``handle``."""
        app = self.application
        return self.step(handle, "application.confirm",
                         {"application_id": app, "application_hash": app, "party_id": self.owner.party_id})


def filed_case(tmp_path: Path) -> Case:
    """The case with ``mortgage.first`` filed by ICBC's operator, naming the bank only inside ``applicants``."""
    harness = LedgerHarness(tmp_path)
    keys = create_register_keys(harness.consortium.directory, harness.consortium.genesis)
    importer = RegisterImporter(harness.factory, keys, harness.ledger_dir / SEALED_DIR, keep_owners=1000)
    assert all(r.valid for r in harness.commit(
        [tx.envelope for tx in importer.transactions(generate(20260104, 20, batch_size=50))]))
    owner = next(c for c in importer.owners if not c.mortgages)
    harness.clock.advance(MINUTE_MS)
    assert all(r.valid for r in harness.commit(
        binding_envelopes(harness.factory, {"gz-identity/person1": owner}, importer.bank_parties)))
    case = Case(harness=harness, owner=owner, bank_party=importer.bank_parties["icbc-gz"])
    filing = case.step("icbc-gz/operator1", "application.file", {
        "business_type": "mortgage.first", "unit_number": owner.unit_number,
        "applicants": [{"party_id": owner.party_id, "record_ref": owner.record_ref, "capacity": "mortgagor"},
                       {"party_id": case.bank_party, "capacity": "mortgagee"}],
        "materials": [material_ref("APPLICATION_FORM"), material_ref("POWER_OF_ATTORNEY"),
                      material_ref("LOAN_CONTRACT")],
        "details": {"method": 1, "secured_principal_fen": 120_000_000, "currency": "CNY",
                    "debt_term": {"start": "2026-01-04", "end": "2046-01-03"}, "scope": "主债权及利息",
                    "contract_numbers": ["LOAN-2026-0001"], "transfer_restricted": False,
                    "title_number": owner.title_number},
    })
    assert filing.valid, filing.code
    case.application = filing.tx_id
    return case


