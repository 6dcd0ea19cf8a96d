"""The node's audit logs cannot be turned into a flood: bounded lines for refusals, fsyncs off the event loop.

A real node (uvicorn on loopback, in a thread) on a ``FixedClock``, so no token comes back during a
test: a client flooding the public certificate check past its limit, and a member's node asking for
materials it may not have past its org's budget of refusals. What an operator or a court's expert
reads afterwards is the node's own log files (``certificates/lookups.jsonl``,
``materials/fetches.jsonl``), after the node stopped (which writes the counts still open).
"""

from __future__ import annotations

import asyncio
import errno
import hashlib
import logging
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import httpx
import orjson
import pytest

from estatechain import durable
from estatechain.clock import FixedClock, SystemClock
from estatechain.identity.devca import create_dev_consortium
from estatechain.node.outbox import WebhookKey
from estatechain.node.peers import FETCH_LOG
from estatechain.node.settings import Settings
from estatechain.sdk import Client, ClientIdentity, RequestTarget
from estatechain.storage.store import LedgerStore
from estatechain.testing.serving import served

PDF: Final = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
NUMBER: Final = "NO-SUCH-CERTIFICATE-1"
LOOKUPS: Final = 60
"""The public check's burst (``LookupGate``'s default): with the clock standing still, the 61st is refused."""
BUDGET: Final = 3
"""The peer orgs' budget of refused material requests in these tests (``Settings.peer_refusal_burst``)."""


@dataclass(frozen=True, slots=True)
class Node:
    url: str
    ledger_dir: Path
    directory: Path
    chain_id: str
    org_id: str

    def identity(self, handle: str) -> ClientIdentity:
        """A user's identity, or (``<org>/node``) an org node's."""
        if handle.endswith("/node"):
            return WebhookKey.from_dev(self.directory, handle).client_identity()
        return ClientIdentity.from_dev(self.directory, handle)

    def records(self, relative: str) -> list[dict[str, Any]]:
        """The JSON lines of the log ``relative`` to the node's folder."""
        return [orjson.loads(line) for line in (self.ledger_dir / relative).read_bytes().splitlines()]


@contextmanager
def fixed_clock_node(tmp_path: Path) -> Iterator[Node]:
    """A node whose clock stands still; its logs are complete once the ``with`` block ends (the node stopped)."""
    now = SystemClock().now_ms()
    consortium = create_dev_consortium(tmp_path / "net", now_ms=now)
    ledger_dir = tmp_path / "ledger"
    LedgerStore.create(ledger_dir, consortium.genesis).close()
    settings = Settings(ledger_dir=ledger_dir, port=0, clock_skew_s=300, peer_refusal_burst=BUDGET,
                        peer_refusals_per_minute=1)
    with served(settings, clock=FixedClock(now)) as url:
        org_id = str(httpx.get(f"{url}/v1/health", timeout=10).json()["org_id"])
        yield Node(url=url, ledger_dir=ledger_dir, directory=tmp_path / "net", chain_id=consortium.genesis.chain_id,
                   org_id=org_id)


async def _signed(node: Node, handle: str, method: str, paths: list[str], content: bytes | None = None,
                  ) -> list[httpx.Response]:
    """``method`` each of ``paths`` in turn, signed by ``handle``."""
    target = RequestTarget(chain_id=node.chain_id, node_org=node.org_id)
    async with Client(node.url, node.identity(handle), chain_id=node.chain_id) as client:
        answers = []
        for path in paths:
            request = client.build_request(method, path, content=content, target=target,
                                           content_type="application/octet-stream")
            answers.append(await client._http.send(request))  # the raw answer: status and headers
        return answers


def test_a_flood_of_refused_lookups_costs_two_lines_whose_counts_add_up(tmp_path: Path) -> None:
    flood = 200
    with fixed_clock_node(tmp_path) as node, httpx.Client(base_url=node.url, timeout=30) as http:
        statuses = [http.get("/v1/certificates/verify", params={"number": NUMBER}).status_code
                    for _ in range(LOOKUPS + flood)]
    assert statuses == [404] * LOOKUPS + [429] * flood
    lines = node.records("certificates/lookups.jsonl")
    assert [line["outcome"] for line in lines[:LOOKUPS]] == ["NOT_FOUND"] * LOOKUPS  # each answer on its own line
    limited = lines[LOOKUPS:]
    assert len(limited) == 2  # the first refusal, then one line counting the rest of the minute
    first, summary = limited
    assert (first["outcome"], first["number"], "count" in first) == ("RATE_LIMITED", NUMBER, False)
    assert (summary["outcome"], summary["client"], summary["kind"], summary["number"]) == (
        "RATE_LIMITED", "127.0.0.1", "status", None)
    assert 1 + summary["count"] == flood  # every refusal is on a line or in a count
    assert summary["from_ms"] == first["at_ms"] <= summary["to_ms"]


def test_a_peer_org_past_its_refusal_budget_gets_429_and_is_still_served_what_it_may_read(tmp_path: Path) -> None:
    missing = [f"/v1/materials/{n:064x}" for n in range(1, BUDGET + 6)]
    sha256 = hashlib.sha256(PDF).hexdigest()
    with fixed_clock_node(tmp_path) as node:
        [uploaded] = asyncio.run(_signed(node, "icbc-gz/operator1", "POST", ["/v1/materials"], PDF))
        assert uploaded.status_code == 201, uploaded.text
        asked = asyncio.run(_signed(node, "gz-registry/node", "GET", [*missing, f"/v1/materials/{sha256}"]))
        other_bank = asyncio.run(_signed(node, "ccb-gz/node", "GET", [f"/v1/materials/{sha256}"] * (BUDGET + 1)))
    refused, limited, served_ = asked[:BUDGET], asked[BUDGET:-1], asked[-1]
    assert [a.status_code for a in refused] == [404] * BUDGET  # the registry's node may read all: not held here
    assert {a.status_code for a in limited} == {429}
    assert {a.headers["retry-after"] for a in limited} == {"60"}  # one refusal a minute comes back
    problem = limited[0].json()
    assert problem["error"] == "RATE_LIMITED"
    assert "ask again in 60 s" in problem["message"]
    assert problem["detail"] == {"org": "gz-registry", "retry_after_s": "60"}
    assert (served_.status_code, served_.content) == (200, PDF)  # the budget never holds back what it may read
    assert [a.status_code for a in other_bank] == [403] * BUDGET + [429]  # a budget per org
    answered = [r for r in node.records(f"materials/{FETCH_LOG}") if r["to_org"] == "gz-registry"]
    # the first refusal past the budget on its own line; the rest counted, written when the node stopped
    assert [r["outcome"] for r in answered] == ["not_held"] * BUDGET + ["rate_limited", "served", "rate_limited"]
    first, summary = answered[BUDGET], answered[-1]
    assert first["sha256"] == missing[BUDGET].rsplit("/", 1)[1]
    assert (summary["sha256"], summary["node"], summary["count"]) == (None, None, len(limited) - 1)


def test_audit_lines_are_written_and_fsynced_off_the_event_loop(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    writes: list[tuple[str, bool]] = []
    write_synced = durable._write_synced  # the file write a test double stands in for

    def watched(path: Path, flags: int, mode: int, data: bytes) -> None:
        if path.suffix == ".jsonl":
            try:
                asyncio.get_running_loop()
            except RuntimeError:
                on_loop = False
            else:
                on_loop = True
            writes.append((path.name, on_loop))
        write_synced(path, flags, mode, data)

    monkeypatch.setattr(durable, "_write_synced", watched)
    with fixed_clock_node(tmp_path) as node:
        assert httpx.get(f"{node.url}/v1/certificates/verify", params={"number": NUMBER}, timeout=30).status_code == 404
        [refused] = asyncio.run(_signed(node, "ccb-gz/node", "GET", [f"/v1/materials/{'0' * 64}"]))
        assert refused.status_code == 403
    assert writes == [("lookups.jsonl", False), (FETCH_LOG, False)]  # in a worker thread, never on the loop


@pytest.mark.parametrize("full", ["certificates/lookups.jsonl", f"materials/{FETCH_LOG}"])
def test_a_node_whose_audit_log_cannot_be_written_at_stop_still_stops_and_releases_its_ledger(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, full: str,
) -> None:
    disk_full = threading.Event()
    write_synced = durable._write_synced  # the file write a test double stands in for

    def write(path: Path, flags: int, mode: int, data: bytes) -> None:
        if disk_full.is_set() and path.as_posix().endswith(full):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))
        write_synced(path, flags, mode, data)

    monkeypatch.setattr(durable, "_write_synced", write)
    with caplog.at_level(logging.ERROR), fixed_clock_node(tmp_path) as node:
        with httpx.Client(base_url=node.url, timeout=30) as http:  # refusals counted, to be written at stop
            for _ in range(LOOKUPS + 3):
                http.get("/v1/certificates/verify", params={"number": NUMBER})
        asyncio.run(_signed(node, "ccb-gz/node", "GET", [f"/v1/materials/{'0' * 64}"] * (BUDGET + 3)))
        disk_full.set()  # then the disk fills up, and the node is stopped
    LedgerStore.open(node.ledger_dir).close()  # the ledger was closed: its writer lock is free for the next start
    assert any(str(node.ledger_dir / full) in r.getMessage() and r.exc_info and "stopping" in r.getMessage()
               for r in caplog.records)  # the operator is told which log lacks its last counts
