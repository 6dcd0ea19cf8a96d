"""The SDK against a real node, as a bank's engineer found it: threads, a stale cursor, a short timeout.

How the SDK reports a node that pauses or dies mid-stream is in tests/unit/sdk/test_client_failures.py
(the node's transport errors are played there); here the node's own answers are checked.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import httpx
import pytest
from running_node import RunningNode, node_fixture  # noqa: F401  (the `node` fixture)

from estatechain.canonical import JSONValue
from estatechain.sdk import Client, Refused, SyncClient

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


def test_a_cursor_beyond_the_nodes_head_is_refused_naming_the_head(node: RunningNode) -> None:
    """``after="99999.0"`` (kept from another network) streamed nothing, silently."""
    with SyncClient(node.url, node.identity(OPERATOR)) as client, \
            client.events(after="99999.0", heartbeat_s=1) as stream:
        silence = threading.Timer(5, stream.stop)  # a silent stream ends here, failing the test, not hanging it
        silence.start()
        with pytest.raises(Refused) as caught:
            next(stream)
        silence.cancel()
    head = caught.value.detail["head"]
    assert caught.value.code == "INVALID_INPUT"
    assert caught.value.detail == {"field": "after", "head": head}
    assert f"cursor 99999.0 is beyond this node's last block (height {head})" in caught.value.message


def test_a_stream_of_new_events_names_where_it_begins(node: RunningNode) -> None:
    """The ``id:`` a client resumes from when it must reconnect before any event came (an overflow)."""
    with SyncClient(node.url, node.identity(OPERATOR)) as sync:
        sync.submit_and_wait("note.put", NOTE)
        height = sync.head().header.height
    client = Client(node.url, node.identity(OPERATOR), chain_id=node.chain_id)
    request = client.build_request("GET", "/v1/events", params={"heartbeat": 1}, target=node.target)
    with httpx.Client(timeout=10) as http, http.stream("GET", request.url, headers=request.headers) as response:
        lines = []
        for line in response.iter_lines():
            lines.append(line)
            if line == "":
                break
    assert lines == ["retry: 2000", f"id: {height}.999999999", ": connected", ""]


def test_a_waiting_submit_with_a_short_client_timeout_waits_for_the_commit(node: RunningNode) -> None:
    """``timeout_s=0.05`` with ``wait_s`` was 'cannot reach the node: ' although the tx committed."""
    with SyncClient(node.url, node.identity(OPERATOR), chain_id=node.chain_id, node_org=node.org_id,
                    timeout_s=0.05) as client:
        signed = client.sign("note.put", NOTE)
        time.sleep(0.1)
        status = client.submit(signed.envelope, wait_s=10)
    assert status.committed, status
    assert status.tx_id == signed.tx_id
