"""Refusals in the node's audit logs (``audit_log.AuditLog``): a bounded number of lines, every refusal counted."""

from __future__ import annotations

import asyncio
import errno
import logging
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import orjson
import pytest

from estatechain import durable
from estatechain.audit_log import AuditLog
from estatechain.certificates.lookups import LookupGate
from estatechain.clock import FixedClock

START_MS = 1_767_484_800_000


def lines(path: Path) -> list[dict[str, Any]]:
    return [orjson.loads(line) for line in path.read_bytes().splitlines()]


def refusals(logged: list[dict[str, Any]], outcome: str) -> int:
    """Every refusal the log accounts for: a line each, plus the count of a summary line."""
    return sum(line.get("count", 1) for line in logged if line["outcome"] == outcome)


def test_a_client_flooding_for_minutes_costs_two_lines_a_minute_and_every_refusal_is_counted(tmp_path: Path) -> None:
    clock, path = FixedClock(START_MS), tmp_path / "lookups.jsonl"
    gate = LookupGate(clock=clock, log_path=path, per_minute=60, burst=60)

    async def flood() -> tuple[int, int]:
        answered = refused = 0
        for _ in range(3_000):  # 20 a second for 150 s: a token comes back every second
            clock.advance(50)
            if gate.admit("10.0.0.9"):
                answered += 1
                await gate.record(client="10.0.0.9", kind="status", number="N-1", outcome="VALID")
            else:
                refused += 1
                await gate.rate_limited(client="10.0.0.9", kind="status", number="N-1", outcome="RATE_LIMITED")
        await gate.close()
        return answered, refused

    answered, refused = asyncio.run(flood())
    logged = lines(path)
    assert refused > 2_500
    assert sum(line["outcome"] == "VALID" for line in logged) == answered  # an answer is never merely counted
    limited = [line for line in logged if line["outcome"] == "RATE_LIMITED"]
    assert len(limited) <= 2 * 3  # two lines for each minute begun, however fast the client asks
    assert refusals(logged, "RATE_LIMITED") == refused
    summaries = [line for line in limited if "count" in line]
    assert all(s["to_ms"] - s["from_ms"] <= 60_000 for s in summaries)


def test_the_count_of_a_client_that_never_comes_back_is_written_when_its_window_ends(tmp_path: Path) -> None:
    clock, path = FixedClock(START_MS), tmp_path / "fetches.jsonl"
    log = AuditLog(path, clock, window_ms=50)

    async def refuse_then_wait() -> list[dict[str, Any]]:
        for _ in range(5):
            await log.refused(("ccb-gz",), {"outcome": "rate_limited", "sha256": "a" * 64},
                              {"outcome": "rate_limited", "sha256": None})
        clock.advance(50)
        for _ in range(500):  # nothing else happens: the timer writes it (at most 5 s)
            if len(lines(path)) == 2:  # the first refusal and the count
                break
            await asyncio.sleep(0.01)
        return lines(path)

    first, summary = asyncio.run(refuse_then_wait())
    assert first == {"at_ms": START_MS, "outcome": "rate_limited", "sha256": "a" * 64}
    assert summary == {"at_ms": START_MS + 50, "outcome": "rate_limited", "sha256": None, "count": 4,
                       "from_ms": START_MS, "to_ms": START_MS + 50}


def test_past_the_windows_it_may_hold_the_oldest_is_written_early_not_dropped(tmp_path: Path) -> None:
    clock, path = FixedClock(START_MS), tmp_path / "lookups.jsonl"
    log = AuditLog(path, clock, max_open=2)

    async def three_clients() -> None:
        for client in ("a", "b", "c"):  # the third opens a window while two are open: "a" is closed first
            for _ in range(3):
                await log.refused((client,), {"client": client, "outcome": "RATE_LIMITED"},
                                  {"client": client, "outcome": "RATE_LIMITED"})
            clock.advance(10)
        await log.close()

    asyncio.run(three_clients())
    logged = lines(path)
    assert [(line["client"], line.get("count")) for line in logged] == [
        ("a", None), ("b", None), ("a", 2), ("c", None), ("b", 2), ("c", 2)]
    assert refusals(logged, "RATE_LIMITED") == 9


class Disk:
    """The log's disk: slow (``delay``) or full for the next write (``fail_next``), as an operator's may be."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.fail_next = False
        self.delay = threading.Event()
        self.delay.set()
        write_synced = durable._write_synced  # the file write a test double stands in for

        def write(path: Path, flags: int, mode: int, data: bytes) -> None:
            self.delay.wait()
            if self.fail_next:
                self.fail_next = False
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))
            write_synced(path, flags, mode, data)

        monkeypatch.setattr(durable, "_write_synced", write)


def test_lines_are_written_in_the_order_their_requests_were_recorded(tmp_path: Path) -> None:
    path = tmp_path / "lookups.jsonl"
    log = AuditLog(path, FixedClock(START_MS))

    async def many_at_once() -> None:
        await asyncio.gather(*(log.append({"client": "10.0.0.9", "seq": seq}) for seq in range(300)))
        await log.close()

    asyncio.run(many_at_once())
    assert [line["seq"] for line in lines(path)] == list(range(300))


def test_a_slow_audit_disk_leaves_the_shared_thread_pool_to_certificate_printing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    disk = Disk(monkeypatch)
    log = AuditLog(tmp_path / "lookups.jsonl", FixedClock(START_MS))

    async def flood_then_print() -> str:
        loop = asyncio.get_running_loop()
        loop.set_default_executor(ThreadPoolExecutor(max_workers=4))  # what to_thread (PDFs, indexes) runs on
        disk.delay.clear()  # every audit write hangs until the disk catches up
        lookups = [asyncio.create_task(log.append({"client": "10.0.0.9", "seq": seq})) for seq in range(50)]
        await asyncio.sleep(0.05)
        try:
            return await asyncio.wait_for(asyncio.to_thread(lambda: "certificate PDF"), timeout=5)
        finally:
            disk.delay.set()
            await asyncio.gather(*lookups)
            await log.close()

    assert asyncio.run(flood_then_print()) == "certificate PDF"


def test_audit_lines_are_written_while_every_thread_of_the_shared_pool_is_busy(tmp_path: Path) -> None:
    path = tmp_path / "lookups.jsonl"
    log = AuditLog(path, FixedClock(START_MS))

    async def flood_while_busy() -> None:
        loop = asyncio.get_running_loop()
        loop.set_default_executor(ThreadPoolExecutor(max_workers=2))
        release = threading.Event()
        busy = [loop.run_in_executor(None, release.wait) for _ in range(2)]  # e.g. two PDFs being verified
        try:
            await asyncio.wait_for(asyncio.gather(*(log.append({"seq": seq}) for seq in range(100))), timeout=5)
        finally:
            release.set()
            await asyncio.gather(*busy)
            await log.close()

    asyncio.run(flood_while_busy())
    assert len(lines(path)) == 100


def test_a_count_a_full_disk_could_not_write_goes_with_the_next_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture,
) -> None:
    disk, clock, path = Disk(monkeypatch), FixedClock(START_MS), tmp_path / "fetches.jsonl"
    log = AuditLog(path, clock)

    async def refused_then_disk_full() -> None:
        for _ in range(5):
            await log.refused(("ccb-gz",), {"outcome": "rate_limited", "sha256": "a" * 64},
                              {"outcome": "rate_limited", "sha256": None})
        clock.advance(60_000)  # the window ended: its count goes with the next line
        disk.fail_next = True
        with pytest.raises(OSError, match="No space left"):  # that answer is not on record: not given
            await log.append({"outcome": "served", "sha256": "b" * 64})
        await log.append({"outcome": "served", "sha256": "b" * 64})
        await log.close()

    with caplog.at_level(logging.ERROR, logger="estatechain.audit_log"):
        asyncio.run(refused_then_disk_full())
    logged = lines(path)
    assert refusals(logged, "rate_limited") == 5
    assert refusals(logged, "served") == 1
    assert any(str(path) in r.getMessage() and r.exc_info for r in caplog.records)  # the operator is told


def test_a_refusal_whose_line_a_full_disk_refused_opens_no_window_and_no_count_is_lost(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    disk, clock, path = Disk(monkeypatch), FixedClock(START_MS), tmp_path / "lookups.jsonl"
    log = AuditLog(path, clock)

    async def refuse() -> bool:
        return await log.refused(("10.0.0.9", "status"), {"client": "10.0.0.9", "number": "N-1",
                                                           "outcome": "RATE_LIMITED"},
                                 {"client": "10.0.0.9", "number": None, "outcome": "RATE_LIMITED"})

    async def refused_across_a_full_disk() -> int:
        answered = 0
        for _ in range(3):
            await refuse()
            answered += 1
        clock.advance(60_000)
        disk.fail_next = True  # the line ending the first window and opening the second
        with pytest.raises(OSError, match="No space left"):
            await refuse()
        for _ in range(4):
            await refuse()
            answered += 1
        await log.close()
        return answered

    answered = asyncio.run(refused_across_a_full_disk())
    logged = lines(path)
    assert refusals(logged, "RATE_LIMITED") == answered == 7  # every refusal answered, on a line or counted
    # each window starts with its own line (number given), then its count: none is a count without its start
    assert [(line["number"], line.get("count")) for line in logged] == [("N-1", None), (None, 2), ("N-1", None),
                                                                          (None, 3)]
