"""The regulator's figures kept as they change: inquiries by purpose and outcome, cases by state, late cases.

The regulator's desk shows the inquiry log counted by purpose and outcome, and the registry's time
limits (``timelimits.py``). Counting them by scanning every ``inquiry/`` and ``application/`` row on
each view costs seconds at a million units, on the event loop that also commits blocks. This file
keeps the counts instead, changed by each row the ledger writes:

- inquiries: one count per (purpose, outcome). An inquiry-log row is written once, by the
  ``inquiry.request`` transaction whose id it bears (``keys.inquiry``), so later rows are found by
  joining the transactions after the cursor to their own ``inquiry/<tx id>`` row: two primary-key
  reads per new transaction, whatever the size of the log;
- cases: per application its desk state (the stored state, with a recorded case that has nothing
  for the issuer named finished, ``caseindex.desk_state``, as every desk names it), confirmation
  deadline, acceptance and finish times and holds (``history.holds``: when each began and ended, as
  the legal clock needs them), and a count per desk state. A filing
  past its deadline reads as EXPIRED without any row being written (design §3.14), so the FILED
  count is split at view time by the deadline (the filings not yet expired are the few recent ones,
  found through an index). Whether an open case is overdue depends on the time of the view, so it
  is computed then, over the cases on the clock only (accepted or approved: the registry's open
  work, not its history);
- finished cases: whether each finished late is decided when its row is taken, with the holiday
  calendar on the ledger; a ``calendar.set`` changes the calendar's rows, and then every finished
  case is decided again (once a year, as the registry records a year's calendar).

The file follows the ledger like the desks' case index (``follower.py``), in ``desk-stats.sqlite``;
application rows are read through the ledger's partial index ``state_rows_events``. ``timelimits.sla``
and a count of the ``inquiry/`` rows are the full scans these figures must equal.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import orjson

from estatechain.contract import keys
from estatechain.contract.civil_date import iso_date, shanghai_day
from estatechain.contract.records import Application
from estatechain.contract.records.application import AppState
from estatechain.contract.view import StateView
from estatechain.contract.working_days import WorkingDays
from estatechain.storage.follower import Follower
from estatechain.storage.schema import EVENT_ROWS, current_rows
from estatechain.storage.store import LedgerStore
from estatechain.web import history
from estatechain.web.caseindex import desk_state
from estatechain.web.timelimits import (
    FINISHED,
    ON_THE_CLOCK,
    Hold,
    Sla,
    accepted_ms,
    certainly_late,
    finished_ms,
    ordered,
)

FILE: Final = "desk-stats.sqlite"

_SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS inquiries(
    purpose TEXT NOT NULL, outcome TEXT NOT NULL, n INTEGER NOT NULL, PRIMARY KEY(purpose, outcome)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS cases(
    application_id TEXT PRIMARY KEY,
    state          TEXT NOT NULL,
    deadline_ms    INTEGER NOT NULL,
    accepted_ms    INTEGER,
    finished_ms    INTEGER,
    holds          TEXT NOT NULL,
    late           INTEGER
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS cases_by_state ON cases(state, deadline_ms);
CREATE INDEX IF NOT EXISTS cases_finished ON cases(late) WHERE late IS NOT NULL;
CREATE TABLE IF NOT EXISTS requester_units(
    day INTEGER NOT NULL, requester TEXT NOT NULL, org TEXT NOT NULL, role TEXT NOT NULL, unit TEXT NOT NULL,
    n INTEGER NOT NULL, refused INTEGER NOT NULL, PRIMARY KEY(day, requester, unit)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS tally(name TEXT PRIMARY KEY, n INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS calendar(id INTEGER PRIMARY KEY CHECK (id = 1), mark TEXT NOT NULL);
"""
"""``cases.late`` is 1 or 0 for a finished case with both steps (late or not), NULL for any other.
``state`` is the desk state (``caseindex.desk_state``); ``holds`` the case's holds as JSON
(``[[start_ms, end_ms or null], ...]``); ``tally`` holds ``state:<desk state>``, ``finished`` and ``late``."""

_CHANGED_APPLICATIONS: Final = (
    f"SELECT value FROM state_rows WHERE seq > ? AND {EVENT_ROWS} "  # noqa: S608  (a constant of schema.py)
    "AND key >= 'application/' AND key < 'application0' ORDER BY seq"
)
"""Application rows written after a cursor. ``EVENT_ROWS``, the partial index's own condition, lets
SQLite's planner use that index; the last two terms then keep only the applications."""

_CURRENT_APPLICATIONS: Final = current_rows("value", "application/")

_NEW_INQUIRIES: Final = (
    "SELECT r.value FROM txs AS t JOIN state_rows AS r ON r.key = 'inquiry/' || t.tx_id AND r.seq = t.seq "
    "WHERE t.seq > ? ORDER BY t.seq"
)
"""The inquiry-log rows of the transactions after a cursor (each written by its own transaction)."""

_CURRENT_INQUIRIES: Final = current_rows("value", "inquiry/")

_CALENDAR: Final = keys.work_calendar(0).removesuffix("0000")
_CALENDAR_MARK: Final = (
    "SELECT COALESCE(group_concat(key || '@' || seq, ','), '') FROM "  # noqa: S608  (constants of schema.py)
    f"({current_rows('key, seq')} ORDER BY key)"
)
"""Which versions of the holiday calendar rows are current: changes whenever a ``calendar.set`` does."""


_NO_HOLDS: Final = "[]"


def _holds_json(holds: tuple[Hold, ...]) -> str:
    """How ``cases.holds`` keeps a case's holds (``[]``, nearly always)."""
    return orjson.dumps([[hold.start_ms, hold.end_ms] for hold in holds]).decode() if holds else _NO_HOLDS


def _holds(text: str) -> tuple[Hold, ...]:
    """The holds ``_holds_json`` kept."""
    if text == _NO_HOLDS:
        return ()
    return tuple(Hold(int(start), None if end is None else int(end)) for start, end in orjson.loads(text))


@dataclass(frozen=True, slots=True, kw_only=True)
class _Case:
    """What the figures need of one application."""

    state: str
    deadline_ms: int
    accepted_ms: int | None
    finished_ms: int | None
    holds: str
    """``_holds_json`` of the case's holds."""
    late: int | None

    def tallies(self) -> dict[str, int]:
        """What this case adds to the counts."""
        found = {f"state:{self.state}": 1}
        if self.late is not None:
            found |= {"finished": 1, "late": self.late}
        return found


@dataclass(frozen=True, slots=True, kw_only=True)
class RequesterDay:
    """One signer's inquiries on one Guangzhou day: how many distinct units, inquiries and refusals."""

    day: str
    """ISO date."""
    requester: str
    """The signer's certificate fingerprint (one officer, one key)."""
    org: str
    role: str
    units: int
    inquiries: int
    refused: int


class DeskStats(Follower):
    """The figures file beside one ledger, caught up from the ledger on every read."""

    SCHEMA = _SCHEMA
    TABLES = ("inquiries", "requester_units", "cases", "tally", "calendar")
    VERSION = 4
    """2: ``requester_units``, the inquiries per signer, day and unit (domain.md §7: pattern abuse).
    3: ``cases.state`` is the desk state: a recorded case with nothing for the issuer counts as finished.
    4: ``cases.holds`` replaces ``held_ms``: the legal clock counts the days each hold suspended."""

    def __init__(self, path: Path, store: LedgerStore) -> None:
        super().__init__(path, store.connection)
        self._store = store
        self._view: StateView = store
        self._genesis = store.genesis

    def _twin(self, ledger: sqlite3.Connection) -> DeskStats:
        """The figures over ``build``'s snapshot connection: a read-only ledger view on it (the calendar rows)."""
        return DeskStats(self._path, LedgerStore(ledger, self._genesis))

    def take(self, cursor: int) -> int:
        """Apply the application and inquiry rows written after ``cursor``; on a new calendar, decide lateness again."""
        calendar = WorkingDays(self._view)
        if cursor < 0:  # first build: the current rows alone, by key range, instead of all history
            applications = self._ledger.execute(_CURRENT_APPLICATIONS).fetchall()
            inquiries = self._ledger.execute(_CURRENT_INQUIRIES).fetchall()
        else:
            applications = self._ledger.execute(_CHANGED_APPLICATIONS, (cursor,)).fetchall()
            inquiries = self._ledger.execute(_NEW_INQUIRIES, (cursor,)).fetchall()
        for (value,) in applications:
            if value is not None:
                self._apply_case(Application.from_json(orjson.loads(bytes(value))), calendar)
        for (value,) in inquiries:
            if value is not None:
                row = orjson.loads(bytes(value))
                self._db.execute("INSERT INTO inquiries(purpose, outcome, n) VALUES (?, ?, 1) "
                                 "ON CONFLICT(purpose, outcome) DO UPDATE SET n = n + 1",
                                 (str(row.get("purpose") or ""), str(row.get("outcome"))))
                refused = int(row.get("outcome") != "GRANTED")
                self._db.execute(
                    "INSERT INTO requester_units(day, requester, org, role, unit, n, refused) "
                    "VALUES (?, ?, ?, ?, ?, 1, ?) ON CONFLICT(day, requester, unit) DO UPDATE SET n = n + 1, "
                    "refused = refused + excluded.refused",
                    (shanghai_day(int(row.get("at_ms") or 0)), str(row.get("requester")),
                     str(row.get("requester_org")), str(row.get("requester_role")), str(row.get("unit_number")),
                     refused))
        self._follow_calendar(calendar)
        return len(applications) + len(inquiries)

    def _apply_case(self, application: Application, calendar: WorkingDays) -> None:
        accepted, done = accepted_ms(application), finished_ms(application)
        holds = history.holds(self._store, application)
        late = None
        if application.state in FINISHED and accepted is not None and done is not None:
            late = int(certainly_late(accepted, done, holds, calendar))
        new = _Case(state=desk_state(application.state.value, application.certificate_number,
                                     business_type=application.business_type, steps=application.steps),
                    deadline_ms=application.confirm_deadline_ms, accepted_ms=accepted, finished_ms=done,
                    holds=_holds_json(holds), late=late)
        found = self._db.execute(
            "SELECT state, deadline_ms, accepted_ms, finished_ms, holds, late FROM cases WHERE application_id = ?",
            (application.application_id,)).fetchone()
        if found is not None:
            old = _Case(state=str(found[0]), deadline_ms=int(found[1]), accepted_ms=found[2], finished_ms=found[3],
                        holds=str(found[4]), late=found[5])
            self._add({name: -n for name, n in old.tallies().items()})
        self._db.execute(
            "INSERT INTO cases(application_id, state, deadline_ms, accepted_ms, finished_ms, holds, late) "
            "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(application_id) DO UPDATE SET state = excluded.state, "
            "deadline_ms = excluded.deadline_ms, accepted_ms = excluded.accepted_ms, "
            "finished_ms = excluded.finished_ms, holds = excluded.holds, late = excluded.late",
            (application.application_id, new.state, new.deadline_ms, new.accepted_ms, new.finished_ms, new.holds,
             new.late))
        self._add(new.tallies())

    def _add(self, changes: dict[str, int]) -> None:
        self._db.executemany("INSERT INTO tally(name, n) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET "
                             "n = n + excluded.n", list(changes.items()))

    def _follow_calendar(self, calendar: WorkingDays) -> None:
        """Decide every finished case again when the holiday calendar on the ledger changed since the last time."""
        mark = str(self._ledger.execute(_CALENDAR_MARK, (_CALENDAR, _CALENDAR[:-1] + "0")).fetchone()[0])
        known = self._db.execute("SELECT mark FROM calendar WHERE id = 1").fetchone()
        if known is not None and str(known[0]) == mark:
            return
        if known is not None:  # on a first build every case was just decided with this calendar
            finished = self._db.execute("SELECT application_id, accepted_ms, finished_ms, holds FROM cases "
                                        "WHERE late IS NOT NULL").fetchall()
            self._db.executemany("UPDATE cases SET late = ? WHERE application_id = ?", [
                (int(certainly_late(int(accepted), int(done), _holds(str(held)), calendar)), str(application_id))
                for application_id, accepted, done, held in finished])
            late = int(self._db.execute("SELECT count(*) FROM cases WHERE late = 1").fetchone()[0])
            self._db.execute("INSERT INTO tally(name, n) VALUES ('late', ?) ON CONFLICT(name) DO UPDATE SET n = "
                             "excluded.n", (late,))
        self._db.execute("INSERT INTO calendar(id, mark) VALUES (1, ?) ON CONFLICT(id) DO UPDATE SET mark = "
                         "excluded.mark", (mark,))

    def busiest_requesters(self, since_day: int, limit: int) -> list[RequesterDay]:
        """The signers who inquired into the most distinct units in one day, from ``since_day`` on, most first.

        domain.md §7: auditors detect pattern abuse, e.g. many units per bank officer per day. Per day
        and signer (one officer's key), not per org: a bank's whole branch network asks every day.
        """
        self.refresh()
        rows = self._db.execute(
            "SELECT day, requester, org, role, count(*) AS units, sum(n), sum(refused) FROM requester_units "
            "WHERE day >= ? GROUP BY day, requester ORDER BY units DESC, sum(n) DESC, day DESC, requester "
            "LIMIT ?", (since_day, limit)).fetchall()
        return [RequesterDay(day=iso_date(int(day)), requester=str(requester), org=str(org), role=str(role),
                             units=int(units), inquiries=int(n), refused=int(refused))
                for day, requester, org, role, units, n, refused in rows]

    def inquiries(self) -> list[tuple[str, int, int]]:
        """(purpose code, granted, refused) over the whole inquiry log; "" is an owner's own-unit inquiry."""
        self.refresh()
        counts = {(str(p), str(o)): int(n) for p, o, n in self._db.execute("SELECT purpose, outcome, n FROM inquiries")
                  if n}
        purposes = sorted({purpose for purpose, _ in counts})
        return [(p, counts.get((p, "GRANTED"), 0), counts.get((p, "REFUSED"), 0)) for p in purposes]

    def sla(self, now_ms: int) -> Sla:
        """The time-limit figures as of ``now_ms`` (``timelimits.sla`` over every application, kept incrementally)."""
        self.refresh()
        tally = {str(name): int(n) for name, n in self._db.execute("SELECT name, n FROM tally")}
        per_state = {name.removeprefix("state:"): n for name, n in tally.items() if name.startswith("state:")}
        filed = per_state.get(AppState.FILED.value, 0)
        waiting = int(self._db.execute("SELECT count(*) FROM cases WHERE state = ? AND deadline_ms > ?",
                                       (AppState.FILED.value, now_ms)).fetchone()[0])
        per_state[AppState.FILED.value], per_state[AppState.EXPIRED.value] = waiting, filed - waiting
        calendar = WorkingDays(self._view)
        on_clock = overdue = 0
        for state in sorted(ON_THE_CLOCK):
            for accepted, held in self._db.execute(
                    "SELECT accepted_ms, holds FROM cases WHERE state = ? AND accepted_ms IS NOT NULL", (state,)):
                on_clock += 1
                overdue += certainly_late(int(accepted), now_ms, _holds(str(held)), calendar)
        return Sla(per_state=ordered(per_state), on_the_clock=on_clock, overdue_open=overdue,
                   finished=tally.get("finished", 0), finished_late=tally.get("late", 0))
