"""What a bank's engineer sees when the node pauses, dies, refuses or is slow: SDK errors that say what to do.

The node is played by an httpx ``MockTransport`` answering as the node does; the node's own side of
these answers is tested in tests/e2e/api/test_sdk_against_node.py.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar

import httpx
import orjson
import pytest

from estatechain.sdk import Client, ClientIdentity, ServerError
from estatechain.sdk.errors import SdkError

CHAIN = "ab" * 32
ORG = "icbc-gz"
IDENTITY = ClientIdentity(cert_der=b"\x30\x00", private_key=bytes(32), fingerprint="cd" * 32)


def event(cursor: str) -> bytes:
    body = {"event_id": f"e-{cursor}", "cursor": cursor, "kind": "tx.committed", "data": {}}
    return b"id: " + cursor.encode() + b"\nevent: tx.committed\ndata: " + orjson.dumps(body) + b"\n\n"


_T = TypeVar("_T")


def against(node: Callable[[httpx.Request], httpx.Response], work: Callable[[Client], Awaitable[_T]],
            **options: Any) -> _T:
    """``work`` done with a client of ``node`` (the blocking client wraps this one: tests/unit/sdk/test_sync_*)."""
    async def run() -> _T:
        async with Client("http://node.test", IDENTITY, chain_id=CHAIN, node_org=ORG,
                          transport=httpx.MockTransport(node), **options) as client:
            return await work(client)

    return asyncio.run(run())


async def cursors(client: Client, seen: list[str], after: str | None = None) -> None:
    async for item in client.events(after, heartbeat_s=1):
        seen.append(item["cursor"])  # noqa: PERF401  (kept one by one: the stream ends in an error)


def broken_stream(request: httpx.Request, failure: type[httpx.TransportError], text: str) -> httpx.Response:
    async def body() -> AsyncIterator[bytes]:
        yield event("7.2")
        raise failure(text, request=request)

    return httpx.Response(200, content=body(), headers={"content-type": "text/event-stream"})


@pytest.mark.parametrize(("failure", "text", "said"), [
    (httpx.ReadTimeout, "", r"went silent: nothing, not even a heartbeat, for 3 s"),
    (httpx.RemoteProtocolError, "peer closed connection without sending complete message body", r"broke off: peer"),
])
def test_a_paused_or_stopped_node_ends_the_event_stream_with_an_sdk_error_naming_the_cursor(
    failure: type[httpx.TransportError], text: str, said: str,
) -> None:
    """Paused: httpx.ReadTimeout with an empty message; stopped: RemoteProtocolError; both came out raw."""
    seen: list[str] = []
    with pytest.raises(SdkError, match=said) as caught:
        against(lambda request: broken_stream(request, failure, text), lambda c: cursors(c, seen, "5.0"))
    assert seen == ["7.2"]
    assert type(caught.value) is SdkError
    assert "resume with after='7.2'" in str(caught.value)


def test_a_stream_that_cannot_reconnect_names_the_cursor_to_resume_from() -> None:
    calls: list[str | None] = []

    def node(request: httpx.Request) -> httpx.Response:
        calls.append(request.url.params.get("after"))
        if len(calls) == 1:
            return httpx.Response(200, content=event("8.0") + b"event: overflow\ndata: {}\n\n")
        raise httpx.ConnectError("connection refused", request=request)

    seen: list[str] = []
    with pytest.raises(SdkError, match=r"cannot reach .*resume the event stream with after='8\.0'"):
        against(node, lambda c: cursors(c, seen))
    assert seen == ["8.0"]
    assert calls == [None, "8.0"]


def test_an_overflow_before_the_first_event_resumes_where_the_node_said_the_stream_began() -> None:
    """``after=None`` and no event yet: reconnecting with no cursor would skip what committed in between."""
    calls: list[str | None] = []

    def node(request: httpx.Request) -> httpx.Response:
        calls.append(request.url.params.get("after"))
        if len(calls) == 1:  # the node's preamble names the stream's start; then the client falls behind
            body = b"retry: 2000\nid: 41.999999999\n: connected\n\n" + b"event: overflow\ndata: {}\n\n"
        else:
            body = event("42.0")
        return httpx.Response(200, content=body)

    seen: list[str] = []
    with pytest.raises(SdkError, match=r"closed the event stream; resume with after='42\.0'"):
        against(node, lambda c: cursors(c, seen))
    assert seen == ["42.0"]
    assert calls == [None, "41.999999999"]


def test_an_overflow_before_the_first_event_from_a_node_naming_no_start_says_events_would_be_lost() -> None:
    calls: list[str | None] = []

    def node(request: httpx.Request) -> httpx.Response:
        calls.append(request.url.params.get("after"))
        if len(calls) > 1:  # a reconnection "from now" (ends the test instead of looping)
            raise httpx.ConnectError("the test's node takes one connection", request=request)
        return httpx.Response(200, content=b": connected\n\nevent: overflow\ndata: {}\n\n")

    with pytest.raises(SdkError, match=r"before any event arrived .* would be lost; resume with after="):
        against(node, lambda c: cursors(c, []))
    assert calls == [None], "it must not reconnect from 'now' and skip the events in between"


def test_an_error_detail_keeps_its_json_types_and_a_retry_after_is_given_in_seconds() -> None:
    def node(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v1/payloads/file":
            return httpx.Response(413, json={"error": "PAYLOAD_TOO_LARGE", "message": "shorten the body",
                                             "detail": {"size": 71290, "limit": 65536, "payload_size": "70001",
                                                        "fields": ["a", "b"]}})
        if request.url.path == "/v1/parties/lookup":
            return httpx.Response(429, json={"error": "RATE_LIMITED", "message": "wait", "detail": {}},
                                  headers={"retry-after": "60"})
        return httpx.Response(503, json={"error": "BUSY", "message": "later", "detail": {}},
                              headers={"retry-after": "1"})

    with pytest.raises(ServerError) as too_large:
        against(node, lambda c: c.prepare("file", unit_number="U-1"))
    with pytest.raises(ServerError) as limited:
        against(node, lambda c: c.lookup_party("RESIDENT_ID", "110101199003074518"))
    with pytest.raises(ServerError) as busy:
        against(node, Client.members)
    assert too_large.value.detail["size"] - too_large.value.detail["limit"] == 5754
    assert too_large.value.detail["payload_size"] == "70001"
    assert too_large.value.detail["fields"] == ["a", "b"]
    assert too_large.value.retry_after_s is None
    assert (limited.value.status, limited.value.retry_after_s) == (429, 60)
    assert (busy.value.status, busy.value.code, busy.value.retry_after_s) == (503, "BUSY", 1)


def test_a_refused_event_stream_keeps_its_detail_types_and_retry_after() -> None:
    def node(request: httpx.Request) -> httpx.Response:
        return httpx.Response(503, json={"error": "UNAVAILABLE", "message": "no events", "detail": {"head": 12}},
                              headers={"retry-after": "5"})

    with pytest.raises(ServerError) as caught:
        against(node, lambda c: cursors(c, [], "1.0"))
    assert (caught.value.detail, caught.value.retry_after_s) == ({"head": 12}, 5)


def test_a_waiting_submit_gets_the_wait_on_top_of_the_timeout_and_a_timeout_names_the_tx_to_ask_about() -> None:
    timeouts: list[float | None] = []

    def node(request: httpx.Request) -> httpx.Response:
        timeouts.append(request.extensions["timeout"]["read"])
        raise httpx.ReadTimeout("", request=request)

    signed = against(node, lambda c: c.sign("note.put", {"data": {}, "if_absent": False, "key": "k"}))
    with pytest.raises(SdkError) as caught:
        against(node, lambda c: c.submit(signed.envelope, wait_s=5), timeout_s=0.05)
    assert timeouts == [pytest.approx(5.05)]
    message = str(caught.value)
    assert "did not answer POST /v1/transactions in time (ReadTimeout: no answer within 5.05 s" in message
    assert f"transaction {signed.tx_id} may have been received and even committed" in message
    assert f"ask status('{signed.tx_id}')" in message


def test_a_node_that_cannot_be_reached_says_so_and_that_the_transaction_was_not_sent() -> None:
    def node(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("[Errno 111] Connection refused", request=request)

    signed = against(node, lambda c: c.sign("note.put", {"data": {}, "if_absent": False, "key": "k"}))
    with pytest.raises(SdkError, match=rf"cannot reach .*Connection refused.*transaction {signed.tx_id} was not sent"):
        against(node, lambda c: c.submit(signed.envelope))
