"""The SDK against a real node, as a bank's engineer found it: a stream read in one thread, calls in another."""

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
