"""The public certificate pages: status by number, and verification of a certificate file or its QR content.

Design §3.20: a number alone yields the status only; the content needs the file (or the QR content),
and then it is the file's own content, verified offline-style against genesis (PAdES signature,
issuer signature, ledger evidence) with its current status from this node's ledger. Lookups are
rate-limited per client address and recorded in the same audit log as the API's public lookups.

Pasted QR content (``certificates/qr.py``: the verification URL with the number and the record's
SHA-256) proves that its holder saw the certificate: when the ledger's certificate of that number
has exactly that record hash, the registry node's signed copy of it (with its ledger evidence,
``CertificateDesk.issued``) goes through the same verifier as an uploaded file, and the page shows
the same report. Text that is not such content, or names no issued record of this ledger, gets an
error on the field and nothing else.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from fastapi import APIRouter, Request, Response
from starlette.datastructures import UploadFile

from estatechain.canonical import JSONValue
from estatechain.certificates.desk import ARCHIVE_DIR
from estatechain.certificates.document import to_bytes
from estatechain.certificates.lookups import LOG_NAME, LookupGate
from estatechain.certificates.qr import parse_qr
from estatechain.certificates.standing import FileState, StatusChange, file_state, is_title_number, status_change
from estatechain.certificates.verify import Report, verify_bytes
from estatechain.contract.certificates import load
from estatechain.contract.records import Certificate
from estatechain.errors import Conflict, InputError, NotFound
from estatechain.web.accounts import Session
from estatechain.web.i18n import N_
from estatechain.web.pages import BASE, render
from estatechain.web.portal import CheckedForm, Portal, PortalDep, PortalProblem, PortalRoute, Visitor
from estatechain.web.routes_cases import certificate_desk

router = APIRouter(prefix="/portal", route_class=PortalRoute, include_in_schema=False)

MAX_FILE_BYTES: Final = 2 * 1024 * 1024
MAX_QR_CHARS: Final = 2000
"""Far above any real QR content (a URL of some 200 characters); longer text is not read at all."""
NOT_QR: Final = N_("This is not the content of a certificate's QR code. Paste the whole text the QR code holds: an "
                   "address ending in /v1/certificates/verify?number=…&sha256=….")
NO_SUCH_RECORD: Final = N_("The ledger holds no issued certificate with this number and record hash.")
SHOWN_FIELDS: Final = {"number": N_("Certificate number"), "unit_number": N_("Unit number"),
                       "right_or_matter": N_("Right or matter"), "mortgage_type": N_("Mortgage type"),
                       "location": N_("Location"), "date": N_("Date")}
"""Fields of a verified file's record shown on the page (the file's holder sees its own content)."""
CHECK_NAMES: Final = {
    "format": N_("File format"), "pdf signature": N_("PDF signature"), "chain": N_("Consortium (chain id)"),
    "issuer": N_("Issuer's certificate"), "record signature": N_("Issuer's signature on the record"),
    "record hash": N_("Record hash"), "issue transaction": N_("Issue transaction"),
    "ledger inclusion": N_("Included in the ledger"), "attestation": N_("Block attested"),
    "pdf page": N_("PDF page matches the record"), "issuer revocation": N_("Issuer's certificate revoked later"),
    "status": N_("Current status"),
}
"""The verifier's steps (``certificates.verify``, ``pdf_check``) in words in the page's language; the
verifier names them in English for the API and the command line. What a step found is a code with its
values (``Check.code``, ``Check.params``), shown in the page's language from the shared message
catalogue (``Check.text``): ids, hashes and block numbers as they are, the sentences around them not
in the verifier's English."""
AUTHENTIC: Final = N_("The file is authentic.")
NOT_IN_FORCE: Final = N_("The certificate is authentic but no longer in force.")
NOT_VERIFIED: Final = N_("The file did not verify.")


def verdict(report: Report) -> str:
    """The report's headline (a message id): authentic; authentic but no longer in force; or not verified.

    A cancelled, superseded or revoked certificate passes every check but the status: it is genuine.
    Headed "did not verify", a resident checking the certificate of a repaid mortgage reads a forgery.
    """
    if report.ok:
        return AUTHENTIC
    failure = report.failure
    if failure is not None and failure.name == "status" and report.status not in {None, "VALID"}:
        return NOT_IN_FORCE
    return NOT_VERIFIED


def _gate(request: Request, parts: PortalDep) -> LookupGate:
    """The public lookups' gate, shared with the API through ``app.state.certificate_gate``."""
    gate: LookupGate | None = getattr(request.app.state, "certificate_gate", None)
    if gate is None:
        gate = LookupGate(clock=parts.service.clock,
                          log_path=Path(parts.service.settings.ledger_dir) / ARCHIVE_DIR / LOG_NAME)
        request.app.state.certificate_gate = gate
    return gate


@router.get("/public/certificate")
async def certificate_status(request: Request, session: Visitor, parts: PortalDep, number: str = "") -> Response:
    """Anyone: a certificate's status by its number (no content: the number is not an entitlement)."""
    number = number.strip()[:64]
    found = None
    status = 200
    if number:
        gate, client = _gate(request, parts), request.client.host if request.client else "unknown"
        if not gate.admit(client):
            await gate.rate_limited(client=client, kind="status", number=number, outcome="RATE_LIMITED")
            return render("public.html", session, status=429, number=number, found=None, limited=True, report=None)
        found = load(parts.service.store, number)
        await gate.record(client=client, kind="status", number=number,
                          outcome="NOT_FOUND" if found is None else found.status.value)
        status = 200 if found is not None else 404
    standing = None if found is None else _standing(parts, found)
    return render("public.html", session, status=status, number=number, found=found, limited=False, report=None,
                  standing=standing)


@dataclass(frozen=True, slots=True, kw_only=True)
class Standing:
    """What the page says beside the status: whether a file exists, and when the status changed.

    ``file`` is ``ISSUED``, ``NOT_YET_ISSUED``, ``TITLE`` (a 不动产权证书, issued outside this platform) or
    ``PRE_LEDGER`` (from the register kept before the ledger): "no file" means a different thing to a
    resident holding each, so each has its own sentence (``certificates.standing``).
    """

    file: str
    change: StatusChange | None


def _standing(parts: Portal, found: Certificate) -> Standing:
    state, _reason = file_state(found)
    if state is FileState.NOT_ISSUED_HERE:
        kind = "TITLE" if is_title_number(found.number) else "PRE_LEDGER"
    else:
        kind = state.value
    return Standing(file=kind, change=status_change(parts.service.store, found))


async def _verified(parts: Portal, data: bytes) -> Report:
    """``verify_bytes`` on ``data`` with the current status from this node's ledger."""
    store, loop = parts.service.store, asyncio.get_running_loop()

    async def status_of(number: str) -> dict[str, JSONValue]:
        found = load(store, number)  # on the loop's thread, between block commits
        if found is None:
            raise NotFound(f"{number}: not on this node's ledger")
        return {"status": found.status.value, "document_sha256": found.document_sha256}

    def lookup(number: str) -> dict[str, JSONValue]:
        return asyncio.run_coroutine_threadsafe(status_of(number), loop).result(timeout=10)

    # pyhanko's PDF validation runs its own event loop, so the check runs in a worker thread
    return await asyncio.to_thread(verify_bytes, data, parts.service.genesis, lookup=lookup)


def _report_page(session: Session, report: Report, *, qr: str = "") -> Response:
    """The verification's report and the record's public fields, as both the file and the QR check show it."""
    record = report.record or {}
    shown = [(label, str(record[name])) for name, label in SHOWN_FIELDS.items() if name in record]
    return render("public.html", session, status=200 if report.ok else 422, number="", found=None, limited=False,
                  report=report, verdict=verdict(report), check_names=CHECK_NAMES, shown=shown, qr=qr,
                  qr_problem=None, here=f"{BASE}/public/certificate")


@router.post("/public/verify")
async def verify_file(request: Request, session: Visitor, form: CheckedForm, parts: PortalDep) -> Response:
    """Anyone: verify an uploaded certificate PDF or JSON file and show every check and the current status."""
    gate, client = _gate(request, parts), request.client.host if request.client else "unknown"
    if not gate.admit(client):
        await gate.rate_limited(client=client, kind="file", number=None, outcome="RATE_LIMITED")
        return render("public.html", session, status=429, number="", found=None, limited=True, report=None)
    upload = form.get("file")
    data = await upload.read(MAX_FILE_BYTES + 1) if isinstance(upload, UploadFile) else b""
    report = await _verified(parts, data[:MAX_FILE_BYTES])
    record = report.record or {}
    number = None if report.record is None else str(record.get("number"))
    await gate.record(client=client, kind="file", number=number, outcome="VALID" if report.ok else "FAILED")
    return _report_page(session, report)


def _qr_document(request: Request, parts: Portal, text: str) -> bytes | tuple[str, str]:
    """The signed certificate file the QR content names, with its ledger evidence; or (field problem, log outcome)."""
    if not text:
        return N_("Paste the text of the certificate's QR code."), "EMPTY"
    try:
        qr = parse_qr(text) if len(text) <= MAX_QR_CHARS else None
    except InputError:
        qr = None
    if qr is None:
        return NOT_QR, "NOT_QR"
    return _named_document(request, parts, qr.number, qr.sha256)


def _named_document(request: Request, parts: Portal, number: str, sha256: str) -> bytes | tuple[str, str]:
    """The signed certificate file issued under ``number`` with record hash ``sha256``, or (problem, log outcome)."""
    found = load(parts.service.store, number)
    if found is None or found.document_sha256 != sha256:
        return NO_SUCH_RECORD, "NOT_FOUND" if found is None else "HASH_MISMATCH"
    try:
        document = certificate_desk(request, parts.service).issued(found.number)
    except PortalProblem:
        return N_("This node does not keep certificates' signed records: check the QR code on the registry's "
                  "portal."), "NO_ARCHIVE"
    except (NotFound, Conflict):  # not prepared on this node, or not issued yet; a damaged archive is a fault
        return NO_SUCH_RECORD, "NOT_FOUND"
    return to_bytes(document)


@router.get("/public/qr")
async def scanned_qr(request: Request, session: Visitor, parts: PortalDep, number: str = "",
                     sha256: str = "") -> Response:
    """Anyone whose phone opened a certificate's QR code: the same verified report as a pasted QR content.

    The QR code names the API's ``GET /v1/certificates/verify`` (stable, for machines); a browser that
    opens it is sent here (``api/routes/certificates.py``), so a resident reads a page, not JSON.
    """
    number, sha256 = number.strip()[:64], sha256.strip().lower()
    return await _qr_answer(
        request, session, parts, qr="", logged=number or None, not_found=404,
        document=lambda: (_named_document(request, parts, number, sha256)
                          if number and re.fullmatch(r"[0-9a-f]{64}", sha256) else (NOT_QR, "NOT_QR")))


@router.post("/public/verify-qr")
async def verify_qr(request: Request, session: Visitor, form: CheckedForm, parts: PortalDep) -> Response:
    """Anyone: verify the certificate a pasted QR content names (number + record hash), as a file is verified."""
    posted = form.get("qr")
    text = posted.strip() if isinstance(posted, str) else ""
    return await _qr_answer(request, session, parts, qr=text, logged=None, not_found=422,
                            document=lambda: _qr_document(request, parts, text))


async def _qr_answer(  # noqa: PLR0913  (keywords only; the two QR routes differ in each)
    request: Request, session: Session, parts: Portal, *, qr: str, logged: str | None, not_found: int,
    document: Callable[[], bytes | tuple[str, str]],
) -> Response:
    """The rate limit, then the report of the certificate file ``document`` finds, or the QR field's problem.

    Every answer is logged (``LookupGate``): ``logged`` is the number a refused lookup is logged under. A
    record the ledger does not hold answers ``not_found``: a scanned link is a missing page (404), a
    pasted text a form's bad field (422).
    """
    gate, client = _gate(request, parts), request.client.host if request.client else "unknown"
    if not gate.admit(client):
        await gate.rate_limited(client=client, kind="qr", number=None, outcome="RATE_LIMITED")
        return render("public.html", session, status=429, number="", found=None, limited=True, report=None)
    data = document()
    if isinstance(data, tuple):
        problem, outcome = data
        await gate.record(client=client, kind="qr", number=logged, outcome=outcome)
        status = not_found if outcome in {"NOT_FOUND", "HASH_MISMATCH"} else 422
        return render("public.html", session, status=status, number="", found=None, limited=False, report=None,
                      qr=qr[:MAX_QR_CHARS], qr_problem=problem, here=f"{BASE}/public/certificate")
    report = await _verified(parts, data)
    number = None if report.record is None else str(report.record.get("number"))
    await gate.record(client=client, kind="qr", number=number, outcome="VALID" if report.ok else "FAILED")
    return _report_page(session, report, qr=qr)
