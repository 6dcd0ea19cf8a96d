"""The SDK against a node's answers: the event stream resumed or closed (async and blocking), a material sent.

The node sends ``event: overflow`` and closes the stream of a client 1,000 blocks behind. The stream
is served here by an httpx transport that answers as the node's ``/v1/events`` does (the SDK's
parsing and reconnecting are what is under test; the node's side is tested in tests/e2e/api).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncGenerator
from typing import Any

import httpx
import orjson
import pytest

from estatechain.sdk import Client
from estatechain.sdk.errors import SdkError
from estatechain.sdk.identity import ClientIdentity
from estatechain.sdk.sync import EventStream

CHAIN = "ab" * 32


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
        async with Client("http://node.test", identity, chain_id=CHAIN, transport=httpx.MockTransport(node)) as c:
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
        async with Client("http://node.test", identity, chain_id=CHAIN, transport=httpx.MockTransport(node)) as c:
            return await c.upload_material(b"%PDF")

    assert asyncio.run(upload())["size"] == 4
    assert seen == ["application/octet-stream"]


def test_the_blocking_event_stream_raises_the_close_once_with_its_cursor_then_stays_ended() -> None:
    """``SyncClient.events``' iterator: an error of the stream reaches the caller once, naming the cursor."""

    def node(request: httpx.Request) -> httpx.Response:
        assert request.url.params.get("after") == "2.0"
        return httpx.Response(200, content=event("3.0"), headers={"content-type": "text/event-stream"})

    identity = ClientIdentity(cert_der=b"\x30\x00", private_key=bytes(32), fingerprint="cd" * 32)
    loop = asyncio.new_event_loop()
    client = Client("http://node.test", identity, chain_id=CHAIN, transport=httpx.MockTransport(node))
    try:
        with EventStream(loop, client.events(after="2.0", heartbeat_s=1)) as stream:
            assert next(stream)["cursor"] == "3.0"
            with pytest.raises(SdkError, match=r"after='3\.0'"):
                next(stream)
            assert stream.ended
            with pytest.raises(StopIteration):
                next(stream)
    finally:
        loop.run_until_complete(client.aclose())
        loop.close()


def test_stop_from_a_signal_handler_in_the_iterating_thread_does_not_hang() -> None:
    """A handler runs in the main thread, which may be inside the stream's own locked section at that moment."""

    async def nothing() -> AsyncGenerator[dict[str, Any]]:
        await asyncio.sleep(3600)
        yield {}

    loop = asyncio.new_event_loop()
    stream = EventStream(loop, nothing())
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
    loop.close()
