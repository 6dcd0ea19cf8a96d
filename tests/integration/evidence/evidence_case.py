"""A registration case on a small imported register, and helpers to export its evidence.

Imported by module name from this folder's tests (like ``register_case`` in tests/integration/register).
Every step is a signed transaction by the party that acts, committed in its own block by the harness;
the clock moves between steps so block times differ.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from estatechain import canonical
from estatechain.canonical import JSONValue
from estatechain.crypto.suites import get_suite
from estatechain.evidence.attestations import NodeKey
from estatechain.evidence.export import Exported, export_package
from estatechain.evidence.openings import Opener
from estatechain.node.pipeline import Receipt
from estatechain.testing.builders import material_ref as material
from estatechain.testing.harness import LedgerHarness
from estatechain.testing.register import (
    SEALED_DIR,
    OwnerCandidate,
    RegisterImporter,
    binding_envelopes,
    create_register_keys,
)
from estatechain.testing.synthetic import generate

SEED = 20260104
UNITS = 20
MINUTE_MS = 60_000
DAY_MS = 86_400_000
NODE_ORG = "gz-registry"


@dataclass
class Case:
    """The harness after the import, the bound owner and the application filed for them."""

    harness: LedgerHarness
    owner: OwnerCandidate
    bank_party: str
    application: str = ""

    @property
    def ledger_dir(self) -> Path:
        return self.harness.ledger_dir

    @property
    def consortium_dir(self) -> Path:
        return self.harness.consortium.directory

    def step(self, handle: str, command: str, body: Mapping[str, JSONValue], *, minutes: int = 7) -> Receipt:
        """Move the clock, then commit one transaction by ``handle`` in its own block."""
        self.harness.clock.advance(minutes * MINUTE_MS)
        factory = self.harness.factory
        (receipt,) = self.harness.commit([factory.sign(factory.identity(handle), command, body)])
        return receipt

    def ok(self, handle: str, command: str, body: Mapping[str, JSONValue]) -> Receipt:
        receipt = self.step(handle, command, body)
        assert receipt.valid, (command, receipt.code, receipt.message)
        return receipt

    def export(self, subject: dict[str, JSONValue], *, court: bool = True) -> Exported:
        opener = Opener.from_dev_layout(self.consortium_dir, NODE_ORG, self.ledger_dir) if court else None
        key = NodeKey.from_dev_layout(self.consortium_dir, NODE_ORG)
        return export_package(self.ledger_dir, subject, node_key=key, opener=opener)

    def resigned(self, package: bytes, change: Callable[[dict[str, Any]], None]) -> bytes:
        """``package`` with its export statement changed by ``change`` and signed again by the same node key.

        What a dishonest or buggy exporter could produce: every such package is validly signed, so only
        the verifier's own checks of the statement against the package can refuse it.
        """
        doc = orjson.loads(package)
        payload = doc["export"]["payload"]
        change(payload)
        key = NodeKey.from_dev_layout(self.consortium_dir, NODE_ORG)
        doc["export"]["signature"] = base64.b64encode(
            get_suite("ed25519-sha256").sign(key.private_key, canonical.encode(payload))).decode()
        return canonical.encode(doc)


def imported_case(tmp_path: Path, choose: Callable[[OwnerCandidate], bool] = lambda c: not c.mortgages) -> Case:
    """A ledger with the synthetic register of ``SEED`` and gz-identity/person1 bound to an owner.

    The owner is the first sole owner ``choose`` accepts: by default one whose unit has no mortgage.
    """
    harness = LedgerHarness(tmp_path)
    keys = create_register_keys(harness.consortium.directory, harness.consortium.genesis)
    importer = RegisterImporter(harness.factory, keys, harness.ledger_dir / SEALED_DIR, keep_owners=1000)
    receipts = harness.commit([tx.envelope for tx in importer.transactions(generate(SEED, UNITS, batch_size=50))])
    assert all(r.valid for r in receipts)
    owner = next(c for c in importer.owners if choose(c))
    harness.clock.advance(MINUTE_MS)
    assert all(r.valid for r in harness.commit(
        binding_envelopes(harness.factory, {"gz-identity/person1": owner}, importer.bank_parties)))
    return Case(harness=harness, owner=owner, bank_party=importer.bank_parties["icbc-gz"])


def file_application(case: Case, contract: str = "LOAN-2026-0001") -> str:
    """``mortgage.first`` filed by ICBC's operator1 for the case's owner; returns the application id."""
    owner = case.owner
    receipt = case.ok("icbc-gz/operator1", "application.file", {
        "business_type": "mortgage.first", "unit_number": owner.unit_number,
        "applicants": [{"party_id": owner.party_id, "record_ref": owner.record_ref, "capacity": "mortgagor"},
                       {"party_id": case.bank_party, "capacity": "mortgagee"}],
        "materials": [material("APPLICATION_FORM"), material("POWER_OF_ATTORNEY"), material("LOAN_CONTRACT")],
        "details": {"method": 1, "secured_principal_fen": 120_000_000, "currency": "CNY",
                    "debt_term": {"start": "2026-01-04", "end": "2046-01-03"}, "scope": "主债权及利息",
                    "contract_numbers": [contract], "transfer_restricted": False,
                    "title_number": owner.title_number},
    })
    case.application = receipt.tx_id
    return receipt.tx_id


def registration_case(tmp_path: Path) -> Case:
    """A first mortgage registered end to end, with one invalid attempt (recording before review)."""
    case = imported_case(tmp_path)
    app = file_application(case)
    case.ok("gz-identity/person1", "application.confirm",
            {"application_id": app, "application_hash": app, "party_id": case.owner.party_id})
    case.ok("icbc-gz/approver1", "application.confirm",
            {"application_id": app, "application_hash": app, "party_id": case.bank_party})
    case.ok("gz-registry/intake1", "application.accept", {"application_id": app})
    early = case.step("gz-registry/recorder2", "application.record", {"application_id": app})
    assert not early.valid
    case.ok("gz-registry/reviewer1", "application.review", {"application_id": app})
    case.ok("gz-registry/recorder2", "application.record", {"application_id": app})
    return case


def revoke(case: Case, handle: str, admin: str) -> Receipt:
    """``identity.revoke`` of ``handle``'s certificate by its org's admin."""
    der = case.harness.factory.identity(handle).cert_der
    return case.ok(admin, "identity.revoke",
                   {"certificate": base64.b64encode(der).decode("ascii"), "reason": "key replaced"})
