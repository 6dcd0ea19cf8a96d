"""Kill -9 the node during webhook delivery: after restarts every event is delivered, at least once, same id.

The node (API, pipeline, event hub, outbox) runs in a child process: ``python test_outbox.py child ROOT``
(it writes its port to ``ROOT/port``). The parent holds the webhook receiver, which answers slowly so
deliveries are always in flight, submits transactions, and SIGKILLs the child at random moments a few
times. Afterwards the events the ledger itself yields for the subscribed org are the expectation:
each must have reached the receiver with the same event id (duplicates are allowed and expected).
"""

from __future__ import annotations

import asyncio
import secrets
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import orjson
import pytest

from estatechain import canonical
from estatechain.clock import SystemClock
from estatechain.identity.devca import create_dev_consortium
from estatechain.node.events import Cursor, EventSource
from estatechain.sdk import Client, ClientIdentity
from estatechain.sdk.errors import SdkError
from estatechain.storage.store import LedgerStore

OPERATOR = "icbc-gz/operator1"
ADMIN = "icbc-gz/org-admin"  # sets the org's webhook
ORG = "icbc-gz"
KILLS = 4


def child(root: Path) -> None:
    """Serve the node of ``root/ledger`` on a free port; write the port to ``root/port``."""
    from estatechain.api.server import NodeServer  # noqa: PLC0415  (child process only)
    from estatechain.node.bootstrap import build_node  # noqa: PLC0415
    from estatechain.node.outbox import WebhookKey  # noqa: PLC0415
    from estatechain.node.settings import Settings  # noqa: PLC0415

    key = WebhookKey.from_dev(root / "net", "gz-registry/node")
    service = build_node(Settings(ledger_dir=root / "ledger", port=0), webhook_key=key)
    server = NodeServer(service, log_level="error")

    def announce(started: NodeServer) -> None:
        (root / "port.tmp").write_text(str(started.port))
        (root / "port.tmp").replace(root / "port")

    asyncio.run(server.serve(on_started=announce))


class _Server(ThreadingHTTPServer):
    request_queue_size = 128  # the default backlog of 5 drops concurrent SYNs: clients stall 1 s on retry
    daemon_threads = True


@contextmanager
def receiver(received: list[str], inflight: list[int]) -> Iterator[str]:
    """Records event ids; ``inflight[0]`` counts requests being answered (slowly, so kills land mid-POST)."""
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            with lock:
                inflight[0] += 1
            try:
                body = self.rfile.read(int(self.headers["content-length"]))
                time.sleep(0.05 + secrets.randbelow(100) / 1000)  # a slow receiver: deliveries stay in flight
                with lock:
                    received.append(str(orjson.loads(body)["event"]["event_id"]))
                self.send_response(200)
                self.end_headers()
            finally:
                with lock:
                    inflight[0] -= 1

        def log_message(self, *_: Any) -> None:
            pass

    server = _Server(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hook"
    finally:
        server.shutdown()
        server.server_close()


def start(root: Path) -> tuple[subprocess.Popen[bytes], str]:
    (root / "port").unlink(missing_ok=True)
    process = subprocess.Popen([sys.executable, __file__, "child", str(root)], start_new_session=True)
    deadline = time.monotonic() + 20
    while not (root / "port").exists():
        assert process.poll() is None, "the node child died on start-up"
        assert time.monotonic() < deadline, "the node child did not start"
        time.sleep(0.02)
    return process, f"http://127.0.0.1:{(root / 'port').read_text()}"


async def submit_some(url: str, identity: ClientIdentity, run: int, count: int) -> None:
    """Submit ``count`` notes without waiting; failures (the node was killed) are fine."""
    try:
        async with Client(url, identity, timeout_s=3) as client:
            for n in range(count):
                signed = await client.sign("note.put", {"data": {"n": n}, "key": f"ob/{run}/{n}"})
                await client.submit(signed.envelope)
    except SdkError:
        pass


def ledger_event_ids(root: Path) -> list[str]:
    store = LedgerStore.open(root / "ledger", readonly=True)
    try:
        return [e.event_id for e in EventSource(store.connection, store.genesis).events_after(Cursor(0, -1), org=ORG)]
    finally:
        store.close()


@pytest.mark.timeout(120)
def test_kill_9_during_webhook_delivery_loses_no_event(tmp_path: Path) -> None:
    consortium = create_dev_consortium(tmp_path / "net", now_ms=SystemClock().now_ms())
    LedgerStore.create(tmp_path / "ledger", consortium.genesis).close()
    identity = ClientIdentity.from_dev(tmp_path / "net", OPERATOR)
    received: list[str] = []
    inflight = [0]
    with receiver(received, inflight) as hook_url:
        process, url = start(tmp_path)
        try:
            async def register() -> None:
                async with Client(url, ClientIdentity.from_dev(tmp_path / "net", ADMIN)) as client:
                    request = client.build_request("POST", "/v1/webhooks", content=canonical.encode({"url": hook_url}),
                                                   target=await client.target())
                    await client.send(request)

            asyncio.run(register())
            kills_during_delivery = 0
            for run in range(KILLS):
                before = len(received)
                asyncio.run(submit_some(url, identity, run, 30))
                deadline = time.monotonic() + 10
                while len(received) == before and time.monotonic() < deadline:  # this round's deliveries began
                    time.sleep(0.01)
                time.sleep(secrets.randbelow(400) / 1000)  # a random moment of the delivery
                kills_during_delivery += inflight[0] > 0
                process.send_signal(signal.SIGKILL)
                process.wait(timeout=10)
                process, url = start(tmp_path)
            asyncio.run(submit_some(url, identity, KILLS, 10))
            deadline = time.monotonic() + 30
            expected = set(ledger_event_ids(tmp_path))
            while not expected <= set(received):
                assert time.monotonic() < deadline, (
                    f"{len(expected - set(received))} of {len(expected)} events never delivered")
                time.sleep(0.2)
                expected = set(ledger_event_ids(tmp_path))
        finally:
            process.send_signal(signal.SIGKILL)
            process.wait(timeout=10)
    assert len(expected) >= 10
    print(f"{len(expected)} events, {len(received)} deliveries received, {len(received) - len(set(received))} "  # noqa: T201
          f"repeated after {kills_during_delivery} of {KILLS} kills with a POST in flight")
    assert set(received) <= expected  # nothing delivered that the ledger does not yield
    assert kills_during_delivery >= 1


if __name__ == "__main__" and sys.argv[1:2] == ["child"]:
    child(Path(sys.argv[2]))
