"""Registration certificates (不动产登记证明) as ledger facts: number, status, document hash."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from estatechain.contract.effects import JSON, Record
from estatechain.contract.records import fields
from estatechain.contract.records.party import tx_ids


class CertificateStatus(StrEnum):
    """Status model of domain.md §6.2 [A]; status follows every later change of the entry."""

    VALID = "VALID"
    CANCELLED = "CANCELLED"
    SUPERSEDED = "SUPERSEDED"
    CORRECTED = "CORRECTED"
    CONVERTED = "CONVERTED"
    REVOKED = "REVOKED"


_CERTIFICATE_STATUS_VALUES = frozenset(CertificateStatus)
"""The allowed stored values, built once rather than on every decode."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Certificate:
    """A certificate record: what it proves (``right`` = ``mortgage/<id>`` …) and its current status.

    ``document_sha256`` is the hash of the certificate record the registry's issuer signed at its
    node (design §3.20); None for certificates imported from the existing register. ``elicence_id``
    is the GB/T 36904 identifier when one was assigned (V27).
    """

    number: str
    right: str
    application_id: str | None
    status: CertificateStatus
    recorded_ms: int
    issued_ms: int | None = None
    issuer: str | None = None
    document_sha256: str | None = None
    elicence_id: str | None = None
    source_txs: tuple[str, ...] = ()

    def to_json(self) -> dict[str, JSON]:
        """Stored form."""
        return {
            "number": self.number, "right": self.right, "application_id": self.application_id,
            "status": self.status.value, "recorded_ms": self.recorded_ms, "issued_ms": self.issued_ms,
            "issuer": self.issuer, "document_sha256": self.document_sha256, "elicence_id": self.elicence_id,
            "source_txs": list(self.source_txs),
        }

    @staticmethod
    def from_json(data: Record, field: str = "") -> Certificate:
        """Decode and validate the shape."""
        return Certificate(
            number=fields.text(data, "number", field, max_len=64),
            right=fields.text(data, "right", field, max_len=128),
            application_id=fields.opt_text(data, "application_id", field, max_len=96),
            status=CertificateStatus(fields.choice(data, "status", _CERTIFICATE_STATUS_VALUES, field)),
            recorded_ms=fields.integer(data, "recorded_ms", field),
            issued_ms=fields.opt_integer(data, "issued_ms", field),
            issuer=fields.opt_text(data, "issuer", field, max_len=64),
            document_sha256=fields.opt_pattern(data, "document_sha256", fields.HEX64, field, what="64 hex"),
            elicence_id=fields.opt_text(data, "elicence_id", field, max_len=128),
            source_txs=tx_ids(data, "source_txs"),
        )
