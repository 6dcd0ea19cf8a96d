"""The export statement's subject must describe the package's transactions (docs/evidence.md §8).

The statement is the exporter's signed claim; a verifier cannot see what was left out, but it can
refuse a statement whose subject does not fit what *is* in the package: another transaction, an
application's steps that do not name it, a unit's transactions outside the period or naming neither
the unit nor an application filed for it. Each package here is validly signed by the node's key, as a
dishonest or faulty exporter's would be, so only these checks refuse it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from evidence_case import Case, imported_case

from estatechain.evidence.package import EvidenceInvalid
from estatechain.evidence.verify import verify_package

END = 2**53 - 1


def looked_then_misfiled(tmp_path: Path) -> tuple[Case, str, str]:
    """A bank's inquiry into the owner's unit, then a confirmation citing the inquiry as its application.

    The confirmation is refused (no such application) but stays on the ledger, naming only the
    inquiry's tx id. Returns (case, inquiry tx id, confirmation tx id).
    """
    case = imported_case(tmp_path)
    looked = case.ok("icbc-gz/operator1", "inquiry.request", {
        "unit_number": case.owner.unit_number, "basis": "intent", "purpose": "PRE_LOAN",
        "requester_party": case.bank_party})
    stray = case.step("icbc-gz/approver1", "application.confirm",
                      {"application_id": looked.tx_id, "application_hash": looked.tx_id, "party_id": case.bank_party})
    assert not stray.valid
    return case, looked.tx_id, stray.tx_id


def subject_set(subject: dict[str, Any]) -> Any:
    def change(payload: dict[str, Any]) -> None:
        payload["subject"] = subject
    return change


def test_a_units_package_may_not_carry_steps_of_a_transaction_that_is_no_filing(tmp_path: Path) -> None:
    """§8: a unit's package is its transactions plus the steps of *applications filed for it*.

    An inquiry names the unit but files nothing: a transaction citing the inquiry as its application
    is not the unit's, and a statement calling the pair the unit's transactions is refused.
    """
    case, inquiry, stray = looked_then_misfiled(tmp_path)
    as_application = case.export({"kind": "application", "application_id": inquiry}).data
    assert [t.tx_id for t in verify_package(as_application).txs if not t.context] == [inquiry, stray]
    unit = subject_set({"kind": "unit", "unit_number": case.owner.unit_number, "from_ms": 0, "to_ms": END})
    with pytest.raises(EvidenceInvalid, match=f"transaction {stray} neither names unit"):
        verify_package(case.resigned(as_application, unit))


def test_a_statement_naming_another_subject_than_the_packages_transactions_is_refused(tmp_path: Path) -> None:
    case, inquiry, stray = looked_then_misfiled(tmp_path)
    unit = case.owner.unit_number
    one = case.export({"kind": "tx", "tx_id": inquiry}).data
    with pytest.raises(EvidenceInvalid, match="not the one the statement names"):
        verify_package(case.resigned(one, subject_set({"kind": "tx", "tx_id": stray})))
    with pytest.raises(EvidenceInvalid, match=f"must be application {stray}'s filing"):
        verify_package(case.resigned(one, subject_set({"kind": "application", "application_id": stray})))
    at = verify_package(one).txs[-1].time_ms
    with pytest.raises(EvidenceInvalid, match=f"transaction {inquiry} is outside the period"):
        verify_package(case.resigned(one, subject_set({"kind": "unit", "unit_number": unit,
                                                       "from_ms": at + 1, "to_ms": END})))
    other = "440106001001GB00001F00010101"
    assert other != unit
    with pytest.raises(EvidenceInvalid, match=f"neither names unit {other}"):
        verify_package(case.resigned(one, subject_set({"kind": "unit", "unit_number": other,
                                                       "from_ms": 0, "to_ms": END})))
    honest = case.resigned(one, subject_set({"kind": "unit", "unit_number": unit, "from_ms": at, "to_ms": at}))
    assert [t.tx_id for t in verify_package(honest).txs if not t.context] == [inquiry]
