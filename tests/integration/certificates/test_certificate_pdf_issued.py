"""A certificate's PDF is signed once, when it is issued; after the mortgage's cancellation it is served unchanged
and the download says CANCELLED. Certificates issued while no printer ran are printed when it starts, from its
durable mark, once each. A certificate with no kept PDF is rendered at its first download only while it is VALID.

A registry node serves the case's ledger (``certificate_case.serve``); the issuer prepares and submits the
issue over HTTP, and the bank cancels the mortgage over HTTP, every step signed by whoever acts.
"""

from __future__ import annotations

import asyncio
import base64
import time
from collections.abc import Mapping
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import quote

import pytest
from certificate_case import Node, new_case, serve

from estatechain.canonical import JSONValue
from estatechain.certificates.archive import SealedArchive
from estatechain.certificates.page_text import read_page_text
from estatechain.certificates.parties import load_sealing_key
from estatechain.certificates.printing import MARK_FILE, NotInForce, Printer, issued_pdf
from estatechain.certificates.verify import verify_bytes
from estatechain.identity.genesis import Genesis
from estatechain.sdk import ClientIdentity
from estatechain.testing.builders import material_ref as material

ICBC = "icbc-gz"


def ok(node: Node, handle: str, command: str, body: Mapping[str, JSONValue]) -> str:
    response = node.submit(handle, command, body)
    assert response.status_code == 200, response.text
    assert response.json()["result"] == "valid", response.text
    return str(response.json()["tx_id"])


def cancel_over_http(node: Node, bank_party: str, unit_number: str, number: str) -> str:
    """The mortgagee files the cancellation (repaid), confirms it, and the registry records it: the record's tx."""
    app = ok(node, f"{ICBC}/operator1", "application.file", {
        "business_type": "mortgage.cancel", "unit_number": unit_number,
        "applicants": [{"party_id": bank_party, "capacity": "mortgagee"}],
        "materials": [material("APPLICATION_FORM"), material("PAYOFF_PROOF")],
        "details": {"certificate_number": number, "reason": "REPAID"}})
    ok(node, f"{ICBC}/approver1", "application.confirm",
       {"application_id": app, "application_hash": app, "party_id": bank_party})
    tx_id = ""
    for handle, step in (("intake1", "accept"), ("reviewer1", "review"), ("recorder2", "record")):
        tx_id = ok(node, f"gz-registry/{handle}", f"application.{step}", {"application_id": app})
    return tx_id


def number_of(document: Mapping[str, JSONValue]) -> str:
    record = document["record"]
    assert isinstance(record, dict)
    return str(record["number"])


def kept_copy(node: Node, sha256: str, timeout_s: float = 30.0) -> bytes:
    """The PDF the node kept for the record, waited for (the node renders it as the issue commits)."""
    key = load_sealing_key(node.consortium, "gz-registry")
    assert key is not None
    archive = SealedArchive(node.consortium / "nodes" / "gz-registry" / "certificates", chain_id=node.chain_id,
                            org_id="gz-registry", key=key)
    deadline = time.monotonic() + timeout_s
    while (kept := archive.read(f"{sha256}.issued.pdf")) is None:
        assert time.monotonic() < deadline, "no PDF was kept when the certificate was issued"
        time.sleep(0.1)
    return kept


def test_after_the_cancellation_the_pdf_signed_at_issue_is_served_and_the_download_says_cancelled(
    tmp_path: Path,
) -> None:
    case = new_case(tmp_path)
    app = case.mortgage()
    bank, unit = case.bank(ICBC), case.owner.unit_number
    with serve(case, app) as node:
        prepared = node.call("gz-registry/issuer1", "POST", "/v1/certificates", {"application_id": app})
        assert prepared.status_code == 200, prepared.text
        ok(node, "gz-registry/issuer1", "application.issue", prepared.json()["issue"]["payload"]["body"])
        certificate = prepared.json()["certificate"]
        number, sha256 = str(certificate["record"]["number"]), str(certificate["document_sha256"])
        at_issue = kept_copy(node, sha256)  # nobody downloaded it: it was signed as the issue committed

        recorded = cancel_over_http(node, bank, unit, number)

        pdf = node.call(f"{ICBC}/operator1", "GET", f"/v1/certificates/{quote(number)}/pdf")
        assert pdf.status_code == 200, pdf.text
        assert pdf.headers["x-certificate-status"] == "CANCELLED"
        assert pdf.content == at_issue  # the file issued, not one signed after the cancellation
        assert node.call("gz-registry/reviewer1", "GET", f"/v1/certificates/{quote(number)}/pdf").content == at_issue
        file = node.call(f"{ICBC}/operator1", "GET", f"/v1/certificates/{quote(number)}")
        assert file.status_code == 200
        assert file.headers["x-certificate-status"] == "CANCELLED"
        genesis = Genesis.from_bytes((node.consortium / "genesis.json").read_bytes())
        header = file.json()["ledger"]["header"]

        public = node.call(None, "GET", f"/v1/certificates/verify?number={quote(number)}")  # the QR lookup
        assert public.status_code == 200, public.text
        change = public.json()["status_change"]  # by which transaction, at which height, when
        height = node.call(f"{ICBC}/operator1", "GET", f"/v1/transactions/{recorded}").json()["height"]
        block = node.call(f"{ICBC}/operator1", "GET", f"/v1/blocks/{height}").json()["header"]
        assert (public.json()["status"], public.json()["file"]) == ("CANCELLED", "ISSUED")
        assert (change["status"], change["tx_id"], change["height"], change["time_ms"]) == (
            "CANCELLED", recorded, height, block["time_ms"])
        changed_at = datetime.fromisoformat(change["time"])
        assert changed_at.utcoffset() == timedelta(hours=8)  # China Standard Time
        assert int(changed_at.timestamp()) == block["time_ms"] // 1000

    report = verify_bytes(at_issue, genesis)
    assert report.ok, report.failure  # offline: authentic as of its block, the page shows its record
    assert report.block is not None
    assert report.block.time_ms == header["time_ms"]
    shown = "".join(read_page_text(at_issue).runs)
    assert "发证时间：" in shown
    assert "（北京时间）" in shown


def test_without_a_kept_pdf_one_is_rendered_once_while_valid_and_refused_once_cancelled(tmp_path: Path) -> None:
    """What a ledger and archive from before PDFs were kept at issue do: the first download decides."""
    case = new_case(tmp_path)
    valid = case.issue(case.mortgage())
    first = asyncio.run(issued_pdf(case.desk, valid, "http://127.0.0.1:8700/"))
    assert asyncio.run(issued_pdf(case.desk, valid, "http://10.0.0.9:8700/")) == first  # kept: the same bytes

    app = case.mortgage(bank="ccb-gz", contract="LOAN-2026-0002")
    cancelled = case.issue(app)
    case.cancel(app, bank="ccb-gz")
    with pytest.raises(NotInForce, match="CANCELLED") as refused:
        asyncio.run(issued_pdf(case.desk, cancelled, "http://127.0.0.1:8700/"))
    assert refused.value.status == "CANCELLED"


def test_certificates_issued_while_no_printer_ran_are_printed_when_the_node_starts_even_one_cancelled_since(
    tmp_path: Path,
) -> None:
    """The node was down: one certificate was issued, another issued and its mortgage cancelled (docs: printed)."""
    case = new_case(tmp_path)
    app = case.mortgage()
    valid = case.issue(app)
    other = case.mortgage(bank="ccb-gz", contract="LOAN-2026-0002")
    cancelled = case.issue(other)
    case.cancel(other, bank="ccb-gz")
    numbers = [number_of(document) for document in (valid, cancelled)]
    with serve(case, app) as node:
        kept = [kept_copy(node, str(document["document_sha256"]), timeout_s=20) for document in (valid, cancelled)]
        pdf = node.call(f"{ICBC}/operator1", "GET", f"/v1/certificates/{quote(numbers[0])}/pdf")
        assert (pdf.status_code, pdf.headers["x-certificate-status"], pdf.content) == (200, "VALID", kept[0])
        late = node.call("ccb-gz/operator1", "GET", f"/v1/certificates/{quote(numbers[1])}/pdf")
        assert late.status_code == 200, late.text  # before: 409 NOT_IN_FORCE, no PDF ever for this certificate
        assert (late.headers["x-certificate-status"], late.content) == ("CANCELLED", kept[1])
        genesis = Genesis.from_bytes((node.consortium / "genesis.json").read_bytes())
    for pdf_bytes in kept:
        report = verify_bytes(pdf_bytes, genesis)
        assert report.ok, report.failure  # the record as issued, authentic as of its issuing block


def test_a_restart_after_a_crash_prints_exactly_the_certificates_it_missed(tmp_path: Path) -> None:
    """Killed after keeping a PDF and before moving its mark, the printer signs nothing twice when it starts again."""
    case = new_case(tmp_path)
    base = "http://127.0.0.1:8700/"
    first = case.issue(case.mortgage())
    assert asyncio.run(Printer(case.desk, base).advance(case.harness.store.height)) == [number_of(first)]
    mark = case.desk.archive.directory / MARK_FILE
    before_crash = mark.read_text()

    second = case.issue(case.mortgage(bank="ccb-gz", contract="LOAN-2026-0002"))
    asyncio.run(Printer(case.desk, base).advance(case.harness.store.height))
    kept_second = case.desk.kept_pdf(str(second["document_sha256"]), base)
    mark.write_text(before_crash)  # the kill -9 came before the mark was written
    third = case.issue(case.mortgage(bank="icbc-gz", contract="LOAN-2026-0003"))

    restarted = Printer(case.desk, base)
    assert restarted.mark == int(before_crash)
    assert asyncio.run(restarted.advance(case.harness.store.height)) == [number_of(third)]
    assert case.desk.kept_pdf(str(second["document_sha256"]), base) == kept_second  # not signed again
    assert int(mark.read_text()) == case.harness.store.height


def test_an_issuer_revoked_after_the_issue_is_reported_and_the_certificate_still_verifies(
    tmp_path: Path,
) -> None:
    """A key replaced years later: whose key signed, and what became of it, is what an expert asks first."""
    case = new_case(tmp_path)
    app = case.mortgage()
    with serve(case, app) as node:
        prepared = node.call("gz-registry/issuer1", "POST", "/v1/certificates", {"application_id": app})
        assert prepared.status_code == 200, prepared.text
        issued = ok(node, "gz-registry/issuer1", "application.issue", prepared.json()["issue"]["payload"]["body"])
        number = str(prepared.json()["certificate"]["record"]["number"])
        pdf = kept_copy(node, str(prepared.json()["certificate"]["document_sha256"]))
        issuer_der = ClientIdentity.from_dev(node.consortium, "gz-registry/issuer1").cert_der
        revoked = ok(node, "gz-registry/org-admin", "identity.revoke",
                     {"certificate": base64.b64encode(issuer_der).decode("ascii"), "reason": "key replaced"})
        height = node.call("gz-registry/reviewer1", "GET", f"/v1/transactions/{revoked}").json()["height"]
        issued_at = node.call("gz-registry/reviewer1", "GET", f"/v1/transactions/{issued}").json()["height"]

        public = node.call(None, "GET", f"/v1/certificates/verify?number={quote(number)}")
        assert public.status_code == 200, public.text
        assert public.json()["issuer_revoked"] == {"height": height, "tx_id": revoked}
        assert "key replaced" not in public.text  # the admin's free text stays off the public answer
        assert public.json()["status"] == "VALID"

        genesis = Genesis.from_bytes((node.consortium / "genesis.json").read_bytes())

        def lookup(asked: str) -> dict[str, JSONValue]:
            answer = node.call(None, "GET", f"/v1/certificates/verify?number={quote(asked)}")
            return dict(answer.json())

        report = verify_bytes(pdf, genesis, lookup=lookup)
    assert report.ok, report.failure
    noted = next(check for check in report.checks if check.name == "issuer revocation")
    assert f"revoked later, at height {height}" in noted.detail
    assert f"at height {issued_at}, so the signature stands" in noted.detail
