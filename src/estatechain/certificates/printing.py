"""The certificate PDF is rendered and signed once, when its issue transaction commits, and kept.

Why: a PDF signed at its first download said nothing of what had happened since. The first download
after a mortgage's cancellation got a PDF signed after the cancellation, with nothing on it saying
注销: a court holding it would read a fresh registry signature over a certificate no longer in force.
So the registry's node prints each issued certificate (``Printer``): it renders the PDF when the block
with the ``application.issue`` commits, keeps it sealed (``<sha256>.issued.pdf``, ``archive.py``), and
every download serves those bytes. The status is never written into the PDF afterwards (that would
be a new signature after the fact); downloads say it beside the file instead
(``X-Certificate-Status``, the portal's link).

The printer keeps a durable high-water mark and catches up from it when it starts, so certificates
issued while the node was down, or just before it subscribed, are printed then, before any download.
A certificate already no longer in force when it is caught up is printed all the same: the printing
is the issue's, delayed by the outage, and the file is the record that was issued (docs/certificates.md,
"Printing after an outage").

A certificate still without a kept PDF (on a node that cannot name its own address, so runs no
printer, or another registry node's) is rendered at its first download **only while it is VALID**
(``issued_pdf``); once it is no longer in force it is refused with ``NotInForce`` naming the status,
and its certificate file (JSON) is what the registry and its parties still fetch.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Mapping
from typing import Final

import orjson

from estatechain.canonical import JSONValue
from estatechain.certificates.desk import CertificateDesk
from estatechain.certificates.document import ISSUE_COMMAND
from estatechain.certificates.pdf import certificate_pdf
from estatechain.contract.certificates import load
from estatechain.durable import write_durably
from estatechain.errors import Conflict, NotFound
from estatechain.node.pipeline import CommittedBlock
from estatechain.storage.schema import EVENT_ROWS

VALID: Final = "VALID"
STATUS_HEADER: Final = "X-Certificate-Status"
"""The response header that says a served certificate's status on the ledger now."""
MARK_FILE: Final = "printed-height"
"""The printer's high-water mark in the node's certificate folder: one decimal height."""
MARK_EVERY: Final = 1000
"""Blocks without a certificate the mark may move by before it is written (it is written whenever one is printed)."""
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


def issued_after(desk: CertificateDesk, after: int, upto: int) -> list[tuple[int, str]]:
    """(height, number) of each certificate a valid ``application.issue`` issued in blocks ``after`` < h <= ``upto``.

    In ledger order. One range read of ``txs`` by height (its index), whatever the number of blocks.
    """
    connection = desk.store.connection
    txs = connection.execute(
        "SELECT seq, height FROM txs WHERE height > ? AND height <= ? AND command = ? AND status = 'valid' "
        "ORDER BY height, position", (after, upto, ISSUE_COMMAND)).fetchall()
    issued: list[tuple[int, str]] = []
    for seq, height in txs:
        rows = connection.execute(
            f"SELECT key, value FROM state_rows WHERE seq = ? AND {EVENT_ROWS} ORDER BY key",  # noqa: S608  (a constant of schema.py)
            (int(seq),)).fetchall()
        for key, value in rows:
            if str(key).startswith("certificate/") and value is not None:
                row = orjson.loads(bytes(value))
                if row.get("issued_ms") is not None and isinstance(row.get("number"), str):
                    issued.append((int(height), str(row["number"])))
    return issued


async def print_issued(desk: CertificateDesk, document: Mapping[str, JSONValue], base_url: str) -> bool:
    """Render, sign and keep the PDF of an issued certificate file, whatever its status now; False if one was kept.

    The printing of the issue itself (``Printer``), not a download: the file printed is the record
    that was issued, so a certificate cancelled before its node came to print it is printed all the
    same (docs/certificates.md, "Printing after an outage"). Use from the store's thread.
    """
    sha256 = str(document["document_sha256"])
    async with desk.pdf_lock:
        if desk.kept_pdf(sha256, base_url) is not None:
            return False
        keys = desk.keys
        pdf = await asyncio.to_thread(certificate_pdf, document, signer=keys.docsign, ca_der=keys.ca_der,
                                      base_url=base_url)
        desk.keep_pdf(sha256, pdf)
        return True


class Printer:
    """Prints every certificate issued on the ledger once, in ledger order, from a durable high-water mark.

    The mark (``<node>/certificates/printed-height``) is the height up to which every issued
    certificate has a kept PDF or was found not to be this node's to print. On start ``follow``
    catches up from it to the head, so certificates issued while the node was down, or in blocks
    committed before it subscribed, are printed before anyone downloads them; then it prints each
    committed block's. Printing is idempotent (a kept PDF is never signed again), so a kill -9
    between keeping a PDF and moving the mark costs nothing on the next start but a look at the
    archive: exactly the certificates without a kept PDF are printed.

    A ledger without a mark (a new node, or one from before the mark) is caught up from height 0.
    """

    def __init__(self, desk: CertificateDesk, base_url: str) -> None:
        self.desk = desk
        self.base_url = base_url
        self.path = desk.archive.directory / MARK_FILE
        self.mark = self._read_mark()
        self._saved = self._through = self.mark
        self._held: int | None = None
        """Once a certificate failed to print for a fault: the height before its block, where the mark stays."""

    def _read_mark(self) -> int:
        try:
            text = self.path.read_text(encoding="ascii").strip()
        except FileNotFoundError:
            return 0
        if not text.isdigit():
            _log.warning("%s: %r is not a block height; catching up from height 0 (printing is idempotent)",
                         self.path, text[:40])
            return 0
        return int(text)

    def save(self) -> None:
        """Write the mark durably if it moved since it was last written."""
        if self.mark != self._saved:
            write_durably(self.path, f"{self.mark}\n".encode("ascii"))
            self._saved = self.mark

    async def advance(self, upto: int) -> list[str]:
        """Print the certificates issued after the last round up to height ``upto``; the numbers printed now.

        A certificate this node did not prepare (another registry node's) is passed over, logged. Any
        other failure is logged and holds the mark before its block for the rest of this run (later
        blocks are still printed), so the next start tries it again.
        """
        printed: list[str] = []
        for height, number in issued_after(self.desk, self._through, upto):
            try:
                if await print_issued(self.desk, self.desk.issued(number), self.base_url):
                    printed.append(number)
                    if (status := status_of(self.desk, number)) != VALID:
                        _log.info("certificate %s issued at height %d printed now, while %s: the file is the "
                                  "record that was issued", number, height, status)
            except NotFound as exc:
                _log.warning("certificate %s issued at height %d: no PDF kept (%s)", number, height, exc)
            except Exception:  # noqa: BLE001  (a fault in one certificate must not stop the others from printing)
                _log.exception("printing certificate %s issued at height %d failed; tried again at the next start",
                               number, height)
                if self._held is None:
                    self._held = height - 1
        self._through = max(self._through, upto)
        self.mark = self._through if self._held is None else self._held
        if printed or self.mark - self._saved >= MARK_EVERY:
            self.save()
        return printed

    async def follow(self, blocks: AsyncIterator[CommittedBlock]) -> None:
        """Catch up to the head, then print as blocks of ``blocks`` (the pipeline's ``subscribe()``) commit.

        Runs until cancelled, and writes the mark on the way out. ``blocks`` only wakes it: each round
        prints everything after the mark up to the head, so a block committed while a round ran, or
        between the catch-up and the subscription, is printed by the next round.
        """
        wake = asyncio.Event()

        async def listen() -> None:
            async for _ in blocks:
                wake.set()

        listener = asyncio.get_running_loop().create_task(listen(), name="certificate-printing-wake")
        await asyncio.sleep(0)  # the listener subscribes before the first round reads the head
        try:
            while True:
                wake.clear()
                await self.advance(self.desk.store.height)
                await wake.wait()
        finally:
            listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await listener
            self.save()
