"""A case's page (timeline of every signed step, the actions the account may take) and its certificate.

A case the account may not see answers exactly like one that does not exist (404), so a clerk of
another bank learns nothing from a guessed URL. Actions prepare a payload for the confirmation
page (``routes_sign.py``); the certificate issue step first has the registry node's desk build and
sign the certificate record, whose hash the issuer's transaction then carries (design §3.20).
"""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request, Response

from estatechain.certificates.desk import CertificateDesk
from estatechain.certificates.pdf import certificate_pdf
from estatechain.errors import EstatechainError
from estatechain.node.service import NodeService
from estatechain.web import cases as queries
from estatechain.web.accounts import Account
from estatechain.web.actions import (
    MISSING_ITEMS,
    REFUSAL_REASONS,
    STEPS_BY_PATH,
    available,
    decision,
    reviewer,
    step_body,
)
from estatechain.web.i18n import BUSINESS_NAMES, N_
from estatechain.web.pages import redirect, render
from estatechain.web.portal import (
    CheckedForm,
    Member,
    Portal,
    PortalDep,
    PortalProblem,
    PortalRoute,
    material_store,
    not_found,
    viewer_of,
)

router = APIRouter(prefix="/portal", route_class=PortalRoute, include_in_schema=False)


def certificate_desk(request: Request, service: NodeService) -> CertificateDesk:
    """The registry node's desk, shared with the API through ``app.state.certificate_desk``."""
    cached: CertificateDesk | None = getattr(request.app.state, "certificate_desk", None)
    if cached is not None:
        return cached
    ledger_dir = service.settings.ledger_dir
    try:
        desk = CertificateDesk.from_keys(service.store, keys=service.keys, ledger_dir=ledger_dir)
    except EstatechainError:
        raise PortalProblem(503, N_("This node holds no certificate issuer keys.")) from None
    request.app.state.certificate_desk = desk
    return desk


def _load(parts: Portal, account: Account, application_id: str) -> queries.Case:
    store = parts.service.store
    found = queries.case(store, viewer_of(parts, account), application_id,
                         queries.now_ms(store, parts.service.clock.now_ms()))
    if found is None:
        raise not_found()
    return found


@router.get("/cases")
async def all_cases(session: Member, parts: PortalDep) -> Response:
    """The newest cases the account may see, and how many there are in all."""
    assert session.account is not None
    store = parts.service.store
    viewer = viewer_of(parts, session.account)
    found = queries.listed(parts.cases, store, viewer, queries.now_ms(store, parts.service.clock.now_ms()))
    return render("cases.html", session, cases=found, title=N_("Cases"),
                  total=queries.count(store, viewer, parts.cases))


@router.get("/cases/{application_id}")
async def case_page(application_id: str, session: Member, parts: PortalDep, done: str | None = None) -> Response:
    """The case: parties, details, materials, timeline, and the steps this account may take."""
    assert session.account is not None
    item = _load(parts, session.account, application_id)
    viewer = viewer_of(parts, session.account)
    store = parts.service.store
    waiting = queries.awaiting(store, viewer, [item])
    fingerprint = parts.custody.identity(session.account.handle).fingerprint
    steps = available(item, session.account.role, fingerprint, awaiting_party=waiting[0][1] if waiting else None)
    blocked = (session.account.role == "registry.recorder" and item.state.value == "APPROVED"
               and reviewer(item) == fingerprint)
    timeline = sorted(((name, step) for name, step in item.application.steps.items() if isinstance(step, dict)),
                      key=lambda pair: (int(str(pair[1].get("at_ms", 0))), pair[0]))
    return render("case.html", session, case=item, steps=steps, timeline=timeline, blocked=blocked, done=done,
                  missing_items=MISSING_ITEMS, reasons=REFUSAL_REASONS)


@router.post("/cases/{application_id}/{action}")
async def take_step(  # noqa: PLR0913, PLR0917  (FastAPI injects each by name)
    application_id: str, action: str, request: Request, session: Member, form: CheckedForm, parts: PortalDep,
) -> Response:
    """Prepare the payload of ``action`` and send the browser to the confirmation page."""
    assert session.account is not None
    assert form is not None
    account = session.account
    item = _load(parts, account, application_id)
    step = STEPS_BY_PATH.get(action)
    viewer = viewer_of(parts, account)
    waiting = queries.awaiting(parts.service.store, viewer, [item])
    party = waiting[0][1] if waiting else None
    fingerprint = parts.custody.identity(account.handle).fingerprint
    if step is None or step not in available(item, account.role, fingerprint, awaiting_party=party):
        raise PortalProblem(409, N_("This step is not open to you on this case now."))
    chosen = decision(step, {k: str(v) for k, v in form.items() if isinstance(v, str)},
                      [str(v) for v in form.getlist("missing_item")])
    if isinstance(chosen, str):
        raise PortalProblem(422, chosen)
    extra, rows = dict(chosen.fields), list(chosen.summary)
    if step.path == "issue":
        try:
            document = certificate_desk(request, parts.service).prepare(application_id)
        except EstatechainError as exc:
            raise PortalProblem(409, str(exc)) from None
        record = document["record"]
        assert isinstance(record, dict)
        extra = {"document_sha256": str(document["document_sha256"]), "elicence_id": str(record["elicence_id"])}
        rows.append([N_("Certificate record hash"), str(document["document_sha256"])])
    business = item.application.business_type
    summary = [[N_("Action"), step.label, "t"], [N_("Business type"), BUSINESS_NAMES.get(business, business), "t"],
               [N_("Unit number"), item.application.unit_number], [N_("Case"), application_id]]
    if party is not None:
        summary.append([N_("You act for party"), party])
    pending = parts.custody.prepare(handle=account.handle, chain_id=parts.service.genesis.chain_id,
                                    command=step.command, body=step_body(step, item, party=party, extra=extra),
                                    now_ms=parts.service.clock.now_ms(), summary=summary + rows,
                                    back=f"/cases/{application_id}")
    parts.accounts.set_pending(session.token, pending.to_json())
    return redirect("/sign", session)


@router.get("/cases/{application_id}/certificate.pdf")
async def certificate_file(application_id: str, request: Request, session: Member, parts: PortalDep) -> Response:
    """The signed PDF of the case's certificate, for those who may see the case."""
    assert session.account is not None
    item = _load(parts, session.account, application_id)
    number = item.application.certificate_number
    if number is None or item.state.value != "CERTIFIED":
        raise not_found()
    desk = certificate_desk(request, parts.service)
    document = desk.issued(number)
    sha256 = str(document["document_sha256"])
    pdf = desk.cached_pdf(sha256)
    if pdf is None:
        pdf = await asyncio.to_thread(certificate_pdf, document, signer=desk.keys.docsign, ca_der=desk.keys.ca_der,
                                      base_url=str(request.base_url))
        desk.keep_pdf(sha256, pdf)
    return Response(pdf, media_type="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="certificate-{application_id[:12]}.pdf"',
        "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"})


@router.get("/cases/{application_id}/materials/{sha256}")
async def material_file(application_id: str, sha256: str, request: Request, session: Member,
                        parts: PortalDep) -> Response:
    """A material of the case: for the registry, and for the org that uploaded it (as the API allows)."""
    assert session.account is not None
    item = _load(parts, session.account, application_id)
    store = material_store(request, parts)
    if sha256 not in {m.sha256 for m in item.application.materials} or not (
            viewer_of(parts, session.account).org_type == "registry" or session.account.org in store.holders(sha256)):
        raise not_found()
    data, media = store.get(sha256)
    return Response(data, media_type=media, headers={
        "Content-Disposition": f'attachment; filename="{sha256[:16]}"', "Cache-Control": "no-store",
        "X-Content-Type-Options": "nosniff", "Content-Security-Policy": "default-src 'none'; sandbox"})
