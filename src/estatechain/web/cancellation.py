"""Whether the mortgage a case registered has since been cancelled, and by which case.

A bank cancels a repaid or waived mortgage alone (条例 14; ``mortgage_cancel.MORTGAGEE_ALONE``), and
a cancellation on an effective judgment names no mortgagee: the mortgagors are then not applicants
of the cancellation, and may not open its case. Without this, the owner's own mortgage case would
go on reading as registered (its certificate issued) long after the charge on their home was
removed. The entry itself records its end (``Mortgage.cancellation``: the cancelling case, its
cause, when it was recorded), and every party of the mortgage's case may read that on its page;
the cancelling case is linked only for those who may open it.
"""

from __future__ import annotations

from dataclasses import dataclass

from estatechain.storage.store import LedgerStore
from estatechain.web.cases import Viewer, case, mortgage_cancellation


@dataclass(frozen=True, slots=True, kw_only=True)
class Cancelled:
    """The end of a case's mortgage: the cancelling case, its cause code, when, and whether the viewer may open it."""

    application_id: str
    reason: str
    at_ms: int
    visible: bool


def cancelled(store: LedgerStore, viewer: Viewer, application_id: str) -> Cancelled | None:
    """The end of the mortgage case ``application_id`` registered, with who may open the cancelling case; else None.

    Read through ``cases.mortgage_cancellation``, as every case list reads it (``Case.cancellation``).
    """
    ended = mortgage_cancellation(store, application_id)
    if ended is None:
        return None
    at = ended.time_ms
    return Cancelled(application_id=ended.business_no, reason=ended.reason, at_ms=at,
                     visible=case(store, viewer, ended.business_no, at) is not None)
