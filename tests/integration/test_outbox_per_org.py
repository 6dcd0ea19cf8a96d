"""Webhooks per org, over real loopback HTTP: a dead receiver delays only its own org; an org's events come in order;
finished events and attempts leave ``outbox.sqlite`` after its retention, waiting ones never do.

Each test runs the outbox's delivery loop against receivers on 127.0.0.1 with short timeouts (set
through the outbox's own configuration), and looks at what each bank's receiver stored and when.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import orjson
import pytest

from estatechain.clock import FixedClock, SystemClock
from estatechain.identity.devca import create_dev_consortium
from estatechain.node.events import Event
from estatechain.node.outbox import DAY_MS, Outbox, WebhookKey

CHAIN_ID = "ab" * 32
DEAD_ORG = "ccb-gz"
HEALTHY_ORG = "icbc-gz"
TIMEOUT_S = 3.0
"""Each attempt's deadline: a dead receiver costs this much per attempt."""


def event(height: int, index: int, org: str) -> Event:
    return Event(event_id=f"{height:032x}{index:032x}", chain_id=CHAIN_ID, height=height, index=index, seq=height,
                 tx_id="cd" * 32, time_ms=1_767_225_600_000, kind="application.status_changed",
                 subject=f"application/{org}", data={"state": f"s{height}"}, orgs=frozenset({org}))


@dataclass
class Stored:
    """What a bank's receiver stored: each accepted event's cursor with the monotonic time it came."""

    cursors: list[tuple[str, float]] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def got(self) -> list[str]:
        with self.lock:
            return [c for c, _ in self.cursors]


class _Server(ThreadingHTTPServer):
    daemon_threads = True


@contextmanager
def bank_receiver(refuse_first: frozenset[str] = frozenset()) -> Iterator[tuple[str, Stored]]:
    """A receiver that stores each event (204); the first delivery of a cursor in ``refuse_first`` gets 503."""
    stored = Stored()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            cursor = str(orjson.loads(self.rfile.read(int(self.headers["content-length"])))["event"]["cursor"])
            with stored.lock:
                refuse = cursor in refuse_first and cursor not in stored.refused
                if refuse:
                    stored.refused.append(cursor)
                else:
                    stored.cursors.append((cursor, time.monotonic()))
            self.send_response(503 if refuse else 204)
            self.end_headers()

        def log_message(self, *_: Any) -> None:
            pass

    server = _Server(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hook", stored
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def dead_receiver() -> Iterator[str]:
    """An endpoint that accepts connections and never answers (nor closes them)."""
    listener = socket.create_server(("127.0.0.1", 0), backlog=64)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            with contextlib.suppress(TimeoutError, OSError):
                held.append(listener.accept()[0])

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}/hook"
    finally:
        stop.set()
        thread.join(timeout=5)
        for connection in held:
            connection.close()
        listener.close()


def outbox(tmp_path: Path, *, timeout_s: float, base_s: float, max_backoff_s: float) -> Outbox:
    consortium = tmp_path / "net"
    create_dev_consortium(consortium, now_ms=SystemClock().now_ms())
    return Outbox(tmp_path / "outbox.sqlite", key=WebhookKey.from_dev(consortium, "gz-registry/node"),
                  clock=SystemClock(), initial_height=0, timeout_s=timeout_s, base_s=base_s,
                  max_backoff_s=max_backoff_s)


async def wait_until(predicate: Any, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.02)
    return True


@pytest.mark.timeout(30)
def test_a_dead_webhook_of_one_bank_does_not_delay_another_banks_webhook(tmp_path: Path) -> None:
    box = outbox(tmp_path, timeout_s=TIMEOUT_S, base_s=0.5, max_backoff_s=1.0)

    async def scenario() -> None:
        with dead_receiver() as dead_url, bank_receiver() as (healthy_url, healthy):
            box.register(DEAD_ORG, dead_url)
            box.register(HEALTHY_ORG, healthy_url)
            for height in range(1, 25):  # the dead bank's backlog: 24 events, all older than the other's
                box.enqueue(height, [event(height, 0, DEAD_ORG)])
            box.enqueue(25, [event(25, 0, HEALTHY_ORG)])
            started = time.monotonic()
            delivery = asyncio.create_task(box.run())
            try:
                arrived = await wait_until(healthy.got, timeout_s=2 * TIMEOUT_S)
                waited = time.monotonic() - started
                await wait_until(lambda: box.deliveries(DEAD_ORG), timeout_s=2 * TIMEOUT_S)  # its first attempt ends
            finally:
                delivery.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await delivery
            assert arrived, f"the healthy bank's event had not arrived after {waited:.1f} s"
            assert healthy.got() == ["25.0"]
            assert waited < TIMEOUT_S / 2, f"the healthy bank waited {waited:.1f} s behind the dead one"

    try:
        asyncio.run(scenario())
        assert box.pending_count(HEALTHY_ORG) == 0
        assert box.pending_count(DEAD_ORG) == 24  # still owed, to be retried with back-off
        tried = {d.event_id for d in box.deliveries(DEAD_ORG, limit=100)}
        assert tried == {event(1, 0, DEAD_ORG).event_id}  # its oldest first: the others wait behind it
        removed = box.remove(DEAD_ORG)  # the bank gives up its webhook: what still waits is dropped
        assert removed is not None
        assert (removed[0].org, removed[1]) == (DEAD_ORG, 24)
        assert (box.webhook(DEAD_ORG), box.pending_count(DEAD_ORG), box.remove(DEAD_ORG)) == (None, 0, None)
    finally:
        box.close()


@pytest.mark.timeout(30)
def test_a_retried_event_reaches_the_bank_before_the_events_after_it(
    tmp_path: Path, caplog: pytest.LogCaptureFixture,
) -> None:
    """Also: the failed attempt is a WARNING in the node's log (which shows warnings by default), naming the org."""
    caplog.set_level(logging.WARNING, logger="estatechain.outbox")
    box = outbox(tmp_path, timeout_s=TIMEOUT_S, base_s=0.3, max_backoff_s=1.0)

    async def scenario() -> list[str]:
        with bank_receiver(refuse_first=frozenset({"13.0"})) as (url, bank):
            box.register(HEALTHY_ORG, url)
            for height in (13, 14, 15):
                box.enqueue(height, [event(height, 0, HEALTHY_ORG)])
            delivery = asyncio.create_task(box.run())
            try:
                done = await wait_until(lambda: len(bank.got()) == 3, timeout_s=10)
            finally:
                delivery.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await delivery
            assert done, f"the bank stored only {bank.got()}"
            assert bank.refused == ["13.0"]
            return bank.got()

    try:
        assert asyncio.run(scenario()) == ["13.0", "14.0", "15.0"]
        assert box.pending_count(HEALTHY_ORG) == 0
        failed = [r for r in caplog.records if r.name == "estatechain.outbox" and "failed" in r.getMessage()]
        assert [r.levelno for r in failed] == [logging.WARNING], [r.getMessage() for r in failed]
        assert f"to {HEALTHY_ORG} failed (attempt 1 of " in failed[0].getMessage()
        assert "HTTP 503" in failed[0].getMessage()
    finally:
        box.close()


@pytest.mark.timeout(30)
def test_registering_the_webhook_again_retries_waiting_events_at_once(tmp_path: Path) -> None:
    box = outbox(tmp_path, timeout_s=0.5, base_s=60.0, max_backoff_s=60.0)

    async def scenario() -> None:
        with dead_receiver() as dead_url, bank_receiver() as (url, bank):
            box.register(HEALTHY_ORG, dead_url)
            box.enqueue(1, [event(1, 0, HEALTHY_ORG)])
            delivery = asyncio.create_task(box.run())
            try:
                assert await wait_until(lambda: box.deliveries(HEALTHY_ORG), timeout_s=5)  # failed: back off 60 s
                box.register(HEALTHY_ORG, url)  # the bank fixed its endpoint
                arrived = await wait_until(bank.got, timeout_s=3)
            finally:
                delivery.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await delivery
            assert arrived, "the event waited out the back-off its dead endpoint earned"
            assert bank.got() == ["1.0"]

    try:
        asyncio.run(scenario())
    finally:
        box.close()


RETENTION_DAYS = 30


def test_finished_events_and_attempts_older_than_the_retention_go_while_waiting_events_stay(tmp_path: Path) -> None:
    consortium = tmp_path / "net"
    create_dev_consortium(consortium, now_ms=SystemClock().now_ms())
    clock = FixedClock(1_767_225_600_000)
    box = Outbox(tmp_path / "outbox.sqlite", key=WebhookKey.from_dev(consortium, "gz-registry/node"), clock=clock,
                 initial_height=0, timeout_s=2.0, base_s=3600.0, max_backoff_s=3600.0, retention_days=RETENTION_DAYS)

    async def deliver(url: str) -> None:
        box.register(HEALTHY_ORG, url)
        box.register(DEAD_ORG, "http://127.0.0.1:9/hook")  # nothing listens on the discard port: refused at once
        for height in (1, 2, 3):
            box.enqueue(height, [event(height, 0, HEALTHY_ORG), event(height, 1, DEAD_ORG)])
        delivery = asyncio.create_task(box.run())
        try:
            assert await wait_until(lambda: box.pending_count(HEALTHY_ORG) == 0 and box.deliveries(DEAD_ORG), 20)
        finally:
            delivery.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await delivery

    with bank_receiver() as (url, stored):
        asyncio.run(deliver(url))
    assert len(stored.got()) == 3
    assert len(box.deliveries(HEALTHY_ORG)) == 3

    clock.advance(RETENTION_DAYS * DAY_MS - 60_000)
    assert box.trim() == (0, 0)  # a minute short of the retention: everything stays
    clock.advance(120_000)
    removed_rows, removed_attempts = box.trim()
    assert removed_rows == 3  # (the healthy bank's delivered events)
    assert removed_attempts == 4  # (three deliveries and the dead bank's one failed attempt)
    assert box.deliveries(HEALTHY_ORG) == []
    assert box.pending_count(DEAD_ORG) == 3  # (still waiting: never trimmed, whatever its age)
    assert box.pending_count() == 3
    box.close()


def test_the_delivery_loop_trims_when_it_starts(tmp_path: Path) -> None:
    consortium = tmp_path / "net"
    create_dev_consortium(consortium, now_ms=SystemClock().now_ms())
    clock = FixedClock(1_767_225_600_000)
    path = tmp_path / "outbox.sqlite"
    key = WebhookKey.from_dev(consortium, "gz-registry/node")
    box = Outbox(path, key=key, clock=clock, initial_height=0, timeout_s=2.0, retention_days=RETENTION_DAYS)

    async def run_briefly(until: object) -> None:
        delivery = asyncio.create_task(box.run())
        try:
            assert await wait_until(until, 20)
        finally:
            delivery.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await delivery

    async def scenario(url: str) -> None:
        box.register(HEALTHY_ORG, url)
        box.enqueue(1, [event(1, 0, HEALTHY_ORG)])
        await run_briefly(lambda: box.pending_count() == 0)
        assert len(box.deliveries(HEALTHY_ORG)) == 1
        clock.advance((RETENTION_DAYS + 1) * DAY_MS)  # the node was down a month; the loop starts again
        await run_briefly(lambda: box.deliveries(HEALTHY_ORG) == [])

    with bank_receiver() as (url, _stored):
        asyncio.run(scenario(url))
    box.close()
