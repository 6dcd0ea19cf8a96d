"""What a bank's engineer sees when the node pauses, dies, refuses or is slow: SDK errors that say what to do.

The node is played by an httpx ``MockTransport`` answering as the node does; the node's own side of
these answers is tested in tests/e2e/api/test_sdk_against_node.py.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import httpx
import pytest

from estatechain.sdk import Client, ClientIdentity, ServerError
from estatechain.sdk.errors import SdkError

CHAIN = "ab" * 32
ORG = "icbc-gz"
IDENTITY = ClientIdentity(cert_der=b"\x30\x00", private_key=bytes(32), fingerprint="cd" * 32)


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
