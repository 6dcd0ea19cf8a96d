"""What the ledger says of a certificate number beyond its status: which file, and when the status changed.

The public lookup (``GET /v1/certificates/verify``, the QR code's URL) and the registry's desk both
answer for numbers of two kinds, and for certificates that came to the ledger three ways; the answer
must say which, because "no file" means different things:

- a 不动产登记证明 this platform issued (``ISSUED``): its signed file exists, named by its hash;
- one recorded here whose ``application.issue`` has not committed (``NOT_YET_ISSUED``): it will have one;
- a 不动产权证书 (title certificate), which the registry issues outside this platform, or a certificate
  imported from the register kept before the ledger (``NOT_ISSUED_HERE``): no file is issued here,
  ever; the status is the register's.

A certificate no longer in force also says by which transaction, at which height and when its status
changed (``StatusChange``): a holder shown a PDF signed at issue learns from the lookup not only that
it was cancelled but when, which the PDF cannot say. Read from the certificate row's history in the
ledger (``state_rows``), not from ``source_txs``, so the answer is the write that set the status now.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import orjson

from estatechain.canonical import JSONValue
from estatechain.clock import china_time
from estatechain.contract.certificate_number import CertificateKind, CertificateNumber, parse
from estatechain.contract.certificates import certificate_key
from estatechain.contract.records import Certificate, CertificateStatus
from estatechain.contract.rules.governance import revoked_key
from estatechain.errors import NotFound
from estatechain.storage.store import LedgerStore


class FileState(StrEnum):
    """Whether this platform issued, will issue, or never issues a signed file under a number."""

    ISSUED = "ISSUED"
    NOT_YET_ISSUED = "NOT_YET_ISSUED"
    NOT_ISSUED_HERE = "NOT_ISSUED_HERE"


class NotIssuedHere(NotFound):
    """No file is issued under this number on this platform, and none will be: ``reason`` says why."""

    def __init__(self, number: str, reason: str) -> None:
        self.number = number
        self.reason = reason
        super().__init__(f"{number}: {reason}")


def is_title_number(number: str) -> bool:
    """Whether ``number`` is a title certificate's (不动产权证书): one this platform never issues as a file."""
    return isinstance(parse(number, CertificateKind.TITLE, current_year=9999), CertificateNumber)


def file_state(certificate: Certificate) -> tuple[FileState, str | None]:
    """Whether a file is issued under ``certificate`` here, and a sentence saying why not when none is."""
    if certificate.document_sha256 is not None:
        return FileState.ISSUED, None
    if is_title_number(certificate.number):
        return FileState.NOT_ISSUED_HERE, (
            "a title certificate (不动产权证书): this platform issues registration certificates (不动产登记证明) "
            "only, so there is no file or QR code of it here to verify; the status is the register's")
    if certificate.application_id is None:
        return FileState.NOT_ISSUED_HERE, (
            "a certificate of the register kept before this ledger: no electronic file was issued under it "
            "here; the status is the register's")
    return FileState.NOT_YET_ISSUED, "not issued yet: its application.issue transaction has not committed"


@dataclass(frozen=True, slots=True, kw_only=True)
class StatusChange:
    """The committed transaction that gave a certificate its status now."""

    status: str
    tx_id: str
    height: int
    time_ms: int

    def to_json(self) -> dict[str, JSONValue]:
        """The answer's form; ``time`` is the block time in China Standard Time (ISO 8601, ``+08:00``)."""
        moment = china_time(self.time_ms)
        return {"status": self.status, "tx_id": self.tx_id, "height": self.height, "time_ms": self.time_ms,
                "time": moment.isoformat(timespec="seconds")}


def status_change(store: LedgerStore, certificate: Certificate) -> StatusChange | None:
    """The change that made a certificate no longer in force; None while it is VALID.

    The oldest version of the row in the latest run of versions with the status it has now: a later
    write that kept the status (none does today) does not move the answer.
    """
    key = certificate_key(certificate.number)
    if certificate.status is CertificateStatus.VALID or key is None:
        return None
    first: int | None = None
    for seq, value in store.connection.execute(
            "SELECT seq, value FROM state_rows WHERE key = ? ORDER BY seq DESC", (key,)):
        if value is None or orjson.loads(bytes(value)).get("status") != certificate.status.value:
            break
        first = int(seq)
    if first is None:
        return None
    row = store.connection.execute("SELECT tx_id, height FROM txs WHERE seq = ?", (first,)).fetchone()
    block = None if row is None else store.block_at(int(row[1]))
    if row is None or block is None:
        return None
    return StatusChange(status=certificate.status.value, tx_id=str(row[0]), height=int(row[1]),
                        time_ms=block[0].time_ms)


def issuer_revoked(store: LedgerStore, certificate: Certificate) -> dict[str, JSONValue] | None:
    """When the certificate's issuer's own certificate was revoked, if it was: ``{"height", "tx_id"}``.

    Always after the issue (a revoked signer's issue step is refused), so it takes nothing from the
    certificate; a reader years later still wants to know, as an expert asks whose key signed and what
    became of it. The revocation's free-text reason is not given: this answer is public.
    """
    if certificate.issuer is None:
        return None
    found = store.get(revoked_key(certificate.issuer))
    if not isinstance(found, dict):
        return None
    return {"height": found.get("height"), "tx_id": found.get("tx_id")}
