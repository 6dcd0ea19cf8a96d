"""A case's page (timeline of every signed step, the actions the account may take) and its certificate.

A case the account may not see answers exactly like one that does not exist (404), so a clerk of
another bank learns nothing from a guessed URL. Actions prepare a payload for the confirmation
page (``routes_sign.py``); the certificate issue step first has the registry node's desk build and
sign the certificate record, whose hash the issuer's transaction then carries (design §3.20). A
decision with a problem in its fields (a missing text, one over the contract's limit) or whose
transaction would exceed the consortium's ``max_tx_bytes`` once signed (``custody.TooLarge``) comes
back on its own form, with what was typed and the problem.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from fastapi import APIRouter, Request, Response

from estatechain.canonical import JSONValue
from estatechain.certificates.desk import CertificateDesk
from estatechain.certificates.printing import STATUS_HEADER, NotInForce, issued_pdf, status_of
from estatechain.certificates.record import issued_certificate
from estatechain.contract.certificates import load
from estatechain.contract.records import Application
from estatechain.contract.rules.registration import MISSING_TEXT_MAX, REFUSAL_TEXT_MAX
from estatechain.contract.rules.transfer_mortgage import mortgage_certificate
from estatechain.contract.view import StateView
from estatechain.contract.working_days import WorkingDays
from estatechain.errors import Conflict, EstatechainError, NotFound
from estatechain.node.service import NodeService
from estatechain.web import caseparties, history, review
from estatechain.web import cases as queries
from estatechain.web.accounts import Account, Session
from estatechain.web.actions import (
    MISSING_ITEM_NAMES,
    REFUSAL_REASONS,
    STEPS_BY_PATH,
    Decision,
    Problem,
    Step,
    available,
    decision,
    missing_items,
    reviewer,
    step_body,
    written,
)
from estatechain.web.cancellation import cancelled
from estatechain.web.custody import TooLarge
from estatechain.web.filing import CAUSES, CORRECTABLE, REASONS
from estatechain.web.i18n import BUSINESS_NAMES, N_, rule_texts
from estatechain.web.pages import BASE, CSP, own_base_url, redirect, render
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
from estatechain.web.precheck import precheck
from estatechain.web.routes_owner import org_names

router = APIRouter(prefix="/portal", route_class=PortalRoute, include_in_schema=False)

INLINE_MEDIA: Final = frozenset({"application/pdf", "image/jpeg", "image/png"})
"""Materials a browser shows itself (V24's media types but OFD, which needs a reader): viewed in the page."""
CASE_CSP: Final = CSP + "; frame-src 'self'"
"""The case page's policy: the site's, plus framing the portal's own PDF materials (and nothing else)."""
VERDICT_STEPS: Final = frozenset({"accept", "review", "record"})
"""Steps whose verdict the case page shows in advance (the others take a decision the page cannot guess)."""
REASON_STEPS: Final = ("not-accept", "refuse", "hold")
"""Steps decided in a form with written reasons: shown again as typed when something is wrong, and
given back after a cancel or a replacement on the confirmation page."""
DETAIL_LABELS: Final = {"reasons": REASONS, "causes": CAUSES, "fields": CORRECTABLE}
"""The filing form's labels for the coded details a case page shows (``case_details.html``)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Typed:
    """A decision form shown again as typed, with why nothing was prepared: its fields' problems or its size."""

    step: str
    values: Mapping[str, str]
    ticked: tuple[str, ...]
    problems: Mapping[str, Problem]
    too_large: TooLarge | None = None
    replaced: bool | None = None
    """Given back unsigned from the confirmation page: True, replaced by a later action on the case
    (another tab); False, cancelled; None, not given back (a problem sent it back)."""

    def draft(self) -> dict[str, JSONValue]:
        """What the pending payload keeps of this form, to give it back (``Pending.draft``)."""
        return {"step": self.step, "values": dict(self.values.items()), "ticked": [*self.ticked]}

    @staticmethod
    def given_back(draft: Mapping[str, JSONValue], *, replaced: bool) -> Typed:
        """The form ``draft`` kept, as it comes back after a cancel or a replacement."""
        values = draft.get("values")
        ticked = draft.get("ticked")
        return Typed(step=str(draft.get("step", "")), problems={}, replaced=replaced,
                     values={str(k): str(v) for k, v in values.items()} if isinstance(values, dict) else {},
                     ticked=tuple(str(t) for t in ticked) if isinstance(ticked, list) else ())


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
async def all_cases(session: Member, parts: PortalDep, page: int = 1) -> Response:
    """The cases the account may see, newest first and page by page, how many in all, each one's legal clock."""
    assert session.account is not None
    cases = await parts.cases.ready()  # a first build reads every application: off the loop
    store = parts.service.store
    viewer = viewer_of(parts, session.account)
    now = queries.now_ms(store, parts.service.clock.now_ms())
    found = queries.paged(cases, store, viewer, now, page=page)
    return render("cases.html", session, cases=found, title=N_("Cases"),
                  clocks=review.clocks(store, found.cases, now, WorkingDays(store)))


@router.get("/cases/{application_id}")
async def case_page(application_id: str, request: Request, session: Member, parts: PortalDep,  # noqa: PLR0913, PLR0917
                    done: str | None = None, draft: str | None = None) -> Response:
    """The case: parties, details, materials, timeline, the clock, and the steps this account may take.

    ``application_id`` may be the short id the lists print (any unique prefix of ``SHORT_ID`` hex
    digits or more, among the cases the account may see): the page then redirects to the full id.
    Registry staff also get the review desk (``review.py``): the unit's mortgages with ranks before
    and after, every register check with its result, and the verdict of the step they would sign.
    The filing bank sees the ranks before and after, other mortgagees' entries only as ranks.
    ``draft`` names a payload of this case that was cancelled or replaced unsigned (``waiting.py``):
    its form comes back as it was typed, with a notice saying nothing was signed.
    """
    returned = None if draft is None else parts.accounts.waiting(session.token).given_back(draft)
    if returned is None or returned.back != f"/cases/{application_id}" or returned.draft is None:
        return _case_response(request, session, parts, application_id, done=done)
    return _case_response(request, session, parts, application_id, done=done,
                          form=Typed.given_back(returned.draft, replaced=returned.replaced))


def _case_response(  # noqa: PLR0913  (keywords only: what a refused decision brings back)
    request: Request, session: Session, parts: Portal, application_id: str, *, done: str | None = None,
    form: Typed | None = None, status: int = 200,
) -> Response:
    """The case page; ``form``: a decision that could not be prepared, shown on its form as typed."""
    assert session.account is not None
    account = session.account
    matches = queries.matching(parts.service.store, viewer_of(parts, account), application_id)
    if len(matches) > 1:
        raise PortalProblem(409, N_("More than one case begins with these characters: type more of the case's id."))
    if matches and matches[0] != application_id:
        return redirect(f"/cases/{matches[0]}", session)
    item = _load(parts, account, application_id)
    viewer = viewer_of(parts, account)
    store = parts.service.store
    waiting = queries.awaiting(store, viewer, [item])
    fingerprint = parts.custody.identity(account.handle).fingerprint
    steps = (available(item, account.role, fingerprint, awaiting_party=waiting[0][1] if waiting else None)
             + review.hold_steps(item.state, account.role))
    blocked = (account.role == "registry.recorder" and item.state.value == "APPROVED"
               and reviewer(item) == fingerprint)
    timeline = history.timeline(parts.service.store, item.application)
    now = queries.now_ms(store, parts.service.clock.now_ms())
    desk = None
    if item.state not in review.OPEN:
        pass  # decided: the register page shows the unit's ranks as they are
    elif viewer.org_type == "registry":
        desk = _review_desk(parts, account, item, steps, fingerprint)
    elif account.role.startswith("bank.") and account.org == item.application.filer_org:
        desk = _filer_ranks(parts, account, item, fingerprint)
    openable = caseparties.openable(store, material_store(request, parts), viewer, item.application,
                                    fetches=parts.service.fetches_materials)
    viewable = _viewable(item, openable)
    names = _applicant_names(request, parts, item) if viewer.org_type == "registry" else {}
    response = render("case.html", session, status=status, case=item, steps=steps,
                      timeline=caseparties.entries(store, viewer, item.application, timeline, fingerprint),
                      parties=caseparties.parties(store, viewer, item.application),
                      org_labels=org_names(parts.service.genesis), ended=cancelled(store, viewer, application_id),
                      blocked=blocked, done=done, form=form, names=names, missing_names=MISSING_ITEM_NAMES,
                      missing_items=missing_items(item.application), reasons=REFUSAL_REASONS, desk=desk,
                      openable=openable, viewable=viewable,
                      mortgage_certificate=mortgage_certificate(store, item.application),
                      certificate_status=_certificate_status(store, item.application),
                      clock=review.clock(item.application, item.state, now, WorkingDays(store),
                                         history.holds(store, item.application)),
                      reason_steps=REASON_STEPS, detail_labels=DETAIL_LABELS,
                      limits={"not-accept": MISSING_TEXT_MAX, "refuse": REFUSAL_TEXT_MAX, "hold": review.MAX_REASON},
                      here=session.here if request.method == "GET" else f"{BASE}/cases/{application_id}")
    if viewable:
        response.headers["Content-Security-Policy"] = CASE_CSP
    return response


def _applicant_names(request: Request, parts: Portal, item: queries.Case) -> dict[str, str]:
    """The applicants' names and ID documents, opened by the registry's node for its own staff.

    The registry examines the case against the contracts and ID copies, so its desks need the names;
    no other org's page gets them (they stay sealed to the registry, off the shared ledger).
    """
    try:
        desk = certificate_desk(request, parts.service)
    except PortalProblem:
        return {}  # a registry node without the issuer's keys cannot open the records: party ids only
    return desk.applicant_names([a.party for a in item.application.applicants])


def _viewable(item: queries.Case, openable: frozenset[str]) -> dict[str, str]:
    """Of the materials the account may open (``openable``), those a browser shows: sha256 → "img"/"frame"."""
    return {m.sha256: "frame" if m.media_type == "application/pdf" else "img" for m in item.application.materials
            if m.media_type in INLINE_MEDIA and m.sha256 in openable}


def _blocked(ranks: review.Ranks) -> dict[str, object] | None:
    """The rule that keeps the case from being recorded now (so no ranks after it), with its texts."""
    if ranks.blocked is None:
        return None
    rejection = ranks.blocked.rejection
    return {"code": str(rejection.code),
            "texts": rule_texts(str(rejection.code), {str(k): str(v) for k, v in rejection.detail.items()})}


def _filer_ranks(parts: Portal, account: Account, item: queries.Case, fingerprint: str) -> dict[str, object]:
    """The filing bank's view of the ranks: every rank, but only its own entries in full (domain.md §7).

    Without the owners' consent a bank may learn that the unit is mortgaged and at which ranks (the
    limited answer the filing form shows too), never another mortgagee's certificate, party or amount.
    """
    store = parts.service.store
    ctx = review.next_block(parts.service, signer=fingerprint, org=account.org, role=account.role)
    ranks = review.ranks(store, ctx, item.application, item.state)
    return {"ranks": ranks, "rank_blocked": _blocked(ranks), "verdicts": [], "rules": [], "limited": True,
            "own_party": queries.org_party(store, account.org), "notice_lapse": None}


def _review_desk(parts: Portal, account: Account, item: queries.Case, steps: list[Step],
                 fingerprint: str) -> dict[str, object]:
    """Ranks before/after, each rule's result and the verdict of each step the account could sign now.

    Texts of failures are in the account's language (the shared catalogue, by code).
    """
    ctx = review.next_block(parts.service, signer=fingerprint, org=account.org, role=account.role)
    store = parts.service.store
    ranks = review.ranks(store, ctx, item.application, item.state)
    rules = review.rule_results(store, ctx, item.application) if item.state in review.OPEN else []
    verdicts = []
    for step in steps:
        if step.path not in VERDICT_STEPS:
            continue
        pending = parts.custody.prepare(handle=account.handle, chain_id=parts.service.genesis.chain_id,
                                        command=step.command, body=step_body(step, item, party=None, extra=None),
                                        now_ms=parts.service.clock.now_ms(), summary=[], back="")
        failure = precheck(parts.service, pending, fingerprint=fingerprint, org=account.org, role=account.role)
        verdicts.append({"step": step, "passed": failure is None,
                         "code": None if failure is None else failure.code,
                         "texts": {} if failure is None else rule_texts(failure.code, failure.detail)})
    return {"ranks": ranks, "rank_blocked": _blocked(ranks), "verdicts": verdicts, "limited": False,
            "others": review.other_cases(store, item.application, ctx.block_time_ms), "demoted": review.demoted(ranks),
            "own_party": None, "notice_lapse": review.notice_lapse(store, ctx, item.application),
            "rules": [{"rule": r.rule, "label": r.label, "passed": r.passed, "code": r.code,
                       "texts": {} if r.code is None else rule_texts(r.code, r.detail)} for r in rules]}


@router.post("/cases/{application_id}/{action}")
async def take_step(  # noqa: PLR0913, PLR0917  (FastAPI injects each by name)
    application_id: str, action: str, request: Request, session: Member, form: CheckedForm, parts: PortalDep,
) -> Response:
    """Prepare the payload of ``action`` and send the browser to the confirmation page."""
    assert session.account is not None
    assert form is not None
    account = session.account
    item = _load(parts, account, application_id)
    step = STEPS_BY_PATH.get(action) or review.HOLD_STEPS.get(action)
    viewer = viewer_of(parts, account)
    waiting = queries.awaiting(parts.service.store, viewer, [item])
    party = waiting[0][1] if waiting else None
    fingerprint = parts.custody.identity(account.handle).fingerprint
    if step is None or step not in (available(item, account.role, fingerprint, awaiting_party=party)
                                    + review.hold_steps(item.state, account.role)):
        raise PortalProblem(409, N_("This step is not open to you on this case now."))
    values = {k: str(v) for k, v in form.items() if isinstance(v, str) and k != "csrf"}
    ticked = tuple(str(v) for v in form.getlist("missing_item"))
    chosen = (_hold_decision(step, values) if step.path in review.HOLD_STEPS
              else decision(step, values, list(ticked), missing_items(item.application)))
    if not isinstance(chosen, Decision):  # the form again, as typed, each problem at its field
        typed = Typed(step=step.path, values=values, ticked=ticked, problems=chosen)
        return _case_response(request, session, parts, application_id, form=typed, status=422)
    extra, rows = dict(chosen.fields), list(chosen.summary)
    if step.path == "issue":
        desk = certificate_desk(request, parts.service)
        try:
            document = desk.prepare(application_id)  # the one still to issue: its own, or its new mortgage's
        except NotFound:
            raise PortalProblem(409, N_("This case's register entry is missing on this node, so its certificate "
                                        "cannot be made.")) from None
        except Conflict:
            raise PortalProblem(409, N_("This case has no certificate left for this desk to issue: it was issued "
                                        "already, or the case issues none. Reload the case.")) from None
        record = document["record"]
        assert isinstance(record, dict)
        extra = desk.issue_fields(document)
        rows += [[N_("Certificate number"), str(record["number"])],
                 [N_("Certificate record hash"), str(document["document_sha256"])]]
    business = item.application.business_type
    summary = [[N_("Action"), step.label, "t"], [N_("Business type"), BUSINESS_NAMES.get(business, business), "t"],
               [N_("Unit number"), item.application.unit_number], [N_("Case"), application_id]]
    if party is not None:
        summary.append([N_("You act for party"), party])
    try:
        typed = Typed(step=step.path, values=values, ticked=ticked, problems={})
        pending = parts.custody.prepare(handle=account.handle, chain_id=parts.service.genesis.chain_id,
                                        command=step.command, body=step_body(step, item, party=party, extra=extra),
                                        now_ms=parts.service.clock.now_ms(), summary=summary + rows,
                                        back=f"/cases/{application_id}",
                                        draft=typed.draft() if step.path in REASON_STEPS else None)
    except TooLarge as problem:  # nothing prepared: the same form again, with what was typed and the limit
        typed = Typed(step=step.path, values=values, ticked=ticked, problems={}, too_large=problem)
        return _case_response(request, session, parts, application_id, form=typed, status=413)
    parts.accounts.set_pending(session.token, pending.to_json())
    return redirect("/sign", session, query={"tx": pending.tx_id})  # this tab shows its own action


def _hold_decision(step: Step, form: dict[str, str]) -> Decision | dict[str, Problem]:
    """A hold needs its reason in writing (site visit, investigation …); a resume takes none."""
    if step is review.RESUME:
        return Decision(fields={}, summary=[])
    reason, problem = written(form, "text", review.MAX_REASON, N_("Write the reason for the hold."))
    if problem is not None:
        return {"text": problem}
    return Decision(fields={"reason": reason}, summary=[[N_("Reason for the hold"), reason]])


@router.get("/cases/{application_id}/certificate.pdf")
async def certificate_file(application_id: str, request: Request, session: Member, parts: PortalDep) -> Response:
    """The signed PDF of the case's issued 不动产登记证明 (a combined case's: its mortgage's), for those who see it."""
    assert session.account is not None
    item = _load(parts, session.account, application_id)
    number = issued_certificate(parts.service.store, item.application)
    if number is None:
        raise not_found()
    desk = certificate_desk(request, parts.service)
    document = desk.issued(number)
    try:
        pdf = await issued_pdf(desk, document, own_base_url(request, parts.service.settings.public_url))
    except NotInForce:
        raise PortalProblem(409, N_("This certificate is no longer in force, and no PDF of it was kept from when "
                                    "it was: none is signed after the fact. The registry holds its certificate "
                                    "file.")) from None
    return Response(pdf, media_type="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="certificate-{application_id[:12]}.pdf"',
        "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff", STATUS_HEADER: status_of(desk, number)})


def _certificate_status(store: StateView, application: Application) -> str | None:
    """The status on the ledger now of the case's issued certificate (shown beside its download), else None."""
    number = issued_certificate(store, application)
    found = None if number is None else load(store, number)
    return None if found is None else found.status.value


async def _material(request: Request, parts: Portal, account: Account, application_id: str,
                    sha256: str) -> tuple[bytes, str]:
    """A material of the case and its sniffed media type, for those who may open it; else "not found".

    Those are the registry, the org that uploaded it and the case's applicants (``caseparties.may_open``):
    any other org or person who can see the case gets the same 404 as for a hash the case does not cite.
    A material uploaded at another org's node is fetched from there (``NodeService.fetch_material``),
    the holder checking the same right on its own ledger (``peers.may_fetch``), and kept here.
    """
    item = _load(parts, account, application_id)
    store = material_store(request, parts)
    viewer = viewer_of(parts, account)
    if sha256 not in {m.sha256 for m in item.application.materials} or not caseparties.may_open(
            parts.service.store, viewer, item.application, store.holders(sha256)):
        raise not_found()
    if store.describe(sha256) is None and parts.service.fetches_materials:
        fingerprint = parts.custody.identity(account.handle).fingerprint
        registry = viewer.org_type == caseparties.REGISTRY_TYPE
        fetched = await parts.service.fetch_material(
            sha256, store.max_bytes, reader=fingerprint, case=None if registry else application_id,
            person=fingerprint if account.role == "person" else None)
        if fetched is None:
            raise PortalProblem(404, N_("This material is kept at the node of the org that uploaded it, which did not "
                                        "hand it over just now: try again later, or ask that org or the registry."))
        await store.put_in_thread(fetched, org=caseparties.holder(viewer, fingerprint))
    return await store.get_in_thread(sha256)


@router.get("/cases/{application_id}/materials/{sha256}")
async def material_file(application_id: str, sha256: str, request: Request, session: Member,
                        parts: PortalDep) -> Response:
    """A material of the case: for the registry, the org that uploaded it and the case's applicants."""
    assert session.account is not None
    data, media = await _material(request, parts, session.account, application_id, sha256)
    return Response(data, media_type=media, headers={
        "Content-Disposition": f'attachment; filename="{sha256[:16]}"', "Cache-Control": "no-store",
        "X-Content-Type-Options": "nosniff", "Content-Security-Policy": "default-src 'none'; sandbox"})


@router.get("/cases/{application_id}/materials/{sha256}/view")
async def material_view(application_id: str, sha256: str, request: Request, session: Member,
                        parts: PortalDep) -> Response:
    """The same material shown inline in the case page: a PDF in a frame, an image in ``<img>``.

    Only the media types a browser renders itself (sniffed from the bytes, not the filer's word) are
    served inline; anything else is "not found" here and stays a download. The response may be
    framed by the portal's own pages only; an image keeps the download's sandbox (a PDF cannot: the
    browser's PDF viewer refuses a sandboxed document), and nothing in it may load anything else.
    """
    assert session.account is not None
    data, media = await _material(request, parts, session.account, application_id, sha256)
    if media not in INLINE_MEDIA:
        raise not_found()
    policy = "default-src 'none'; frame-ancestors 'self'" + ("" if media == "application/pdf" else "; sandbox")
    return Response(data, media_type=media, headers={
        "Content-Disposition": f'inline; filename="{sha256[:16]}"', "Cache-Control": "no-store",
        "X-Content-Type-Options": "nosniff", "X-Frame-Options": "SAMEORIGIN", "Content-Security-Policy": policy})
