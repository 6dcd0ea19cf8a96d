"""A lost NATS connection is logged once when lost, once a minute while it lasts, once when back; no traceback."""

from __future__ import annotations

import asyncio
import logging
import re

import nats.errors
import pytest

from estatechain.ordering.connection import ConnectionWatch


class _Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "estatechain.ordering.connection"]


def test_three_minutes_of_failed_reconnects_make_four_lines_without_a_traceback(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    clock = _Clock()
    watch = ConnectionWatch("nats://a:4222, nats://b:4222", waiting_s=60, clock=clock)
    watch.up()

    async def outage() -> None:
        await watch.on_error(nats.errors.UnexpectedEOF())
        await watch.on_disconnected()
        for _ in range(1800):  # ten attempts a second, as nats-py makes them against three closed ports
            clock.now += 0.1
            await watch.on_error(ConnectionRefusedError(111, "Connect call failed"))
        await watch.on_reconnected()

    asyncio.run(outage())
    lines = _lines(caplog)
    assert lines[0].startswith("lost the connection to the NATS cluster (nats://a:4222, nats://b:4222): UnexpectedEOF")
    assert [line.split(" (")[0] for line in lines[1:-1]] == ["still no connection to the NATS cluster"] * 2
    assert "ConnectionRefusedError" in lines[1]
    assert re.search(r"\(\d{3} more in the last 60 s, 60 s since it began\)$", lines[1]), lines[1]
    assert lines[-1] == "the connection to the NATS cluster is back after 180 s"
    assert len(lines) == 4
    assert not any(r.exc_info for r in caplog.records)
    assert watch.connected


def test_a_first_connection_that_fails_is_said_once_and_our_own_close_is_not_a_loss(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    clock = _Clock()
    watch = ConnectionWatch("nats://a:4222", waiting_s=60, clock=clock)

    async def start_then_close() -> None:
        for _ in range(500):
            clock.now += 0.1
            await watch.on_error(ConnectionRefusedError(111, "Connect call failed"))
        watch.up()
        watch.closing()
        await watch.on_disconnected()

    asyncio.run(start_then_close())
    lines = _lines(caplog)
    assert lines == [("no NATS server of nats://a:4222 answers yet (ConnectionRefusedError: [Errno 111] Connect call "
                      "failed); retrying for up to 60 s")]
    assert watch.connected  # our own close is neither logged nor counted as a loss
