"""Working days (工作日) counted by the holiday calendar on the ledger, never by a node's clock or OS.

Deadlines that the law gives in working days (细则 81's 30 working days to apply and 15 working
days of publication; 条例 20's 30 working days to process) count the days on which the registry
works: Monday to Friday, minus the public holidays, plus the adjusted working days (调休) that the
State Council announces for each year. The registry records that announcement per year with the
``calendar.set`` governance transaction (domain.md §5.1: "a holiday calendar recorded on the ledger
by governance transactions"); the contract reads the calendar in force at the executing block from
state, so every node counts the same days.

A year without a recorded calendar counts Monday to Friday only [A: the registry is expected to
record each year's arrangement before it begins; until it does, no holiday lengthens a deadline].

Counting follows 民法典 201: the day of the event (notification, acceptance) is not counted; the
first working day after it is working day 1.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from estatechain.contract import keys
from estatechain.contract.civil_date import civil_from_days, parse_iso_date
from estatechain.contract.effects import Record
from estatechain.contract.view import StateView

MONDAY_OFFSET: Final = 3
"""1970-01-01 (day 0) was a Thursday: ``(day + 3) % 7`` is 0 on Mondays … 6 on Sundays."""
SATURDAY: Final = 5
MAX_HOLIDAYS: Final = 60
"""At most this many holidays per year (2026 has 33): every year keeps more than 200 working days,
so counting forward always ends within a bounded number of steps."""
MAX_WORKDAYS: Final = 20
"""At most this many adjusted working days (调休上班) per year (2026 has 6)."""


def weekday(day: int) -> int:
    """0 for Monday … 6 for Sunday, of the day number ``day`` (days since 1970-01-01)."""
    return (day + MONDAY_OFFSET) % 7


def is_weekend(day: int) -> bool:
    """Saturday or Sunday."""
    return weekday(day) >= SATURDAY


@dataclass(frozen=True, slots=True, kw_only=True)
class YearCalendar:
    """One year's announced holidays and adjusted working days, as day numbers."""

    year: int
    holidays: frozenset[int]
    workdays: frozenset[int]

    @classmethod
    def from_json(cls, data: Record) -> YearCalendar:
        """Decode the stored row (dates were validated when the calendar was set)."""
        def days(name: str) -> frozenset[int]:
            items = data.get(name)
            parsed = [parse_iso_date(item) for item in items] if isinstance(items, list) else []
            return frozenset(day for day in parsed if day is not None)

        year = data.get("year")
        return cls(year=year if isinstance(year, int) else 0, holidays=days("holidays"), workdays=days("workdays"))


class WorkingDays:
    """Working-day arithmetic over the calendars in ``view`` (one reader per executing transaction).

    Years are looked up once each and kept for the reader's lifetime; lookups are by year only, so
    the cache's insertion order never matters.
    """

    def __init__(self, view: StateView) -> None:
        self._view = view
        self._years: dict[int, YearCalendar | None] = {}

    def calendar(self, year: int) -> YearCalendar | None:
        """The calendar recorded for ``year``, or None (then Monday to Friday) [A]."""
        if year not in self._years:
            row = self._view.get(keys.work_calendar(year))
            self._years[year] = None if row is None else YearCalendar.from_json(row)
        return self._years[year]

    def is_working_day(self, day: int) -> bool:
        """Monday-Friday and not a holiday, or an adjusted working day, per the year's calendar."""
        calendar = self.calendar(civil_from_days(day)[0])
        if calendar is not None:
            if day in calendar.workdays:
                return True
            if day in calendar.holidays:
                return False
        return not is_weekend(day)

    def add(self, day: int, count: int) -> int:
        """The day on which the ``count``-th working day after ``day`` falls (``day`` itself not counted).

        ``add(d, 0)`` is ``d``. Terminates: every year has more than 200 working days (``MAX_HOLIDAYS``).
        """
        current = day
        remaining = count
        while remaining > 0:
            current += 1
            if self.is_working_day(current):
                remaining -= 1
        return current

    def last_of_span(self, first: int, count: int) -> int:
        """The last day of a span of ``count`` working days that starts on ``first`` (counted if working)."""
        return self.add(first - 1, count)
