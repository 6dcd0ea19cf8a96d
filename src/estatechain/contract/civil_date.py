"""Civil dates from block time with integer arithmetic only: the contract has no datetime.

Registration dates, certificate years and deadlines are read in Guangzhou's time zone, UTC+8 with no
daylight saving since 1991 [A: China Standard Time is fixed for every date the ledger will see]. The
day-count algorithms are Howard Hinnant's ``days_from_civil`` / ``civil_from_days`` (proleptic
Gregorian), exact for every year this system can meet.
"""

from __future__ import annotations

import re
from typing import Final

MS_PER_DAY: Final = 86_400_000
SHANGHAI_OFFSET_MS: Final = 8 * 3_600_000
"""Asia/Shanghai is UTC+8 all year."""

_ISO_DATE: Final = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$", re.ASCII)


def days_from_civil(year: int, month: int, day: int) -> int:
    """Days since 1970-01-01 of the proleptic Gregorian date ``year-month-day``."""
    year -= month <= 2
    era = year // 400
    yoe = year - era * 400
    shifted_month = month + (-3 if month > 2 else 9)
    doy = (153 * shifted_month + 2) // 5 + day - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146_097 + doe - 719_468


def civil_from_days(days: int) -> tuple[int, int, int]:
    """The (year, month, day) of ``days`` since 1970-01-01."""
    z = days + 719_468
    era = z // 146_097
    doe = z - era * 146_097
    yoe = (doe - doe // 1460 + doe // 36_524 - doe // 146_096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    day = doy - (153 * mp + 2) // 5 + 1
    month = mp + (3 if mp < 10 else -9)
    return yoe + era * 400 + (month <= 2), month, day


def is_leap_year(year: int) -> bool:
    """Gregorian leap-year rule."""
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def days_in_month(year: int, month: int) -> int:
    """Number of days of ``month`` in ``year``."""
    if month == 2:
        return 29 if is_leap_year(year) else 28
    return 30 if month in {4, 6, 9, 11} else 31


def parse_iso_date(text: object) -> int | None:
    """V11: the day number of a valid ``YYYY-MM-DD`` date, or None (``2026-02-30`` is None)."""
    if not isinstance(text, str):
        return None
    match = _ISO_DATE.fullmatch(text)
    if match is None:
        return None
    year, month, day = (int(part) for part in match.groups())
    if not 1 <= month <= 12 or not 1 <= day <= days_in_month(year, month):
        return None
    return days_from_civil(year, month, day)


def iso_date(days: int) -> str:
    """``YYYY-MM-DD`` of a day number."""
    year, month, day = civil_from_days(days)
    return f"{year:04d}-{month:02d}-{day:02d}"


def shanghai_day(time_ms: int) -> int:
    """The Guangzhou calendar day (days since 1970-01-01) containing the instant ``time_ms``."""
    return (time_ms + SHANGHAI_OFFSET_MS) // MS_PER_DAY


def shanghai_year(time_ms: int) -> int:
    """The Guangzhou calendar year of the instant ``time_ms`` (certificate years, V4)."""
    return civil_from_days(shanghai_day(time_ms))[0]


def day_start_ms(days: int) -> int:
    """The instant Guangzhou's calendar day ``days`` begins (00:00 UTC+8)."""
    return days * MS_PER_DAY - SHANGHAI_OFFSET_MS
