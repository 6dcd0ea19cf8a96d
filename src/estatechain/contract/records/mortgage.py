"""The mortgage entry of the register: the ``DYAQ`` table (domain.md §4.3) plus our additions."""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

from estatechain.contract.effects import JSON, Record
from estatechain.contract.money import Money
from estatechain.contract.records import fields
from estatechain.contract.records.party import (
    PartyRef,
    Status,
    parties_from,
    parties_json,
    stored_parties,
    stored_tx_ids,
    tx_ids,
)


class Method(IntEnum):
    """DYFS: 1 一般抵押 (ordinary), 2 最高额抵押 (maximum amount) [S: C1]."""

    ORDINARY = 1
    MAXIMUM = 2


_STATUS_VALUES = frozenset(Status)
"""The allowed stored values, built once rather than on every decode."""

_STATUSES: dict[str, Status] = {status.value: status for status in Status}
_METHODS: dict[int, Method] = {method.value: method for method in Method}
"""Stored value to member for ``from_stored`` (a dict lookup rather than the enum metaclass's call)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class DateRange:
    """An inclusive range of calendar dates ``YYYY-MM-DD`` (债务履行期限, 债权确定期间)."""

    start: str
    end: str

    def to_json(self) -> dict[str, JSON]:
        """Stored form."""
        return {"start": self.start, "end": self.end}

    @staticmethod
    def from_json(data: JSON, field: str) -> DateRange | None:
        """Decode an optional range; the calendar validity is rule V11, checked by the rules."""
        if data is None:
            return None
        record = fields.obj(data, field)
        return DateRange(start=fields.text(record, "start", f"{field}.", max_len=10),
                         end=fields.text(record, "end", f"{field}.", max_len=10))

    @staticmethod
    def from_stored(data: fields.StoredRow | None) -> DateRange | None:
        """Rebuild a stored optional range without re-validating (see ``Mortgage.from_stored``)."""
        return None if data is None else DateRange(start=data["start"], end=data["end"])


@dataclass(frozen=True, slots=True, kw_only=True)
class Cancellation:
    """ZXDYYWH / ZXDYYY / ZXSJ: the cancelling business, its cause, and the recording time."""

    business_no: str
    reason: str
    time_ms: int

    def to_json(self) -> dict[str, JSON]:
        """Stored form."""
        return {"business_no": self.business_no, "reason": self.reason, "time_ms": self.time_ms}

    @staticmethod
    def from_json(data: Record, field: str = "cancellation.") -> Cancellation:
        """Decode a stored cancellation."""
        return Cancellation(business_no=fields.text(data, "business_no", field),
                            reason=fields.text(data, "reason", field),
                            time_ms=fields.integer(data, "time_ms", field))

    @staticmethod
    def from_stored(data: fields.StoredRow) -> Cancellation:
        """Rebuild a stored cancellation without re-validating (see ``Mortgage.from_stored``)."""
        return Cancellation(business_no=data["business_no"], reason=data["reason"], time_ms=data["time_ms"])


@dataclass(frozen=True, slots=True, kw_only=True)
class Mortgage:
    """One mortgage right (抵押权) on one unit.

    Field ↔ DYAQ: ``unit_number`` BDCDYH, ``business_no`` YWH, ``property_type`` DYBDCLX, ``mortgagors``
    DYR, ``method`` DYFS, ``registration_type`` DJLX, ``cause`` DJYY, ``secured_principal`` BDBZZQSE,
    ``debt_term`` ZWLXQSSJ/ZWLXJSSJ, ``max_claim_basis`` ZGZQQDSS, ``max_claim`` ZGZQSE, ``cancellation``
    ZXDYYWH/ZXDYYY/ZXSJ, ``certificate_number`` BDCDJZMH, ``county_code`` QXDM, ``registry`` DJJG,
    ``recorder`` DBR, ``registered_ms`` DJSJ, ``notes`` FJ, ``status`` QSZT; mortgagees are the QLR rows
    in order (SXH). Ours [A]: ``rank`` (1 = first), ``priority_key`` (the order rank follows, 细则 67),
    ``scope`` (担保范围), ``determination_period``, ``derived_from`` (a converted 预抵押),
    ``transfer_restricted`` with its text (民法典 406, 担保解释 43), ``source_txs``.
    """

    mortgage_id: str
    unit_number: str
    business_no: str
    mortgagors: tuple[PartyRef, ...]
    mortgagees: tuple[PartyRef, ...]
    method: Method
    scope: str
    contract_numbers: tuple[str, ...]
    transfer_restricted: bool
    rank: int
    priority_key: str
    county_code: str
    registry: str
    registered_ms: int
    debtor: PartyRef | None = None
    property_type: int = 2
    registration_type: str = "100"
    cause: str = "LOAN"
    secured_principal: Money | None = None
    max_claim: Money | None = None
    max_claim_basis: str | None = None
    debt_term: DateRange | None = None
    determination_period: DateRange | None = None
    transfer_restriction_text: str | None = None
    certificate_number: str | None = None
    recorder: str | None = None
    notes: str | None = None
    status: Status = Status.CURRENT
    cancellation: Cancellation | None = None
    derived_from: str | None = None
    source_txs: tuple[str, ...] = ()

    def mortgagee_ids(self) -> frozenset[str]:
        """Party ids of the mortgagees."""
        return frozenset(party.party_id for party in self.mortgagees)

    def to_json(self) -> dict[str, JSON]:
        """Stored form."""
        return {
            "mortgage_id": self.mortgage_id, "unit_number": self.unit_number, "business_no": self.business_no,
            "mortgagors": parties_json(self.mortgagors), "mortgagees": parties_json(self.mortgagees),
            "debtor": None if self.debtor is None else self.debtor.to_json(),
            "method": int(self.method), "property_type": self.property_type,
            "registration_type": self.registration_type, "cause": self.cause, "scope": self.scope,
            "contract_numbers": list(self.contract_numbers), "transfer_restricted": self.transfer_restricted,
            "transfer_restriction_text": self.transfer_restriction_text,
            "secured_principal": None if self.secured_principal is None else self.secured_principal.to_json(),
            "max_claim": None if self.max_claim is None else self.max_claim.to_json(),
            "max_claim_basis": self.max_claim_basis,
            "debt_term": None if self.debt_term is None else self.debt_term.to_json(),
            "determination_period": None if self.determination_period is None
            else self.determination_period.to_json(),
            "rank": self.rank, "priority_key": self.priority_key, "county_code": self.county_code,
            "registry": self.registry, "registered_ms": self.registered_ms,
            "certificate_number": self.certificate_number, "recorder": self.recorder, "notes": self.notes,
            "status": self.status.value,
            "cancellation": None if self.cancellation is None else self.cancellation.to_json(),
            "derived_from": self.derived_from, "source_txs": list(self.source_txs),
        }

    @staticmethod
    def from_json(data: Record, field: str = "") -> Mortgage:
        """Decode and validate the shape (amount and date rules V9-V11 are checked by the rules)."""
        debtor, principal, ceiling = data.get("debtor"), data.get("secured_principal"), data.get("max_claim")
        cancellation = data.get("cancellation")
        return Mortgage(
            mortgage_id=fields.ident(data, "mortgage_id", field),
            unit_number=fields.text(data, "unit_number", field, max_len=28),
            business_no=fields.ident(data, "business_no", field),
            mortgagors=parties_from(data, "mortgagors", field, low=1),
            mortgagees=parties_from(data, "mortgagees", field, low=1),
            debtor=None if debtor is None
            else PartyRef.from_json(fields.obj(debtor, f"{field}debtor"), f"{field}debtor."),
            method=Method(fields.integer(data, "method", field, low=1, high=2)),
            property_type=fields.integer(data, "property_type", field, low=1, high=7),
            registration_type=fields.text(data, "registration_type", field, max_len=3),
            cause=fields.text(data, "cause", field, max_len=32),
            scope=fields.text(data, "scope", field),
            contract_numbers=fields.texts(data, "contract_numbers", field, high=10),
            transfer_restricted=fields.boolean(data, "transfer_restricted", field),
            transfer_restriction_text=fields.opt_text(data, "transfer_restriction_text", field),
            secured_principal=None if principal is None
            else Money.from_json(fields.obj(principal, "secured_principal")),
            max_claim=None if ceiling is None else Money.from_json(fields.obj(ceiling, "max_claim")),
            max_claim_basis=fields.opt_text(data, "max_claim_basis", field),
            debt_term=DateRange.from_json(data.get("debt_term"), f"{field}debt_term"),
            determination_period=DateRange.from_json(data.get("determination_period"), f"{field}determination_period"),
            rank=fields.integer(data, "rank", field, low=1, high=999),
            priority_key=fields.text(data, "priority_key", field, max_len=64),
            county_code=fields.text(data, "county_code", field, max_len=6),
            registry=fields.text(data, "registry", field, max_len=64),
            registered_ms=fields.integer(data, "registered_ms", field),
            certificate_number=fields.opt_text(data, "certificate_number", field, max_len=64),
            recorder=fields.opt_text(data, "recorder", field, max_len=64),
            notes=fields.opt_text(data, "notes", field),
            status=Status(fields.choice(data, "status", _STATUS_VALUES, field)),
            cancellation=None if cancellation is None
            else Cancellation.from_json(fields.obj(cancellation, "cancellation")),
            derived_from=fields.opt_text(data, "derived_from", field, max_len=96),
            source_txs=tx_ids(data, "source_txs"),
        )

    @staticmethod
    def from_stored(data: fields.StoredRow) -> Mortgage:
        """Rebuild a mortgage the contract stored, without re-validating each field.

        For a row read from the ledger's state, never for an import payload or a command body
        (``from_json`` is for those). Every stored mortgage is the ``to_json`` of one the contract
        built from a validated filing or import, so ``from_json`` of it succeeds and gives this
        same value; a recording reads each of the unit's mortgages several times (V16, ranking).
        A corrupt row is caught by the state tree's commitment and by the audit, as for
        ``Application.from_stored``.
        """
        debtor, principal, ceiling = data.get("debtor"), data.get("secured_principal"), data.get("max_claim")
        cancellation = data.get("cancellation")
        return Mortgage(
            mortgage_id=data["mortgage_id"], unit_number=data["unit_number"], business_no=data["business_no"],
            mortgagors=stored_parties(data, "mortgagors"), mortgagees=stored_parties(data, "mortgagees"),
            debtor=None if debtor is None else PartyRef.from_stored(debtor),
            method=_METHODS[data["method"]], property_type=data["property_type"],
            registration_type=data["registration_type"], cause=data["cause"], scope=data["scope"],
            contract_numbers=tuple(data["contract_numbers"]), transfer_restricted=data["transfer_restricted"],
            transfer_restriction_text=data.get("transfer_restriction_text"),
            secured_principal=None if principal is None else Money.from_json(principal),
            max_claim=None if ceiling is None else Money.from_json(ceiling),
            max_claim_basis=data.get("max_claim_basis"),
            debt_term=DateRange.from_stored(data.get("debt_term")),
            determination_period=DateRange.from_stored(data.get("determination_period")),
            rank=data["rank"], priority_key=data["priority_key"], county_code=data["county_code"],
            registry=data["registry"], registered_ms=data["registered_ms"],
            certificate_number=data.get("certificate_number"), recorder=data.get("recorder"), notes=data.get("notes"),
            status=_STATUSES[data["status"]],
            cancellation=None if cancellation is None else Cancellation.from_stored(cancellation),
            derived_from=data.get("derived_from"), source_txs=stored_tx_ids(data, "source_txs"),
        )
