"""Certificates (design §3.20): the registry prepares and serves them; anyone verifies them.

- ``POST /v1/certificates`` (``registry.issuer``): the registry node builds and signs the record of a
  RECORDED application (``certificates/desk.py``) and returns it with the unsigned ``application.issue``
  payload carrying its hash and e-licence id, which the issuer signs and submits to
  ``POST /v1/transactions`` with their own key. A combined case (``ownership.transfer_mortgage``)
  has a second certificate, the new mortgage's; it is prepared the same way (the default once the
  case's own needs none, or named by ``certificate_number``) and its payload names it.
- ``GET /v1/certificates/{number}`` and ``…/pdf``: the issued copy with ledger evidence, and its signed
  PDF, for the registry and the parties the certificate names (they carry personal names). The PDF
  is the one signed when the certificate was issued (``certificates/printing.py``); both say the
  certificate's status on the ledger now in ``X-Certificate-Status``.
- ``GET /v1/certificates/verify?number=…[&sha256=…]`` (public, the QR code's URL): the number alone
  yields the status only; with the record hash it also yields the verified content, names masked.
- ``POST /v1/certificates/verify`` (public): a certificate PDF or JSON file, verified offline-style
  against genesis, with the current status; the content returned is the file's own.

Public lookups are rate-limited per client address and every one is recorded in the node's audit
log ``<node>/certificates/lookups.jsonl`` (``certificates/lookups.py``).
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated, Any, Final
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, FastAPI, Query, Request, Response
from fastapi import Path as PathParam
from fastapi.responses import RedirectResponse
from pydantic import BaseModel, Field

from estatechain.api.deps import Caller, Service, require_roles
from estatechain.api.problems import ApiError
from estatechain.api.routes.responses import SIGNED, errors
from estatechain.api.routes.workflow import caller_context, prepare
from estatechain.api.schemas.workflow import IssueIn, PreparedOut
from estatechain.canonical import JSONValue
from estatechain.certificates.desk import ARCHIVE_DIR, CertificateDesk
from estatechain.certificates.lookups import LOG_NAME, LookupGate
from estatechain.certificates.printing import STATUS_HEADER, NotInForce, Printer, issued_pdf, status_of
from estatechain.certificates.standing import FileState, NotIssuedHere, file_state, issuer_revoked, status_change
from estatechain.certificates.verify import verify_bytes
from estatechain.contract.certificates import load
from estatechain.contract.checks.parties import acts_for
from estatechain.errors import Conflict, EstatechainError, NotFound
from estatechain.identity.membership import Signer
from estatechain.node.service import NodeService
from estatechain.web.pages import own_base_url

router = APIRouter(tags=["certificates"])

Number = Annotated[str, PathParam(min_length=8, max_length=64, description="The certificate number.")]
MAX_FILE_BYTES: Final = 2 * 1024 * 1024


class PrepareIn(BaseModel):
    """Which application's certificate to prepare; nonce and time of the issue payload are optional."""

    application_id: str = Field(pattern="^[0-9a-f]{64}$")
    certificate_number: str | None = Field(None, min_length=8, max_length=64, description=(
        "Which of the application's registration certificates (不动产登记证明): an "
        "ownership.transfer_mortgage case has the new mortgage's besides its own title. By default the one "
        "still to issue."))
    nonce: str | None = Field(None, pattern="^[A-Za-z0-9_-]{8,64}$")
    created_at: int | None = Field(None, ge=0, le=2**53 - 1)


class PreparedCertificateOut(BaseModel):
    """The signed record (no ledger evidence yet) and the issue payload to sign."""

    certificate: dict[str, Any]
    issue: PreparedOut


def _desk(request: Request, service: NodeService) -> CertificateDesk:
    """The registry node's desk, built once from the node's keys (503 on a node that cannot issue)."""
    try:
        return _desk_of(request.app, service)
    except EstatechainError:
        raise ApiError(503, "ISSUER_KEY_MISSING", "this node holds no registry issuer, document-signing and sealing "
                       "keys; ask the registry's node", {"org": service.keys.org_id}) from None


def _desk_of(app: FastAPI, service: NodeService) -> CertificateDesk:
    """The desk kept in ``app.state.certificate_desk`` (the portal's too), built on first use.

    Raises:
        InputError: the node is not a registry's or lacks its issuer, document-signing or sealing key.

    """
    cached: CertificateDesk | None = getattr(app.state, "certificate_desk", None)
    if cached is None:
        cached = CertificateDesk.from_keys(service.store, keys=service.keys, ledger_dir=service.settings.ledger_dir)
        app.state.certificate_desk = cached
    return cached


def _gate(request: Request, service: NodeService) -> LookupGate:
    gate: LookupGate | None = getattr(request.app.state, "certificate_gate", None)
    if gate is None:
        gate = LookupGate(clock=service.clock, log_path=Path(service.settings.ledger_dir) / ARCHIVE_DIR / LOG_NAME)
        request.app.state.certificate_gate = gate
    return gate


async def _admit(request: Request, service: NodeService, kind: str, number: str | None) -> tuple[LookupGate, str]:
    gate, client = _gate(request, service), request.client.host if request.client else "unknown"
    if not gate.admit(client):
        await gate.rate_limited(client=client, kind=kind, number=number, outcome="RATE_LIMITED")
        raise ApiError(429, "RATE_LIMITED", f"too many certificate lookups; at most {gate.per_minute} a minute",
                       {"limit": str(gate.per_minute)}, retry_after_s=60)
    return gate, client


@router.post("/v1/certificates", response_model=PreparedCertificateOut, responses=errors(403, 404, 409, 503, *SIGNED))
async def prepare_certificate(
    body: PrepareIn, request: Request, service: Service,
    caller: Annotated[Signer, Depends(require_roles("registry.issuer"))],
) -> PreparedCertificateOut:
    """Build and sign the record of an application's certificate still to issue; return the issue payload to sign."""
    desk = _desk(request, service)
    if caller.org_id != desk.keys.registry.org_id:
        raise ApiError(403, "FORBIDDEN", "only the registry's own issuers prepare its certificates",
                       {"org": caller.org_id})
    try:
        document = desk.prepare(body.application_id, body.certificate_number)
    except NotFound as exc:
        raise ApiError(404, "NOT_FOUND", str(exc), _asked(body)) from None
    except Conflict as exc:
        raise ApiError(409, "NOT_ISSUABLE", str(exc), _asked(body)) from None
    issue = IssueIn.model_validate({**desk.issue_fields(document), "nonce": body.nonce, "created_at": body.created_at})
    return PreparedCertificateOut(certificate=document, issue=prepare(service, caller, "application.issue", issue))


def _asked(body: PrepareIn) -> dict[str, str]:
    """The problem's detail: the application, and the certificate when one was named."""
    named = {} if body.certificate_number is None else {"certificate_number": body.certificate_number}
    return {"application_id": body.application_id, **named}


def _issued(request: Request, service: NodeService, caller: Signer, number: str) -> dict[str, JSONValue]:
    desk = _desk(request, service)
    try:
        document = desk.issued(number)
    except NotIssuedHere as exc:
        raise ApiError(404, "NOT_ISSUED_HERE", str(exc), {"number": number}) from None
    except NotFound as exc:
        raise ApiError(404, "NOT_FOUND", str(exc), {"number": number}) from None
    except Conflict as exc:
        raise ApiError(409, "NOT_ISSUED", str(exc), {"number": number}) from None
    record = document["record"]
    assert isinstance(record, dict)
    parties = [p for box in ("right_holders", "obligors") for p in _list(record[box]) if isinstance(p, dict)]
    ctx = caller_context(service, caller)
    if caller.org_type != "registry" and not any(
            acts_for(service.store, ctx, str(p["party_id"])) for p in parties):
        raise ApiError(403, "FORBIDDEN", "only the registry and the parties a certificate names may fetch it",
                       {"number": number})
    return document


QR_PAGE: Final = "/portal/public/qr"
"""Where a browser that opened a certificate's QR code is sent: the portal's report page, not JSON."""


def _wants_page(request: Request) -> bool:
    """Whether the caller is a browser (it asks for HTML before JSON), e.g. a phone that scanned the QR code."""
    accept = request.headers.get("accept", "").lower()
    html, json = accept.find("text/html"), accept.find("application/json")
    return html >= 0 and (json < 0 or html < json)


@router.get("/v1/certificates/verify", response_model=dict[str, Any], responses={
    **errors(404, 422, 429),
    303: {"description": f"A browser (Accept: text/html first) opening the QR code is sent to {QR_PAGE}"}})
async def verify_by_qr(
    request: Request, service: Service,
    number: Annotated[str, Query(min_length=8, max_length=64, description="The certificate number.")],
    sha256: Annotated[str | None, Query(pattern="^[0-9a-f]{64}$", description="The record hash (QR).")] = None,
) -> dict[str, Any] | Response:
    """Public: a number alone yields its status; with the QR's record hash, the verified content (names masked).

    Besides the status: whether a file is issued under the number here (``file``, and ``note`` when
    none is), and for a certificate no longer in force the transaction that changed its status, its
    height and block time (``status_change``); when the issuer's own certificate was revoked since, at
    which height and by which transaction (``issuer_revoked``). Nothing about a person beyond the masked content.

    The certificate's QR code holds this URL. A phone's browser that opens it gets a 303 to the portal's
    report page with the same number and hash, so a resident reads the verification, not JSON; any
    other caller (the SDK, curl) gets JSON as before.
    """
    if sha256 is not None and _wants_page(request):
        return RedirectResponse(f"{QR_PAGE}?{urlencode({'number': number, 'sha256': sha256})}", status_code=303)
    kind = "qr" if sha256 else "status"
    gate, client = await _admit(request, service, kind, number)
    certificate = load(service.store, number)
    if certificate is None:
        await gate.record(client=client, kind=kind, number=number, outcome="NOT_FOUND")
        raise ApiError(404, "NOT_FOUND", "no certificate with this number on the ledger", {"number": number})
    state, note = file_state(certificate)
    answer: dict[str, Any] = {"number": certificate.number, "status": certificate.status.value,
                              "document_sha256": certificate.document_sha256, "issued_ms": certificate.issued_ms,
                              "height": service.store.height, "file": state.value}
    if note is not None:
        answer["note"] = note
    if (change := status_change(service.store, certificate)) is not None:
        answer["status_change"] = change.to_json()
    if (revoked := issuer_revoked(service.store, certificate)) is not None:
        answer["issuer_revoked"] = revoked
    if sha256 is not None:
        if state is FileState.NOT_ISSUED_HERE:
            await gate.record(client=client, kind=kind, number=number, outcome=state.value)
            raise ApiError(404, "NOT_ISSUED_HERE", f"{certificate.number}: {note}; no QR code of this platform "
                           "names it", {"number": number, "sha256": sha256})
        desk = _desk(request, service)
        document = desk.archived(sha256) if sha256 == certificate.document_sha256 else None
        if document is None:
            await gate.record(client=client, kind=kind, number=number, outcome="HASH_MISMATCH")
            raise ApiError(404, "NOT_FOUND", "the ledger holds no issued record with this hash for this number",
                           {"number": number, "sha256": sha256})
        answer["content"] = _masked(document["record"])
    await gate.record(client=client, kind=kind, number=number, outcome=certificate.status.value)
    return answer


@router.post("/v1/certificates/verify", responses=errors(400, 413, 429))
async def verify_file(request: Request, service: Service) -> dict[str, Any]:
    """Public: verify an uploaded certificate PDF or JSON (the body); report, content and current status."""
    gate, client = await _admit(request, service, "file", None)
    data = await request.body()
    if not data or len(data) > MAX_FILE_BYTES:
        raise ApiError(400, "BAD_FILE", "send the certificate PDF or JSON as the request body", {})

    loop = asyncio.get_running_loop()

    async def on_loop(number: str) -> dict[str, JSONValue]:
        found = load(service.store, number)
        if found is None:
            raise NotFound(f"{number}: not on this node's ledger")
        answer: dict[str, JSONValue] = {"status": found.status.value, "document_sha256": found.document_sha256}
        if (revoked := issuer_revoked(service.store, found)) is not None:
            answer["issuer_revoked"] = revoked
        return answer

    def lookup(number: str) -> dict[str, JSONValue]:
        """The ledger is read on the loop's thread (its connection's); the verifier waits for the answer."""
        return asyncio.run_coroutine_threadsafe(on_loop(number), loop).result(timeout=10)

    # pyhanko runs its own event loop inside, so the PDF checks run in a worker thread, off this loop.
    report = await asyncio.to_thread(verify_bytes, data, service.genesis, lookup=lookup)
    failure = report.failure
    number = None if report.record is None else str(report.record["number"])
    await gate.record(client=client, kind="file", number=number,
                      outcome="VALID" if failure is None else f"FAILED:{failure.name}")
    return {"ok": report.ok, "kind": report.kind, "status": report.status,
            "failed": None if failure is None else {"check": failure.name, "message": failure.detail},
            "checks": [{"check": c.name, "ok": c.ok, "detail": c.detail} for c in report.checks],
            "content": None if report.record is None else dict(report.record)}


@router.get("/v1/certificates/{number}", responses=errors(403, 404, 409, 503, *SIGNED))
async def certificate_file(number: Number, request: Request, response: Response, service: Service,
                           caller: Caller) -> dict[str, Any]:
    """The issued certificate file (signed record + ledger evidence), for the registry and the named parties.

    The body is the certificate file exactly (``docs/certificates.md``: its keys are fixed, so a saved
    copy verifies); its status on the ledger now is the ``X-Certificate-Status`` header.
    """
    document = _issued(request, service, caller, number)
    response.headers[STATUS_HEADER] = status_of(_desk(request, service), number)
    return dict(document)


@router.get("/v1/certificates/{number}/pdf", response_class=Response, responses={
    200: {"content": {"application/pdf": {}}, "headers": {STATUS_HEADER: {
        "description": "The certificate's status on the ledger now (VALID, CANCELLED, CORRECTED, SUPERSEDED, "
                       "CONVERTED, REVOKED); the PDF is the one signed when it was issued.",
        "schema": {"type": "string"}}}},
    **errors(403, 404, 409, 503, *SIGNED)})
async def certificate_pdf_file(number: Number, request: Request, service: Service, caller: Caller) -> Response:
    """The signed PDF of an issued certificate, for the registry and the named parties.

    Always the PDF signed when the certificate was issued (``certificates/printing.py``), also once it
    is no longer in force, with its current status in ``X-Certificate-Status``; never one signed
    later. A certificate with no kept PDF that is no longer in force is refused: 409 NOT_IN_FORCE.
    """
    document = _issued(request, service, caller, number)
    desk = _desk(request, service)
    try:
        pdf = await issued_pdf(desk, document, own_base_url(request, service.settings.public_url))
    except NotInForce as exc:
        raise ApiError(409, "NOT_IN_FORCE", str(exc), {"number": number, "status": exc.status}) from None
    return Response(content=pdf, media_type="application/pdf", headers={STATUS_HEADER: status_of(desk, number)})


def printer(app: FastAPI, service: NodeService, base_url: str) -> asyncio.Task[None] | None:
    """The task that prints each certificate's PDF as its issue commits, on a registry node; else None.

    Started by the server once it listens (``api/server.py``), with the address the QR codes name; it
    first catches up with the certificates issued since its mark (``certificates/printing.Printer``).
    """
    try:
        desk = _desk_of(app, service)
    except EstatechainError:
        return None
    return asyncio.get_running_loop().create_task(Printer(desk, base_url).follow(service.pipeline.subscribe()),
                                                  name="certificate-printing")


def _masked(record: JSONValue) -> dict[str, Any]:
    """The record with natural persons' names masked (张三 → 张*): the QR code is not an entitlement."""
    assert isinstance(record, dict)
    masked = dict(record)
    for box in ("right_holders", "obligors"):
        parties = record.get(box)
        if isinstance(parties, list):
            masked[box] = [
                {**p, "name": _mask(str(p.get("name", "")))} if isinstance(p, dict) and p.get("kind") != "company"
                else p for p in parties]
    return masked


def _list(value: JSONValue) -> list[JSONValue]:
    return value if isinstance(value, list) else []


def _mask(name: str) -> str:
    return name[:1] + "*" * max(len(name) - 1, 1)
