"""No name, ID number or phone number of the synthetic register appears in clear in any byte a node writes.

The clear values are read from the generator's own output. The node folder is scanned file by file —
the SQLite file, its -wal and -shm, the lock file, and the sealed store, which must hold ciphertext
only — after an import and a full registration case, while the ledger is still open (so the WAL holds
the latest blocks). The sealed records stay usable: an entitled org opens one and it matches the
commitment on the ledger; an org it was not sealed to cannot.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from register_case import Register, import_register

from estatechain.crypto.sealing import NotARecipient, open_sealed
from estatechain.identity.parties import party_id
from estatechain.storage.audit import audit_ledger
from estatechain.testing.builders import label_digest as h
from estatechain.testing.register import SEALED_DIR, read_sealed


def clear_values(reg: Register) -> set[str]:
    values: set[str] = set()
    for batch in reg.batches:
        for person in batch.persons:
            values.update((person.name, person.id_number, person.phone))
    return values


def forms(value: str) -> list[bytes]:
    """The byte spellings a store could use: UTF-8, JSON \\u escapes, UTF-16."""
    escaped = json.dumps(value)[1:-1].encode("ascii")
    return list(dict.fromkeys([value.encode(), escaped, value.encode("utf-16-le")]))


def node_files(node: Path) -> list[Path]:
    return sorted(p for p in node.rglob("*") if p.is_file())


@pytest.fixture
def reg(tmp_path: Path) -> Register:
    reg = import_register(tmp_path)
    owner = reg.owner(legacy_mortgages=0)
    reg.bind({"gz-identity/person1": owner})
    app = reg.file_first_mortgage(owner, "ccb-gz", "LOAN-2026-0003")
    reg.confirm(app, "gz-identity/person1", owner.party_id)
    reg.confirm(app, "ccb-gz/approver1", reg.importer.bank_parties["ccb-gz"])
    for handle, command in (("gz-registry/intake1", "application.accept"),
                            ("gz-registry/reviewer1", "application.review"),
                            ("gz-registry/recorder1", "application.record")):
        reg.ok(handle, command, {"application_id": app})
    reg.ok("gz-registry/issuer1", "application.issue", {"application_id": app, "document_sha256": h("pdf")})
    return reg


def test_no_personal_value_of_the_register_is_in_clear_in_any_file_of_the_node(reg: Register) -> None:
    values = clear_values(reg)
    assert len(values) > 3 * reg.importer.counts.persons * 0.9  # names, ID numbers and phones, a few shared names
    files = node_files(reg.node)
    names = {p.relative_to(reg.node).as_posix() for p in files}
    assert {"ledger.sqlite", "ledger.sqlite-wal"} <= names
    assert (reg.node / "ledger.sqlite-wal").stat().st_size > 0 or (reg.node / "ledger.sqlite").stat().st_size > 0
    assert any(name.startswith(f"{SEALED_DIR}/") for name in names)
    found: list[tuple[str, str]] = []
    for path in files:
        data = path.read_bytes()
        found.extend((path.name, value) for value in sorted(values) if any(form in data for form in forms(value)))
    assert found == []


def test_the_sealed_store_holds_only_ciphertext_that_entitled_orgs_open_against_the_ledger(reg: Register) -> None:
    sealed = {record.record_id: record for record in read_sealed(reg.node / SEALED_DIR)}
    assert len(sealed) == reg.importer.counts.persons + reg.importer.counts.companies
    owner = reg.importer.owners[0]
    record = sealed[owner.party_id]
    on_ledger = reg.row(f"ownership/OWN-{owner.unit_number}")["holders"]
    assert isinstance(on_ledger, list)
    assert on_ledger[0]["record_ref"] == record.commitment.hex()  # type: ignore[index,call-overload]
    person = next(p for b in reg.batches for p in b.persons
                  if party_id(reg.keys.party_key, p.id_type.value, p.id_number) == owner.party_id)
    for org in ("gz-registry", "gz-identity"):
        opened = open_sealed(record, org_id=org, private_key=reg.keys.sealing[org],
                             ledger_commitment=bytes.fromhex(owner.record_ref))
        assert opened.record["name"] == person.name
        assert opened.record["id_number"] == person.id_number
        assert opened.record["phone"] == person.phone
    with pytest.raises(NotARecipient):
        open_sealed(record, org_id="gz-court", private_key=reg.keys.sealing["gz-court"])


def test_the_ledger_with_the_imported_register_and_the_case_passes_the_audit(reg: Register) -> None:
    report = audit_ledger(reg.node)
    assert report.invalid_txs == 0
    assert report.valid_txs == len(reg.import_receipts) + 3 + 7

