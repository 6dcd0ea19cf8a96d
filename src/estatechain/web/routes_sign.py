"""The confirmation step of custodial signing: show exactly what will be signed, then sign it once.

A desk action never signs: it stores a ``Pending`` payload in the session and sends the browser
here. A session may have several waiting, one per case, each from its own tab (``waiting.py``): the
page's forms name theirs by tx id. This page shows the business summary, the command and the tx id
of the exact payload, and who keeps the key that will sign it: the account's org, which for a
resident is the identity authority (a resident has no organisation of their own). A decline says
before it is signed that it ends the case for every applicant. Only the POST from this page signs it
with the key the org keeps for the person (``custody.py``) and submits it to the node's own pipeline;
the pending payload is taken out of the session before anything else happens, so a double-clicked
submit signs and files once. The outcome is shown with the rule code and its text in both languages
when the ledger marked the transaction invalid. A cancelled or replaced payload's case form comes
back with its text, never silently emptied.
"""

from __future__ import annotations

from typing import Final

from fastapi import APIRouter, Response

from estatechain.errors import EstatechainError
from estatechain.web import i18n
from estatechain.web.accounts import Session
from estatechain.web.custody import CUSTODIAL_PREFIX
from estatechain.web.i18n import N_
from estatechain.web.pages import redirect, render
from estatechain.web.portal import CheckedForm, Member, Portal, PortalDep, PortalProblem, PortalRoute
from estatechain.web.precheck import precheck
from estatechain.web.routes_owner import org_names
from estatechain.web.waiting import Waiting

router = APIRouter(prefix="/portal", route_class=PortalRoute, include_in_schema=False)

COMMIT_WAIT_S: Final = 10.0
"""How long the page waits for the block holding the transaction (single node: one batch timeout)."""


@router.get("/sign")
async def confirmation(session: Member, parts: PortalDep, tx: str | None = None) -> Response:
    """What will be signed, with its tx id and the rules' verdict now; or back to the desk when nothing waits.

    ``tx`` names one of the session's waiting payloads; without it the newest is shown (each desk
    sends the browser here right after preparing one).
    """
    pending = Waiting.read(session.pending).find(tx)
    if pending is None or session.account is None:
        return redirect("", session)
    account = session.account
    failure = precheck(parts.service, pending, fingerprint=parts.custody.identity(account.handle).fingerprint,
                       org=account.org, role=account.role)
    texts = {} if failure is None else i18n.rule_texts(failure.code, failure.detail)
    return render("sign.html", session, pending=pending, failure=failure, texts=texts,
                  custodial_prefix=CUSTODIAL_PREFIX, custodian=org_names(parts.service.genesis).get(account.org))


@router.post("/sign/cancel")
async def cancel(session: Member, form: CheckedForm, parts: PortalDep) -> Response:
    """Drop the page's waiting payload unsigned; its form goes back to the page it came from, as typed."""
    assert form is not None
    posted = str(form.get("tx_id", ""))
    pending = parts.accounts.give_back(session.token, posted)
    if pending is None:
        return _given_back(parts, session, posted) or redirect("", session)
    return redirect(pending.back, session, query={"draft": pending.tx_id} if pending.draft is not None else None)


@router.post("/sign")
async def sign(session: Member, form: CheckedForm, parts: PortalDep) -> Response:
    """Sign the page's waiting payload with the account's custodial key, submit it and show the outcome."""
    posted = str(form.get("tx_id", ""))
    pending = parts.accounts.take_pending(session.token, posted)
    if pending is None or session.account is None or pending.handle != session.account.handle:
        return _given_back(parts, session, posted) or await _resubmitted(parts, session, posted)
    service = parts.service
    try:
        envelope = parts.custody.sign(pending, chain_id=service.genesis.chain_id)
        submission = await service.submit(envelope)
    except EstatechainError as exc:
        code = getattr(exc, "code", "REFUSED")
        detail = getattr(exc, "detail", {})
        return render("outcome.html", session, status=400, pending=pending, valid=False, code=code,
                      texts=i18n.rule_texts(str(code), detail))
    status = await service.wait(submission.status.tx_id, COMMIT_WAIT_S)
    if status is None or status.result is None:
        return render("outcome.html", session, status=202, pending=pending, valid=None, code=None, texts={})
    if status.result == "valid":
        return redirect(pending.back, session, query={"done": pending.tx_id})
    code = status.code or "UNKNOWN_CODE"
    return render("outcome.html", session, status=200, pending=pending, valid=False, code=code,
                  texts=i18n.rule_texts(code, status.detail))


def _given_back(parts: Portal, session: Session, posted: str) -> Response | None:
    """The page of a payload that no longer waits because it was replaced or cancelled (in another tab).

    Nothing is signed. A case's form is given back with its text and a notice saying what happened;
    a payload of another page cannot carry its form back, so the page says it must be prepared again.
    """
    returned = parts.accounts.waiting(session.token).given_back(posted)
    if returned is None:
        return None
    if returned.draft is not None:
        return redirect(returned.back, session, query={"draft": returned.tx_id})
    if returned.replaced:
        raise PortalProblem(409, N_("Nothing was signed: this confirmation was replaced by an action prepared later "
                                    "in another tab or window. Prepare it again if it is still wanted."))
    return redirect(returned.back, session)


async def _resubmitted(parts: Portal, session: Session, posted: str) -> Response:
    """A second submit of the same page: sign nothing, show the first one's outcome when it committed."""
    known = await parts.service.wait(posted, COMMIT_WAIT_S) if len(posted) == 64 else None
    return redirect("", session, query={"done": posted} if known is not None and known.result == "valid" else None)
