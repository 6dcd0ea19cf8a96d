"""Refusals in the node's audit logs (``audit_log.AuditLog``): a bounded number of lines, every refusal counted."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import orjson

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
