"""The verifier written from docs/evidence.md reads the identity authority's bindings as the product does.

Three packages a court may be handed: a filing that names the bank only inside ``applicants`` (the bank
must be named, through its binding); a package in which another org made a binding that nodes not
applying the consortium's rules recorded as valid (it must fail, at the same place as for the product);
and a key whose only binding comes after the transaction (nobody may be named as having acted at signing
time). The packages are produced by the product's exporter; the independent verifier sees only bytes.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

import pytest
from evidence_verifier import Invalid, verify
from filed_case import MINUTE_MS, PERSON2, filed_case

from estatechain.canonical import JSONValue
from estatechain.contract import execute
from estatechain.contract.rule import Rule
from estatechain.contract.versions import rules_at
from estatechain.evidence.package import EvidenceInvalid
from estatechain.evidence.report import acting_for
from estatechain.evidence.verify import verify_package
from estatechain.testing.register import OFFICER


def independent_acting_for(package: bytes) -> list[str]:
    """The independent verifier's "acting for" column, one entry per transaction in package order."""
    return [line.split("  acting for: ", 1)[1] for line in verify(package) if "  acting for: " in line]


def product_acting_for(package: bytes) -> list[str]:
    """The product report's "acting for" column, one entry per transaction in package order."""
    verified = verify_package(package)
    return [acting_for(verified, tx) for tx in verified.txs]


def named(column: str, names: list[str]) -> tuple[bool, list[str], list[str], list[str], list[str]]:
    """What a column asserts, whatever its wording: proven at signing?, party ids, orgs, heights, people.

    The two verifiers word the column differently; they must agree on these facts.
    """
    return ("not proven at signing" not in column, re.findall(r"party ([0-9a-f]{12})…", column),
            re.findall(r"org ([a-z0-9-]+)", column), re.findall(r"height (\d+)", column),
            [name for name in names if name in column])


def test_a_filing_names_the_bank_nested_in_its_applicants_as_the_product_does(tmp_path: Path) -> None:
    case = filed_case(tmp_path)
    package = case.export({"kind": "tx", "tx_id": case.application})
    binding, filing = independent_acting_for(package)
    assert binding == "—"
    assert filing == f"party {case.bank_party[:12]}… = org icbc-gz (mortgagee)"
    assert [named(c, []) for c in independent_acting_for(package)] == \
        [named(c, []) for c in product_acting_for(package)]


def test_a_banks_inquiry_names_the_bank_it_asked_for_as_the_product_does(tmp_path: Path) -> None:
    case = filed_case(tmp_path)
    looked = case.step("icbc-gz/operator1", "inquiry.request", {
        "unit_number": case.owner.unit_number, "basis": "intent", "purpose": "PRE_LOAN",
        "requester_party": case.bank_party})
    assert looked.valid, looked.code
    package = case.export({"kind": "tx", "tx_id": looked.tx_id})
    assert independent_acting_for(package) == ["—", f"party {case.bank_party[:12]}… = org icbc-gz (requester_party)"]
    assert [named(c, []) for c in independent_acting_for(package)] == \
        [named(c, []) for c in product_acting_for(package)]


def test_a_refused_binding_by_a_bank_names_nobody_and_the_package_verifies(tmp_path: Path) -> None:
    case = filed_case(tmp_path)
    refused = case.step("icbc-gz/operator1", "identity.bind_party", {"org": "icbc-gz", "party_id": "ab" * 32})
    assert refused.code == "ROLE_NOT_PERMITTED"
    package = case.export({"kind": "tx", "tx_id": refused.tx_id})
    assert independent_acting_for(package) == ["—"]
    assert verify_package(package).org_parties == {}


def test_a_valid_binding_not_made_by_the_identity_authority_fails_as_in_the_product(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    case = filed_case(tmp_path)

    def lenient(height: int) -> Mapping[str, Rule]:  # nodes that let a bank operator bind parties
        table = dict(rules_at(height))
        table["identity.bind_party"] = Rule(roles=frozenset({"identity.officer", "bank.operator"}),
                                            decide=table["identity.bind_party"].decide)
        return table

    with monkeypatch.context() as patched:
        patched.setattr(execute, "rules_at", lenient)
        assert case.bind_person2("icbc-gz/operator1").valid
    assert case.confirm(PERSON2).valid
    package = case.export({"kind": "application", "application_id": case.application})
    with pytest.raises(EvidenceInvalid) as product:
        verify_package(package)
    with pytest.raises(Invalid, match=r"identity\.bind_party marked valid, but signed by icbc-gz") as independent:
        verify(package)
    assert str(independent.value).startswith(f"{product.value.where}: ")
    assert product.value.where.startswith("transactions[")


def test_a_key_bound_only_after_a_transaction_names_nobody_for_it_as_in_the_product(tmp_path: Path) -> None:
    case = filed_case(tmp_path)
    factory = case.harness.factory
    person2 = factory.identity(PERSON2)
    case.harness.clock.advance(MINUTE_MS)
    (note,) = case.harness.commit([factory.note(person2, "memo/person2", {"n": 1})])
    assert note.valid  # valid, and signed while person2's key was bound to nobody
    assert not case.confirm(PERSON2).valid  # refused for the same reason
    bound = case.bind_person2(OFFICER)
    assert bound.valid
    assert case.confirm(PERSON2).valid
    subjects: list[dict[str, JSONValue]] = [{"kind": "tx", "tx_id": note.tx_id},
                                            {"kind": "application", "application_id": case.application}]
    for subject in subjects:
        package = case.export(subject)
        verified = verify_package(package)
        names = [str(record["name"]) for record in verified.openings.values()]
        ours, theirs = independent_acting_for(package), product_acting_for(package)
        assert [named(c, names) for c in ours] == [named(c, names) for c in theirs]
        binding = next(t for t in verified.txs if t.tx_id == bound.tx_id)
        person2_columns = [(t.seq < binding.seq, c) for t, c in zip(verified.txs, ours, strict=True)
                           if t.signer.fingerprint == person2.fingerprint]
        assert [before for before, _ in person2_columns] == (
            [True] if subject["kind"] == "tx" else [True, False])  # the note; or both confirmations
        for before, column in person2_columns:
            if before:  # the party is shown with the height of its later binding, and no person is named
                assert named(column, names) == (False, [case.owner.party_id[:12]], [], [str(binding.height)], [])
            else:
                assert named(column, names) == (True, [case.owner.party_id[:12]], [], [], names)
                assert len(names) == 1
