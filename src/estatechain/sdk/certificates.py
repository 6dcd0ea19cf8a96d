"""Certificates (design §3.20; docs/certificates.md): issue, fetch and publicly check them.

Issuing is a workflow step whose payload carries the document's hash, so it builds on
``WorkflowMethods``; the public checks are unsigned reads of the same resource.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import orjson

from estatechain.sdk.signing import SignedTransaction
from estatechain.sdk.transactions import TxStatus
from estatechain.sdk.transport import path_segment
from estatechain.sdk.workflow import PreparedPayload, WorkflowMethods

STATUS_HEADER: Final = "X-Certificate-Status"
"""Where the node says a served certificate's status on the ledger now (docs/certificates.md)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class CertificateFile:
    """An issued certificate's file and its status on the ledger now, as ``certificate`` fetched them.

    ``document`` is the certificate file exactly (the signed record and its ledger evidence), so a
    saved copy verifies; ``status`` is what the node said of it beside the file (``VALID``,
    ``CANCELLED``, ``CORRECTED``, ``SUPERSEDED``, ``CONVERTED``, ``REVOKED``): the file itself says
    what was issued, never what happened since. None only from a node older than the header.
    """

    document: dict[str, Any]
    status: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class CertificatePdf:
    """An issued certificate's signed PDF as ``certificate_pdf`` saved it, and its status on the ledger now.

    The PDF is the one signed when the certificate was issued, also once it is no longer in force, and
    does not say so: ``status`` does (as in ``CertificateFile``).
    """

    path: Path
    size: int
    status: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class PreparedCertificate:
    """A certificate the registry's node built and signed (``POST /v1/certificates``), and its issue payload.

    ``issue`` is the unsigned ``application.issue`` payload carrying the document's hash, checked here like
    any prepared payload; the issuer signs it with ``sign_prepared`` and submits it.
    """

    certificate: dict[str, Any]
    issue: PreparedPayload


class CertificateMethods(WorkflowMethods):
    """Prepare and issue a certificate, fetch its file and PDF, check it publicly (a part of ``Client``)."""

    async def prepare_certificate(self, application_id: str, *, nonce: str | None = None,
                                  created_at: int | None = None) -> PreparedCertificate:
        """The registry issuer's step: the node builds and signs the certificate of a RECORDED application.

        Its ``issue`` payload (``application.issue`` with the document's hash) is checked here like any
        prepared payload, and must carry the hash of the certificate returned with it.

        Raises:
            ServerError: 403 for anyone but the registry's ``registry.issuer``, 404 for an unknown
                application, 409 ``NOT_ISSUABLE`` when it is not RECORDED or was issued already.
            ProofInvalid: the issue payload is not for this identity, chain, application or document.

        """
        body = {k: v for k, v in (("application_id", application_id), ("nonce", nonce), ("created_at", created_at))
                if v is not None}
        data = await self._send("POST", "/v1/certificates", content=orjson.dumps(body))
        certificate: dict[str, Any] = data["certificate"]
        issue = await self._checked("issue", data["issue"], {
            "application_id": application_id, "document_sha256": certificate.get("document_sha256")})
        return PreparedCertificate(certificate=certificate, issue=issue)

    async def issue_certificate(self, application_id: str, *,
                                timeout_s: float = 30.0) -> tuple[PreparedCertificate, SignedTransaction, TxStatus]:
        """``prepare_certificate``, sign the issue payload here, submit it and wait for the commit.

        Raises:
            CommitTimeout: still pending after ``timeout_s`` (it may commit later: ask ``status``).

        """
        prepared = await self.prepare_certificate(application_id)
        signed = self.sign_prepared(prepared.issue)
        status = await self._committed(signed.tx_id, await self.submit(signed.envelope), timeout_s)
        return prepared, signed, status

    async def certificate(self, number: str) -> CertificateFile:
        """An issued certificate's file (the signed record and its ledger evidence) and its status now.

        For the registry and the parties the certificate names: it carries their names.

        Raises:
            ServerError: 403 for anyone else, 404 for an unknown number (``NOT_ISSUED_HERE`` for a title
                certificate or one of the register kept before the ledger), 409 ``NOT_ISSUED``.

        """
        request = self.build_request("GET", f"/v1/certificates/{path_segment(number)}", target=await self.target())
        document, headers = await self._answer(request)
        return CertificateFile(document=document, status=headers.get(STATUS_HEADER))

    async def certificate_pdf(self, number: str, target: Path) -> CertificatePdf:
        """Stream an issued certificate's signed PDF into ``target``; its size and status now (as ``certificate``).

        Raises:
            ServerError: 403, 404, 409 as ``certificate``; 409 ``NOT_IN_FORCE`` for a certificate no
                longer in force whose node kept no PDF of it (docs/certificates.md).

        """
        size, headers = await self._download(f"/v1/certificates/{path_segment(number)}/pdf", target, None)
        return CertificatePdf(path=target, size=size, status=headers.get(STATUS_HEADER))

    async def certificate_status(self, number: str, *, sha256: str | None = None) -> dict[str, Any]:
        """The public check of a certificate number (unsigned, rate-limited and recorded by the node).

        The number alone yields ``status`` (VALID, CANCELLED, CORRECTED …), ``document_sha256``,
        ``issued_ms``, ``file`` (``ISSUED``, ``NOT_YET_ISSUED``, ``NOT_ISSUED_HERE`` with a ``note``
        saying why: a title certificate, or one of the register kept before the ledger) and, once no
        longer in force, ``status_change`` (``tx_id``, ``height``, ``time_ms``, ``time`` in CST); with
        the record hash of its QR code (``sha256``) also ``content``, names masked.

        Raises:
            ServerError: 404 for an unknown number or a hash the ledger does not hold for it
                (``NOT_ISSUED_HERE`` for a number no file is issued under here), 429 ``RATE_LIMITED``
                (``retry_after_s``).

        """
        params: dict[str, int | str] = {"number": number}
        if sha256 is not None:
            params["sha256"] = sha256
        data: dict[str, Any] = await self._send("GET", "/v1/certificates/verify", params=params, signed=False)
        return data

    async def verify_certificate_file(self, data: bytes) -> dict[str, Any]:
        """The public check of a certificate file (PDF or JSON, 2 MiB at most; unsigned, rate-limited).

        The answer: ``ok``, ``kind``, the current ``status``, the first ``failed`` check, every check and
        the file's own ``content``.

        Raises:
            ServerError: 400 ``BAD_FILE`` (empty or too large), 429 ``RATE_LIMITED``.

        """
        report: dict[str, Any] = await self._send("POST", "/v1/certificates/verify", content=data, signed=False,
                                                  content_type="application/octet-stream")
        return report
