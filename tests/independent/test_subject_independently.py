"""The verifier written from docs/evidence.md refuses what the product refuses: a subject that does not fit.

The export statement is the exporter's signed claim, so a dishonest or faulty exporter can sign a wrong
one: a unit's package relabelled as another unit's, its period moved, a package of several transactions
called one transaction's or an application's, a statement listing no subject transaction at all. Each
package here is validly signed by the exporting node's key, so only the statement's checks against the
package (§8 check 4) refuse it; the package also may carry no certificate that no transaction was signed
with (§2 check 2). An expert with only the document and the independent verifier must reach the
product's verdict, at the same JSON path.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from evidence_verifier import Invalid, verify
from filed_case import Case, filed_case

from estatechain import canonical
from estatechain.evidence.package import EvidenceInvalid
from estatechain.evidence.verify import verify_package

END = 2**53 - 1
OTHER_UNIT = "440106001001GB00001F00010101"


def refused_by_both(package: bytes) -> str:
    """The JSON path at which both verifiers refuse ``package`` (they must agree on it)."""
    with pytest.raises(EvidenceInvalid) as product:
        verify_package(package)
    with pytest.raises(Invalid) as independent:
        verify(package)
    assert str(independent.value).startswith(f"{product.value.where}: "), (product.value, independent.value)
    return product.value.where


def unit_package(tmp_path: Path) -> tuple[Case, bytes, list[int]]:
    """The filed case, its unit's package over all time, and the block times of its subject transactions."""
    case = filed_case(tmp_path)
    package = case.export({"kind": "unit", "unit_number": case.owner.unit_number, "from_ms": 0, "to_ms": END})
    times = [t.time_ms for t in verify_package(package).txs if not t.context]
    assert len(times) == 2  # the import naming the unit, then the filing
    verify(package)
    return case, package, times


def subject(**fields: Any) -> Callable[[dict[str, Any]], None]:
    def change(payload: dict[str, Any]) -> None:
        payload["subject"] = {**payload["subject"], **fields}
    return change


def test_a_units_package_relabelled_as_another_unit_or_period_is_refused_by_both_verifiers(tmp_path: Path) -> None:
    case, package, (imported, filed) = unit_package(tmp_path)
    relabelled = {
        "another unit": subject(unit_number=OTHER_UNIT),
        "a period starting after the import": subject(from_ms=imported + 1),
        "a period ending before the filing": subject(to_ms=filed - 1),
        "one transaction's": lambda p: p.update(subject={"kind": "tx", "tx_id": case.application}),
        "the filing's application": lambda p: p.update(subject={"kind": "application",
                                                              "application_id": case.application}),
    }
    for label, change in relabelled.items():
        assert refused_by_both(case.resigned(package, change)) == "export.payload.subject", label
    narrowed = case.resigned(package, subject(from_ms=imported, to_ms=filed))  # still true of every transaction
    assert verify_package(narrowed).subject["to_ms"] == filed
    assert verify(narrowed)


def test_a_statement_listing_no_subject_transaction_is_refused_by_both_verifiers(tmp_path: Path) -> None:
    case, package, _ = unit_package(tmp_path)

    def all_context(payload: dict[str, Any]) -> None:
        ids = {*payload["tx_ids"], *payload["context_tx_ids"]}
        order = [hashlib.sha256(canonical.encode(t["envelope"]["payload"])).hexdigest()
                 for t in json.loads(package)["transactions"]]
        payload["tx_ids"], payload["context_tx_ids"] = [], [t for t in order if t in ids]

    assert refused_by_both(case.resigned(package, all_context)) == "export.payload.tx_ids"


def test_a_certificate_no_transaction_was_signed_with_is_refused_by_both_verifiers(tmp_path: Path) -> None:
    case = filed_case(tmp_path)
    package = case.export({"kind": "tx", "tx_id": case.application})
    doc = json.loads(package)
    extra = case.harness.factory.identity("ccb-gz/operator1").cert_der  # a member's, but signed nothing here
    doc["certificates"] = sorted([*doc["certificates"], base64.b64encode(extra).decode()],
                                 key=lambda text: hashlib.sha256(base64.b64decode(text)).hexdigest())
    assert refused_by_both(canonical.encode(doc)) == "certificates"


def seized_and_released(tmp_path: Path) -> tuple[Case, bytes, dict[str, str]]:
    """The filed case's unit seized by a court, the seizure renewed, then released; the unit's package.

    A renewal and a release name only the seizure (its ``seizure_id``, the registering tx's id), never
    the unit. Returns (case, package, {command: tx id}).
    """
    case = filed_case(tmp_path)
    unit = case.owner.unit_number
    steps: dict[str, str] = {}
    for command, body in (
        ("seizure.register", {"unit_number": unit, "kind": "1", "order_no": "(2026)粤0106执保7号",
                              "start_date": "2026-01-04", "end_date": "2028-12-31"}),
        ("seizure.renew", {"end_date": "2029-12-31"}),
        ("seizure.release", {"order_no": "(2026)粤0106执保7号之一"}),
    ):
        seizure = {"seizure_id": steps["seizure.register"]} if steps else {}
        receipt = case.step("gz-court/court1", command, {**body, **seizure})
        assert receipt.valid, (command, receipt.code)
        steps[command] = receipt.tx_id
    return case, case.export({"kind": "unit", "unit_number": unit, "from_ms": 0, "to_ms": END}), steps


def test_a_seized_then_released_units_package_holds_the_release_and_both_verifiers_accept_it(tmp_path: Path) -> None:
    """A court reading the unit's package must see that the seizure was lifted, not only that it was made."""
    _, package, steps = seized_and_released(tmp_path)
    own = [t for t in verify_package(package).txs if not t.context]
    assert [t.tx_id for t in own if t.command.startswith("seizure.")] == list(steps.values())
    lines = verify(package)
    assert [line for line in lines if "seizure.release" in line]


def test_a_units_package_holding_a_release_without_the_seizure_it_releases_is_refused_by_both_verifiers(
    tmp_path: Path,
) -> None:
    """The release is the unit's only through the seizure its registration created on the unit (§8 check 4).

    Without that registration in the package (the statement re-signed by the node to match), nothing in
    the package ties the release to the unit: both verifiers refuse the statement's subject.
    """
    case, package, steps = seized_and_released(tmp_path)
    registered = steps["seizure.register"]
    doc = json.loads(package)
    doc["transactions"] = [t for t in doc["transactions"]
                           if hashlib.sha256(canonical.encode(t["envelope"]["payload"])).hexdigest() != registered]
    cut = canonical.encode(doc)

    def without(payload: dict[str, Any]) -> None:
        payload["tx_ids"] = [t for t in payload["tx_ids"] if t != registered]

    assert refused_by_both(case.resigned(cut, without)) == "export.payload.subject"
