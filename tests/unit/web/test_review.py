"""The review desk's legal clock (条例 20) and hold/resume offer, on applications built in memory.

The calendar is a year row as ``calendar.set`` stores it, read through ``WorkingDays`` like the
contract reads it; without a row the days are Monday to Friday.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from estatechain.contract import keys
from estatechain.contract.effects import Record
from estatechain.contract.records import Application
from estatechain.contract.records.application import AppState
from estatechain.contract.working_days import WorkingDays
from estatechain.web.pages import environment
from estatechain.web.review import HOLD, RESUME, clock, hold_steps

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


def accepted_on(day: str, *, state: AppState = AppState.ACCEPTED, held_ms: int = 0,
                held_since: str | None = None) -> Application:
    steps: Record = {"accepted": {"at_ms": at(day)}}
    if held_since is not None:
        steps = {**steps, "held": {"at_ms": at(held_since)}}
    return Application(application_id="a" * 64, business_type="mortgage.first", unit_number="4" * 28, applicants=(),
                       materials=(), details={}, state=state, filer="f", filer_org="icbc-gz", filed_ms=at(day) - 1,
                       confirm_deadline_ms=at(day) + 1, held_ms_total=held_ms, steps=steps)


def test_a_case_accepted_today_has_thirty_working_days_left_and_is_not_flagged() -> None:
    found = clock(accepted_on("2026-03-02"), AppState.ACCEPTED, at("2026-03-02", 16), WorkingDays(Rows()))
    assert found is not None
    assert (found.left, found.late, found.near, found.held) == (30, False, False, False)


def test_weekends_do_not_count_and_three_days_before_the_limit_is_flagged() -> None:
    # Accepted Monday 2 March: the 30th working day after it is Monday 13 April (no calendar row).
    calendar = WorkingDays(Rows())
    on_limit = clock(accepted_on("2026-03-02"), AppState.APPROVED, at("2026-04-13"), calendar)
    assert on_limit is not None
    assert on_limit.left == 0
    assert on_limit.near
    assert not on_limit.late
    four_before = clock(accepted_on("2026-03-02"), AppState.ACCEPTED, at("2026-04-07"), calendar)
    assert four_before is not None
    assert (four_before.left, four_before.near) == (4, False)
    three_before = clock(accepted_on("2026-03-02"), AppState.ACCEPTED, at("2026-04-08"), calendar)
    assert three_before is not None
    assert (three_before.left, three_before.near) == (3, True)


def test_a_recorded_holiday_moves_the_limit_and_past_it_the_case_is_late() -> None:
    # Qingming, Monday 6 April 2026, recorded as a holiday: the limit moves to Tuesday 14 April.
    holiday = (dt.date(2026, 4, 6) - dt.date(1970, 1, 1)).days
    calendar = WorkingDays(Rows({keys.work_calendar(2026): {"year": 2026, "holidays": ["2026-04-06"],
                                                            "workdays": []}}))
    assert calendar.is_working_day(holiday) is False
    friday = clock(accepted_on("2026-03-02"), AppState.ACCEPTED, at("2026-04-10"), calendar)
    assert friday is not None
    assert (friday.left, friday.near, friday.late) == (2, True, False)
    late = clock(accepted_on("2026-03-02"), AppState.ACCEPTED, at("2026-04-16"), calendar)
    assert late is not None
    assert (late.left, late.late, late.near) == (-2, True, False)


def test_time_on_hold_stops_the_clock() -> None:
    calendar = WorkingDays(Rows())
    ten_days = 10 * 86_400_000
    resumed = clock(accepted_on("2026-03-02", held_ms=ten_days), AppState.ACCEPTED, at("2026-04-10"), calendar)
    assert resumed is not None
    assert resumed.left > 0
    assert not resumed.near
    # Held since 1 April and still held on 20 April: the days on hold push the limit back.
    held = clock(accepted_on("2026-03-02", state=AppState.ON_HOLD, held_since="2026-04-01"), AppState.ON_HOLD,
                 at("2026-04-20"), calendar)
    assert held is not None
    assert held.held
    assert not held.late
    assert held.left > 0


def test_no_clock_before_acceptance_or_after_the_decision() -> None:
    calendar = WorkingDays(Rows())
    assert clock(accepted_on("2026-03-02"), AppState.RECORDED, at("2026-03-03"), calendar) is None
    never = Application(application_id="b" * 64, business_type="mortgage.first", unit_number="4" * 28, applicants=(),
                        materials=(), details={}, state=AppState.CONFIRMED, filer="f", filer_org="icbc-gz",
                        filed_ms=1, confirm_deadline_ms=2)
    assert clock(never, AppState.CONFIRMED, at("2026-03-03"), calendar) is None


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
    found = clock(accepted_on("2026-09-01"), AppState.ACCEPTED, at("2026-10-27"), calendar)
    assert found is not None
    assert (found.left, found.overdue, found.near, found.late) == (-10, True, False, False)
    surely = clock(accepted_on("2026-09-01"), AppState.ACCEPTED, at("2026-11-30"), calendar)
    assert surely is not None
    assert (surely.late, surely.overdue, surely.near) == (True, False, False)


def test_the_badge_of_an_overdue_case_says_so_in_both_languages() -> None:
    found = clock(accepted_on("2026-09-01"), AppState.ACCEPTED, at("2026-10-27"), WorkingDays(Rows()))
    for locale, expected in (("zh-CN", "已过办结期限 10 个工作日"), ("en", "Past the due day by 10 working days")):
        macros = environment(locale).get_template("review_macros.html").module
        badge = str(macros.clock_badge(found))  # type: ignore[attr-defined]
        assert expected in badge, badge
        assert "clock-late" in badge
        assert "-10" not in badge.split(">", 1)[1]  # the text, not the data attribute
