"""What the desks read of a unit's seizures, from the queue's own windows: state now, live place, period in effect.

A record's ``queued`` flag is fixed at delivery and its ``queue_order`` counts every seizure ever
delivered; neither says what the seizure is now. These are derived from ``seizure_queue.windows``
(``seizurestanding.seizure_entries``), and the court desk flags one in effect that lapses within
``RENEWAL_NOTICE_DAYS`` (``routes_court.own_seizure``).
"""

from __future__ import annotations

from dataclasses import replace

from estatechain.contract.civil_date import day_start_ms, parse_iso_date
from estatechain.contract.records import Seizure, SeizureKind
from estatechain.web.routes_court import own_seizure
from estatechain.web.seizurestanding import seizure_entries

DAY_MS = 86_400_000


def seizure(n: int, start: str, end: str, *, queued: bool) -> Seizure:
    return Seizure(seizure_id=f"S{n}", unit_number="440106001001GB00001F00010001", authority_org="gz-court",
                   order_no=f"(2026)粤0106执保{n}号", kind=SeizureKind.SEIZURE, start_date=start, end_date=end,
                   queue_order=n, queued=queued, delivered_ms=0)


def at(day: str, hours: int = 12) -> int:
    """The instant ``hours`` o'clock on ``day`` in Guangzhou."""
    days = parse_iso_date(day)
    assert days is not None
    return day_start_ms(days) + hours * 3_600_000


LAPSED = seizure(1, "2025-01-01", "2025-06-30", queued=False)
NOW_IN_EFFECT = seizure(2, "2025-03-01", "2026-08-07", queued=True)
"""Delivered while the first was in effect (its record says queued): its 525-day term counts from 2025-07-01."""
BEHIND = seizure(3, "2026-10-01", "2027-09-30", queued=True)  # a 365-day term counted from 2026-12-08
TODAY = "2026-11-27"


def test_each_seizure_reads_its_state_now_its_live_place_and_the_period_it_is_in_effect() -> None:
    entries = seizure_entries([BEHIND, LAPSED, NOW_IN_EFFECT], at(TODAY))
    assert [(e.seizure.order_no, e.state, e.place, e.effect) for e in entries] == [
        ("(2026)粤0106执保1号", "lapsed", None, ("2025-01-01", "2025-06-30")),
        ("(2026)粤0106执保2号", "in_effect", 1, ("2025-07-01", "2026-12-07")),
        ("(2026)粤0106执保3号", "queued", 2, ("2026-12-08", "2027-12-07")),
    ]


def test_a_release_puts_the_next_one_in_effect_from_that_day_and_one_released_before_never_was() -> None:
    released = replace(NOW_IN_EFFECT, released_ms=at(TODAY, 10))
    never = replace(BEHIND, seizure_id="S4", queue_order=4, released_ms=at(TODAY, 9))
    entries = seizure_entries([LAPSED, released, BEHIND, never], at(TODAY, 11))
    assert [(e.state, e.place, e.effect) for e in entries] == [
        ("lapsed", None, ("2025-01-01", "2025-06-30")),
        ("released", None, ("2025-07-01", TODAY)),
        ("in_effect", 1, (TODAY, "2027-11-27")),
        ("released", None, None),
    ]


def test_the_court_desk_flags_a_seizure_in_effect_that_lapses_within_thirty_days_and_no_other() -> None:
    entries = {e.seizure.seizure_id: e for e in seizure_entries([LAPSED, NOW_IN_EFFECT, BEHIND], at(TODAY))}
    assert own_seizure(entries["S2"], at(TODAY)).lapses_on == "2026-12-07"
    assert own_seizure(entries["S2"], at("2026-11-06")).lapses_on is None  # 31 days before its last day
    assert own_seizure(entries["S2"], at("2026-11-07")).lapses_on == "2026-12-07"
    assert own_seizure(entries["S3"], at(TODAY)).lapses_on is None  # queued: its term has not started
    assert own_seizure(entries["S1"], at(TODAY)).lapses_on is None  # already lapsed
