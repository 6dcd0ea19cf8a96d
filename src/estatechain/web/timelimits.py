"""The registry's legal time limit (条例 20) as the desks count it: the due day, late cases, cases per state.

A registration is finished within 30 working days of acceptance. The figures count the cases per
state (as the desks name them, ``caseindex.desk_state``: a recorded case with nothing for the
issuer is finished), the accepted cases still on the clock and how many of them are surely past the
limit, and the cases recorded or refused and how many of them finished past it. ``sla`` computes
them from the applications themselves, which is the reference the regulator's incremental figures
(``deskstats.py``) are tested against; both decide lateness with ``certainly_late``, and the review
desk's clock (``review.clock``) counts its due day with the same ``due_day``.

How a hold suspends the period. domain.md §5.1 (the lifecycle): an accepted or approved case may be
put ON_HOLD for a site visit or an investigation, and "time on hold does not count toward limits".
The limit is whole working days, counted from the day after acceptance (民法典 201: the day of the
event is not counted; ``contract.working_days``), so the time on hold is taken off in whole days as
well. domain.md does not say how a day partly on hold counts; the rule here is ours [A]:

- the days from the day a case is put on hold up to the day before it resumes do not count (which of
  them are working days is the ledger calendar's say); the day it resumes counts if it is a working
  day. The day of the hold and the day of the resumption are each partly worked and partly held;
  together they make one day, counted once, on the day of the resumption, when the work goes on;
- so a hold put and lifted on the same day suspends no day (a one-minute hold adds nothing); a hold
  from Friday to Monday suspends Friday and the weekend (one working day); a hold put on the last
  day of the limit moves the limit to the day the case resumes (the next working day if it resumes
  on a rest day), so the registry always keeps the part of the day the hold took;
- holds are read from the case's own hold and resume transactions (``history.holds``), not from the
  record's running total (``held_ms_total``), which cannot tell a one-hour hold within a day from
  one across midnight, nor whether the held days were working days or a weekend; a hold still
  running, or ended by a refusal, counts up to the time asked about (its clock is stopped until then).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Final

from estatechain.contract.civil_date import civil_from_days, shanghai_day
from estatechain.contract.records import Application, effective_state
from estatechain.contract.records.application import AppState
from estatechain.contract.working_days import WorkingDays, is_weekend
from estatechain.web.caseindex import DESK_STATES, desk_state

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


@dataclass(frozen=True, slots=True)
class Hold:
    """One hold (中止) of a case: the block time of its hold and of its resumption (None: not resumed)."""

    start_ms: int
    end_ms: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Sla:
    """Cases per desk state and how many are (or finished) past the legal limit."""

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


def suspended_days(holds: Iterable[Hold], until_ms: int) -> frozenset[int]:
    """The days the legal period does not run: each hold's day up to the day before it resumed (module docstring).

    A hold not resumed by ``until_ms`` is taken as resumed then; a day after ``until_ms`` is never suspended.
    """
    found: set[int] = set()
    for hold in holds:
        end = until_ms if hold.end_ms is None else min(hold.end_ms, until_ms)
        found.update(range(shanghai_day(hold.start_ms), shanghai_day(end)))
    return frozenset(found)


def days_run(calendar: WorkingDays, after: int, until: int, suspended: frozenset[int]) -> int:
    """Working days of the period after day ``after`` up to and including day ``until`` (0 if ``until`` ≤ ``after``).

    Days a hold ``suspended`` are not days of the period: the review desk counts its days left with this.
    """
    return sum(1 for day in range(after + 1, until + 1) if day not in suspended and calendar.is_working_day(day))


def due_day(calendar: WorkingDays, accepted: int, holds: Iterable[Hold], until_ms: int) -> int:
    """The day the 30th working day after the day of acceptance falls on, the days on hold not counted.

    ``until_ms`` is the time asked about: a hold still running then counts up to it. Working days are
    the ledger calendar's (Monday to Friday for a year it has not recorded). Terminates: a finite set
    of days is suspended, and every year has working days (``working_days.MAX_HOLIDAYS``).
    """
    suspended = suspended_days(holds, until_ms)
    day, remaining = shanghai_day(accepted), LEGAL_LIMIT_WORKING_DAYS
    while remaining > 0:
        day += 1
        if day not in suspended and calendar.is_working_day(day):
            remaining -= 1
    return day


def certainly_late(accepted: int, until_ms: int, holds: Iterable[Hold], calendar: WorkingDays | None = None) -> bool:
    """Whether more than 30 working days surely passed between acceptance and ``until_ms``, holds excluded.

    The day of acceptance is not counted (民法典 201), nor are the days a hold suspended (module
    docstring). When the ledger holds the holiday calendar (``calendar.set``) of every year in the
    span, the case is late once ``until_ms`` falls after its ``due_day``. Otherwise, conservatively:
    the weekdays not suspended, lowered by a whole year's statutory holidays (make-up working days
    only add days, so this never counts more working days than any calendar would). A case reported
    late is then late whatever the calendar turns out to be; one near the limit may be late without
    being reported.
    """
    held = tuple(holds)
    first, last = shanghai_day(accepted), shanghai_day(until_ms)
    years = range(civil_from_days(first)[0], civil_from_days(last)[0] + 1)
    if calendar is not None and all(calendar.calendar(year) is not None for year in years):
        return last > due_day(calendar, accepted, held, until_ms)
    suspended = sum(1 for day in suspended_days(held, until_ms) if first < day <= last and not is_weekend(day))
    working = weekdays_between(accepted, until_ms) - suspended - HOLIDAYS_PER_YEAR
    return working > LEGAL_LIMIT_WORKING_DAYS


def sla(applications: Iterable[Application], now_ms: int, calendar: WorkingDays | None = None, *,
        holds: Callable[[Application], tuple[Hold, ...]]) -> Sla:
    """Cases per desk state (as of ``now_ms``) and those surely past the 30-working-day limit of 条例 20.

    The limit runs from the ``accepted`` step to the ``recorded`` or ``refused`` step; the days a hold
    suspended (``holds`` of the case; an ON_HOLD case's clock is stopped, so it is not counted as on
    the clock) do not count. Lateness is decided by ``certainly_late``: by the ledger's holiday
    calendar where it covers the span, else by a lower bound on the working days. A recorded case is
    counted as the desks name it (``desk_state``): finished when its business draws no certificate
    the issuer's desk issues, else awaiting its certificate.
    """
    per_state: Counter[str] = Counter()
    on_clock = overdue = finished = late = 0
    for application in applications:
        state = effective_state(application, now_ms)
        per_state[desk_state(state.value, application.certificate_number, business_type=application.business_type,
                             steps=application.steps)] += 1
        accepted = accepted_ms(application)
        if accepted is None:
            continue
        if state in ON_THE_CLOCK:
            on_clock += 1
            overdue += certainly_late(accepted, now_ms, holds(application), calendar)
        elif state in FINISHED and (done := finished_ms(application)) is not None:
            finished += 1
            late += certainly_late(accepted, done, holds(application), calendar)
    return Sla(per_state=ordered(per_state), on_the_clock=on_clock, overdue_open=overdue, finished=finished,
               finished_late=late)


def ordered(per_state: dict[str, int]) -> dict[str, int]:
    """The desk states with cases, in lifecycle order."""
    return {state: per_state[state] for state in DESK_STATES if per_state.get(state)}
