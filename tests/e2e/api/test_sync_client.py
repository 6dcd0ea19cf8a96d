"""``SyncClient`` over real HTTP, as a bank's batch system without an event loop uses it.

Upload a material, prepare a filing and sign it, let the other parties sign their steps, and follow
the events it caused with the blocking iterator; then stop a stream that waits from another thread.
Party look-ups (the identity authority's node) are in test_party_lookup.py.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from register_node import OWNER_A, RegisterNode, register_node

from estatechain import canonical
from estatechain.sdk import SyncClient
from estatechain.testing.builders import material_pdf, mortgage_first_body

BANK = "icbc-gz"
OPERATOR = f"{BANK}/operator1"
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n% sync client\n"


@pytest.fixture(name="reg", scope="module")
def reg_fixture(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RegisterNode]:
    with register_node(tmp_path_factory.mktemp("sync-client")) as started:
        yield started


@pytest.fixture(name="filed", scope="module")
def filed_fixture(reg: RegisterNode) -> dict[str, Any]:
    """A mortgage filed and confirmed by both applicants through ``SyncClient`` only; what each step returned."""
    owner = reg.owners[OWNER_A]
    today = dt.datetime.now(tz=dt.UTC).astimezone(dt.timezone(dt.timedelta(hours=8))).date()
    body: dict[str, Any] = mortgage_first_body(
        unit_number=owner.unit_number, party_id=owner.party_id, record_ref=owner.record_ref,
        bank_party=reg.bank_parties[BANK], title_number=owner.title_number, contract="LOAN-SYNC-0001", today=today)
    with SyncClient(reg.url, reg.identity(OPERATOR)) as bank:
        material = bank.upload_material(PDF)
        body["materials"] = [{"type": "APPLICATION_FORM", **material}] + [
            {"type": cited["type"], **bank.upload_material(material_pdf(cited["type"]))}
            for cited in body["materials"][1:]]
        prepared = bank.prepare("file", **body)
        signed = bank.sign_prepared(prepared)
        submitted = bank.submit(signed.envelope)
        filing = bank.wait_for_commit(signed.tx_id)
    with SyncClient(reg.url, reg.identity(OWNER_A)) as person:
        _, owner_confirms = person.step("confirm", application_id=signed.tx_id, party_id=owner.party_id)
    with SyncClient(reg.url, reg.identity(f"{BANK}/approver1")) as approver:
        _, bank_confirms = approver.step("confirm", application_id=signed.tx_id, party_id=reg.bank_parties[BANK])
    return {"material": material, "prepared": prepared, "signed": signed, "submitted": submitted, "filing": filing,
            "confirms": (owner_confirms, bank_confirms)}


def test_a_material_uploads_and_a_filing_is_prepared_signed_and_confirmed_without_an_event_loop(
    filed: dict[str, Any],
) -> None:
    assert filed["material"] == {"sha256": hashlib.sha256(PDF).hexdigest(), "size": len(PDF),
                                 "media_type": "application/pdf"}
    prepared, signed = filed["prepared"], filed["signed"]
    assert prepared.command == "application.file"
    assert canonical.encode(prepared.payload) == prepared.canonical
    assert signed.tx_id == prepared.tx_id == filed["submitted"].tx_id
    assert prepared.payload["body"]["materials"][0]["sha256"] == filed["material"]["sha256"]
    assert filed["filing"].valid, (filed["filing"].code, filed["filing"].message)
    for status in filed["confirms"]:
        assert status.committed
        assert status.valid, (status.code, status.message)


def test_the_blocking_event_iterator_replays_a_filings_events_and_resumes_after_a_cursor(
    reg: RegisterNode, filed: dict[str, Any],
) -> None:
    application = filed["signed"].tx_id
    with SyncClient(reg.url, reg.identity(OPERATOR)) as bank, bank.events(after="0.0", heartbeat_s=1) as stream:
        seen: list[dict[str, Any]] = []
        for event in stream:
            seen.append(event)
            if event["kind"] == "application.status_changed" and event["data"]["state"] == "CONFIRMED":
                break
        kinds = [(e["kind"], e["tx_id"]) for e in seen]
        assert ("tx.committed", application) in kinds
        assert ("application.status_changed", application) in kinds
        assert bank.head().header.height >= seen[-1]["height"]  # the client works while a stream is open
        with bank.events(after=seen[-2]["cursor"], heartbeat_s=1) as resumed:
            assert next(resumed)["event_id"] == seen[-1]["event_id"]


def test_stop_from_another_thread_ends_a_stream_that_waits_and_the_client_stays_usable(reg: RegisterNode) -> None:
    with SyncClient(reg.url, reg.identity(OPERATOR)) as bank:
        stream = bank.events(heartbeat_s=1)  # only new events: none come, so iterating waits
        stopper = threading.Timer(0.5, stream.stop)
        stopper.start()
        began = time.monotonic()
        assert list(stream) == []
        assert time.monotonic() - began < 5
        assert stream.ended
        with pytest.raises(StopIteration):
            next(stream)
        assert bank.head().header.height >= 1
        stopper.join()
        idle = bank.events(heartbeat_s=1)
        idle.stop()  # stopped before it was ever iterated
        assert list(idle) == []
