"""Owners' inquiry consents and the inquiry log (domain.md §7; design §3.10, §3.19)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from estatechain.contract.effects import JSON, Record
from estatechain.contract.records import fields
from estatechain.contract.records.party import tx_ids


class Outcome(StrEnum):
    """A refused inquiry is a valid transaction with outcome REFUSED (design §3.14)."""

    GRANTED = "GRANTED"
    REFUSED = "REFUSED"


class Answer(StrEnum):
    """FULL: the register result of the unit; LIMITED: yes/no flags only (查询办法 21) [S]."""

    FULL = "FULL"
    LIMITED = "LIMITED"


@dataclass(frozen=True, slots=True, kw_only=True)
class Consent:
    """One owner's signed consent that ``bank_party`` may query ``unit_number`` for ``purpose`` until ``expires_on``.

    A consent is a transaction of the owner (``inquiry.consent``); a co-owned unit needs one from every
    current owner [A, domain.md §7]. ``revoked_ms`` is set by the owner's revocation; expiry is derived
    from ``expires_on`` (inclusive, Guangzhou calendar) at block time, never written (design §3.14).
    """

    consent_id: str
    unit_number: str
    owner: str
    bank_party: str
    purpose: str
    expires_on: str
    given_ms: int
    revoked_ms: int | None = None
    source_txs: tuple[str, ...] = ()

    def to_json(self) -> dict[str, JSON]:
        """Stored form."""
        return {"consent_id": self.consent_id, "unit_number": self.unit_number, "owner": self.owner,
                "bank_party": self.bank_party, "purpose": self.purpose, "expires_on": self.expires_on,
                "given_ms": self.given_ms, "revoked_ms": self.revoked_ms, "source_txs": list(self.source_txs)}

    @staticmethod
    def from_json(data: Record, field: str = "") -> Consent:
        """Decode and validate the shape."""
        return Consent(
            consent_id=fields.ident(data, "consent_id", field),
            unit_number=fields.text(data, "unit_number", field, max_len=28),
            owner=fields.hex64(data, "owner", field), bank_party=fields.hex64(data, "bank_party", field),
            purpose=fields.text(data, "purpose", field, max_len=32),
            expires_on=fields.text(data, "expires_on", field, max_len=10),
            given_ms=fields.integer(data, "given_ms", field), revoked_ms=fields.opt_integer(data, "revoked_ms", field),
            source_txs=tx_ids(data, "source_txs"),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class InquiryLog:
    """The record every inquiry writes, granted or refused: who asked what, on which basis, and what was released.

    ``released`` names the sections the registry's node may release after commit (design §3.19);
    a refusal carries its rule code, field and reason, and ``offered`` the answer the requester could
    have instead (V26: an expired or revoked consent still allows the limited answer).
    """

    inquiry_id: str
    unit_number: str
    requester: str
    requester_org: str
    requester_role: str
    requester_party: str | None
    lookup: str
    lookup_value: str
    basis: str
    basis_refs: tuple[str, ...]
    purpose: str | None
    outcome: Outcome
    answer: Answer | None
    released: tuple[str, ...]
    as_of_height: int
    at_ms: int
    code: str | None = None
    field: str | None = None
    problem: str | None = None
    offered: Answer | None = None

    def to_json(self) -> dict[str, JSON]:
        """Stored form."""
        return {
            "inquiry_id": self.inquiry_id, "unit_number": self.unit_number, "requester": self.requester,
            "requester_org": self.requester_org, "requester_role": self.requester_role,
            "requester_party": self.requester_party, "lookup": self.lookup, "lookup_value": self.lookup_value,
            "basis": self.basis, "basis_refs": list(self.basis_refs), "purpose": self.purpose,
            "outcome": self.outcome.value, "answer": None if self.answer is None else self.answer.value,
            "released": list(self.released), "as_of_height": self.as_of_height, "at_ms": self.at_ms,
            "code": self.code, "field": self.field, "problem": self.problem,
            "offered": None if self.offered is None else self.offered.value,
        }
