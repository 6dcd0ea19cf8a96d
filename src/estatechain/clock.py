"""Wall-clock time for the shell. The contract never sees it: its time is the block header's."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta, timezone
from typing import Final, Protocol

CHINA_STANDARD_TIME: Final = timezone(timedelta(hours=8), "CST")
"""UTC+8, no daylight saving: the time every page, report and certificate prints a block time in."""


def china_time(time_ms: int) -> datetime:
    """``time_ms`` (milliseconds since 1970, UTC) as an aware datetime in China Standard Time.

    Raises:
        OverflowError, OSError, ValueError: ``time_ms`` has no calendar date (outside the years 1-9999).

    """
    return datetime.fromtimestamp(time_ms / 1000, tz=UTC).astimezone(CHINA_STANDARD_TIME)


class Clock(Protocol):
    """**Protocol:** milliseconds since the Unix epoch."""

    def now_ms(self) -> int:
        """The current time in milliseconds."""
        ...


class SystemClock:
    """The operating system's clock."""

    def now_ms(self) -> int:
        """The current time in milliseconds."""
        return time.time_ns() // 1_000_000


class FixedClock:
    """A clock that moves only when told to: for tests and deterministic demos."""

    def __init__(self, start_ms: int) -> None:
        self._now = start_ms

    def now_ms(self) -> int:
        """The time last set."""
        return self._now

    def advance(self, ms: int) -> None:
        """Move the clock forward by ``ms``."""
        self._now += ms
