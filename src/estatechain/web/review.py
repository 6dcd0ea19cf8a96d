"""The registry's review desk: ranks before and after, every rule's result, the legal clock, hold and resume.

Everything here asks the contract rather than re-deriving it (design §3.1: the contract is a pure
function of a read-only view, so the portal may run parts of it on the register as it stands):

- Ranks after the case are what the business type's own ``record`` would write (its rank ``Put``s,
  computed by ``contract.ranking``), run on the head state for the next block; a case not yet
  accepted is ranked as if intake accepted it in that block (``rules.business.priority_key``).
- The rules are the business type's ``blocking`` checks, the ones review and recording re-run (for a
  mortgage first registration each check on its own row, in the contract's order), and the verdict
  of the step the account would sign is the confirmation page's own ``precheck``.
- The clock is the 30-working-day limit of 条例 20 counted by the ledger's holiday calendar
  (``contract.working_days``), the days on hold taken off by the case's own hold and resume
  transactions (``timelimits.due_day``, the rule for a day partly on hold is given there); "late" is
  ``timelimits.certainly_late``, as the regulator's figures decide it, so a case flagged here is
  late whatever calendar is still to be recorded.

Only what one case concerns is read: the unit's mortgage index, its unit, ownership and notice
rows, never a scan of the register.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Final

from estatechain.contract import keys
from estatechain.contract.checks.notices import check_v14_notice_consent
from estatechain.contract.checks.parties import check_v6_mortgagors
from estatechain.contract.checks.register import (
    check_v13_not_seized,
    check_v16_duplicate,
    current_mortgages,
    open_applications,
)
from estatechain.contract.checks.unit import check_v2_housing, load_ownership, load_unit
from estatechain.contract.civil_date import iso_date, shanghai_day
from estatechain.contract.command import Rejected
from estatechain.contract.context import BlockContext
from estatechain.contract.effects import Put
from estatechain.contract.records import Application, Capacity, FieldError, Mortgage, effective_state
from estatechain.contract.records.application import AppState
from estatechain.contract.rule import malformed
from estatechain.contract.rules import conversion, mortgage, mortgage_cancel, registration, transfer_mortgage
from estatechain.contract.rules.business import priority_key
from estatechain.contract.rules.business_types import BUSINESS_TYPES
from estatechain.contract.view import StateView
from estatechain.contract.working_days import WorkingDays
from estatechain.node.service import NodeService
from estatechain.storage.store import LedgerStore
from estatechain.web import history
from estatechain.web.actions import Step
from estatechain.web.cases import Case
from estatechain.web.i18n import N_
from estatechain.web.timelimits import Hold, accepted_ms, certainly_late, days_run, due_day, suspended_days

OPEN: Final = frozenset({AppState.FILED, AppState.CONFIRMED, AppState.ACCEPTED, AppState.APPROVED, AppState.ON_HOLD})
"""States in which the case has not changed the register yet: its ranks "after" are still ahead."""
RANKING_TYPES: Final = frozenset({mortgage.NAME, mortgage_cancel.NAME, conversion.NAME})
"""Business types whose recording adds or ends a mortgage on the unit, and whose ``record`` needs no
certificate number drawn first. ``ownership.transfer_mortgage`` adds a mortgage too but draws a title
number before its ``record`` runs: its ranks after are not shown (the page does not claim they stay)."""
NEAR_DAYS: Final = 3
"""A case within this many working days of the legal limit is highlighted (and one past it)."""
HOLD: Final = Step("hold", "application.hold", registration.STAFF,
                   frozenset({AppState.ACCEPTED, AppState.APPROVED}), N_("Put on hold (中止)"))
RESUME: Final = Step("resume", "application.resume", registration.STAFF, frozenset({AppState.ON_HOLD}),
                     N_("Resume processing"))
HOLD_STEPS: Final = {step.path: step for step in (HOLD, RESUME)}
"""Hold and resume as the contract allows them (``rules.registration``: intake, reviewer, recorder)."""
MAX_REASON: Final = registration.HOLD_REASON_MAX
"""The contract's limit on a hold's reason, named where the contract checks it."""


def next_block(service: NodeService, *, signer: str, org: str, role: str) -> BlockContext:
    """The context of a transaction ``signer`` would sign into the next block, as ``precheck`` builds it."""
    store = service.store
    return BlockContext(chain_id=service.genesis.chain_id, height=store.height + 1,
                        block_time_ms=service.clock.now_ms(), tx_id="0" * 64, tx_seq=0, signer=signer,
                        signer_org=org, signer_org_type=service.genesis.org(org).type, signer_role=role)


# ---------------------------------------------------------------- ranks before and after


@dataclass(frozen=True, slots=True, kw_only=True)
class RankRow:
    """One mortgage on the unit: its rank now (None: not on the register yet) and after the case (None: ended)."""

    mortgage_id: str
    certificate_number: str | None
    mortgagees: tuple[str, ...]
    method: int
    amount_fen: int | None
    before: int | None
    after: int | None
    this_case: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class Ranks:
    """The unit's current mortgages with their ranks before and after the case.

    ``after_known`` is False when the case cannot be recorded now (``blocked`` names the rule) or does
    not change the unit's mortgages; then ``after`` repeats nothing and the page says why.
    """

    rows: tuple[RankRow, ...]
    after_known: bool
    changes_ranks: bool
    blocked: Rejected | None
    assumed_acceptance: bool


def _row(entry: Mortgage, *, before: int | None, after: int | None, this_case: bool) -> RankRow:
    amount = entry.secured_principal or entry.max_claim
    return RankRow(mortgage_id=entry.mortgage_id, certificate_number=entry.certificate_number,
                   mortgagees=tuple(p.party_id for p in entry.mortgagees), method=entry.method.value,
                   amount_fen=None if amount is None else amount.fen, before=before, after=after, this_case=this_case)


def ranks(view: StateView, ctx: BlockContext, application: Application, state: AppState) -> Ranks:
    """The unit's mortgages now, and the ranks the contract's recording of this case would give them.

    A case not yet accepted has no priority key: it is ranked as if accepted in the next block
    (acceptance order, 细则 67), and the page says so. When a blocking rule fails the recording would
    not happen, so no "after" is shown; the rule is named instead.
    """
    before = current_mortgages(view, application.unit_number)
    now = {m.mortgage_id: m for m in before}
    plain = tuple(_row(m, before=m.rank, after=m.rank, this_case=False) for m in before)
    if state not in OPEN or application.business_type not in RANKING_TYPES:
        return Ranks(rows=plain, after_known=False, changes_ranks=application.business_type == transfer_mortgage.NAME,
                     blocked=None, assumed_acceptance=False)
    assumed = application.priority_key is None
    candidate = replace(application, priority_key=priority_key(ctx)) if assumed else application
    business = BUSINESS_TYPES[application.business_type]
    blocked = _blocking(business.blocking, view, ctx, candidate)
    if blocked is not None:
        return Ranks(rows=plain, after_known=False, changes_ranks=True, blocked=blocked, assumed_acceptance=assumed)
    written = {(put := Mortgage.from_json(effect.value)).mortgage_id: put
               for effect in business.record(view, ctx, candidate, None)
               if isinstance(effect, Put) and effect.key.startswith(keys.mortgage(""))}
    rows = []
    for mortgage_id, entry in {**now, **written}.items():
        after = entry.rank if entry.status.value == "current" else None
        old = now.get(mortgage_id)
        rows.append(_row(entry, before=None if old is None else old.rank, after=after,
                         this_case=old is None or after is None))
    rows.sort(key=lambda r: (r.after is None, r.after or 0, r.before or 0))
    return Ranks(rows=tuple(rows), after_known=True, changes_ranks=True, blocked=None, assumed_acceptance=assumed)


@dataclass(frozen=True, slots=True, kw_only=True)
class OtherCase:
    """Another open case on the same unit, as the desk lists it beside this one."""

    application_id: str
    business_type: str
    state: str
    accepted_before: bool | None
    """Accepted before this case (True), after it (False), or not accepted yet (None)."""


def other_cases(view: StateView, application: Application, time_ms: int) -> tuple[OtherCase, ...]:
    """The unit's other open cases, in acceptance order, each placed against this case.

    Ranks follow acceptance, not recording (细则 67): a mortgage accepted before this case and
    recorded after it still takes the earlier rank and moves this case's entry down, after its
    certificate may already say otherwise. Two cases on one notice or one mortgage (a change while a
    conversion is pending) collide at recording. The reviewer sees them here before signing.
    """
    mine = application.priority_key
    found = []
    for other in open_applications(view, application.unit_number, time_ms):
        if other.application_id == application.application_id:
            continue
        key = other.priority_key
        before = None if key is None else (True if mine is None else key < mine)
        found.append((key is None, key or "", other.filed_ms,
                      OtherCase(application_id=other.application_id, business_type=other.business_type,
                                state=effective_state(other, time_ms).value, accepted_before=before)))
    return tuple(case for *_, case in sorted(found, key=lambda entry: entry[:3]))


def demoted(found: Ranks) -> tuple[RankRow, ...]:
    """Entries with a certificate that recording this case would move to a later rank (their 附记 would be stale)."""
    return tuple(r for r in found.rows if found.after_known and r.certificate_number and r.before is not None
                 and r.after is not None and r.after > r.before)


def _blocking(check: Callable[[StateView, BlockContext, Application], Rejected | None], view: StateView,
              ctx: BlockContext, application: Application) -> Rejected | None:
    """A business check as the lifecycle runs it: a body that does not decode is MALFORMED_COMMAND."""
    try:
        return check(view, ctx, application)
    except FieldError as error:
        return malformed(error.field, error.problem)


# ---------------------------------------------------------------- every rule's result


@dataclass(frozen=True, slots=True, kw_only=True)
class RuleResult:
    """One rule as the next step would apply it: passed (True), failed (False) or not reached (None)."""

    rule: str
    label: str
    passed: bool | None
    code: str | None = None
    detail: Mapping[str, str] | None = None


def _failed(rule: str, label: str, rejected: Rejected) -> RuleResult:
    rejection = rejected.rejection
    return RuleResult(rule=rule, label=label, passed=False, code=str(rejection.code),
                      detail={str(k): str(v) for k, v in rejection.detail.items()})


def _mortgage_first(view: StateView, ctx: BlockContext, application: Application) -> list[RuleResult]:
    """``rules.mortgage.blocking`` one check a row, in its order (V3, V2, V3, V4, V6, V13, V14, V16)."""
    found: list[RuleResult] = []
    unit = load_unit(view, application.unit_number)
    if isinstance(unit, Rejected):
        return [_failed("V3", N_("The unit is on the register"), unit)]
    found.append(RuleResult(rule="V3", label=N_("The unit is on the register"), passed=True))
    right = load_ownership(view, unit.unit_number)
    mortgagors = frozenset(a.party.party_id for a in application.parties(Capacity.MORTGAGOR))
    checks: list[tuple[str, str, Callable[[], Rejected | None]]] = [
        ("V2", N_("The unit is housing"), lambda: check_v2_housing(unit)),
        ("V3", N_("The unit has a current ownership right"), lambda: right if isinstance(right, Rejected) else None),
    ]
    if not isinstance(right, Rejected):
        checks += [
            ("V4", N_("The title number is the current owner's"),
             lambda: mortgage.check_v4_title(application.details.get("title_number"), right, ctx)),
            ("V6", N_("The mortgagors are the owners who may dispose"),
             lambda: check_v6_mortgagors(right, mortgagors)),
        ]
    checks += [
        ("V13", N_("No seizure in effect"), lambda: check_v13_not_seized(view, unit.unit_number, ctx.block_time_ms)),
        ("V14", N_("Advance-notice holders have consented"),
         lambda: check_v14_notice_consent(view, application, (unit.unit_number, *filter(None, (unit.predecessor,))))),
        ("V16", N_("No identical mortgage is current or pending"),
         lambda: check_v16_duplicate(view, application, ctx.block_time_ms)),
    ]
    for rule, label, check in checks:
        rejected = check()
        found.append(RuleResult(rule=rule, label=label, passed=True) if rejected is None
                     else _failed(rule, label, rejected))
    return found


def rule_results(view: StateView, ctx: BlockContext, application: Application) -> list[RuleResult]:
    """The register checks review and recording re-run for this case, each with its result.

    A mortgage first registration shows each check of its ``blocking`` on its own row (all of them,
    not only up to the first failure, so the reviewer sees every problem at once); other business
    types show their ``blocking`` as one row with the code of its first failure. The first failing
    row is the one the contract would answer with (the portal test checks it against the review step's
    ``precheck`` on a seized unit).
    """
    if application.business_type == mortgage.NAME:
        try:
            return _mortgage_first(view, ctx, application)
        except FieldError:
            pass  # a malformed stored body: the whole check answers it below
    business = BUSINESS_TYPES.get(application.business_type)
    if business is None:
        return []
    label = N_("The register checks of this business type")
    rejected = _blocking(business.blocking, view, ctx, application)
    if rejected is None:
        return [RuleResult(rule="", label=label, passed=True)]
    return [_failed("", label, rejected)]


# ---------------------------------------------------------------- the cited notice's lapse


@dataclass(frozen=True, slots=True, kw_only=True)
class NoticeLapse:
    """The cited advance notice's 90-day clock (民法典 221, 203), as the review step will record it.

    domain.md §5.9 has the lapse derived and *shown to the reviewer*, never enforced by itself: the
    review step keeps it with its notes, but the reviewer has to see it before signing, not after.
    """

    last_day: str | None
    """The last day of the 90 days (ISO), after a rest day moved it on; None while the clock has not started."""
    filed_in_time: bool
    """Whether this case was filed before the notice lapsed (an application in time keeps it, 221)."""


def notice_lapse(view: StateView, ctx: BlockContext, application: Application) -> NoticeLapse | None:
    """The notice lapse the business type's review notes derive (预告转本 has them), or None."""
    business = BUSINESS_TYPES.get(application.business_type)
    if business is None:
        return None
    try:
        notes = business.review_notes(view, ctx, application)
    except FieldError:
        return None  # a malformed stored body: the rule rows above answer it
    if "notice_lapse_due_ms" not in notes:
        return None
    due = notes["notice_lapse_due_ms"]
    if not isinstance(due, int):
        return NoticeLapse(last_day=None, filed_in_time=True)
    return NoticeLapse(last_day=iso_date(shanghai_day(due) - 1), filed_in_time=notes.get("notice_lapsed") is False)


# ---------------------------------------------------------------- the legal clock


@dataclass(frozen=True, slots=True, kw_only=True)
class Clock:
    """Working days left of the legal limit (negative: past it by that many), and how to flag it."""

    left: int
    late: bool
    """Surely past the limit, as the regulator counts it (``certainly_late``)."""
    overdue: bool
    """Past the due day by this count, but not surely: no holiday calendar is on the ledger for the span,
    so the days are Monday to Friday, and some may yet be holidays that push the limit back."""
    near: bool
    held: bool
    due_day: int


def clock(application: Application, state: AppState, now_ms: int, calendar: WorkingDays,
          holds: Sequence[Hold]) -> Clock | None:
    """The 条例 20 clock of an accepted, approved or held case as of ``now_ms``; None when it does not run.

    The limit falls on the 30th working day after the day of acceptance, the days its ``holds``
    suspended not counted (``timelimits.due_day``: a running hold counts up to now, its clock is
    stopped). Working days are the ledger calendar's where it is recorded, Monday to Friday
    otherwise; "late" is ``certainly_late`` itself, so a case is never flagged late that the
    regulator would not count.
    """
    accepted = accepted_ms(application)
    if accepted is None or state not in {AppState.ACCEPTED, AppState.APPROVED, AppState.ON_HOLD}:
        return None
    due = due_day(calendar, accepted, holds, now_ms)
    suspended = suspended_days(holds, now_ms)
    today = shanghai_day(now_ms)
    left = days_run(calendar, today, due, suspended) if due >= today else -days_run(calendar, due, today, suspended)
    late = certainly_late(accepted, now_ms, holds, calendar)
    overdue = left < 0 and not late
    return Clock(left=left, late=late, overdue=overdue, near=not late and not overdue and left <= NEAR_DAYS,
                 held=state is AppState.ON_HOLD, due_day=due)


# ---------------------------------------------------------------- hold and resume


def hold_steps(state: AppState, role: str) -> list[Step]:
    """Hold (on an accepted or approved case) or resume (on a held one), when ``role`` may sign it."""
    return [step for step in (HOLD, RESUME) if role in step.roles and state in step.states]


def clocks(store: LedgerStore, found: Iterable[Case], now_ms: int, calendar: WorkingDays) -> dict[str, Clock]:
    """The running (or held) clocks of listed cases, by application id (a desk's table shows them)."""
    return {item.application.application_id: running for item in found
            if (running := clock(item.application, item.state, now_ms, calendar,
                                 history.holds(store, item.application))) is not None}
