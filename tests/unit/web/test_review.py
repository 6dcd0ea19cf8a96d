"""The review desk's legal clock (条例 20) and hold/resume offer, on applications built in memory.

The calendar is a year row as ``calendar.set`` stores it, read through ``WorkingDays`` like the
contract reads it; without a row the days are Monday to Friday. A held case is built as the contract
records it (its latest hold and resumption in ``steps``, the total in ``held_ms_total``) with its
holds as ``history.holds`` reads them from its transactions.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from estatechain.contract import keys
from estatechain.contract.civil_date import iso_date
from estatechain.contract.effects import Record
from estatechain.contract.records import Application
from estatechain.contract.records.application import AppState
from estatechain.contract.working_days import WorkingDays
from estatechain.web.pages import environment
from estatechain.web.review import HOLD, RESUME, Clock, clock, hold_steps
from estatechain.web.timelimits import Hold, certainly_late

SHANGHAI = dt.timezone(dt.timedelta(hours=8))


class Rows:
    """A read-only view holding only calendar rows (all ``WorkingDays`` reads)."""

    def __init__(self, rows: dict[str, Record] | None = None) -> None:
        self.rows = rows or {}

    def get(self, key: str) -> Record | None:
        return self.rows.get(key)

    def scan(self, prefix: str) -> Iterator[tuple[str, Record]]:
        return iter(sorted((k, v) for k, v in self.rows.items() if k.startswith(prefix)))


def at(day: str, hour: int = 10) -> int:
    """Milliseconds of ``day`` (ISO) at ``hour`` Beijing time."""
    moment = dt.datetime.fromisoformat(day).replace(hour=hour, tzinfo=SHANGHAI)
    return int(moment.timestamp() * 1000)


def accepted_on(day: str, *, state: AppState = AppState.ACCEPTED, holds: tuple[Hold, ...] = ()) -> Application:
    """A case accepted on ``day`` at 10:00 and held ``holds``, its record as the contract writes it."""
    steps: Record = {"accepted": {"at_ms": at(day)}}
    if holds:
        steps = {**steps, "held": {"at_ms": holds[-1].start_ms}}
    resumed = [hold.end_ms for hold in holds if hold.end_ms is not None]
    if resumed:
        steps = {**steps, "resumed": {"at_ms": resumed[-1]}}
    total = sum(hold.end_ms - hold.start_ms for hold in holds if hold.end_ms is not None)
    return Application(application_id="a" * 64, business_type="mortgage.first", unit_number="4" * 28, applicants=(),
                       materials=(), details={}, state=state, filer="f", filer_org="icbc-gz", filed_ms=at(day) - 1,
                       confirm_deadline_ms=at(day) + 1, held_ms_total=total, steps=steps)


def held_clock(holds: tuple[Hold, ...], now: int, calendar: WorkingDays, state: AppState = AppState.ACCEPTED) -> Clock:
    """The clock of a case accepted on Monday 2 March 2026 and held ``holds``, as of ``now``."""
    found = clock(accepted_on("2026-03-02", state=state, holds=holds), state, now, calendar, holds)
    assert found is not None
    return found


def qingming() -> WorkingDays:
    """2026's Qingming holiday recorded on the ledger: Saturday 4 to Monday 6 April."""
    return WorkingDays(Rows({keys.work_calendar(2026): {
        "year": 2026, "holidays": ["2026-04-04", "2026-04-05", "2026-04-06"], "workdays": []}}))


def test_a_case_accepted_today_has_thirty_working_days_left_and_is_not_flagged() -> None:
    found = clock(accepted_on("2026-03-02"), AppState.ACCEPTED, at("2026-03-02", 16), WorkingDays(Rows()), ())
    assert found is not None
    assert (found.left, found.late, found.near, found.held) == (30, False, False, False)


def test_weekends_do_not_count_and_three_days_before_the_limit_is_flagged() -> None:
    # Accepted Monday 2 March: the 30th working day after it is Monday 13 April (no calendar row).
    calendar = WorkingDays(Rows())
    on_limit = clock(accepted_on("2026-03-02"), AppState.APPROVED, at("2026-04-13"), calendar, ())
    assert on_limit is not None
    assert on_limit.left == 0
    assert on_limit.near
    assert not on_limit.late
    four_before = clock(accepted_on("2026-03-02"), AppState.ACCEPTED, at("2026-04-07"), calendar, ())
    assert four_before is not None
    assert (four_before.left, four_before.near) == (4, False)
    three_before = clock(accepted_on("2026-03-02"), AppState.ACCEPTED, at("2026-04-08"), calendar, ())
    assert three_before is not None
    assert (three_before.left, three_before.near) == (3, True)


def test_a_recorded_holiday_moves_the_limit_and_past_it_the_case_is_late() -> None:
    # Qingming, Monday 6 April 2026, recorded as a holiday: the limit moves to Tuesday 14 April.
    holiday = (dt.date(2026, 4, 6) - dt.date(1970, 1, 1)).days
    calendar = WorkingDays(Rows({keys.work_calendar(2026): {"year": 2026, "holidays": ["2026-04-06"],
                                                            "workdays": []}}))
    assert calendar.is_working_day(holiday) is False
    friday = clock(accepted_on("2026-03-02"), AppState.ACCEPTED, at("2026-04-10"), calendar, ())
    assert friday is not None
    assert (friday.left, friday.near, friday.late) == (2, True, False)
    late = clock(accepted_on("2026-03-02"), AppState.ACCEPTED, at("2026-04-16"), calendar, ())
    assert late is not None
    assert (late.left, late.late, late.near) == (-2, True, False)


def test_time_on_hold_stops_the_clock() -> None:
    calendar = WorkingDays(Rows())
    # Held from Tuesday 10 to Friday 20 March (ten days, eight working days from the 10th to the 19th).
    resumed = held_clock((Hold(at("2026-03-10"), at("2026-03-20")),), at("2026-04-10"), calendar)
    assert (iso_date(resumed.due_day), resumed.left, resumed.near) == ("2026-04-23", 9, False)
    # Held since 1 April and still held on 20 April: the days on hold up to now push the limit back.
    held = held_clock((Hold(at("2026-04-01")),), at("2026-04-20"), calendar, AppState.ON_HOLD)
    assert held.held
    assert not held.late
    assert (iso_date(held.due_day), held.left) == ("2026-04-30", 8)


def test_a_one_minute_hold_does_not_move_the_due_day() -> None:
    """Put on hold and resumed a minute later on Wednesday 11 March: no day was suspended, the limit stays
    on Monday 13 April (the 30th working day after Monday 2 March), not a working day later."""
    calendar = WorkingDays(Rows())
    minute = held_clock((Hold(at("2026-03-11"), at("2026-03-11") + 60_000),), at("2026-04-13", 16), calendar)
    assert (iso_date(minute.due_day), minute.left, minute.late, minute.overdue) == ("2026-04-13", 0, False, False)
    after = held_clock((Hold(at("2026-03-11"), at("2026-03-11") + 60_000),), at("2026-04-14"), calendar)
    assert (after.left, after.overdue) == (-1, True)


def test_a_hold_across_a_weekend_and_a_holiday_suspends_only_its_working_days() -> None:
    """Held from Thursday 2 April 15:00 to Tuesday 7 April 09:00, over the weekend and Qingming (Monday 6 April):
    Thursday and Friday are the working days suspended. Without the hold the limit is Tuesday 14 April (the
    holiday moves it a day); with it, Thursday 16 April. Counting the 4 days 18 hours on hold as five whole
    days (the running total, rounded up) would have put it on Tuesday 21 April."""
    calendar = qingming()
    assert iso_date(held_clock((), at("2026-04-08"), calendar).due_day) == "2026-04-14"
    hold = (Hold(at("2026-04-02", 15), at("2026-04-07", 9)),)
    found = held_clock(hold, at("2026-04-08"), calendar)
    assert (iso_date(found.due_day), found.left, found.near) == ("2026-04-16", 6, False)
    late = held_clock(hold, at("2026-04-17"), calendar)
    assert (late.left, late.late) == (-1, True)


def test_two_holds_each_suspend_the_days_they_took() -> None:
    """Held from Tuesday 10 March 16:00 to Wednesday 11 March 09:30 (suspends Tuesday) and from Friday 20 March
    11:00 to Monday 23 March 14:00 (suspends Friday and the weekend): two working days, so the limit moves
    from Monday 13 April to Wednesday 15 April."""
    calendar = WorkingDays(Rows())
    holds = (Hold(at("2026-03-10", 16), at("2026-03-11", 9) + 1_800_000),
             Hold(at("2026-03-20", 11), at("2026-03-23", 14)))
    found = held_clock(holds, at("2026-04-15"), calendar)
    assert (iso_date(found.due_day), found.left, found.near) == ("2026-04-15", 0, True)
    assert not certainly_late(at("2026-03-02"), at("2026-04-15", 17), holds, calendar)
    assert held_clock(holds, at("2026-04-16"), calendar).overdue


def test_the_regulator_still_counts_a_case_surely_late_after_a_one_minute_hold() -> None:
    """No calendar on the ledger: accepted Monday 5 January 2026, decided Friday 6 March, 44 weekdays later, is
    late even if 13 of them were holidays (31 > 30). A minute on hold on 20 January takes no day off that."""
    accepted, decided = at("2026-01-05"), at("2026-03-06")
    minute = (Hold(at("2026-01-20"), at("2026-01-20") + 60_000),)
    assert certainly_late(accepted, decided, (), None)
    assert certainly_late(accepted, decided, minute, None)
    assert certainly_late(accepted, decided, minute, WorkingDays(Rows()))
    assert not certainly_late(accepted, at("2026-03-05"), minute, None)  # 43 weekdays: not surely


def test_a_hold_put_on_the_last_day_moves_the_limit_to_the_day_work_resumes() -> None:
    """Put on hold on the due day (Monday 13 April) and resumed on Wednesday 15 April: the part of Monday the
    hold took comes back on Wednesday, which becomes the last day (the case is not late on resumption)."""
    calendar = WorkingDays(Rows())
    found = held_clock((Hold(at("2026-04-13", 15), at("2026-04-15", 9)),), at("2026-04-15", 10), calendar)
    assert (iso_date(found.due_day), found.left, found.late, found.overdue) == ("2026-04-15", 0, False, False)


def test_no_clock_before_acceptance_or_after_the_decision() -> None:
    calendar = WorkingDays(Rows())
    assert clock(accepted_on("2026-03-02"), AppState.RECORDED, at("2026-03-03"), calendar, ()) is None
    never = Application(application_id="b" * 64, business_type="mortgage.first", unit_number="4" * 28, applicants=(),
                        materials=(), details={}, state=AppState.CONFIRMED, filer="f", filer_org="icbc-gz",
                        filed_ms=1, confirm_deadline_ms=2)
    assert clock(never, AppState.CONFIRMED, at("2026-03-03"), calendar, ()) is None


def test_hold_and_resume_are_offered_to_registry_staff_in_the_states_the_contract_takes() -> None:
    assert hold_steps(AppState.ACCEPTED, "registry.reviewer") == [HOLD]
    assert hold_steps(AppState.APPROVED, "registry.recorder") == [HOLD]
    assert hold_steps(AppState.ON_HOLD, "registry.reviewer") == [RESUME]
    assert hold_steps(AppState.CONFIRMED, "registry.reviewer") == []
    assert hold_steps(AppState.ACCEPTED, "registry.issuer") == []
    assert hold_steps(AppState.ACCEPTED, "bank.operator") == []


def test_past_the_due_day_without_a_holiday_calendar_is_overdue_not_due_soon() -> None:
    """With no calendar on the ledger the due day is counted Monday to Friday; past it, the case is not
    "due soon" with negative days left: it is shown past the due day, while not yet surely late."""
    calendar = WorkingDays(Rows())
    # Accepted Tuesday 1 September 2026: the 30th weekday after it is Tuesday 13 October.
    found = clock(accepted_on("2026-09-01"), AppState.ACCEPTED, at("2026-10-27"), calendar, ())
    assert found is not None
    assert (found.left, found.overdue, found.near, found.late) == (-10, True, False, False)
    surely = clock(accepted_on("2026-09-01"), AppState.ACCEPTED, at("2026-11-30"), calendar, ())
    assert surely is not None
    assert (surely.late, surely.overdue, surely.near) == (True, False, False)


def test_the_badge_of_an_overdue_case_says_so_in_both_languages() -> None:
    found = clock(accepted_on("2026-09-01"), AppState.ACCEPTED, at("2026-10-27"), WorkingDays(Rows()), ())
    for locale, expected in (("zh-CN", "已过办结期限 10 个工作日"), ("en", "Past the due day by 10 working days")):
        macros = environment(locale).get_template("review_macros.html").module
        badge = str(macros.clock_badge(found))  # type: ignore[attr-defined]
        assert expected in badge, badge
        assert "clock-late" in badge
        assert "-10" not in badge.split(">", 1)[1]  # the text, not the data attribute
