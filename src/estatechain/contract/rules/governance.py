"""Governance: revocation of a certificate, and the registry's holiday calendar, each effective from its block.

The ledger resolves the revoked certificate from the bytes in the body before execution and passes
its org and role as ``facts`` (the contract cannot parse X.509); every node derives the same facts.
An org's admin may revoke only certificates its own CA issued.

The holiday calendar (``calendar.set``) is the registry's: the public holidays and adjusted working
days (调休) of one year as the State Council announced them, by which every working-day deadline is
counted (``working_days``; domain.md §5.1). It is signed by ``registry.admin``, the registry role that
configures the register (as for ``register.import``) [A: a registry-only role, so no bank, court or
developer admin can move another org's deadlines]. A year may be set again when the announcement is
amended, but only days from the block's day on may change: a deadline already run stays as counted.
A year's first calendar may be recorded at any time, since the ledger may start within a year [A].
"""

from __future__ import annotations

from typing import Final

from estatechain.contract import keys
from estatechain.contract.civil_date import civil_from_days, iso_date, parse_iso_date, shanghai_day
from estatechain.contract.command import Accepted, Command, Outcome, Rejected
from estatechain.contract.context import BlockContext
from estatechain.contract.effects import JSON, Emit, Put, Record
from estatechain.contract.records import FieldError, fields
from estatechain.contract.rejections import Rejection, RejectionCode
from estatechain.contract.rule import Rule, malformed
from estatechain.contract.rules.guard import guarded
from estatechain.contract.view import StateView
from estatechain.contract.violation import violate
from estatechain.contract.working_days import MAX_HOLIDAYS, MAX_WORKDAYS, YearCalendar, is_weekend

FIRST_CALENDAR_YEAR: Final = 2000
LAST_CALENDAR_YEAR: Final = 2200


def revoked_key(fingerprint: str) -> str:
    """The state key that marks a certificate revoked."""
    return f"identity/revoked/{fingerprint}"


def revoke(view: StateView, ctx: BlockContext, command: Command) -> Outcome:
    """Mark the certificate in ``facts`` revoked from this block on."""
    fingerprint = command.facts.get("target_fingerprint")
    target_org = command.facts.get("target_org")
    reason = command.body.get("reason")
    if not isinstance(fingerprint, str) or not isinstance(target_org, str):
        return malformed("certificate", "must be the base64 DER of the certificate to revoke")
    if not isinstance(reason, str) or not 1 <= len(reason) <= 500:
        return malformed("reason", "must be a text of 1-500 characters")
    if target_org != ctx.signer_org:
        return Rejected(
            rejection=Rejection(
                code=RejectionCode.REVOKE_OTHER_ORG,
                message="An org admin may revoke only certificates issued by its own org's CA.",
                detail={"target_org": target_org, "signer_org": ctx.signer_org},
            )
        )
    if view.get(revoked_key(fingerprint)) is not None:
        return Rejected(
            rejection=Rejection(
                code=RejectionCode.ALREADY_REVOKED,
                message="This certificate is already revoked; nothing to do.",
                detail={"fingerprint": fingerprint},
            )
        )
    value = {
        "fingerprint": fingerprint,
        "org": target_org,
        "role": command.facts.get("target_role"),
        "reason": reason,
        "height": ctx.height,
        "tx_id": ctx.tx_id,
    }
    return Accepted(effects=(Put(key=revoked_key(fingerprint), value=value),))


def _days(body: Record, name: str, year: int, high: int) -> tuple[int, ...] | Rejected:
    """The dates listed under ``name``: valid, ascending, unique, all in ``year``."""
    items = fields.array(body, name, high=high)
    days: list[int] = []
    for index, item in enumerate(items):
        day = parse_iso_date(item)
        if day is None:
            raise FieldError(f"{name}[{index}]", "must be a calendar date YYYY-MM-DD")
        if civil_from_days(day)[0] != year:
            return violate(RejectionCode.CALENDAR_INVALID, field=f"{name}[{index}]", year=year,
                           problem=f"{item} is not in {year}")
        if days and day <= days[-1]:
            return violate(RejectionCode.CALENDAR_INVALID, field=f"{name}[{index}]", year=year,
                           problem="dates must be listed once each, in ascending order")
        days.append(day)
    return tuple(days)


def _changed_past_day(view: StateView, year: int, new: YearCalendar, today: int) -> int | None:
    """The earliest day before ``today`` whose status the new calendar would change, if any."""
    row = view.get(keys.work_calendar(year))
    if row is None:
        return None
    old = YearCalendar.from_json(row)
    changed = (old.holidays ^ new.holidays) | (old.workdays ^ new.workdays)
    return min((day for day in changed if day < today), default=None)


def set_calendar(view: StateView, ctx: BlockContext, command: Command) -> Outcome:
    """Record one year's public holidays and adjusted working days (调休), effective from this block."""
    body = command.body
    year = fields.integer(body, "year", low=FIRST_CALENDAR_YEAR, high=LAST_CALENDAR_YEAR)
    basis = fields.text(body, "basis")
    holidays = _days(body, "holidays", year, MAX_HOLIDAYS)
    if isinstance(holidays, Rejected):
        return holidays
    workdays = _days(body, "workdays", year, MAX_WORKDAYS)
    if isinstance(workdays, Rejected):
        return workdays
    for index, day in enumerate(workdays):
        if not is_weekend(day):
            return violate(RejectionCode.CALENDAR_INVALID, field=f"workdays[{index}]", year=year,
                           problem=f"{iso_date(day)} is a weekday already; an adjusted working day is a Saturday "
                                   "or Sunday")
        if day in holidays:
            return violate(RejectionCode.CALENDAR_INVALID, field=f"workdays[{index}]", year=year,
                           problem=f"{iso_date(day)} is also listed as a holiday")
    calendar = YearCalendar(year=year, holidays=frozenset(holidays), workdays=frozenset(workdays))
    if (past := _changed_past_day(view, year, calendar, shanghai_day(ctx.block_time_ms))) is not None:
        return violate(RejectionCode.CALENDAR_INVALID, year=year,
                       problem=f"{iso_date(past)} has passed; a deadline counted over it cannot change")
    value: dict[str, JSON] = {
        "year": year, "holidays": [iso_date(day) for day in holidays], "workdays": [iso_date(day) for day in workdays],
        "basis": basis, "height": ctx.height, "tx_id": ctx.tx_id,
    }
    return Accepted(effects=(Put(key=keys.work_calendar(year), value=value),
                             Emit(name="calendar.set", data={"year": year})))


RULES: Final = {
    "identity.revoke": Rule(roles=frozenset({"org.admin"}), decide=revoke),
    "calendar.set": Rule(roles=frozenset({"registry.admin"}), decide=guarded(set_calendar)),
}
