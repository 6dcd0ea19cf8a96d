"""The contract's hand-written calendar arithmetic against independent oracles (datetime, zoneinfo, day walks).

The contract may not import ``datetime`` (contract/ruff.toml: its only clock is the block time), so
``civil_date`` and ``working_days`` do civil-date arithmetic by hand. Here every function and every
deadline derived from block time is compared, over wide ranges, with an oracle that shares none of
that code: ``datetime.date`` ordinals and ISO strings, instants converted with ``astimezone``
(exact integer milliseconds, so midnight ± 1 ms is decided correctly), and a day-by-day walk over a
generated holiday calendar. Points where the contract deliberately differs from a plain oracle:

- Year ``0000``: ``datetime`` stops at year 1; the contract reads ``0000-MM-DD`` as the proleptic
  Gregorian year 0 (ISO 8601's 1 BC), which the oracle checks against year 400 of the same 400-year cycle.
- Only the form ``YYYY-MM-DD`` is a date (V11); ``date.fromisoformat`` also takes ``20260101`` and
  ``2026-W01-4``, which the contract refuses, so one date has one spelling on the ledger.
- Guangzhou time is UTC+8 for every instant (civil_date's docstring). The tz database has summer
  time in China until 1991, so the zoneinfo oracle applies from 1992; the fixed UTC+8 oracle applies
  everywhere, pre-1970 instants included. Only block times reach these functions, and the ledger and
  advance notices themselves (2007) are far later than 1991.
- The confirmation window is 7 calendar days to the same instant (domain.md §5.1 "default 7 days
  [A]"; pinned by test_working_days.test_calendar_day_deadlines_ignore_the_holiday_calendar), not a
  window ending at midnight.
If ``Asia/Shanghai`` is missing from the machine's tz database, the fixed UTC+8 zone stands in for it.
"""

from __future__ import annotations

import calendar
import copy
import functools
import re
from datetime import UTC, date, datetime, time, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pytest
from conftest import BANK_A_PARTY, OWNER_A, UNIT_A, Register
from hypothesis import example, given
from hypothesis import strategies as st

from estatechain.contract import keys
from estatechain.contract.checks.notices import LAPSE_DAYS, is_lapsed, lapse_due_ms
from estatechain.contract.civil_date import (
    civil_from_days,
    day_start_ms,
    days_from_civil,
    days_in_month,
    is_leap_year,
    iso_date,
    parse_iso_date,
    shanghai_day,
    shanghai_year,
)
from estatechain.contract.effects import JSON, Record
from estatechain.contract.money import Money
from estatechain.contract.records import (
    Application,
    AppState,
    Notice,
    NoticeKind,
    PartyRef,
    Seizure,
    SeizureKind,
    effective_state,
)
from estatechain.contract.rules.notice_correct import _procedure_problem
from estatechain.contract.rules.ownership_transfer import MORTGAGEE_MUST_SIGN_BEFORE_MS
from estatechain.contract.seizure_queue import windows
from estatechain.contract.working_days import MAX_HOLIDAYS, MAX_WORKDAYS, WorkingDays, is_weekend, weekday
from estatechain.testing.contract_view import DictView

CST = timezone(timedelta(hours=8), "CST")
"""China Standard Time as the contract assumes it: UTC+8, no summer time."""
try:
    SHANGHAI: tzinfo = ZoneInfo("Asia/Shanghai")
except ZoneInfoNotFoundError:  # pragma: no cover - a machine without the tz database
    SHANGHAI = CST
UNIX_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
ONE_MS = timedelta(milliseconds=1)
CYCLE_DAYS = 146_097
"""Days in 400 Gregorian years: year 0 has the calendar of year 400."""
STRICT_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def instant(ms: int) -> datetime:
    """The UTC instant ``ms`` milliseconds after the Unix epoch (exact, unlike ``fromtimestamp(ms / 1000)``)."""
    return UNIX_EPOCH + timedelta(milliseconds=ms)


def ms_of(moment: datetime) -> int:
    """Milliseconds since the Unix epoch of an aware datetime."""
    return (moment - UNIX_EPOCH) // ONE_MS


def number(day: date) -> int:
    """Days since 1970-01-01 by ``datetime``'s own ordinals."""
    return day.toordinal() - EPOCH_ORDINAL


def local_date(ms: int, zone: tzinfo = SHANGHAI) -> date:
    """The calendar date in ``zone`` at instant ``ms``."""
    return instant(ms).astimezone(zone).date()


def midnight_ms(day: date, zone: tzinfo = SHANGHAI) -> int:
    """The instant ``day`` begins in ``zone``."""
    return ms_of(datetime.combine(day, time(0), tzinfo=zone))


FIRST_MS = ms_of(datetime(1900, 1, 1, tzinfo=CST))
LAST_MS = ms_of(datetime(2201, 1, 1, tzinfo=CST)) - 1
NO_SUMMER_TIME_MS = ms_of(datetime(1992, 1, 1, tzinfo=CST))
"""China's last summer time ended in September 1991; from here on the tz database says UTC+8."""
WIDE_MS = st.integers(min_value=FIRST_MS, max_value=LAST_MS)
TZDB_MS = st.integers(min_value=NO_SUMMER_TIME_MS, max_value=LAST_MS)
WIDE_DATES = st.dates(min_value=date(1900, 1, 1), max_value=date(2200, 12, 31))


# --- civil dates ---------------------------------------------------------------------------------------------


@given(st.dates())
@example(date(1, 1, 1))
@example(date(9999, 12, 31))
@example(date(1969, 12, 31))
@example(date(1900, 2, 28))
@example(date(1900, 3, 1))
@example(date(2000, 2, 29))
@example(date(2100, 2, 28))
@example(date(2100, 3, 1))
def test_day_numbers_and_iso_text_match_datetime_for_every_date_it_knows(day: date) -> None:
    n = number(day)
    assert days_from_civil(day.year, day.month, day.day) == n
    assert civil_from_days(n) == (day.year, day.month, day.day)
    assert iso_date(n) == day.isoformat()
    assert parse_iso_date(day.isoformat()) == n


@given(st.integers(min_value=1, max_value=9999), st.integers(min_value=1, max_value=12))
@example(1900, 2)
@example(2000, 2)
@example(2100, 2)
@example(2200, 2)
@example(2400, 2)
def test_leap_years_and_month_lengths_match_the_calendar_module(year: int, month: int) -> None:
    assert is_leap_year(year) == calendar.isleap(year)
    assert days_in_month(year, month) == calendar.monthrange(year, month)[1]


def _oracle_day(year: int, month: int, day: int) -> int | None:
    """The day number ``datetime`` gives ``YYYY-MM-DD``; year 0 through year 400 of the same cycle."""
    try:
        if year == 0:
            return number(date(400, month, day)) - CYCLE_DAYS
        return number(date(year, month, day))
    except ValueError:
        return None


@given(st.integers(min_value=0, max_value=9999), st.integers(min_value=0, max_value=99),
       st.integers(min_value=0, max_value=99))
@example(2100, 2, 29)
@example(1900, 2, 29)
@example(2000, 2, 29)
@example(2026, 2, 30)
@example(2026, 4, 31)
@example(2026, 13, 1)
@example(2026, 0, 10)
@example(2026, 1, 0)
@example(0, 2, 29)
def test_a_yyyy_mm_dd_text_is_a_date_exactly_when_datetime_says_so(year: int, month: int, day: int) -> None:
    text = f"{year:04d}-{month:02d}-{day:02d}"
    expected = _oracle_day(year, month, day)
    if year > 0:
        try:
            assert number(date.fromisoformat(text)) == expected
        except ValueError:
            assert expected is None
    assert parse_iso_date(text) == expected
    if expected is not None:
        assert iso_date(expected) == text


def _near_misses(day: date) -> list[str]:
    text = day.isoformat()
    return [text + "\n", " " + text, text + "Z", text.replace("-", ""), text.replace("-", "/"), "+" + text,
            f"{day.year}-{day.month}-{day.day}", text[:-1], text + "0", text.translate(str.maketrans("0123456789",
                                                                                                      "０１２３４５６７８９"))]


@given(st.one_of(st.text(max_size=14), st.from_regex(r"\A\d{4}-\d{2}-\d{2}\Z"),
                 st.dates().map(_near_misses).flatmap(st.sampled_from)))
@example("20260101")
@example("2026-W01-4")
@example("2026-01-01\n")
@example("２０２６-０１-０１")
@example("2026-1-1")
def test_only_the_exact_iso_form_of_a_valid_date_is_accepted(text: str) -> None:
    parsed = parse_iso_date(text)
    if parsed is not None:
        assert STRICT_DATE.fullmatch(text)
        assert iso_date(parsed) == text
        if not text.startswith("0000"):
            assert number(date.fromisoformat(text)) == parsed


def test_the_contract_refuses_spellings_datetime_would_take_and_anything_not_text() -> None:
    for text in ("20260101", "2026-W01-4"):
        assert date.fromisoformat(text) == date(2026, 1, 1)
        assert parse_iso_date(text) is None
    for value in (20260101, None, b"2026-01-01", ["2026-01-01"], date(2026, 1, 1)):
        assert parse_iso_date(value) is None


# --- Guangzhou days and years from block time ----------------------------------------------------------------


@given(WIDE_MS)
@example(0)
@example(-1)
@example(-28_800_000)
@example(-28_800_001)
@example(1_767_196_800_000)  # 2026-01-01 00:00 in Guangzhou
@example(1_767_196_799_999)
@example(FIRST_MS)
@example(LAST_MS)
def test_the_guangzhou_day_of_an_instant_is_its_utc_plus_8_date(ms: int) -> None:
    day = local_date(ms, CST)
    assert shanghai_day(ms) == number(day)
    assert shanghai_year(ms) == day.year
    assert day_start_ms(number(day)) == midnight_ms(day, CST)
    assert day_start_ms(number(day)) <= ms < day_start_ms(number(day) + 1)


@given(TZDB_MS)
@example(NO_SUMMER_TIME_MS)
@example(4_102_415_999_999)  # 2099-12-31 23:59:59.999 in Guangzhou
def test_the_guangzhou_day_matches_the_tz_database_from_1992(ms: int) -> None:
    day = local_date(ms)
    assert (shanghai_day(ms), shanghai_year(ms)) == (number(day), day.year)


@given(st.dates(min_value=date(1992, 1, 1), max_value=date(2200, 12, 31)))
@example(date(2000, 1, 1))
@example(date(2000, 2, 29))
@example(date(2026, 1, 1))
@example(date(2100, 1, 1))
@example(date(2100, 3, 1))
@example(date(2200, 12, 31))
def test_a_guangzhou_day_begins_at_local_midnight_to_the_millisecond(day: date) -> None:
    start = midnight_ms(day)
    n = number(day)
    assert day_start_ms(n) == start
    assert (shanghai_day(start - 1), shanghai_day(start), shanghai_day(start + 1)) == (n - 1, n, n)
    assert (shanghai_year(start - 1), shanghai_year(start)) == ((day - timedelta(days=1)).year, day.year)


def test_before_1992_the_contract_keeps_utc_plus_8_where_the_tz_database_has_summer_time() -> None:
    half_past_midnight_summer_time = ms_of(datetime(1990, 6, 30, 15, 30, tzinfo=UTC))  # 1990-07-01 00:30 CDT
    assert iso_date(shanghai_day(half_past_midnight_summer_time)) == "1990-06-30"  # 23:30 at UTC+8
    if SHANGHAI is not CST:
        assert local_date(half_past_midnight_summer_time) == date(1990, 7, 1)


def test_the_civil_code_cutover_for_mortgagee_consent_is_guangzhou_midnight_on_1_january_2021() -> None:
    assert MORTGAGEE_MUST_SIGN_BEFORE_MS == midnight_ms(date(2021, 1, 1)) == 1_609_430_400_000


# --- working days --------------------------------------------------------------------------------------------


@given(WIDE_DATES)
def test_weekdays_match_datetime(day: date) -> None:
    assert weekday(number(day)) == day.weekday()
    assert is_weekend(number(day)) == (day.weekday() >= 5)


Naive = dict[int, tuple[frozenset[date], frozenset[date]]]
"""The oracle's calendar: year → (holidays, adjusted working days), as ``datetime.date`` values."""


@st.composite
def calendars(draw: st.DrawFn) -> tuple[int, Naive]:
    """Two or three consecutive years, each with or without a recorded calendar of the ``calendar.set`` shape.

    Holidays are drawn as runs (like 春节's nine days) plus scattered days, weekends included as real
    calendars list them; adjusted working days are weekend days that are not holidays.
    """
    first = draw(st.integers(min_value=1999, max_value=2199))
    years: Naive = {}
    for year in range(first, first + draw(st.integers(min_value=2, max_value=3))):
        if not draw(st.booleans()):
            continue
        days = [date(year, 1, 1) + timedelta(days=i) for i in range(366 if calendar.isleap(year) else 365)]
        holidays: set[date] = set()
        for start, length in draw(st.lists(st.tuples(st.sampled_from(days), st.integers(1, 9)), max_size=7)):
            holidays.update(d for d in (start + timedelta(days=i) for i in range(length)) if d.year == year)
        holidays.update(draw(st.sets(st.sampled_from(days), max_size=15)))
        holidays = set(sorted(holidays)[:MAX_HOLIDAYS])
        weekends = [d for d in days if d.weekday() >= 5 and d not in holidays]
        workdays = draw(st.sets(st.sampled_from(weekends), max_size=MAX_WORKDAYS))
        years[year] = (frozenset(holidays), frozenset(workdays))
    return first, years


def view_of(years: Naive) -> DictView:
    """State holding each year's calendar as ``calendar.set`` stores it."""
    rows: dict[str, Record] = {}
    for year, (holidays, workdays) in years.items():
        rows[keys.work_calendar(year)] = {
            "year": year, "holidays": [d.isoformat() for d in sorted(holidays)],
            "workdays": [d.isoformat() for d in sorted(workdays)], "basis": "oracle", "height": 1, "tx_id": "t",
        }
    return DictView(rows)


def naive_working(years: Naive, day: date) -> bool:
    """Working unless a weekend or a holiday, and an adjusted working day always works."""
    holidays, workdays = years.get(day.year, (frozenset(), frozenset()))
    off = day.weekday() >= 5 or day in holidays
    return not off or day in workdays


def naive_add(years: Naive, day: date, count: int) -> date:
    """Walk forward one day at a time; the start day is not counted (民法典 201)."""
    current, seen = day, 0
    while seen < count:
        current += timedelta(days=1)
        seen += naive_working(years, current)
    return current


def naive_last_of_span(years: Naive, first: date, count: int) -> date:
    """The ``count``-th working day counting ``first`` itself."""
    current, seen = first, int(naive_working(years, first))
    while seen < count:
        current += timedelta(days=1)
        seen += naive_working(years, current)
    return current


def _day_in(first_year: int, data: st.DataObject, years: Naive) -> date:
    """A day of the generated years, often a holiday or a weekend (the awkward starts)."""
    span = st.dates(min_value=date(first_year, 1, 1), max_value=date(first_year + 1, 12, 31))
    awkward = [d for holidays, workdays in years.values() for d in holidays | workdays]
    choices = span | st.sampled_from(awkward) if awkward else span
    day = data.draw(choices)
    if data.draw(st.booleans()):
        while day.weekday() < 5:  # move on to a weekend
            day += timedelta(days=1)
    return day


@given(calendars())
def test_a_day_is_working_exactly_as_the_naive_calendar_says(generated: tuple[int, Naive]) -> None:
    first, years = generated
    reader = WorkingDays(view_of(years))
    day = date(first, 1, 1)
    while day.year <= first + 3:
        assert reader.is_working_day(number(day)) == naive_working(years, day), day
        day += timedelta(days=1)


@given(calendars(), st.integers(min_value=0, max_value=300), st.data())
def test_adding_working_days_matches_a_day_by_day_walk(generated: tuple[int, Naive], count: int,
                                                        data: st.DataObject) -> None:
    first, years = generated
    start = _day_in(first, data, years)
    reader = WorkingDays(view_of(years))
    assert reader.add(number(start), count) == number(naive_add(years, start, count))
    assert reader.add(number(start), 0) == number(start)


@given(calendars(), st.integers(min_value=1, max_value=300), st.data())
def test_a_span_of_working_days_ends_where_the_walk_ends(generated: tuple[int, Naive], count: int,
                                                         data: st.DataObject) -> None:
    first, years = generated
    start = _day_in(first, data, years)
    reader = WorkingDays(view_of(years))
    assert reader.last_of_span(number(start), count) == number(naive_last_of_span(years, start, count))


@given(calendars(), st.data())
def test_ex_officio_correction_dates_are_judged_by_the_working_day_walk(generated: tuple[int, Naive],
                                                                        data: st.DataObject) -> None:
    """细则 81: 30 working days to apply after notification, then at least 15 working days of publication."""
    first, years = generated
    notified = _day_in(first, data, years)
    published_from = notified + timedelta(days=data.draw(st.integers(min_value=-2, max_value=75)))
    published_to = published_from + timedelta(days=data.draw(st.integers(min_value=-2, max_value=45)))
    today = published_to + timedelta(days=data.draw(st.integers(min_value=-2, max_value=3)))
    body: Record = {"notified_on": notified.isoformat(), "published_from": published_from.isoformat(),
                    "published_to": published_to.isoformat()}
    problem = _procedure_problem(view_of(years), body, number(today))
    last_to_apply = naive_add(years, notified, 30)
    last_published = naive_last_of_span(years, published_from, 15)
    in_order = published_from <= published_to < today
    assert (problem is None) == (in_order and published_from > last_to_apply and published_to >= last_published)
    if in_order and published_from <= last_to_apply:
        assert problem is not None
        assert f"ran until {last_to_apply.isoformat()}" in problem
    elif in_order and published_to < last_published:
        assert problem is not None
        assert f"they end on {last_published.isoformat()}" in problem


# --- deadlines derived from block time ------------------------------------------------------------------------


@functools.cache
def _seeded() -> Register:
    register = Register()
    register.seed()
    return register


def seeded_at(time_ms: int) -> Register:
    """A fresh copy of the seeded test register with its block clock at ``time_ms``."""
    register = copy.deepcopy(_seeded())
    register.d.time_ms = time_ms
    return register


PLATFORM_MS = st.integers(min_value=1_767_456_000_000, max_value=ms_of(datetime(2045, 12, 31, tzinfo=CST)))
"""Block times from the platform's opening (2026-01-04) to before the test loan's term ends (2046)."""


@given(PLATFORM_MS)
@example(1_767_456_000_000)
@example(midnight_ms(date(2026, 9, 30)) + 10 * 3_600_000)
@example(midnight_ms(date(2028, 2, 22)) + 86_399_999)  # the window runs over 29 February
def test_confirmation_closes_seven_calendar_days_later_at_the_same_guangzhou_time(filed_ms: int) -> None:
    closes = ms_of(instant(filed_ms).astimezone(SHANGHAI) + timedelta(days=7))  # wall-clock days
    register = seeded_at(filed_ms)
    app_id = register.file()
    application = Application.from_json(register.app(app_id))
    assert application.confirm_deadline_ms == closes
    assert effective_state(application, closes - 1) is AppState.FILED
    assert effective_state(application, closes) is AppState.EXPIRED
    late = copy.deepcopy(register)
    late.d.time_ms = closes
    rejection = late.no("application.confirm", {"application_id": app_id, "application_hash": app_id,
                                                "party_id": OWNER_A}, OWNER_A)
    assert rejection.code == "V25_CONFIRMATION_EXPIRED"
    register.d.time_ms = closes - 1
    register.confirm(app_id, OWNER_A, OWNER_A)


def notice_with_clock(start_ms: int | None) -> Notice:
    """A 预抵押 whose 90-day lapse clock started at ``start_ms``."""
    party = PartyRef(party_id="a" * 64)
    return Notice(notice_id="n", unit_number=UNIT_A, business_no="b", kind=NoticeKind.PRESALE_MORTGAGE,
                  holders=(party,), obligors=(party,), amount=Money(fen=1), priority_key="k", registry="r",
                  registered_ms=0, lapse_clock_start_ms=start_ms)


NOTICE_MS = st.integers(min_value=ms_of(datetime(2007, 10, 1, tzinfo=CST)), max_value=LAST_MS)
"""Advance notices exist since the Property Law (2007-10-01)."""


def naive_lapse_day(years: Naive, start_day: date) -> date:
    """The first day the notice is lapsed: day 90 (201), moved on past rest days (203), plus one."""
    last = start_day + timedelta(days=LAPSE_DAYS)
    while not naive_working(years, last):
        last += timedelta(days=1)
    return last + timedelta(days=1)


@given(calendars(), st.integers(min_value=0, max_value=86_399_999), st.integers(min_value=-2, max_value=400),
       st.data())
def test_an_advance_notice_lapses_at_guangzhou_midnight_after_its_last_day(
    generated: tuple[int, Naive], into_day: int, later_days: int, data: st.DataObject,
) -> None:
    """民法典 221 (domain.md §5.9): 90 days, the start day not counted (201), a last day off work moved on (203)."""
    first, years = generated
    start_day = _day_in(first, data, years)
    start_ms = midnight_ms(start_day) + into_day
    days = WorkingDays(view_of(years))
    lapse_day = naive_lapse_day(years, start_day)
    due = midnight_ms(lapse_day)
    notice = notice_with_clock(start_ms)
    assert lapse_due_ms(notice, days) == due
    assert (is_lapsed(notice, due - 1, days), is_lapsed(notice, due, days)) == (False, True)
    now = start_ms + later_days * 86_400_000 + data.draw(st.integers(min_value=-1, max_value=1))
    assert is_lapsed(notice, now, days) == (local_date(now) >= lapse_day)
    assert iso_date(shanghai_day(due)) == lapse_day.isoformat()
    assert lapse_due_ms(notice_with_clock(None), days) is None
    assert not is_lapsed(notice_with_clock(None), now, days)


@pytest.mark.parametrize(("start", "lapses_from"), [
    (datetime(2026, 1, 7, 0, 0, tzinfo=CST), date(2026, 4, 8)),  # day 90 is Tue 04-07
    # 23:59:59.999 is still Jan 5: day 90 is Sun 04-05, so the last day is Mon 04-06
    (datetime(2026, 1, 5, 23, 59, 59, 999_000, tzinfo=CST), date(2026, 4, 7)),
    (datetime(2100, 1, 1, 0, 0, 0, 5_000, tzinfo=CST), date(2100, 4, 2)),  # February 2100 has no 29th; Thu 04-01
])
def test_lapse_without_a_recorded_calendar_counts_weekends_as_rest(start: datetime, lapses_from: date) -> None:
    """Dates counted by hand: with no calendar for the year, Monday to Friday are the working days [A]."""
    notice = notice_with_clock(ms_of(start))
    assert lapse_due_ms(notice, WorkingDays(view_of({}))) == midnight_ms(lapses_from)


def seizure(order: int, start: date, end: date, released_ms: int | None = None) -> Seizure:
    return Seizure(seizure_id=f"s{order}", unit_number=UNIT_A, authority_org="court", order_no=f"o{order}",
                   kind=SeizureKind.SEIZURE, start_date=start.isoformat(), end_date=end.isoformat(),
                   queue_order=order, queued=order > 1, delivered_ms=0, released_ms=released_ms)


def in_effect_at(seizures: tuple[Seizure, ...], ms: int) -> str | None:
    found = [w.seizure.seizure_id for w in windows(seizures) if w.start_ms <= ms < w.end_ms]
    assert len(found) <= 1
    return found[0] if found else None


SEIZURE_DATES = st.dates(min_value=date(2007, 1, 1), max_value=date(2195, 12, 31))


@given(SEIZURE_DATES, st.integers(min_value=0, max_value=3 * 366), st.none() | st.integers(-5, 4 * 366 * 86_400_000),
       st.integers(min_value=-3 * 86_400_000, max_value=4 * 366 * 86_400_000))
@example(date(2026, 1, 4), 0, None, 0)
@example(date(2099, 12, 31), 60, None, 0)
def test_a_seizure_is_in_effect_on_the_guangzhou_days_of_its_term(start: date, length: int, released: int | None,
                                                                   probe: int) -> None:
    """查封: in effect from its start date to its end date inclusive, or until released (domain.md §5.10)."""
    end = start + timedelta(days=length)
    released_ms = None if released is None else midnight_ms(start) + released
    seized = (seizure(1, start, end, released_ms),)

    def oracle(ms: int) -> str | None:
        on_term = start <= local_date(ms) <= end
        return "s1" if on_term and (released_ms is None or ms < released_ms) else None

    edges = [midnight_ms(start), midnight_ms(end + timedelta(days=1)), midnight_ms(start) + probe]
    if released_ms is not None:
        edges.append(released_ms)
    for edge in edges:
        for ms in (edge - 1, edge, edge + 1):
            assert in_effect_at(seized, ms) == oracle(ms), instant(ms).astimezone(SHANGHAI)


@given(SEIZURE_DATES, st.integers(0, 400), st.integers(-400, 400), st.integers(0, 400),
       st.none() | st.integers(1, 400 * 86_400_000))
@example(date(2026, 1, 4), 27, 0, 30, 5 * 86_400_000 + 10 * 3_600_000)
@example(date(2028, 1, 1), 58, 10, 1, None)
def test_a_queued_seizure_serves_its_whole_term_once_the_one_before_ends(
    first_start: date, first_length: int, second_offset: int, second_length: int, first_released: int | None,
) -> None:
    """轮候: the queued seizure takes effect when the first ends (lapse or release) and its term counts from then."""
    first_end = first_start + timedelta(days=first_length)
    second_start = first_start + timedelta(days=second_offset)
    second_end = second_start + timedelta(days=second_length)
    released_ms = None if first_released is None else midnight_ms(first_start) + first_released
    queue = (seizure(1, first_start, first_end, released_ms), seizure(2, second_start, second_end))

    first_from = instant(midnight_ms(first_start))
    first_until = instant(midnight_ms(first_end + timedelta(days=1)))
    if released_ms is not None:
        first_until = min(first_until, instant(released_ms))
    second_from = instant(midnight_ms(second_start))
    if first_until > first_from:
        second_from = max(second_from, first_until)
    second_until = second_from + (second_end - second_start + timedelta(days=1))

    def oracle(ms: int) -> str | None:
        moment = instant(ms)
        if first_from <= moment < first_until:
            return "s1"
        return "s2" if second_from <= moment < second_until else None

    for edge in (first_from, first_until, second_from, second_until):
        for ms in (ms_of(edge) - 1, ms_of(edge), ms_of(edge) + 1):
            assert in_effect_at(queue, ms) == oracle(ms), instant(ms).astimezone(SHANGHAI)
    if released_ms is None and second_start <= first_end:
        # lapsed by its term: the queued one runs on whole Guangzhou days right after the first one's end date
        assert second_from.astimezone(SHANGHAI) == datetime.combine(first_end + timedelta(days=1), time(0), SHANGHAI)
        assert local_date(ms_of(second_until) - 1) == first_end + timedelta(days=1 + second_length)


CONSENT_BODY: dict[str, JSON] = {"unit_number": UNIT_A, "bank_party": BANK_A_PARTY, "purpose": "PRE_LOAN"}


@given(PLATFORM_MS, st.integers(min_value=-3, max_value=3), st.integers(min_value=-2, max_value=5 * 86_400_000))
@example(midnight_ms(date(2026, 1, 31)), 0, 86_400_000 - 1)  # used at 23:59:59.999 on its last day
@example(midnight_ms(date(2026, 1, 31)), 0, 86_400_000)  # and at midnight after it
@example(midnight_ms(date(2026, 1, 31)) - 1, 0, 0)  # given 1 ms before the day it expires
def test_an_owner_consent_runs_through_its_expiry_date_in_guangzhou(given_ms: int, days: int, later: int) -> None:
    """V26: a consent is good through ``expires_on`` (inclusive) and may not be given already expired (V11)."""
    expires_on = local_date(given_ms) + timedelta(days=days)
    register = seeded_at(given_ms)
    body = {**CONSENT_BODY, "expires_on": expires_on.isoformat()}
    if expires_on < local_date(given_ms):
        assert register.no("inquiry.consent", body, OWNER_A).code == "V11_TERM_INVALID"
        return
    consent_id = str(register.ok("inquiry.consent", body, OWNER_A).effects[0].value["consent_id"])  # type: ignore[union-attr]
    register.d.time_ms = given_ms + later
    log = register.ok("inquiry.request", {"unit_number": UNIT_A, "basis": "consent", "consent_ids": [consent_id],
                                          "purpose": "PRE_LOAN", "requester_party": BANK_A_PARTY}, "bank_a")
    record = log.effects[0].value  # type: ignore[union-attr]
    expired = local_date(register.d.time_ms) > expires_on
    assert record["outcome"] == ("REFUSED" if expired else "GRANTED")
    if expired:
        assert record["problem"] == f"consent {consent_id} expired on {expires_on.isoformat()}"


@given(PLATFORM_MS, st.integers(min_value=-3, max_value=3))
@example(midnight_ms(date(2030, 6, 1)) - 1, 0)
@example(midnight_ms(date(2030, 6, 1)), 0)
def test_a_new_mortgage_term_must_end_after_the_guangzhou_filing_date(filed_ms: int, days: int) -> None:
    """V11: the debt term ends after the filing block's date (domain.md §12)."""
    end = local_date(filed_ms) + timedelta(days=days)
    register = seeded_at(filed_ms)
    filing = register.filing(debt_term={"start": "2000-01-01", "end": end.isoformat()})
    if end <= local_date(filed_ms):
        rejection = register.no("application.file", filing, "bank_a")
        assert (rejection.code, rejection.detail["field"]) == ("V11_TERM_INVALID", "debt_term.end")
    else:
        register.ok("application.file", filing, "bank_a")
