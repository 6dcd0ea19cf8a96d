"""Events over real HTTP: a committed tx yields an SSE event and a signed webhook; a cursor resumes a stream.

Only an org's administrator (``org.admin``) sets or removes its webhook; its clerks and approvers may not.
"""

from __future__ import annotations

import asyncio
import base64
import threading
import time
from collections.abc import AsyncGenerator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import orjson
import pytest

from estatechain import canonical
from estatechain.clock import SystemClock
from estatechain.crypto import x509
from estatechain.crypto.suites import get_suite
from estatechain.identity.devca import DevConsortium, create_dev_consortium
from estatechain.identity.membership import resolve_signer
from estatechain.node.events import EVENT_TYPE
from estatechain.node.outbox import SIGNATURE_HEADER, WEBHOOK_TYPE, WebhookKey, parse_signature_header
from estatechain.node.settings import Settings
from estatechain.sdk import Client, ClientIdentity, ServerError
from estatechain.storage.store import LedgerStore
from estatechain.testing.serving import served

OPERATOR = "icbc-gz/operator1"
ADMIN = "icbc-gz/org-admin"
OTHER_BANK = "ccb-gz/operator1"


@dataclass
class Receiver:
    """A webhook receiver on 127.0.0.1 that records every POST (headers and body)."""

    url: str = ""
    received: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def bodies_for(self, event_id: str) -> list[tuple[dict[str, str], bytes]]:
        with self.lock:
            return [(h, b) for h, b in self.received if orjson.loads(b)["event"]["event_id"] == event_id]


class _Server(ThreadingHTTPServer):
    request_queue_size = 128  # the default backlog of 5 drops concurrent SYNs: clients stall 1 s on retry
    daemon_threads = True


@contextmanager
def receiver() -> Iterator[Receiver]:
    record = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["content-length"]))
            with record.lock:
                record.received.append(({k.lower(): v for k, v in self.headers.items()}, body))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *_: Any) -> None:
            pass

    server = _Server(("127.0.0.1", 0), Handler)
    record.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield record
    finally:
        server.shutdown()
        server.server_close()


@dataclass(frozen=True)
class Node:
    url: str
    consortium: DevConsortium
    directory: Path

    def identity(self, handle: str) -> ClientIdentity:
        return ClientIdentity.from_dev(self.directory, handle)


@pytest.fixture(name="node")
def node_fixture(tmp_path: Path) -> Iterator[Node]:
    consortium = create_dev_consortium(tmp_path / "net", now_ms=SystemClock().now_ms())
    LedgerStore.create(tmp_path / "ledger", consortium.genesis).close()
    key = WebhookKey.from_dev(tmp_path / "net", "gz-registry/node")
    with served(Settings(ledger_dir=tmp_path / "ledger", port=0), webhook_key=key) as url:
        yield Node(url=url, consortium=consortium, directory=tmp_path / "net")


def note(key: str) -> dict[str, Any]:
    return {"data": {"n": 1}, "if_absent": True, "key": key}


async def webhooks(node: Node, handle: str, method: str, url: str | None = None) -> dict[str, Any]:
    """``method`` /v1/webhooks signed by ``handle`` (POST with ``url``); the node's answer, or its error raised."""
    async with Client(node.url, node.identity(handle)) as client:
        content = None if url is None else canonical.encode({"url": url})
        answer: dict[str, Any] = await client.send(
            client.build_request(method, "/v1/webhooks", content=content, target=await client.target()))
        return answer


async def register(node: Node, url: str) -> dict[str, Any]:
    """Set icbc-gz's webhook as its org admin."""
    return await webhooks(node, ADMIN, "POST", url)


async def next_event(stream: AsyncGenerator[dict[str, Any]], timeout_s: float = 10) -> dict[str, Any]:
    return await asyncio.wait_for(anext(stream), timeout_s)


async def wait_for(predicate: Any, timeout_s: float = 15) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.05)


def test_a_committed_tx_gives_an_sse_event_and_a_signed_webhook(node: Node) -> None:
    async def scenario() -> None:
        with receiver() as hooks:
            async with Client(node.url, node.identity(OPERATOR)) as client:
                chain_id = await client.chain_id()
                registered = await register(node, hooks.url)
                assert registered["org"] == "icbc-gz"
                stream = client.events(heartbeat_s=1)
                listening = asyncio.create_task(next_event(stream))
                await asyncio.sleep(0.3)  # the stream is open before the commit
                signed, status = await client.submit_and_wait("note.put", note("ev/1"))
                event = await listening
                assert event["type"] == EVENT_TYPE
                assert event["chain_id"] == chain_id
                assert event["kind"] == "tx.committed"
                assert event["tx_id"] == signed.tx_id
                assert event["height"] == status.height
                assert event["data"] == {"command": "note.put", "result": "valid", "code": None}
                await stream.aclose()

                await wait_for(lambda: hooks.bodies_for(event["event_id"]))
                headers, body = hooks.bodies_for(event["event_id"])[0]
                payload = orjson.loads(body)
                assert canonical.encode(payload) == body
                assert payload["type"] == WEBHOOK_TYPE
                assert payload["chain_id"] == chain_id
                assert payload["recipient"] == "icbc-gz"
                assert payload["event"] == event
                assert headers["estatechain-event-id"] == event["event_id"]
                signature = parse_signature_header(headers[SIGNATURE_HEADER.lower()])
                cert_der = base64.b64decode(headers["estatechain-certificate"])
                assert signature["alg"] == "ed25519"
                assert signature["keyid"] == x509.fingerprint(cert_der)
                node_signer = resolve_signer(node.consortium.genesis, cert_der)
                assert (node_signer.org_id, node_signer.role) == ("gz-registry", "node")
                suite = get_suite("ed25519-sha256")
                assert suite.verify(node_signer.public_key, body, base64.b64decode(signature["sig"]))
                assert not suite.verify(node_signer.public_key, body.replace(b"icbc-gz", b"ccb-gz"),
                                        base64.b64decode(signature["sig"]))

                log = await client.send(client.build_request(
                    "GET", "/v1/webhooks/deliveries", params={"event_id": event["event_id"]},
                    target=await client.target()))
                assert log["deliveries"][0]["outcome"] == "delivered"
                assert log["deliveries"][0]["http_status"] == 204

    asyncio.run(scenario())


def test_a_cursor_resumes_the_stream_with_exactly_the_missed_events(node: Node) -> None:
    async def scenario() -> None:
        async with Client(node.url, node.identity(OPERATOR)) as client:
            first, _ = await client.submit_and_wait("note.put", note("ev/a"))
            stream = client.events(after="0.0", heartbeat_s=1)
            seen = await next_event(stream)
            assert seen["tx_id"] == first.tx_id
            await stream.aclose()
            missed = [(await client.submit_and_wait("note.put", note(f"ev/{k}")))[0].tx_id for k in "bc"]
            resumed = client.events(after=seen["cursor"], heartbeat_s=1)
            replayed = [await next_event(resumed), await next_event(resumed)]
            assert [e["tx_id"] for e in replayed] == missed
            live = asyncio.create_task(next_event(resumed))
            latest, _ = await client.submit_and_wait("note.put", note("ev/d"))
            assert (await live)["tx_id"] == latest.tx_id
            again = client.events(after="0.0", heartbeat_s=1)
            ids = [(await next_event(again))["event_id"] for _ in range(4)]
            assert ids == [seen["event_id"], *(e["event_id"] for e in replayed), (await live)["event_id"]]
            await resumed.aclose()
            await again.aclose()
        async with Client(node.url, node.identity(OTHER_BANK)) as other:
            others = other.events(after="0.0", heartbeat_s=1)
            with pytest.raises(TimeoutError):
                await next_event(others, timeout_s=2.5)  # another bank sees none of icbc's events
            await others.aclose()

    asyncio.run(scenario())


def test_the_delivery_log_pages_after_a_cursor_with_every_attempt_once_and_in_order(node: Node) -> None:
    notes = 5

    async def log(client: Client, **params: int | str) -> dict[str, Any]:
        request = client.build_request("GET", "/v1/webhooks/deliveries", params=params,
                                       target=await client.target())
        answer: dict[str, Any] = await client.send(request)
        return answer

    async def scenario() -> None:
        with receiver() as hooks:
            async with Client(node.url, node.identity(OPERATOR)) as client:
                await register(node, hooks.url)
                for k in range(notes):
                    await client.submit_and_wait("note.put", note(f"page/{k}"))
                deadline = time.monotonic() + 15
                while len(newest := (await log(client, limit=1000))["deliveries"]) < notes:
                    assert time.monotonic() < deadline, f"only {len(newest)} deliveries were logged"
                    await asyncio.sleep(0.05)
                assert newest[0]["id"] > newest[-1]["id"]  # without a cursor: newest first, as before

                pages: list[dict[str, Any]] = []
                after: int | None = 0
                while after is not None:
                    pages.append(await log(client, limit=2, after=after))
                    after = pages[-1]["next_after"]
                    assert len(pages) <= notes, "next_after does not reach the end of the log"
                assert [len(p["deliveries"]) for p in pages] == [2, 2, 1]
                ids = [d["id"] for p in pages for d in p["deliveries"]]
                assert ids == sorted(d["id"] for d in newest)  # each attempt once, oldest first
                assert [p["next_after"] for p in pages] == [ids[1], ids[3], None]
                assert all(d["outcome"] == "delivered" for p in pages for d in p["deliveries"])

                tail = await log(client, limit=2, after=ids[-1])
                assert (tail["deliveries"], tail["next_after"]) == ([], None)
                one = newest[2]["event_id"]
                of_one = await log(client, limit=2, after=0, event_id=one)
                assert [d["event_id"] for d in of_one["deliveries"]] == [one]
                with pytest.raises(ServerError) as bad:
                    await log(client, after=-1)
                assert (bad.value.status, bad.value.code) == (422, "VALIDATION_FAILED")
                assert "query.after" in bad.value.detail

    asyncio.run(scenario())


def test_only_the_org_admin_sets_or_removes_the_webhook_and_after_removal_nothing_is_sent(node: Node) -> None:
    async def scenario() -> None:
        with receiver() as hooks, receiver() as elsewhere:
            for handle in (OPERATOR, "icbc-gz/approver1"):  # a clerk or approver cannot redirect the org's events
                with pytest.raises(ServerError) as refused:
                    await webhooks(node, handle, "POST", elsewhere.url)
                assert (refused.value.status, refused.value.code) == (403, "FORBIDDEN")
            registered = await register(node, hooks.url)
            assert (registered["org"], registered["url"]) == ("icbc-gz", hooks.url)
            assert (await webhooks(node, OPERATOR, "GET"))["url"] == hooks.url  # staff may read it
            for handle in (OPERATOR, "icbc-gz/approver1"):  # nor silence them
                with pytest.raises(ServerError) as refused:
                    await webhooks(node, handle, "DELETE")
                assert (refused.value.status, refused.value.code) == (403, "FORBIDDEN")

            async with Client(node.url, node.identity(OPERATOR)) as client:
                signed, _ = await client.submit_and_wait("note.put", note("hook/kept"))
                await wait_for(lambda: any(orjson.loads(b)["event"]["tx_id"] == signed.tx_id
                                           for _, b in hooks.received))
                removed = await webhooks(node, ADMIN, "DELETE")
                assert (removed["org"], removed["url"], removed["dropped"]) == ("icbc-gz", hooks.url, 0)
                with pytest.raises(ServerError) as gone:
                    await webhooks(node, OPERATOR, "GET")
                assert gone.value.status == 404
                with pytest.raises(ServerError) as again:
                    await webhooks(node, ADMIN, "DELETE")
                assert again.value.status == 404
                before = len(hooks.received)
                later, _ = await client.submit_and_wait("note.put", note("hook/after-removal"))
                stream = client.events(after="0.0", heartbeat_s=1)  # the event is still in the ledger
                assert (await next_event(stream))["tx_id"] == signed.tx_id
                assert (await next_event(stream))["tx_id"] == later.tx_id
                await stream.aclose()
                await asyncio.sleep(1.0)
                assert len(hooks.received) == before, "an event was POSTed after the webhook was removed"
            assert elsewhere.received == []

    asyncio.run(scenario())
