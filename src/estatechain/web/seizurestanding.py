"""What a unit's seizures are at a time: in effect, queued, released or lapsed, and when each is in effect.

A seizure record keeps the term the court typed and a ``queued`` flag fixed at delivery; neither
says what the seizure is now. All seizures of a unit form one queue (轮候): a queued seizure's term
counts from the day the one ahead of it ends, a renewal (续封) moves the end of the term, and a
lapse or a release ends it (``contract.seizure_queue``). Every page that shows a seizure (the court
desk, the registry's register page, the owner's unit, a bank's filing entries, an inquiry answer)
reads it through this module, so that they all say the same: the state and the period from the
queue's own ``windows``, with the typed term only as a second line
(``templates/seizure_macros.html``). Derived, never written (design §3.14).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

from estatechain.contract.civil_date import iso_date, shanghai_day
from estatechain.contract.records.seizure import Seizure
from estatechain.contract.seizure_queue import Window, unit_seizures, windows
from estatechain.contract.view import StateView
from estatechain.web.i18n import N_

SEIZURE_STATES: Final = {"in_effect": N_("In effect"), "queued": N_("Queued (轮候)"), "released": N_("Released"),
                         "lapsed": N_("Lapsed")}
LIVE_SEIZURE_STATES: Final = frozenset({"in_effect", "queued"})
"""The states of a seizure that still holds the unit: in effect, or queued to take effect."""


@dataclass(frozen=True, slots=True, kw_only=True)
class SeizureEntry:
    """A seizure with what it was at a given time: in effect, queued, released or lapsed.

    A queued seizure's term counts from the day it takes effect (``contract.seizure_queue``), so the
    dates the court typed are not the period it is in effect: ``effect`` is, from the queue's own
    ``windows``, and ``place`` is its live place among those in effect or queued (轮候位次), which
    ``queue_order`` (every seizure ever delivered, released ones included) is not.
    """

    seizure: Seizure
    state: str
    window: Window | None = None
    """When it is (or, for a queued one, would be) in effect; None if it never takes effect."""
    place: int | None = None
    """1 for the one in effect, 2.. for those queued behind it; None once released or lapsed."""

    @property
    def effect(self) -> tuple[str, str] | None:
        """The first and last day (ISO, Guangzhou calendar) of ``window``, or None."""
        if self.window is None:
            return None
        return iso_date(shanghai_day(self.window.start_ms)), iso_date(shanghai_day(self.window.end_ms - 1))

    @property
    def live(self) -> bool:
        """Whether it still holds the unit: in effect, or queued to take effect."""
        return self.state in LIVE_SEIZURE_STATES


def seizure_states(view: StateView, unit_number: str, at_ms: int) -> tuple[SeizureEntry, ...]:
    """Every seizure of the unit with its state at ``at_ms``, in queue order (derived, never written: §3.14)."""
    return seizure_entries(unit_seizures(view, unit_number), at_ms)


def live_seizures(view: StateView, unit_number: str, at_ms: int) -> tuple[SeizureEntry, ...]:
    """The unit's seizures in effect or queued at ``at_ms``, in queue order: the ones that still hold it.

    A released or lapsed seizure is history, shown only on the register page and to the court that
    delivered it.
    """
    return tuple(entry for entry in seizure_states(view, unit_number, at_ms) if entry.live)


def seizure_entries(seizures: Iterable[Seizure], at_ms: int) -> tuple[SeizureEntry, ...]:
    """``seizures`` (all of one unit) in queue order, each with its state, effect window and place at ``at_ms``.

    Takes the records rather than a view so that a registry-signed inquiry answer, which carries the
    unit's seizures as of its block, is read with the same queue (``seizure_queue.windows``) as the ledger.
    """
    found = sorted(seizures, key=lambda item: (item.queue_order, item.seizure_id))
    spans = {w.seizure.seizure_id: w for w in windows(found)}
    entries = []
    place = 0
    for seizure in found:
        window = spans.get(seizure.seizure_id)
        if seizure.released_ms is not None and (window is None or window.end_ms <= at_ms):
            state = "released"
        elif window is None or window.end_ms <= at_ms:
            state = "lapsed"
        elif window.start_ms > at_ms:
            state = "queued"
        else:
            state = "in_effect"
        live = state in LIVE_SEIZURE_STATES
        if live:
            place += 1
        entries.append(SeizureEntry(seizure=seizure, state=state, window=window, place=place if live else None))
    return tuple(entries)
