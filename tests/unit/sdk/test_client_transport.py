"""The SDK against a node's answers: the event stream resumed or closed (async and blocking), a material sent, and
one received under a hash its bytes do not have.

The node sends ``event: overflow`` and closes the stream of a client 1,000 blocks behind. The stream
is served here by an httpx transport that answers as the node's ``/v1/events`` does (the SDK's
parsing and reconnecting are what is under test; the node's side is tested in tests/e2e/api).
"""

from __future__ import annotations

import asyncio
import hashlib
import threading
from collections.abc import AsyncGenerator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from estatechain.node.inquiry_answers import ANSWER_TYPE as NODE_ANSWER_TYPE
from estatechain.sdk import Client, ProofInvalid, RequestTarget, SyncClient
from estatechain.sdk.errors import SdkError
from estatechain.sdk.identity import ClientIdentity
from estatechain.sdk.responses import ANSWER_TYPE
from estatechain.sdk.sync import EventStream, LoopThread

CHAIN = "ab" * 32
ORG = "icbc-gz"


def event(cursor: str) -> bytes:
    body = {"event_id": f"e-{cursor}", "cursor": cursor, "kind": "application.filed", "data": {}}
    return b"id: " + cursor.encode() + b"\ndata: " + orjson.dumps(body) + b"\n\n"


def test_after_an_overflow_the_stream_resumes_from_the_last_cursor_and_a_plain_close_names_it() -> None:
    asked: list[str | None] = []

    def node(request: httpx.Request) -> httpx.Response:
        after = request.url.params.get("after")
        asked.append(after)
        if after is None:
            body = event("3.0") + b": heartbeat\n\n" + b'event: overflow\ndata: {"reason":"fell behind"}\n\n'
        else:
            body = event("4.0") + event("5.1")
        return httpx.Response(200, content=body, headers={"content-type": "text/event-stream"})

    identity = ClientIdentity(cert_der=b"\x30\x00", private_key=bytes(32), fingerprint="cd" * 32)

    seen: list[str] = []

    async def consume() -> None:
        async with Client("http://node.test", identity, chain_id=CHAIN, node_org=ORG,
                          transport=httpx.MockTransport(node)) as c:
            async for item in c.events(heartbeat_s=1):
                seen.append(item["cursor"])  # noqa: PERF401  (kept one by one: the stream ends in an error)

    with pytest.raises(SdkError) as closed:
        asyncio.run(consume())
    message = str(closed.value)
    assert seen == ["3.0", "4.0", "5.1"]
    assert asked == [None, "3.0"]
    assert "after='5.1'" in message


def test_a_material_is_uploaded_as_octet_stream_as_the_api_documents() -> None:
    seen: list[str] = []

    def node(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers["content-type"])
        return httpx.Response(201, json={"sha256": "00" * 32, "size": 4, "media_type": "application/pdf"})

    identity = ClientIdentity(cert_der=b"\x30\x00", private_key=bytes(32), fingerprint="cd" * 32)

    async def upload() -> dict[str, object]:
        async with Client("http://node.test", identity, chain_id=CHAIN, node_org=ORG,
                          transport=httpx.MockTransport(node)) as c:
            return await c.upload_material(b"%PDF")

    assert asyncio.run(upload())["size"] == 4
    assert seen == ["application/octet-stream"]


def test_the_blocking_event_stream_raises_the_close_once_with_its_cursor_then_stays_ended() -> None:
    """``SyncClient.events``' iterator: an error of the stream reaches the caller once, naming the cursor."""

    def node(request: httpx.Request) -> httpx.Response:
        assert request.url.params.get("after") == "2.0"
        return httpx.Response(200, content=event("3.0"), headers={"content-type": "text/event-stream"})

    identity = ClientIdentity(cert_der=b"\x30\x00", private_key=bytes(32), fingerprint="cd" * 32)
    with SyncClient("http://node.test", identity, chain_id=CHAIN, node_org=ORG,
                    transport=httpx.MockTransport(node)) as client, client.events(after="2.0", heartbeat_s=1) as stream:
        assert next(stream)["cursor"] == "3.0"
        with pytest.raises(SdkError, match=r"after='3\.0'"):
            next(stream)
        assert stream.ended
        with pytest.raises(StopIteration):
            next(stream)


def test_stop_from_a_signal_handler_in_the_iterating_thread_does_not_hang() -> None:
    """A handler runs in the main thread, which may be inside the stream's own locked section at that moment."""

    async def nothing() -> AsyncGenerator[dict[str, Any]]:
        await asyncio.sleep(3600)
        yield {}

    runner = LoopThread()
    stream = EventStream(runner, nothing())
    stopped = threading.Event()

    def interrupted_mid_section() -> None:
        with stream._lock:  # where __next__ or close() is when the signal lands
            stream.stop()  # what the handler calls
            stopped.set()

    thread = threading.Thread(target=interrupted_mid_section, daemon=True)
    thread.start()
    thread.join(timeout=5)
    assert stopped.is_set(), "stop() blocked on the lock its own thread holds"
    with pytest.raises(StopIteration):
        next(stream)
    runner.close(asyncio.sleep(0))


def _health(org_id: str | None) -> httpx.Response:
    body: dict[str, object] = {"status": "ok", "chain_id": CHAIN, "height": 3}
    if org_id is not None:
        body["org_id"] = org_id
    return httpx.Response(200, json=body)


def test_the_client_asks_the_node_its_chain_and_org_once_and_signs_every_request_for_that_node() -> None:
    """No new argument for the integrator: /v1/health names the node, and every signature's tag names it."""
    seen: list[str] = []

    def node(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v1/health":
            seen.append("health")
            return _health("ccb-gz")
        seen.append(request.headers["signature-input"])
        return httpx.Response(200, json={"caller": {"org_id": "icbc-gz"}})

    identity = ClientIdentity(cert_der=b"\x30\x00", private_key=bytes(32), fingerprint="cd" * 32)

    async def calls() -> RequestTarget:
        async with Client("http://node.test", identity, transport=httpx.MockTransport(node)) as c:
            await c.members()
            await c.members()
            return await c.target()

    assert asyncio.run(calls()) == RequestTarget(chain_id=CHAIN, node_org="ccb-gz")
    assert seen[0] == "health"
    assert seen.count("health") == 1
    assert len(seen) == 3
    assert all(line.endswith(f';tag="{CHAIN}/ccb-gz"') for line in seen[1:]), seen


def test_a_pinned_node_org_is_signed_as_given_without_asking_the_node() -> None:
    seen: list[str] = []

    def node(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.path if request.url.path == "/v1/health" else request.headers["signature-input"])
        return httpx.Response(200, json={"caller": {}})

    identity = ClientIdentity(cert_der=b"\x30\x00", private_key=bytes(32), fingerprint="cd" * 32)

    async def call() -> None:
        async with Client("http://node.test", identity, chain_id=CHAIN, node_org=ORG,
                          transport=httpx.MockTransport(node)) as c:
            await c.members()

    asyncio.run(call())
    assert len(seen) == 1
    assert seen[0].endswith(f';tag="{CHAIN}/{ORG}"')


def test_a_node_that_does_not_name_its_org_is_an_sdk_error_that_says_what_to_do() -> None:
    def node(request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/v1/health", "nothing is signed without knowing the node"
        return _health(None)

    identity = ClientIdentity(cert_der=b"\x30\x00", private_key=bytes(32), fingerprint="cd" * 32)

    async def call() -> None:
        async with Client("http://node.test", identity, chain_id=CHAIN, transport=httpx.MockTransport(node)) as c:
            await c.members()

    with pytest.raises(SdkError, match=r"org_id in /v1/health.*node_org"):
        asyncio.run(call())


def test_a_downloaded_material_whose_bytes_are_not_its_hash_is_refused_and_not_kept(tmp_path: Path) -> None:
    """A material is named by its SHA-256: bytes a node sends under that name that hash otherwise are not it."""
    genuine, forged = b"%PDF-1.7 the loan contract", b"%PDF-1.7 another contract"
    name = hashlib.sha256(genuine).hexdigest()

    def node(request: httpx.Request) -> httpx.Response:
        assert request.url.path == f"/v1/materials/{name}"
        return httpx.Response(200, content=forged, headers={"content-type": "application/pdf"})

    identity = ClientIdentity(cert_der=b"\x30\x00", private_key=bytes(32), fingerprint="cd" * 32)
    target = tmp_path / "loan.pdf"
    with SyncClient("http://node.test", identity, chain_id=CHAIN, node_org=ORG,
                    transport=httpx.MockTransport(node)) as client, pytest.raises(ProofInvalid) as refused:
        client.download_material(name, target)
    assert name in str(refused.value)
    assert not target.exists()


def test_the_sdk_checks_inquiry_answers_for_the_type_tag_the_node_signs() -> None:
    assert ANSWER_TYPE == NODE_ANSWER_TYPE


def test_a_certificate_and_its_pdf_come_with_the_status_the_node_says_beside_them(tmp_path: Path) -> None:
    """The PDF is the one signed at issue and does not say CANCELLED: the SDK hands over the header that does."""
    number = "粤(2026)广州市不动产证明第00000001号"
    document = {"type": "estatechain.certificate-file.v1", "record": {"number": number}}

    def node(request: httpx.Request) -> httpx.Response:
        header = {"x-certificate-status": "CANCELLED"}
        if request.url.path.endswith("/pdf"):
            return httpx.Response(200, content=b"%PDF-1.7 signed at issue", headers={
                "content-type": "application/pdf", **header})
        return httpx.Response(200, content=orjson.dumps(document), headers={
            "content-type": "application/json", **header})

    identity = ClientIdentity(cert_der=b"\x30\x00", private_key=bytes(32), fingerprint="cd" * 32)

    async def fetch() -> tuple[Any, Any]:
        async with Client("http://node.test", identity, chain_id=CHAIN, node_org=ORG,
                          transport=httpx.MockTransport(node)) as c:
            return await c.certificate(number), await c.certificate_pdf(number, tmp_path / "async.pdf")

    file, pdf = asyncio.run(fetch())
    assert (file.document, file.status) == (document, "CANCELLED")
    assert (pdf.path, pdf.size, pdf.status) == (tmp_path / "async.pdf", 24, "CANCELLED")
    with SyncClient("http://node.test", identity, chain_id=CHAIN, node_org=ORG,
                    transport=httpx.MockTransport(node)) as client:
        blocking_file, blocking_pdf = client.certificate(number), client.certificate_pdf(number, tmp_path / "s.pdf")
    assert (blocking_file.status, blocking_pdf.status) == ("CANCELLED", "CANCELLED")
    assert (tmp_path / "s.pdf").read_bytes() == b"%PDF-1.7 signed at issue"
