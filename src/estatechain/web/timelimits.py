"""The registry's legal time limit (条例 20) as the regulator's desk reports it: cases per state and late cases.

A registration is finished within 30 working days of acceptance. The figures count the cases per
state, the accepted cases still on the clock and how many of them are surely past the limit, and
the cases recorded or refused and how many of them finished past it. ``sla`` computes them from the
applications themselves, which is the reference the regulator's incremental figures
(``deskstats.py``) are tested against; both decide lateness with ``certainly_late``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

from estatechain.contract.civil_date import MS_PER_DAY, civil_from_days, shanghai_day
from estatechain.contract.records import Application, effective_state
from estatechain.contract.records.application import AppState
from estatechain.contract.working_days import WorkingDays

LEGAL_LIMIT_WORKING_DAYS: Final = 30
"""条例 20: a registration is finished within 30 working days of acceptance (domain.md §5.1)."""
HOLIDAYS_PER_YEAR: Final = 13
"""Statutory public holidays a year (国务院 holiday rules as amended in 2024, from 2025): the most
weekdays one span of a few months can lose to holidays. Make-up working weekends (调休) only add
working days, so weekdays minus this is a lower bound on working days [A: used for the years
whose calendar the registry has not recorded on the ledger]."""
ON_THE_CLOCK: Final = frozenset({AppState.ACCEPTED, AppState.APPROVED})
"""States between acceptance and recording or refusal: the legal time limit runs (ON_HOLD stops it)."""
FINISHED: Final = frozenset({AppState.RECORDED, AppState.CERTIFIED, AppState.REFUSED})


@dataclass(frozen=True, slots=True, kw_only=True)
class Sla:
    """Cases per state and how many are (or finished) past the legal limit."""

    per_state: dict[str, int]
    on_the_clock: int
    overdue_open: int
    finished: int
    finished_late: int


def accepted_ms(application: Application) -> int | None:
    """When the case was accepted (its ``accepted`` step), or None."""
    step = application.steps.get("accepted")
    return int(str(step.get("at_ms"))) if isinstance(step, dict) and step.get("at_ms") is not None else None


def finished_ms(application: Application) -> int | None:
    """When the case was recorded or refused, or None."""
    for name in ("recorded", "refused"):
        step = application.steps.get(name)
        if isinstance(step, dict) and step.get("at_ms") is not None:
            return int(str(step.get("at_ms")))
    return None


def weekdays_between(start_ms: int, end_ms: int) -> int:
    """Mondays to Fridays (Guangzhou calendar) after the day of ``start_ms`` up to the day of ``end_ms``."""
    first, last = shanghai_day(start_ms) + 1, shanghai_day(end_ms)
    if last < first:
        return 0
    weeks = (last - first + 1) // 7
    extra = sum(1 for day in range(first + weeks * 7, last + 1) if (day + 3) % 7 < 5)  # day 0 was a Thursday
    return weeks * 5 + extra


def certainly_late(accepted: int, until_ms: int, held_ms: int, calendar: WorkingDays | None = None) -> bool:
    """Whether more than 30 working days surely passed between acceptance and ``until_ms``, holds excluded.

    The day of acceptance is not counted (民法典 201), and the time on hold is taken off as if every
    held day were a working day. When the ledger holds the holiday calendar (``calendar.set``) of
    every year in the span, the working days are counted by it (``contract.working_days``, the
    contract's own arithmetic). Otherwise, conservatively: the weekdays lowered by a whole year's
    statutory holidays. A case reported late is then late whatever the calendar turns out to be;
    one near the limit may be late without being reported.
    """
    held_days = -(-held_ms // MS_PER_DAY)
    first, last = shanghai_day(accepted), shanghai_day(until_ms)
    years = range(civil_from_days(first)[0], civil_from_days(last)[0] + 1)
    if calendar is not None and all(calendar.calendar(year) is not None for year in years):
        return last > calendar.add(first, LEGAL_LIMIT_WORKING_DAYS + held_days)
    working = weekdays_between(accepted, until_ms) - HOLIDAYS_PER_YEAR - held_days
    return working > LEGAL_LIMIT_WORKING_DAYS


def sla(applications: Iterable[Application], now_ms: int, calendar: WorkingDays | None = None) -> Sla:
    """Cases per state (as of ``now_ms``) and those surely past the 30-working-day limit of 条例 20.

    The limit runs from the ``accepted`` step to the ``recorded`` or ``refused`` step; a hold
    (``held_ms_total``, plus the running hold of an ON_HOLD case, whose clock is stopped and which
    is therefore not counted as on the clock) does not count. Lateness is decided by
    ``certainly_late``: by the ledger's holiday calendar where it covers the span, else by a lower
    bound on the working days.
    """
    per_state: Counter[str] = Counter()
    on_clock = overdue = finished = late = 0
    for application in applications:
        state = effective_state(application, now_ms)
        per_state[state.value] += 1
        accepted = accepted_ms(application)
        if accepted is None:
            continue
        if state in ON_THE_CLOCK:
            on_clock += 1
            overdue += certainly_late(accepted, now_ms, application.held_ms_total, calendar)
        elif state in FINISHED and (done := finished_ms(application)) is not None:
            finished += 1
            late += certainly_late(accepted, done, application.held_ms_total, calendar)
    return Sla(per_state=ordered(per_state), on_the_clock=on_clock, overdue_open=overdue, finished=finished,
               finished_late=late)


def ordered(per_state: dict[str, int]) -> dict[str, int]:
    """The states with cases, in lifecycle order."""
    return {s.value: per_state[s.value] for s in AppState if per_state.get(s.value)}
