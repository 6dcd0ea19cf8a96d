"""Whom a report says a signer acted for rests on the identity authority's bindings, checked by the verifier.

Three things a judge's expert relies on: a bank nested in a filing's ``applicants`` is named as the bank
(the exporter brings its binding along); a binding that only the identity authority may make but that
another org made, recorded as valid by nodes that did not apply the rules, fails the package instead of
naming anyone; and a key's party is named for a transaction only when the binding came before it.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from pathlib import Path

import pytest
from evidence_case import Case, file_application, imported_case

from estatechain.contract import execute
from estatechain.contract.rule import Rule
from estatechain.contract.versions import rules_at
from estatechain.evidence.facts import Verified
from estatechain.evidence.package import EvidenceInvalid
from estatechain.evidence.report import render, report_console
from estatechain.evidence.verify import verify_package
from estatechain.testing.register import OFFICER, dev_auth_ref

PERSON2 = "gz-identity/person2"


def report_lines(verified: Verified, command: str) -> list[str]:
    """The report's table rows for ``command`` (each row's first line), in package order."""
    out = io.StringIO()
    render(verified, report_console(out))
    return [line for line in out.getvalue().splitlines() if f" {command} " in line]


def bind_person(case: Case, binder: str, handle: str) -> None:
    """``identity.bind_party`` of ``handle``'s certificate to the case's owner, signed by ``binder``."""
    fingerprint = case.harness.factory.identity(handle).fingerprint
    party = case.owner.party_id
    case.ok(binder, "identity.bind_party",
            {"fingerprint": fingerprint, "party_id": party, "auth_ref": dev_auth_ref(party, fingerprint)})


def confirm(case: Case, handle: str) -> bool:
    """The owner's confirmation of the case's application signed by ``handle``; whether it was valid."""
    app = case.application
    return case.step(handle, "application.confirm",
                     {"application_id": app, "application_hash": app, "party_id": case.owner.party_id}).valid


def test_a_filings_package_names_the_bank_nested_in_its_applicants(tmp_path: Path) -> None:
    case = imported_case(tmp_path)
    app = file_application(case)  # names the bank only inside applicants, as mortgagee
    verified = verify_package(case.export({"kind": "tx", "tx_id": app}).data)
    assert [(t.command, t.context) for t in verified.txs] == [("identity.bind_party", True),
                                                              ("application.file", False)]
    (filing,) = report_lines(verified, "application.file")
    assert f"party {case.bank_party[:12]}… = org icbc-gz (mortgagee)" in filing


def test_a_banks_inquiry_in_a_units_package_names_the_bank_it_asked_for(tmp_path: Path) -> None:
    """Who looked at a flat, before a court: the inquiry names its bank as ``requester_party``, not in applicants."""
    case = imported_case(tmp_path)
    unit = case.owner.unit_number
    looked = case.ok("icbc-gz/operator1", "inquiry.request", {
        "unit_number": unit, "basis": "intent", "purpose": "PRE_LOAN", "requester_party": case.bank_party})
    at = case.harness.clock.now_ms()
    verified = verify_package(case.export({"kind": "unit", "unit_number": unit, "from_ms": at - 60_000,
                                           "to_ms": at}).data)
    assert [(t.command, t.context) for t in verified.txs] == [("identity.bind_party", True),
                                                              ("inquiry.request", False)]
    assert verified.txs[1].tx_id == looked.tx_id
    (inquiry,) = report_lines(verified, "inquiry.request")
    assert f"party {case.bank_party[:12]}… = org icbc-gz (requester_party)" in inquiry


def test_a_valid_binding_not_made_by_the_identity_authority_fails_the_package(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    case = imported_case(tmp_path)
    file_application(case)
    refused = case.step("icbc-gz/operator1", "identity.bind_party", {"org": "icbc-gz", "party_id": "ab" * 32})
    assert refused.code == "ROLE_NOT_PERMITTED"  # the rule the nodes should apply: a refused attempt is no fault
    assert verify_package(case.export({"kind": "tx", "tx_id": refused.tx_id}).data).org_parties == {}

    def lenient(height: int) -> Mapping[str, Rule]:  # nodes that let a bank operator bind parties
        table = dict(rules_at(height))
        table["identity.bind_party"] = Rule(roles=frozenset({"identity.officer", "bank.operator"}),
                                            decide=table["identity.bind_party"].decide)
        return table

    with monkeypatch.context() as patched:
        patched.setattr(execute, "rules_at", lenient)
        bind_person(case, "icbc-gz/operator1", PERSON2)  # recorded as valid
    assert confirm(case, PERSON2)
    with pytest.raises(EvidenceInvalid, match=r"identity\.bind_party is marked valid, but it was signed by icbc-gz "
                       r"\(org type bank\) as bank\.operator; only identity\.officer of the identity authority "
                       r"\(gz-identity in the genesis\) may bind a party") as caught:
        verify_package(case.export({"kind": "application", "application_id": case.application}).data)
    assert str(caught.value).startswith("transactions[")


def test_a_key_is_named_for_a_transaction_only_from_a_binding_committed_before_it(
    tmp_path: Path,
) -> None:
    case = imported_case(tmp_path)
    file_application(case)
    assert not confirm(case, PERSON2)  # refused: person2's key is bound to nobody yet
    bind_person(case, OFFICER, PERSON2)
    assert confirm(case, PERSON2)
    verified = verify_package(case.export({"kind": "application", "application_id": case.application}).data)
    person2 = case.harness.factory.identity(PERSON2).fingerprint
    binding = next(t for t in verified.txs if t.body.get("fingerprint") == person2)  # its identity.bind_party
    name = str(verified.openings[case.owner.record_ref]["name"])
    early, later = report_lines(verified, "application.confirm")
    assert name not in early
    assert f"bound this certificate to party {case.owner.party_id[:12]}… only later, at height {binding.height}" \
        in early
    assert "not proven at signing" in early
    assert f"{name} (" in later
