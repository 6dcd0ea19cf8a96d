"""The certificate PDF is rendered and signed once, when its issue transaction commits, and kept.

Why: a PDF signed at its first download said nothing of what had happened since. The first download
after a mortgage's cancellation got a PDF signed after the cancellation, with nothing on it saying
注销: a court holding it would read a fresh registry signature over a certificate no longer in force.
So the registry's node renders the PDF when the block with the ``application.issue`` commits
(``follow``), keeps it sealed (``<sha256>.issued.pdf``, ``archive.py``), and every download serves those
bytes. The status is never written into the PDF afterwards (that would be a new signature after the
fact); downloads say it beside the file instead (``X-Certificate-Status``, the portal's link).

A certificate without a kept PDF (issued while its node was down, on a node that cannot name its
own address, or before this module existed) is rendered at its first download **only while it is
VALID** (``issued_pdf``); once it is no longer in force it is refused with ``NotInForce`` naming the
status, and its certificate file (JSON) is what the registry and its parties still fetch.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Mapping
from typing import Final

import orjson

from estatechain.canonical import JSONValue
from estatechain.certificates.desk import CertificateDesk
from estatechain.certificates.document import ISSUE_COMMAND
from estatechain.certificates.pdf import certificate_pdf
from estatechain.contract.certificates import load
from estatechain.errors import Conflict, EstatechainError
from estatechain.node.pipeline import CommittedBlock
from estatechain.storage.schema import EVENT_ROWS

VALID: Final = "VALID"
STATUS_HEADER: Final = "X-Certificate-Status"
"""The response header that says a served certificate's status on the ledger now."""
_log = logging.getLogger(__name__)


class NotInForce(Conflict):
    """The certificate has no kept PDF and is no longer in force: none is signed after the fact."""

    def __init__(self, number: str, status: str) -> None:
        self.number = number
        self.status = status
        super().__init__(f"{number} is {status}: its PDF was not made while it was in force, and one signed now "
                         "would postdate that; fetch its certificate file (JSON), which holds the signed record "
                         "and its ledger evidence")


def status_of(desk: CertificateDesk, number: str) -> str:
    """The certificate's status on the ledger now (``VALID``, ``CANCELLED`` …; domain.md §6.2)."""
    found = load(desk.store, number)
    return "UNKNOWN" if found is None else found.status.value


async def issued_pdf(desk: CertificateDesk, document: Mapping[str, JSONValue], base_url: str) -> bytes:
    """The kept signed PDF of an issued certificate file; rendered and kept now only while it is VALID.

    Use from the store's thread (the event loop). One rendering at a time per desk, so two first
    downloads never hand out two differently signed files; the status is read again once rendered,
    so a certificate cancelled meanwhile is not kept either.

    Raises:
        NotInForce: no PDF is kept and the certificate is no longer in force.

    """
    sha256 = str(document["document_sha256"])
    record = document["record"]
    assert isinstance(record, dict)
    number = str(record["number"])
    async with desk.pdf_lock:
        kept = desk.kept_pdf(sha256, base_url)
        if kept is not None:
            return kept
        if (status := status_of(desk, number)) != VALID:
            raise NotInForce(number, status)
        keys = desk.keys
        pdf = await asyncio.to_thread(certificate_pdf, document, signer=keys.docsign, ca_der=keys.ca_der,
                                      base_url=base_url)
        if (status := status_of(desk, number)) != VALID:
            raise NotInForce(number, status)
        desk.keep_pdf(sha256, pdf)
        return pdf


def issued_in(desk: CertificateDesk, height: int) -> list[str]:
    """The certificate numbers a valid ``application.issue`` of the block at ``height`` issued."""
    connection = desk.store.connection
    seqs = [int(row[0]) for row in connection.execute(
        "SELECT seq FROM txs WHERE height = ? AND command = ? AND status = 'valid' ORDER BY position",
        (height, ISSUE_COMMAND))]
    numbers: list[str] = []
    for seq in seqs:
        rows = connection.execute(
            f"SELECT key, value FROM state_rows WHERE seq = ? AND {EVENT_ROWS} ORDER BY key",  # noqa: S608  (a constant of schema.py)
            (seq,)).fetchall()
        for key, value in rows:
            if str(key).startswith("certificate/") and value is not None:
                row = orjson.loads(bytes(value))
                if row.get("issued_ms") is not None and isinstance(row.get("number"), str):
                    numbers.append(str(row["number"]))
    return numbers


async def print_block(desk: CertificateDesk, height: int, base_url: str) -> list[str]:
    """Render, sign and keep the PDF of every certificate issued at ``height``; the numbers printed.

    A certificate whose record this node did not prepare, or that is no longer in force by now, is
    left (logged): its download then follows ``issued_pdf``.
    """
    printed = []
    for number in issued_in(desk, height):
        try:
            await issued_pdf(desk, desk.issued(number), base_url)
        except EstatechainError as exc:
            _log.warning("certificate %s issued at height %d: no PDF kept (%s)", number, height, exc)
            continue
        printed.append(number)
    return printed


async def follow(desk: CertificateDesk, blocks: AsyncIterator[CommittedBlock], base_url: str) -> None:
    """Print the certificates of every committed block of ``blocks`` (the pipeline's ``subscribe()``).

    Runs until cancelled; a fault in one block is logged and the next block is still printed.
    """
    async for block in blocks:
        try:
            await print_block(desk, block.header.height, base_url)
        except Exception:  # noqa: BLE001  (a bug or fault in one block must not stop the next from printing)
            _log.exception("printing the certificates of block %d failed", block.header.height)
