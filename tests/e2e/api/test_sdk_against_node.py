"""The SDK against a real node, as a bank's engineer found it: threads, a short timeout."""

from __future__ import annotations

import threading
import time
from typing import Any

from running_node import RunningNode, node_fixture  # noqa: F401  (the `node` fixture)

from estatechain.canonical import JSONValue
from estatechain.sdk import SyncClient

OPERATOR = "icbc-gz/operator1"
NOTE: dict[str, JSONValue] = {"data": {"n": 1}, "if_absent": False, "key": "sdk-threads"}


def test_a_thread_reads_events_while_the_main_thread_submits_and_waits(node: RunningNode) -> None:
    """The engineer's case: this was ``RuntimeError: This event loop is already running``."""
    with SyncClient(node.url, node.identity(OPERATOR)) as client:
        stream = client.events(heartbeat_s=1)
        seen: list[dict[str, Any]] = []
        arrived = threading.Event()

        def read() -> None:
            for event in stream:
                seen.append(event)
                arrived.set()

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        time.sleep(0.3)  # the reader waits inside the stream
        signed, status = client.submit_and_wait("note.put", NOTE)
        assert arrived.wait(10), "the reader saw no event of the committed transaction"
        stream.stop()
        reader.join(timeout=5)
        assert not reader.is_alive()
    assert status.valid, (status.code, status.message)
    assert [(e["kind"], e["tx_id"]) for e in seen][:1] == [("tx.committed", signed.tx_id)]


def test_a_waiting_submit_with_a_short_client_timeout_waits_for_the_commit(node: RunningNode) -> None:
    """``timeout_s=0.05`` with ``wait_s`` was 'cannot reach the node: ' although the tx committed."""
    with SyncClient(node.url, node.identity(OPERATOR), chain_id=node.chain_id, node_org=node.org_id,
                    timeout_s=0.05) as client:
        signed = client.sign("note.put", NOTE)
        time.sleep(0.1)
        status = client.submit(signed.envelope, wait_s=10)
    assert status.committed, status
    assert status.tx_id == signed.tx_id
