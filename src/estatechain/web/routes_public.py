"""The public certificate pages: status by number, and verification of an uploaded PDF or JSON file.

Design §3.20: a number alone yields the status only; the content needs the file (or the QR content),
and then it is the file's own content, verified offline-style against genesis (PAdES signature,
issuer signature, ledger evidence) with its current status from this node's ledger. Lookups are
rate-limited per client address and recorded in the same audit log as the API's public lookups.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Final

from fastapi import APIRouter, Request, Response
from starlette.datastructures import UploadFile

from estatechain.canonical import JSONValue
from estatechain.certificates.desk import ARCHIVE_DIR
from estatechain.certificates.lookups import LOG_NAME, LookupGate
from estatechain.certificates.verify import verify_bytes
from estatechain.contract.certificates import load
from estatechain.errors import NotFound
from estatechain.web.i18n import N_
from estatechain.web.pages import BASE, render
from estatechain.web.portal import CheckedForm, PortalDep, PortalRoute, Visitor

router = APIRouter(prefix="/portal", route_class=PortalRoute, include_in_schema=False)

MAX_FILE_BYTES: Final = 2 * 1024 * 1024
SHOWN_FIELDS: Final = {"number": N_("Certificate number"), "unit_number": N_("Unit number"),
                       "right_or_matter": N_("Right or matter"), "mortgage_type": N_("Mortgage type"),
                       "location": N_("Location"), "date": N_("Date")}
"""Fields of a verified file's record shown on the page (the file's holder sees its own content)."""


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
            gate.record(client=client, kind="status", number=number, outcome="RATE_LIMITED")
            return render("public.html", session, status=429, number=number, found=None, limited=True, report=None)
        found = load(parts.service.store, number)
        gate.record(client=client, kind="status", number=number,
                    outcome="NOT_FOUND" if found is None else found.status.value)
        status = 200 if found is not None else 404
    return render("public.html", session, status=status, number=number, found=found, limited=False, report=None)


@router.post("/public/verify")
async def verify_file(request: Request, session: Visitor, form: CheckedForm, parts: PortalDep) -> Response:
    """Anyone: verify an uploaded certificate PDF or JSON file and show every check and the current status."""
    gate, client = _gate(request, parts), request.client.host if request.client else "unknown"
    if not gate.admit(client):
        gate.record(client=client, kind="file", number=None, outcome="RATE_LIMITED")
        return render("public.html", session, status=429, number="", found=None, limited=True, report=None)
    upload = form.get("file")
    data = await upload.read(MAX_FILE_BYTES + 1) if isinstance(upload, UploadFile) else b""
    store, loop = parts.service.store, asyncio.get_running_loop()

    async def status_of(number: str) -> dict[str, JSONValue]:
        found = load(store, number)  # on the loop's thread, between block commits
        if found is None:
            raise NotFound(f"{number}: not on this node's ledger")
        return {"status": found.status.value, "document_sha256": found.document_sha256}

    def lookup(number: str) -> dict[str, JSONValue]:
        return asyncio.run_coroutine_threadsafe(status_of(number), loop).result(timeout=10)

    # pyhanko's PDF validation runs its own event loop, so the check runs in a worker thread
    report = await asyncio.to_thread(verify_bytes, data[:MAX_FILE_BYTES], parts.service.genesis, lookup=lookup)
    record = report.record or {}
    gate.record(client=client, kind="file", number=None if report.record is None else str(record.get("number")),
                outcome="VALID" if report.ok else "FAILED")
    shown = [(label, str(record[name])) for name, label in SHOWN_FIELDS.items() if name in record]
    return render("public.html", session, status=200 if report.ok else 422, number="", found=None, limited=False,
                  report=report, shown=shown, here=f"{BASE}/public/certificate")
