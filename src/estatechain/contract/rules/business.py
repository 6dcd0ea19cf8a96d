"""What a business type plugs into the common lifecycle, and the lifecycle's shared helpers.

The lifecycle (file → confirm → accept → review → record → issue, domain.md §5.1) is the same for
every registration; a ``BusinessType`` supplies what differs: the materials it needs, the checks of
its filed details, the blocking checks that are re-run against the register at filing, review *and*
recording height, and the register entries its recording writes.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, replace

from estatechain.contract import keys
from estatechain.contract.certificate_number import CertificateKind
from estatechain.contract.command import Rejected
from estatechain.contract.context import BlockContext
from estatechain.contract.effects import JSON, Effect, Put
from estatechain.contract.records import Application, AppState, effective_state
from estatechain.contract.rejections import RejectionCode
from estatechain.contract.view import StateView
from estatechain.contract.violation import violate

Check = Callable[[StateView, BlockContext, Application], Rejected | None]
RecordEffects = Callable[[StateView, BlockContext, Application, str | None], tuple[Effect, ...]]
"""(view, ctx, approved application, certificate number or None) → the register's writes."""


@dataclass(frozen=True, slots=True, kw_only=True)
class BusinessType:
    """One registration business (``mortgage.first`` …) as the lifecycle sees it."""

    name: str
    required_materials: Callable[[Application], frozenset[str]]
    check_filing: Check
    blocking: Check
    record: RecordEffects
    issues_certificate: bool
    certificate_kind: CertificateKind = CertificateKind.PROOF
    """Which sequence the recording draws the certificate number from: a 不动产登记证明 for a mortgage or
    notice, a 不动产权证书 for a new owner's title (``ownership.transfer``); only with ``issues_certificate``."""
    result_key: Callable[[StateView, BlockContext, Application], str]
    """The register key the recording creates or changes (``mortgage/<id>``), kept on the application."""
    filers: frozenset[str] = frozenset({"bank.operator"})
    """Signer roles that may file this type (the bank for mortgages; developer or buyer for purchase notices)."""
    review_notes: Callable[[StateView, BlockContext, Application], dict[str, JSON]] = lambda _v, _c, _a: {}
    """Derived facts shown to the reviewer and kept with the review step (a notice's 90-day lapse date …)."""


CONFIRM_WINDOW_MS = 7 * 86_400_000
"""Applicants confirm within 7 days of filing (domain.md §5.1 default) [A]."""


def load_application(view: StateView, application_id: object) -> Application | Rejected:
    """The application, or APPLICATION_NOT_FOUND."""
    if not isinstance(application_id, str) or not application_id or len(application_id) > 96:
        return violate(RejectionCode.APPLICATION_NOT_FOUND, application_id=str(application_id))
    record = view.get(keys.application(application_id))
    if record is None:
        return violate(RejectionCode.APPLICATION_NOT_FOUND, application_id=application_id)
    return Application.from_stored(record)


def require_state(
    application: Application, ctx: BlockContext, step: str, expected: Collection[AppState]
) -> Rejected | None:
    """APPLICATION_STATE unless the application's state *at block time* is one of ``expected``.

    An expired application answers V25 to a confirmation (``application.confirm_or_decline``) and
    APPLICATION_STATE to every other step.
    """
    state = effective_state(application, ctx.block_time_ms)
    if state in expected:
        return None
    return violate(RejectionCode.APPLICATION_STATE, application_id=application.application_id, state=state.value,
                   step=step, expected=" or ".join(sorted(s.value for s in expected)))


def step_record(ctx: BlockContext, **extra: JSON) -> dict[str, JSON]:
    """Who did a lifecycle step, when, in which tx, with what decision."""
    return {"by": ctx.signer, "org": ctx.signer_org, "at_ms": ctx.block_time_ms, "height": ctx.height,
            "tx_id": ctx.tx_id, **extra}


def advance(application: Application, ctx: BlockContext, state: AppState, step: str, **extra: JSON) -> Application:
    """The application moved to ``state`` by this tx, with the step recorded under ``steps[step]``."""
    steps = dict(application.steps)
    steps[step] = step_record(ctx, **extra)
    return replace(application, state=state, steps=steps, source_txs=(*application.source_txs, ctx.tx_id))


def save(application: Application) -> Put:
    """The effect that stores ``application``."""
    return Put(key=keys.application(application.application_id), value=application.to_json())


def first_rejection(results: Iterable[Rejected | None]) -> Rejected | None:
    """The first rejection of lazily evaluated checks (a generator stops at the first failure)."""
    return next((result for result in results if result is not None), None)


def priority_key(ctx: BlockContext) -> str:
    """The rank order of an application accepted in this tx: acceptance order (细则 67).

    ``P`` + height + global tx sequence, zero-padded so that string order is acceptance order;
    imported legacy mortgages use ``L`` + their recorded rank and so rank before every platform
    filing on the same unit [A].
    """
    return f"P{ctx.height:012d}.{ctx.tx_seq:012d}"
