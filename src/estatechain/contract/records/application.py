"""Applications (申请) and their lifecycle state (domain.md §5.1)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from estatechain.contract.effects import JSON, Record
from estatechain.contract.records import fields
from estatechain.contract.records.party import PartyRef


class AppState(StrEnum):
    """Lifecycle states. ``EXPIRED`` is never stored: it is derived from the deadline (design §3.14)."""

    FILED = "FILED"
    CONFIRMED = "CONFIRMED"
    ACCEPTED = "ACCEPTED"
    APPROVED = "APPROVED"
    ON_HOLD = "ON_HOLD"
    RECORDED = "RECORDED"
    CERTIFIED = "CERTIFIED"
    DECLINED = "DECLINED"
    WITHDRAWN = "WITHDRAWN"
    NOT_ACCEPTED = "NOT_ACCEPTED"
    REFUSED = "REFUSED"
    EXPIRED = "EXPIRED"


OPEN_STATES = frozenset({AppState.FILED, AppState.CONFIRMED, AppState.ACCEPTED, AppState.APPROVED, AppState.ON_HOLD})
"""States in which an application still occupies its unit (V16, incompatible filings)."""


class Capacity(StrEnum):
    """In which capacity an applicant takes part (条例 14, 细则 66) [A for debtor and spouse].

    A mortgage notice's bank is its ``mortgagee`` and the buyer its ``mortgagor``; a purchase notice is
    applied for by ``buyer`` and ``developer`` (§5.4). ``consenter`` is a holder whose written consent
    the case needs (V14, V15, V17): it signs by confirming the application with its own key [A].
    ``interested`` is an interested party applying for a correction with proof of interest (细则 79).
    """

    MORTGAGOR = "mortgagor"
    MORTGAGEE = "mortgagee"
    DEBTOR = "debtor"
    SPOUSE = "spouse"
    BUYER = "buyer"
    DEVELOPER = "developer"
    TRANSFEROR = "transferor"
    TRANSFEREE = "transferee"
    CONSENTER = "consenter"
    INTERESTED = "interested"


_APP_STATE_VALUES = frozenset(AppState)
_CAPACITY_VALUES = frozenset(Capacity)
"""The allowed stored values, built once rather than on every decode."""

_APP_STATES: dict[str, AppState] = {state.value: state for state in AppState}
_CAPACITIES: dict[str, Capacity] = {capacity.value: capacity for capacity in Capacity}
"""Stored value to member for ``from_stored``: a dict lookup, where ``AppState(value)`` goes through the enum
metaclass's call."""

MAX_SOURCE_TXS = 10_000
"""At most this many transactions in an application's ``source_txs``. No writer bounds the list (each hold and
resume adds one), so ``from_stored`` keeps this one check to read a stored row exactly as ``from_json`` does."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Applicant:
    """A party named in the application, in one capacity.

    ``proxy_notarial_sha256`` is the hash of the notarised power of attorney that lets the filing bank
    confirm for this person (细则 12(3), V7).
    """

    party: PartyRef
    capacity: Capacity
    proxy_notarial_sha256: str | None = None

    def to_json(self) -> dict[str, JSON]:
        """Stored form."""
        return {**self.party.to_json(), "capacity": self.capacity.value,
                "proxy_notarial_sha256": self.proxy_notarial_sha256}

    @staticmethod
    def from_json(data: Record, field: str = "") -> Applicant:
        """Decode and validate."""
        return Applicant(
            party=PartyRef.from_json(data, field),
            capacity=Capacity(fields.choice(data, "capacity", _CAPACITY_VALUES, field)),
            proxy_notarial_sha256=fields.opt_pattern(data, "proxy_notarial_sha256", fields.HEX64, field,
                                                     what="64 lower-case hex characters"),
        )

    @staticmethod
    def from_stored(data: fields.StoredRow) -> Applicant:
        """Rebuild from a stored application without re-validating (``Application.from_stored``)."""
        return Applicant(party=PartyRef.from_stored(data), capacity=_CAPACITIES[data["capacity"]],
                         proxy_notarial_sha256=data.get("proxy_notarial_sha256"))


@dataclass(frozen=True, slots=True, kw_only=True)
class Material:
    """A material held off the ledger, referenced by content hash and size (design §3.11)."""

    type: str
    sha256: str
    size: int
    media_type: str

    def to_json(self) -> dict[str, JSON]:
        """Stored form."""
        return {"type": self.type, "sha256": self.sha256, "size": self.size, "media_type": self.media_type}

    @staticmethod
    def from_json(data: Record, field: str = "") -> Material:
        """Decode the shape; the allowed types, media types and sizes are rule V24."""
        return Material(type=fields.text(data, "type", field, max_len=40), sha256=fields.hex64(data, "sha256", field),
                        size=fields.integer(data, "size", field), media_type=fields.text(data, "media_type", field,
                                                                                          max_len=100))

    @staticmethod
    def from_stored(data: fields.StoredRow) -> Material:
        """Rebuild from a stored application without re-validating (``Application.from_stored``)."""
        return Material(type=data["type"], sha256=data["sha256"], size=data["size"],
                        media_type=data["media_type"])


@dataclass(frozen=True, slots=True, kw_only=True)
class Confirmation:
    """One applicant's signed confirmation: which key, in which tx, against which identity check."""

    party_id: str
    signer: str
    tx_id: str
    at_ms: int
    auth_ref: str | None
    by_proxy: bool = False

    def to_json(self) -> dict[str, JSON]:
        """Stored form."""
        return {"party_id": self.party_id, "signer": self.signer, "tx_id": self.tx_id, "at_ms": self.at_ms,
                "auth_ref": self.auth_ref, "by_proxy": self.by_proxy}

    @staticmethod
    def from_json(data: Record) -> Confirmation:
        """Decode a stored confirmation."""
        return Confirmation(party_id=fields.hex64(data, "party_id"), signer=fields.text(data, "signer", max_len=64),
                            tx_id=fields.text(data, "tx_id", max_len=64), at_ms=fields.integer(data, "at_ms"),
                            auth_ref=fields.opt_text(data, "auth_ref", max_len=64),
                            by_proxy=fields.boolean(data, "by_proxy"))

    @staticmethod
    def from_stored(data: fields.StoredRow) -> Confirmation:
        """Rebuild from a stored application without re-validating (``Application.from_stored``)."""
        return Confirmation(party_id=data["party_id"], signer=data["signer"],
                            tx_id=data["tx_id"], at_ms=data["at_ms"],
                            auth_ref=data.get("auth_ref"), by_proxy=data["by_proxy"])


@dataclass(frozen=True, slots=True, kw_only=True)
class Application:
    """An application and everything its lifecycle recorded.

    ``application_id`` is the id of the filing transaction, so ``content_hash`` (what applicants
    confirm, V7) is the hash of the exact filed payload. ``details`` holds the business type's own
    fields as filed (validated by its type module). ``steps`` maps a step name (``accepted``,
    ``reviewed``, ``recorded``, ``issued``, ``declined``, ``refused``, ``not_accepted``, ``held``) to its
    record: who signed, when, in which tx, and what it decided.
    """

    application_id: str
    business_type: str
    unit_number: str
    applicants: tuple[Applicant, ...]
    materials: tuple[Material, ...]
    details: Record
    state: AppState
    filer: str
    filer_org: str
    filed_ms: int
    confirm_deadline_ms: int
    confirmations: tuple[Confirmation, ...] = ()
    withdrawals: tuple[str, ...] = ()
    priority_key: str | None = None
    held_from: AppState | None = None
    held_ms_total: int = 0
    result: str | None = None
    certificate_number: str | None = None
    steps: Record = field(default_factory=dict)
    source_txs: tuple[str, ...] = ()

    def applicant_ids(self) -> frozenset[str]:
        """Party ids of every applicant."""
        return frozenset(applicant.party.party_id for applicant in self.applicants)

    def confirmed_ids(self) -> frozenset[str]:
        """Party ids that have confirmed."""
        return frozenset(confirmation.party_id for confirmation in self.confirmations)

    def parties(self, capacity: Capacity) -> tuple[Applicant, ...]:
        """Applicants in ``capacity``, in filed order."""
        return tuple(applicant for applicant in self.applicants if applicant.capacity is capacity)

    def party_ids(self, capacity: Capacity) -> frozenset[str]:
        """Party ids of the applicants in ``capacity``."""
        return frozenset(applicant.party.party_id for applicant in self.parties(capacity))

    def to_json(self) -> dict[str, JSON]:
        """Stored form."""
        return {
            "application_id": self.application_id, "business_type": self.business_type,
            "unit_number": self.unit_number, "applicants": [a.to_json() for a in self.applicants],
            "materials": [m.to_json() for m in self.materials], "details": dict(self.details),
            "state": self.state.value, "filer": self.filer, "filer_org": self.filer_org,
            "filed_ms": self.filed_ms, "confirm_deadline_ms": self.confirm_deadline_ms,
            "confirmations": [c.to_json() for c in self.confirmations], "withdrawals": list(self.withdrawals),
            "priority_key": self.priority_key, "held_from": None if self.held_from is None else self.held_from.value,
            "held_ms_total": self.held_ms_total, "result": self.result,
            "certificate_number": self.certificate_number, "steps": dict(self.steps),
            "source_txs": list(self.source_txs),
        }

    @staticmethod
    def from_json(data: Record) -> Application:
        """Decode a stored application."""
        held_from = data.get("held_from")
        return Application(
            application_id=fields.text(data, "application_id", max_len=96),
            business_type=fields.text(data, "business_type", max_len=64),
            unit_number=fields.text(data, "unit_number", max_len=28),
            applicants=tuple(Applicant.from_json(item) for item in fields.objects(data, "applicants")),
            materials=tuple(Material.from_json(item) for item in fields.objects(data, "materials")),
            details=fields.obj(data.get("details"), "details"),
            state=AppState(fields.choice(data, "state", _APP_STATE_VALUES)),
            filer=fields.text(data, "filer", max_len=64),
            filer_org=fields.text(data, "filer_org", max_len=64),
            filed_ms=fields.integer(data, "filed_ms"),
            confirm_deadline_ms=fields.integer(data, "confirm_deadline_ms"),
            confirmations=tuple(Confirmation.from_json(item) for item in fields.objects(data, "confirmations")),
            withdrawals=fields.texts(data, "withdrawals"),
            priority_key=fields.opt_text(data, "priority_key", max_len=64),
            held_from=None if held_from is None else AppState(fields.choice(data, "held_from", _APP_STATE_VALUES)),
            held_ms_total=fields.integer(data, "held_ms_total"),
            result=fields.opt_text(data, "result", max_len=128),
            certificate_number=fields.opt_text(data, "certificate_number", max_len=64),
            steps=fields.obj(data.get("steps"), "steps"),
            source_txs=fields.texts(data, "source_txs", high=MAX_SOURCE_TXS),
        )

    @staticmethod
    def from_stored(data: fields.StoredRow) -> Application:
        """Rebuild an application the contract stored, without re-validating each field.

        For a row read from the ledger's state, never for a command body (``from_json`` is for
        anything that comes from outside). Every such row is the ``to_json`` of an application
        the contract built from a validated filing and block context, so ``from_json`` of it
        succeeds and gives this same value; re-checking 60-odd fields of it cost 23 µs a read,
        several reads a case. A corrupt row is caught elsewhere, not here: each row's hash is
        committed in the state tree whose root every block header carries, and the audit
        (``storage.audit``) replays every block and compares every stored row with the one it
        re-derives. ``details`` and ``steps`` are the row's own dicts, as with ``from_json``.
        """
        source_txs = data["source_txs"]
        if len(source_txs) > MAX_SOURCE_TXS:
            raise fields.FieldError("source_txs", f"must be a list of 0-{MAX_SOURCE_TXS} items")
        held_from = data.get("held_from")
        return Application(
            application_id=data["application_id"],
            business_type=data["business_type"],
            unit_number=data["unit_number"],
            applicants=tuple([Applicant.from_stored(item) for item in data["applicants"]]),
            materials=tuple([Material.from_stored(item) for item in data["materials"]]),
            details=data["details"],
            state=_APP_STATES[data["state"]],
            filer=data["filer"],
            filer_org=data["filer_org"],
            filed_ms=data["filed_ms"],
            confirm_deadline_ms=data["confirm_deadline_ms"],
            confirmations=tuple([Confirmation.from_stored(item) for item in data["confirmations"]]),
            withdrawals=tuple(data["withdrawals"]),
            priority_key=data.get("priority_key"),
            held_from=None if held_from is None else _APP_STATES[held_from],
            held_ms_total=data["held_ms_total"],
            result=data.get("result"),
            certificate_number=data.get("certificate_number"),
            steps=data["steps"],
            source_txs=tuple(source_txs),
        )


def effective_state(application: Application, block_time_ms: int) -> AppState:
    """The state as of ``block_time_ms``, with expiry derived rather than written.

    A FILED application past its confirmation deadline reads as EXPIRED (V25, design §3.14).
    """
    if application.state is AppState.FILED and block_time_ms >= application.confirm_deadline_ms:
        return AppState.EXPIRED
    return application.state
