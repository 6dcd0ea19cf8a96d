"""Working-day deadlines count by the holiday calendar the registry records by governance tx (domain.md §5.1).

The calendar below is the State Council's 2026 arrangement (国务院办公厅关于2026年部分节假日安排的通知,
wording recalled, not re-read here: check it before relying on it outside tests):
元旦 1月1日-3日 (1月4日 Sunday worked); 春节 2月15日-23日 (2月14日, 2月28日 Saturdays worked);
清明 4月4日-6日; 劳动节 5月1日-5日 (5月9日 Saturday worked); 端午 6月19日-21日; 中秋 9月25日-27日;
国庆 10月1日-7日 (9月20日 Sunday and 10月10日 Saturday worked).
Expected days are counted by hand in the comments, not by the code under test.
"""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta, timezone

import orjson
from conftest import BANK_A_PARTY, BUYER, OWNER_A, PREDICTED, PresaleRegister, h
from test_presale_scenario import transfer_body as presale_transfer

from estatechain.contract.effects import JSON, Emit
from estatechain.contract.working_days import WorkingDays
from estatechain.testing.contract_view import DictView

P2, P3 = "粤(2026)广州市不动产证明第00000002号", "粤(2026)广州市不动产证明第00000003号"


def span(first: str, last: str) -> list[JSON]:
    """Consecutive dates of one month, ``first`` and ``last`` as ``YYYY-MM-DD``."""
    year, month, day = first.split("-")
    return [f"{year}-{month}-{d:02d}" for d in range(int(day), int(last.split("-")[2]) + 1)]


HOLIDAYS_2026: list[JSON] = [
    *span("2026-01-01", "2026-01-03"), *span("2026-02-15", "2026-02-23"), *span("2026-04-04", "2026-04-06"),
    *span("2026-05-01", "2026-05-05"), *span("2026-06-19", "2026-06-21"), *span("2026-09-25", "2026-09-27"),
    *span("2026-10-01", "2026-10-07"),
]
WORKDAYS_2026: list[JSON] = ["2026-01-04", "2026-02-14", "2026-02-28", "2026-05-09", "2026-09-20", "2026-10-10"]
BASIS = "国务院办公厅关于2026年部分节假日安排的通知"


def calendar_body(**changes: JSON) -> dict[str, JSON]:
    body: dict[str, JSON] = {"year": 2026, "holidays": list(HOLIDAYS_2026), "workdays": list(WORKDAYS_2026),
                             "basis": BASIS}
    body.update(changes)
    return body


def at(date: str, hour: int = 10) -> int:
    """Block time (ms) of ``date`` at ``hour`` o'clock in Guangzhou."""
    year, month, day = (int(part) for part in date.split("-"))
    return int(datetime(year, month, day, hour, tzinfo=timezone(timedelta(hours=8))).timestamp() * 1000)


def day(date: str) -> int:
    """Days since 1970-01-01 of ``date``."""
    year, month, d = (int(part) for part in date.split("-"))
    return (datetime(year, month, d, tzinfo=UTC) - datetime(1970, 1, 1, tzinfo=UTC)).days


def ex_officio(notified: str, published_from: str, published_to: str) -> dict[str, JSON]:
    """The registry's ex-officio correction of ICBC's 预抵押 amount (细则 81)."""
    return {"unit_number": PREDICTED, "certificate_number": P2, "error_evidence_sha256": h("material:LOAN_CONTRACT:"),
            "corrections": [{"field": "amount", "old": {"fen": 120_000_000, "currency": "CNY"},
                             "new": {"fen": 102_000_000, "currency": "CNY"}}],
            "notified_on": notified, "published_from": published_from, "published_to": published_to}


def test_the_registry_admin_records_the_2026_calendar(pre: PresaleRegister) -> None:
    outcome = pre.ok("calendar.set", calendar_body(), "admin")
    row = pre.row("governance/calendar/2026")
    assert row["holidays"] == HOLIDAYS_2026
    assert len(HOLIDAYS_2026) == 33
    assert (row["year"], row["workdays"], row["basis"], row["height"]) == (2026, WORKDAYS_2026, BASIS, pre.d.height)
    assert [(e.name, e.data) for e in outcome.effects if isinstance(e, Emit)] == [("calendar.set", {"year": 2026})]
    reader = WorkingDays(pre.d.view)
    assert not reader.is_working_day(day("2026-10-01"))  # Thursday, National Day
    assert reader.is_working_day(day("2026-10-10"))  # Saturday, adjusted working day
    assert reader.is_working_day(day("2026-01-04"))  # the Sunday worked after New Year
    assert not reader.is_working_day(day("2026-10-11"))  # an ordinary Sunday
    # 2027 has no calendar yet: Monday-Friday [A], so New Year's Day 2027 (a Friday) counts as working
    assert reader.is_working_day(day("2027-01-01"))
    assert reader.add(day("2026-12-30"), 3) == day("2027-01-04")  # Dec 31, Jan 1, Jan 4


def test_only_the_registry_admin_may_set_the_calendar(pre: PresaleRegister) -> None:
    for actor in ("recorder", "bank_a", "developer", "court", BUYER):
        rejection = pre.no("calendar.set", calendar_body(), actor)
        assert (rejection.code, rejection.detail["command"]) == ("ROLE_NOT_PERMITTED", "calendar.set")
    assert pre.d.view.get("governance/calendar/2026") is None


def test_a_bad_calendar_is_refused_naming_the_date(pre: PresaleRegister) -> None:
    cases: list[tuple[dict[str, JSON], str, str]] = [
        (calendar_body(holidays=["2026-02-30"]), "MALFORMED_COMMAND", "holidays[0]"),
        (calendar_body(holidays=["2026-10-01", "2027-01-01"]), "CALENDAR_INVALID", "holidays[1]"),
        (calendar_body(holidays=["2026-10-02", "2026-10-01"]), "CALENDAR_INVALID", "holidays[1]"),
        (calendar_body(workdays=["2026-10-09"]), "CALENDAR_INVALID", "workdays[0]"),  # a Friday
        (calendar_body(workdays=["2026-10-03"]), "CALENDAR_INVALID", "workdays[0]"),  # also a holiday
        (calendar_body(year="2026"), "MALFORMED_COMMAND", "year"),
        (calendar_body(basis=""), "MALFORMED_COMMAND", "basis"),
    ]
    for body, code, field in cases:
        rejection = pre.no("calendar.set", body, "admin")
        assert (rejection.code, rejection.detail["field"]) == (code, field), body


def test_an_amended_calendar_may_change_only_days_still_ahead(pre: PresaleRegister) -> None:
    pre.ok("calendar.set", calendar_body(), "admin")
    pre.d.time_ms = at("2026-05-06")
    past = pre.no("calendar.set", calendar_body(workdays=[d for d in WORKDAYS_2026 if d != "2026-02-28"]), "admin")
    assert (past.code, past.detail["field"]) == ("CALENDAR_INVALID", "holidays")
    assert "2026-02-28 has passed" in past.message
    later = [d for d in HOLIDAYS_2026 if d != "2026-06-19"]  # the Dragon Boat Friday is still ahead
    pre.ok("calendar.set", calendar_body(holidays=later), "admin")
    assert pre.row("governance/calendar/2026")["holidays"] == later
    assert WorkingDays(pre.d.view).is_working_day(day("2026-06-19"))


def test_ex_officio_correction_counts_30_and_15_working_days_over_national_day(pre: PresaleRegister) -> None:
    _, first = pre.notices()
    pre.ok("calendar.set", calendar_body(), "admin")
    pre.d.time_ms = at("2026-11-10")
    # Notified Tue 2026-09-01. Working days after it: Sep 2-4 (3), 7-11 (8), 14-18 (13), Sun 20 worked (14),
    # 21-24 (18; Fri 25 is 中秋), 28-30 (21), Oct 1-7 holiday, Oct 8-9 (23), Sat 10 worked (24), 12-16 (29),
    # Mon Oct 19 (30): publication may begin on Oct 20. Monday-Friday alone would have ended on Oct 13.
    too_early = pre.no("mortgage_notice.correct_ex_officio", ex_officio("2026-09-01", "2026-10-19", "2026-11-09"),
                       "recorder")
    assert (too_early.code, too_early.detail["field"]) == ("V20_CORRECTION_INVALID", "published_to")
    assert "ran until 2026-10-19" in too_early.message
    # Published from Tue Oct 20: Oct 20-23 (4), 26-30 (9), Nov 2-6 (14), Mon Nov 9 (15).
    too_short = pre.no("mortgage_notice.correct_ex_officio", ex_officio("2026-09-01", "2026-10-20", "2026-11-06"),
                       "recorder")
    assert (too_short.code, too_short.detail["field"]) == ("V20_CORRECTION_INVALID", "published_to")
    assert "they end on 2026-11-09" in too_short.message
    pre.ok("mortgage_notice.correct_ex_officio", ex_officio("2026-09-01", "2026-10-20", "2026-11-09"), "recorder")
    assert pre.row("certificate/proof/2026/00000002")["status"] == "CORRECTED"
    new = pre.row(str(pre.row("certificate/proof/2026/00000003")["right"]))
    assert (new["amount"], new["certificate_number"], new["corrects"], new["registration_type"]) == (
        {"fen": 102_000_000, "currency": "CNY"}, P3, f"notice/{first}", "500")


def test_without_a_calendar_the_same_dates_count_monday_to_friday(pre: PresaleRegister) -> None:
    pre.notices()
    pre.d.time_ms = at("2026-11-10")
    # Monday-Friday only [A]: the 30th working day after Sep 1 is Tue Oct 13, so Oct 14 may begin.
    pre.ok("mortgage_notice.correct_ex_officio", ex_officio("2026-09-01", "2026-10-14", "2026-11-03"), "recorder")
    assert pre.row("certificate/proof/2026/00000002")["status"] == "CORRECTED"


def test_calendar_day_deadlines_ignore_the_holiday_calendar(pre: PresaleRegister) -> None:
    """The 7-day confirmation window is in calendar days (domain.md §5.1): National Day does not extend it."""
    pre.ok("calendar.set", calendar_body(), "admin")
    pre.d.time_ms = at("2026-09-30")
    app = pre.file()
    pre.d.time_ms = at("2026-10-06")  # six calendar days later: the owner may still confirm
    pre.confirm(app, OWNER_A, OWNER_A)
    pre.d.time_ms = at("2026-10-07")  # seven calendar days later, still inside the holiday: expired
    rejection = pre.no("application.confirm", {"application_id": app, "application_hash": app,
                                               "party_id": BANK_A_PARTY}, "bank_a_approver")
    assert (rejection.code, rejection.detail["field"]) == ("V25_CONFIRMATION_EXPIRED", "application_id")


def _ownership_recorded_on(pre: PresaleRegister, date: str) -> None:
    """Purchase notice and 预抵押, the building's first registration, and the buyer's ownership recorded on ``date``
    (which starts the 预抵押's 90-day clock, domain.md §5.9)."""
    pre.notices()
    pre.first_registration()
    pre.d.time_ms = at(date)
    pre.case(presale_transfer(), "developer")


def test_a_notice_whose_ninetieth_day_falls_in_national_day_lapses_after_the_first_working_day(
    pre: PresaleRegister,
) -> None:
    """民法典 203: a period whose last day is a rest day ends on the first day after the rest."""
    pre.ok("calendar.set", calendar_body(), "admin")
    _ownership_recorded_on(pre, "2026-07-05")
    # Day 1 is Jul 6 (201); Jul 6-31 (26), Aug (57), Sep (87), Sat Oct 3 is day 90, inside 国庆 Oct 1-7.
    # The first working day after the holiday is Thu Oct 8: the notice lapses from Fri Oct 9.
    for date in ("2026-10-03", "2026-10-07", "2026-10-08"):
        pre.d.time_ms = at(date, hour=23)
        refused = pre.no("notice.mark_lapsed", {"certificate_number": P2}, "recorder")
        assert (refused.code, refused.detail["problem"]) == ("NOTICE_NOT_LAPSED", "it lapses from 2026-10-09"), date
    pre.d.time_ms = at("2026-10-09", hour=0)
    pre.ok("notice.mark_lapsed", {"certificate_number": P2}, "recorder")
    assert pre.row("certificate/proof/2026/00000002")["status"] == "CANCELLED"


def test_without_a_calendar_a_ninetieth_day_on_a_saturday_ends_on_monday(pre: PresaleRegister) -> None:
    _ownership_recorded_on(pre, "2026-07-05")
    pre.d.time_ms = at("2026-10-05", hour=23)  # Monday-Friday only [A]: Sat Oct 3 moves to Mon Oct 5
    refused = pre.no("notice.mark_lapsed", {"certificate_number": P2}, "recorder")
    assert (refused.code, refused.detail["problem"]) == ("NOTICE_NOT_LAPSED", "it lapses from 2026-10-06")
    pre.d.time_ms = at("2026-10-06", hour=0)
    pre.ok("notice.mark_lapsed", {"certificate_number": P2}, "recorder")


def _calendar_run(reverse: bool) -> bytes:
    """The whole calendar scenario; with ``reverse`` the state's insertion order is flipped before each tx."""
    reg = PresaleRegister()
    if reverse:
        original = reg.d.run

        def run(name: str, body: dict[str, JSON], **kwargs: str) -> object:
            reg.d.view = DictView(dict(reversed(list(reg.d.view.rows.items()))))
            return original(name, copy.deepcopy(body), **kwargs)  # type: ignore[arg-type]

        reg.d.run = run  # type: ignore[method-assign,assignment]
    reg.seed()
    reg.notices()
    reg.ok("calendar.set", calendar_body(), "admin")
    reg.d.time_ms = at("2026-11-10")
    reg.no("mortgage_notice.correct_ex_officio", ex_officio("2026-09-01", "2026-10-19", "2026-11-09"), "recorder")
    reg.ok("mortgage_notice.correct_ex_officio", ex_officio("2026-09-01", "2026-10-20", "2026-11-09"), "recorder")
    return orjson.dumps(reg.d.view.rows, option=orjson.OPT_SORT_KEYS)


def test_replaying_the_calendar_scenario_gives_the_same_state() -> None:
    assert _calendar_run(reverse=False) == _calendar_run(reverse=True)
