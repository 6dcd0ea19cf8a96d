"""The advance-notice page of the register: the ``YGDJ`` table (domain.md §4.4) plus our additions."""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

from estatechain.contract.effects import JSON, Record
from estatechain.contract.money import Money
from estatechain.contract.records import fields
from estatechain.contract.records.mortgage import Cancellation, DateRange, Method
from estatechain.contract.records.party import PartyRef, Status, parties_from, parties_json, tx_ids


class NoticeKind(IntEnum):
    """YGDJZL: 1 预售商品房买卖, 2 其它不动产买卖, 3 预售商品房抵押权, 4 其它不动产抵押权 [S: C1]."""

    PRESALE_PURCHASE = 1
    OTHER_PURCHASE = 2
    PRESALE_MORTGAGE = 3
    OTHER_MORTGAGE = 4


PURCHASE_KINDS = frozenset({NoticeKind.PRESALE_PURCHASE, NoticeKind.OTHER_PURCHASE})
MORTGAGE_KINDS = frozenset({NoticeKind.PRESALE_MORTGAGE, NoticeKind.OTHER_MORTGAGE})


def _opt_json(value: DateRange | Money | Cancellation | None) -> JSON:
    return None if value is None else value.to_json()


_STATUS_VALUES = frozenset(Status)
"""The allowed stored values, built once rather than on every decode."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Notice:
    """One advance notice (预告登记) on one unit.

    Field ↔ YGDJ: ``unit_number`` BDCDYH, ``business_no`` YWH, ``obligors`` YWR (the developer for a
    purchase notice, the buyer for a mortgage notice), ``kind`` YGDJZL, ``registration_type`` DJLX,
    ``cause`` DJYY, ``amount`` QDJG (price or secured principal / ceiling: one column for both),
    ``certificate_number`` BDCDJZMH, ``registry`` DJJG, ``recorder`` DBR, ``registered_ms`` DJSJ,
    ``status`` QSZT, ``cancellation`` ZXYGYWH/ZXYGYY/ZXSJ; holders are the QLR rows. Location, use,
    floor and area are read from the unit record. Mortgage notices add ``method`` (DYFS), the debt
    term, the determination period, ``scope`` (DBFW) and ``transfer_restricted`` [S: C2, 担保解释 43].
    Ours [A]: ``priority_key`` (kept through change, transfer, correction and conversion: 担保解释 52),
    ``linked_purchase_notice``, ``presale_contract``, ``lapse_clock_start_ms`` (§5.9: lapse is derived
    from it when read), and the history links ``successor`` / ``previous`` (change, transfer,
    correction), ``corrects`` and ``converted_to``.
    """

    notice_id: str
    unit_number: str
    business_no: str
    kind: NoticeKind
    holders: tuple[PartyRef, ...]
    obligors: tuple[PartyRef, ...]
    amount: Money
    priority_key: str
    registry: str
    registered_ms: int
    registration_type: str = "700"
    cause: str = "PRESALE"
    method: Method | None = None
    debt_term: DateRange | None = None
    determination_period: DateRange | None = None
    scope: str | None = None
    contract_numbers: tuple[str, ...] = ()
    transfer_restricted: bool = False
    transfer_restriction_text: str | None = None
    linked_purchase_notice: str | None = None
    presale_contract: str | None = None
    lapse_clock_start_ms: int | None = None
    certificate_number: str | None = None
    recorder: str | None = None
    status: Status = Status.CURRENT
    cancellation: Cancellation | None = None
    successor: str | None = None
    previous: str | None = None
    corrects: str | None = None
    converted_to: str | None = None
    source_txs: tuple[str, ...] = ()

    def holder_ids(self) -> frozenset[str]:
        """Party ids of the right holders (buyers or banks)."""
        return frozenset(party.party_id for party in self.holders)

    def obligor_ids(self) -> frozenset[str]:
        """Party ids of the obligors (developer or buyers)."""
        return frozenset(party.party_id for party in self.obligors)

    def to_json(self) -> dict[str, JSON]:
        """Stored form."""
        return {
            "notice_id": self.notice_id, "unit_number": self.unit_number, "business_no": self.business_no,
            "kind": int(self.kind), "holders": parties_json(self.holders), "obligors": parties_json(self.obligors),
            "amount": self.amount.to_json(), "priority_key": self.priority_key, "registry": self.registry,
            "registered_ms": self.registered_ms, "registration_type": self.registration_type, "cause": self.cause,
            "method": None if self.method is None else int(self.method), "debt_term": _opt_json(self.debt_term),
            "determination_period": _opt_json(self.determination_period), "scope": self.scope,
            "contract_numbers": list(self.contract_numbers), "transfer_restricted": self.transfer_restricted,
            "transfer_restriction_text": self.transfer_restriction_text,
            "linked_purchase_notice": self.linked_purchase_notice, "presale_contract": self.presale_contract,
            "lapse_clock_start_ms": self.lapse_clock_start_ms, "certificate_number": self.certificate_number,
            "recorder": self.recorder, "status": self.status.value, "cancellation": _opt_json(self.cancellation),
            "successor": self.successor, "previous": self.previous, "corrects": self.corrects,
            "converted_to": self.converted_to,
            "source_txs": list(self.source_txs),
        }

    @staticmethod
    def from_json(data: Record, field: str = "") -> Notice:
        """Decode and validate the shape (amount and date rules V9-V11 are checked by the rules)."""
        cancellation, method = data.get("cancellation"), data.get("method")
        return Notice(
            notice_id=fields.ident(data, "notice_id", field),
            unit_number=fields.text(data, "unit_number", field, max_len=28),
            business_no=fields.ident(data, "business_no", field),
            kind=NoticeKind(fields.integer(data, "kind", field, low=1, high=4)),
            holders=parties_from(data, "holders", field, low=1),
            obligors=parties_from(data, "obligors", field, low=1),
            amount=Money.from_json(fields.obj(data.get("amount"), f"{field}amount")),
            priority_key=fields.text(data, "priority_key", field, max_len=64),
            registry=fields.text(data, "registry", field, max_len=64),
            registered_ms=fields.integer(data, "registered_ms", field),
            registration_type=fields.text(data, "registration_type", field, max_len=3),
            cause=fields.text(data, "cause", field, max_len=32),
            method=None if method is None else Method(fields.integer(data, "method", field, low=1, high=2)),
            debt_term=DateRange.from_json(data.get("debt_term"), f"{field}debt_term"),
            determination_period=DateRange.from_json(data.get("determination_period"), f"{field}determination_period"),
            scope=fields.opt_text(data, "scope", field),
            contract_numbers=fields.texts(data, "contract_numbers", field, high=10),
            transfer_restricted=fields.boolean(data, "transfer_restricted", field),
            transfer_restriction_text=fields.opt_text(data, "transfer_restriction_text", field),
            linked_purchase_notice=fields.opt_text(data, "linked_purchase_notice", field, max_len=96),
            presale_contract=fields.opt_text(data, "presale_contract", field, max_len=96),
            lapse_clock_start_ms=fields.opt_integer(data, "lapse_clock_start_ms", field),
            certificate_number=fields.opt_text(data, "certificate_number", field, max_len=64),
            recorder=fields.opt_text(data, "recorder", field, max_len=64),
            status=Status(fields.choice(data, "status", _STATUS_VALUES, field)),
            cancellation=None if cancellation is None
            else Cancellation.from_json(fields.obj(cancellation, f"{field}cancellation")),
            successor=fields.opt_text(data, "successor", field, max_len=128),
            previous=fields.opt_text(data, "previous", field, max_len=128),
            corrects=fields.opt_text(data, "corrects", field, max_len=128),
            converted_to=fields.opt_text(data, "converted_to", field, max_len=128),
            source_txs=tx_ids(data, "source_txs"),
        )
