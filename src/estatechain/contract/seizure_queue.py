"""When a unit's seizures are in effect, derived from block time and never written (design §3.14).

All seizures of a unit form one queue in delivery order (轮候, 查封规定 26 [S]). A seizure takes
effect at the later of its own start and the end of the one before it; its term (``end_date −
start_date``) counts from that moment [A: 查封规定 26-27 as recalled, confirm with the registry];
it ends when its term runs out (lapse, 细则 92(2)) or when it is released, whichever comes first.
A seizure released before it took effect never takes effect.

Nor does a seizure bind the register before the registry recorded it: an order whose start date lies
before its delivery is in effect from the delivery's block time, and its end stays where its term
puts it (an unregistered seizure cannot be set up against a third party, 查封规定 24 [S*]; the
delay is the registry's, so it does not lengthen the court's term [A]). Otherwise the register would
show, as of a day before the delivery, a seizure "in effect" over a mortgage recorded that day.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from estatechain.contract import keys
from estatechain.contract.civil_date import day_start_ms, parse_iso_date
from estatechain.contract.records import Seizure
from estatechain.contract.view import StateView


@dataclass(frozen=True, slots=True, kw_only=True)
class Window:
    """The interval ``[start_ms, end_ms)`` in which ``seizure`` is in effect."""

    seizure: Seizure
    start_ms: int
    end_ms: int


def unit_seizures(view: StateView, unit_number: str) -> tuple[Seizure, ...]:
    """Every seizure ever delivered on the unit, in queue order."""
    found: list[Seizure] = []
    for _, row in view.scan(keys.unit_index(unit_number, "seizure")):
        record = view.get(keys.seizure(str(row["seizure_id"])))
        if record is not None:
            found.append(Seizure.from_json(record))
    return tuple(sorted(found, key=lambda seizure: (seizure.queue_order, seizure.seizure_id)))


def windows(seizures: Iterable[Seizure]) -> tuple[Window, ...]:
    """The effect window of each seizure that takes effect at all, in queue order."""
    cursor = 0
    result: list[Window] = []
    for seizure in sorted(seizures, key=lambda item: (item.queue_order, item.seizure_id)):
        own_start, own_end = parse_iso_date(seizure.start_date), parse_iso_date(seizure.end_date)
        if own_start is None or own_end is None:
            continue
        start = max(day_start_ms(own_start), cursor)
        end = start + day_start_ms(own_end + 1) - day_start_ms(own_start)
        if seizure.released_ms is not None:
            end = min(end, seizure.released_ms)
        start = max(start, seizure.delivered_ms)  # never before the registry recorded it
        if end > start:
            result.append(Window(seizure=seizure, start_ms=start, end_ms=end))
            cursor = max(cursor, end)
    return tuple(result)


def in_effect(view: StateView, unit_number: str, time_ms: int) -> Seizure | None:
    """The seizure in effect on the unit at ``time_ms``, or None (V13)."""
    for window in windows(unit_seizures(view, unit_number)):
        if window.start_ms <= time_ms < window.end_ms:
            return window.seizure
    return None


def pending_or_in_effect(view: StateView, unit_number: str, time_ms: int) -> bool:
    """Whether a new seizure delivered at ``time_ms`` has to queue behind another one."""
    return any(window.end_ms > time_ms for window in windows(unit_seizures(view, unit_number)))


def window_of(view: StateView, seizure: Seizure) -> Window | None:
    """The effect window of one seizure (None if it never takes effect)."""
    for window in windows(unit_seizures(view, seizure.unit_number)):
        if window.seizure.seizure_id == seizure.seizure_id:
            return window
    return None
