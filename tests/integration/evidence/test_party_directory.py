"""The registry's desks name applicants from the sealed store, read once and kept: a shredded record stays closed.

The case page keeps one ``PartyDirectory`` for the node's life (reading the store costs about a
second per million records). Crypto-shredding (``record.shred``) destroys the record's wrapped keys on
disk, but a directory that read them before would still hold them: it must refuse a shredded party.
"""

from __future__ import annotations

from pathlib import Path

from evidence_case import imported_case

from estatechain.certificates.parties import PartyDirectory
from estatechain.contract.records import PartyRef
from estatechain.testing.register import OFFICER


def test_a_kept_directory_names_a_person_until_the_record_is_shredded(tmp_path: Path) -> None:
    case = imported_case(tmp_path)
    owner = PartyRef(party_id=case.owner.party_id, record_ref=case.owner.record_ref)
    directory = PartyDirectory.from_dev(view=case.harness.store, genesis=case.harness.store.genesis,
                                        consortium_dir=case.consortium_dir, ledger_dir=case.ledger_dir,
                                        org_id="gz-registry")
    named = directory.identity(owner)
    assert named != directory(owner)["name"]  # name and ID document, not the name alone
    assert str(directory(owner)["name"]) in named
    assert named.endswith(")")
    case.ok(OFFICER, "record.shred", {"party_id": owner.party_id, "reason": "erasure request (PIPL 47)"})
    assert directory.identity(owner) == f"当事人 {owner.party_id[:16]}"  # the kept copy does not open it
