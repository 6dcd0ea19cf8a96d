"""The SDK's typed methods for inquiries, certificates, materials and webhooks, against a real served node.

Each party acts with its own identity, through the async ``Client`` or the blocking ``SyncClient``
(the two share one implementation; ``tests/unit/sdk/test_sync_client_threads.py`` holds their
surfaces equal). What is checked is what an integrator relies on: answers verified here, typed values
read from the node's answers, and the node's refusals raised as the documented errors.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from register_node import OWNER_A, OWNER_B, RegisterNode, register_node

from estatechain.crypto.suites import get_suite
from estatechain.sdk import (
    Client,
    Deliveries,
    Forbidden,
    InquiryAnswer,
    NotFound,
    ProofInvalid,
    ServerError,
    SyncClient,
)
from estatechain.sdk.signing import SUITE
from estatechain.testing.builders import material_pdf, mortgage_first_body, with_uploaded_materials

BANK = "icbc-gz"
OPERATOR, APPROVER, ADMIN = f"{BANK}/operator1", f"{BANK}/approver1", f"{BANK}/org-admin"
DEAD_HOOK = "http://127.0.0.1:9/estatechain-hook"
"""A loopback URL nothing listens on: each delivery fails at once and is retried with back-off."""


@pytest.fixture(name="reg", scope="module")
def reg_fixture(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RegisterNode]:
    with register_node(tmp_path_factory.mktemp("sdk-typed")) as started:
        yield started


def client(reg: RegisterNode, handle: str) -> Client:
    return Client(reg.url, reg.identity(handle), chain_id=reg.chain_id)


def blocking(reg: RegisterNode, handle: str) -> SyncClient:
    return SyncClient(reg.url, reg.identity(handle), chain_id=reg.chain_id)


async def recorded_mortgage(reg: RegisterNode) -> str:
    """The bank's first registration on owner A's unit, confirmed, accepted, reviewed and recorded: its id."""
    owner = reg.owners[OWNER_A]
    today = dt.datetime.now(tz=dt.UTC).astimezone(dt.timezone(dt.timedelta(hours=8))).date()
    filing = mortgage_first_body(unit_number=owner.unit_number, party_id=owner.party_id, record_ref=owner.record_ref,
                                 bank_party=reg.bank_parties[BANK], title_number=owner.title_number,
                                 contract="LOAN-SDK-0001", today=today)
    async with client(reg, OPERATOR) as bank:
        uploaded: dict[str, Any] = await with_uploaded_materials(filing, bank.upload_material)
        filed = (await bank.step("file", **uploaded))[0].tx_id
    steps: tuple[tuple[str, str, dict[str, Any]], ...] = (
        (OWNER_A, "confirm", {"party_id": owner.party_id}), (APPROVER, "confirm", {"party_id": reg.bank_parties[BANK]}),
        ("gz-registry/intake1", "accept", {}), ("gz-registry/reviewer1", "review", {}),
        ("gz-registry/recorder2", "record", {}))
    for handle, step, fields in steps:
        async with client(reg, handle) as c:
            status = (await c.step(step, application_id=filed, **fields))[1]
            assert status.valid, (step, status.code, status.message)
    return filed


def test_the_issuer_issues_and_the_owner_fetches_and_anyone_checks_a_certificate(
    reg: RegisterNode, tmp_path: Path,
) -> None:
    application = asyncio.run(recorded_mortgage(reg))

    async def issue() -> tuple[Any, Any]:
        async with client(reg, "gz-registry/issuer1") as issuer:
            prepared, _, status = await issuer.issue_certificate(application)
            with pytest.raises(ServerError) as again:
                await issuer.prepare_certificate(application)
            return (prepared, status), again.value

    (prepared, status), again = asyncio.run(issue())
    assert status.valid, (status.code, status.message)
    assert prepared.issue.payload["body"]["document_sha256"] == prepared.certificate["document_sha256"]
    assert (again.status, again.code) == (409, "NOT_ISSUABLE")
    number = str(prepared.certificate["record"]["number"])
    pdf = tmp_path / "certificate.pdf"
    with blocking(reg, OWNER_A) as owner:
        fetched = owner.certificate(number)
        downloaded = owner.certificate_pdf(number, pdf)
        issued = fetched.document
        plain = owner.certificate_status(number)
        by_qr = owner.certificate_status(number, sha256=str(issued["document_sha256"]))
        report = owner.verify_certificate_file(pdf.read_bytes())
    assert issued["record"]["number"] == number
    assert (fetched.status, downloaded.status) == ("VALID", "VALID")  # the status now, beside the file
    assert downloaded.size == pdf.stat().st_size
    assert pdf.read_bytes().startswith(b"%PDF")
    assert (plain["status"], plain["document_sha256"], "content" in plain) == (
        "VALID", issued["document_sha256"], False)
    assert by_qr["content"]["number"] == number
    assert (report["ok"], report["status"], report["content"]["number"]) == (True, "VALID", number)
    with blocking(reg, "ccb-gz/operator1") as other_bank, pytest.raises(Forbidden):
        other_bank.certificate(number)


def test_an_inquiry_answer_is_verified_by_the_sdk_and_a_refused_one_is_raised(reg: RegisterNode) -> None:
    unit = reg.owners[OWNER_A].unit_number

    async def scenario() -> tuple[Any, InquiryAnswer, dict[str, Any], Any, ServerError]:
        async with client(reg, OWNER_A) as owner:
            _, status = await owner.inquire(unit_number=unit, basis="own_right")
            answer = await owner.inquiry_answer(status.tx_id)
            raw: dict[str, Any] = await owner._send("GET", f"/v1/inquiries/{status.tx_id}/answer")
            who = await owner.unit_inquiries(unit)
        async with client(reg, OWNER_B) as stranger:
            _, refused_status = await stranger.inquire(unit_number=unit, basis="own_right", purpose="OTHER")
            assert refused_status.valid  # a refused inquiry is recorded: a valid transaction, outcome REFUSED
            with pytest.raises(Forbidden) as refused:
                await stranger.inquiry_answer(refused_status.tx_id)
        return status, answer, raw, who, refused.value

    status, answer, raw, who, refused = asyncio.run(scenario())
    assert (answer.answer["answer"], answer.answer["height"], answer.answer["inquiry_id"]) == (
        "FULL", status.height, status.tx_id)
    assert [o["party_id"] for o in answer.answer["result"]["owners"]] == [reg.owners[OWNER_A].party_id]  # type: ignore[call-overload,index,union-attr]
    assert status.tx_id in {entry.inquiry_id for entry in who if entry.outcome == "GRANTED"}
    assert (refused.code, refused.detail["code"]) == ("INQUIRY_REFUSED", "V26_INQUIRY_NOT_ENTITLED")
    # what a node could alter is caught here, not trusted: the answer's content, or the inquiry it answers
    doctored = {**raw, "answer": {**raw["answer"], "answer": "LIMITED"}}
    with pytest.raises(ProofInvalid):
        InquiryAnswer.of(doctored, suite=get_suite(SUITE), chain_id=reg.chain_id, inquiry_id=status.tx_id)
    with pytest.raises(ProofInvalid):
        InquiryAnswer.of(raw, suite=get_suite(SUITE), chain_id=reg.chain_id, inquiry_id="0" * 64)
    with pytest.raises(ProofInvalid):
        InquiryAnswer.of(raw, suite=get_suite(SUITE), chain_id="ab" * 32, inquiry_id=status.tx_id)


def test_a_material_downloads_to_its_own_bytes_for_the_uploading_org_only(reg: RegisterNode, tmp_path: Path) -> None:
    data = material_pdf("LOAN_CONTRACT")
    with blocking(reg, OPERATOR) as bank:
        uploaded = bank.upload_material(data)
        size = bank.download_material(uploaded["sha256"], tmp_path / "loan.pdf")
    assert (size, (tmp_path / "loan.pdf").read_bytes()) == (len(data), data)
    assert hashlib.sha256(data).hexdigest() == uploaded["sha256"]
    with blocking(reg, "ccb-gz/operator1") as other_bank, pytest.raises(Forbidden):
        other_bank.download_material(uploaded["sha256"], tmp_path / "not-mine.pdf")


def test_the_org_admin_registers_reads_and_removes_its_webhook_and_sees_the_delivery_log(reg: RegisterNode) -> None:
    with blocking(reg, ADMIN) as admin, blocking(reg, OPERATOR) as staff:
        registered = admin.register_webhook(DEAD_HOOK)
        assert (registered.org, registered.url) == (BANK, DEAD_HOOK)
        assert staff.webhook() == registered  # its staff read the registration …
        with pytest.raises(Forbidden):
            staff.register_webhook("http://127.0.0.1:9/elsewhere")  # … but only its org.admin sets it
        _, note = staff.submit_and_wait("note.put", {"data": {"n": 1}, "if_absent": True,
                                                     "key": f"sdk-webhook/{time.time_ns()}"})
        assert note.valid
        page = _first_attempts(staff)
        removed = admin.remove_webhook()
        with pytest.raises(NotFound):
            staff.webhook()
    assert page.org == BANK
    assert page.deliveries[0].url == DEAD_HOOK
    assert page.deliveries[0].outcome == "retry"  # nothing listens: it is retried with back-off
    assert (removed.url, removed.dropped >= 0) == (DEAD_HOOK, True)


def _first_attempts(staff: SyncClient) -> Deliveries:
    """The delivery log from its start, once an attempt is in it (bounded: 10 s)."""
    deadline = time.monotonic() + 10
    while True:
        page = staff.webhook_deliveries(after=0)
        if page.deliveries or time.monotonic() > deadline:
            return page
        time.sleep(0.1)


def test_a_malformed_inquiry_field_is_refused_before_anything_is_signed(reg: RegisterNode) -> None:
    async def refused() -> ServerError:
        async with client(reg, OPERATOR) as bank:
            with pytest.raises(ServerError) as caught:
                await bank.inquire(unit_number="440106" + "0" * 22, basis="intent", purpose="PRE_LOAN")
            return caught.value

    error = asyncio.run(refused())
    assert (error.status, error.code) == (422, "VALIDATION_FAILED")
    assert "body.unit_number" in error.detail
