"""Writing advance-notice entries: create, supersede (change, transfer, correction), end (cancel, lapse, convert).

An entry is never overwritten: a changed, transferred or corrected notice is a new entry (id = the
recording application or tx) with the same ``priority_key`` (domain.md §5.6-5.8), the old one turns
historic with a link to it, and its certificate's status follows (SUPERSEDED, CORRECTED, CONVERTED,
CANCELLED).
"""

from __future__ import annotations

from dataclasses import replace

from estatechain.contract import keys
from estatechain.contract.certificate_number import normalise
from estatechain.contract.certificates import set_status
from estatechain.contract.checks.notices import notice_by_number
from estatechain.contract.command import Rejected
from estatechain.contract.context import BlockContext
from estatechain.contract.effects import Delete, Effect, Put, Record
from estatechain.contract.records import (
    MORTGAGE_KINDS,
    Cancellation,
    CertificateStatus,
    Notice,
    NoticeKind,
    Status,
)
from estatechain.contract.view import StateView


def puts(notice: Notice) -> tuple[Put, Put]:
    """The entry and its index row on the unit (priority-key order)."""
    return (Put(key=keys.notice(notice.notice_id), value=notice.to_json()),
            Put(key=keys.unit_notice(notice.unit_number, notice.priority_key, notice.notice_id),
                value={"notice_id": notice.notice_id}))


def _unindex(notice: Notice) -> Delete:
    return Delete(key=keys.unit_notice(notice.unit_number, notice.priority_key, notice.notice_id))


def find(  # noqa: PLR0913  (keywords name the notice sought)
    view: StateView, ctx: BlockContext, details: Record, unit_number: str, *,
    kinds: frozenset[NoticeKind] = MORTGAGE_KINDS, number_field: str = "certificate_number", prefix: str = "details.",
) -> Notice | str | Rejected:
    """The current notice of one of ``kinds`` on ``unit_number`` that ``details[number_field]`` names.

    V4 for a malformed number; otherwise a problem text for the caller's own rule code.
    """
    number = details.get(number_field)
    notice = notice_by_number(view, ctx, number, f"{prefix}{number_field}")
    if isinstance(notice, (str, Rejected)):
        return notice
    if notice.kind not in kinds:
        return f"{normalise(str(number))} is a kind-{int(notice.kind)} notice"
    if notice.unit_number != unit_number:
        return f"it is registered on unit {notice.unit_number}, not {unit_number}"
    if notice.status is not Status.CURRENT:
        reason = notice.cancellation.reason if notice.cancellation is not None else "superseded or converted"
        return f"it is no longer current ({reason})"
    return notice


def successor_entry(old: Notice, application_id: str, ctx: BlockContext, certificate: str | None,
                    source_txs: tuple[str, ...]) -> Notice:
    """A new current entry continuing ``old``: same unit, kind and priority key, new id and certificate."""
    return replace(old, notice_id=application_id, business_no=application_id, certificate_number=certificate,
                   registry=ctx.signer_org, registered_ms=ctx.block_time_ms, recorder=ctx.signer,
                   status=Status.CURRENT, cancellation=None, successor=None, previous=keys.notice(old.notice_id),
                   corrects=None, converted_to=None, source_txs=source_txs)


def supersede(view: StateView, ctx: BlockContext, old: Notice, new: Notice,
              status: CertificateStatus) -> tuple[Effect, ...]:
    """``old`` → historic linked to ``new``; ``new`` current under the same priority key; old certificate ``status``."""
    ended = replace(old, status=Status.HISTORIC, successor=keys.notice(new.notice_id),
                    source_txs=(*old.source_txs, ctx.tx_id))
    return (Put(key=keys.notice(old.notice_id), value=ended.to_json()), _unindex(old), *puts(new),
            *set_status(view, ctx, old.certificate_number, status))


def end(  # noqa: PLR0913  (keywords name what the register writes)
    view: StateView, ctx: BlockContext, notice: Notice, *, business_no: str, reason: str,
    status: CertificateStatus = CertificateStatus.CANCELLED, converted_to: str | None = None,
) -> tuple[Effect, ...]:
    """``notice`` → historic with its cancellation (ZXYGYWH/ZXYGYY/ZXSJ) or conversion link; certificate ``status``."""
    ended = replace(notice, status=Status.HISTORIC, converted_to=converted_to,
                    cancellation=Cancellation(business_no=business_no, reason=reason, time_ms=ctx.block_time_ms),
                    source_txs=(*notice.source_txs, ctx.tx_id))
    return (Put(key=keys.notice(notice.notice_id), value=ended.to_json()), _unindex(notice),
            *set_status(view, ctx, notice.certificate_number, status))
