"""Seizures (查封) delivered by courts and other state organs, with their queue (轮候)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from estatechain.contract.effects import JSON, Record
from estatechain.contract.records import fields
from estatechain.contract.records.party import tx_ids


class SeizureKind(StrEnum):
    """CFLX as delivered: 1 查封, 3 预查封 [S: C1].

    2 轮候查封 and 4 轮候预查封 are not delivered as such: a seizure becomes queued when another is
    already in effect or queued on the unit (``queued``), and 5 续封 is a renewal of an existing
    seizure, recorded as a new ``end_date`` on it [A].
    """

    SEIZURE = "1"
    PRE_SEIZURE = "3"


_SEIZURE_KIND_VALUES = frozenset(SeizureKind)
"""The allowed stored values, built once rather than on every decode."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Seizure:
    """One seizure order on one unit.

    ``start_date``..``end_date`` (inclusive, Guangzhou calendar) is the ordered term; for a queued
    seizure the term counts from the day it takes effect (查封规定 26-27, recalled wording). Whether it is in effect
    is *derived* at block time from the queue (``contract.seizure_queue``), never written (design
    §3.14). ``released_ms`` is the block time of the release; ``renewals`` counts 续封.
    """

    seizure_id: str
    unit_number: str
    authority_org: str
    order_no: str
    kind: SeizureKind
    start_date: str
    end_date: str
    queue_order: int
    queued: bool
    delivered_ms: int
    released_ms: int | None = None
    release_order_no: str | None = None
    renewals: int = 0
    source_txs: tuple[str, ...] = ()

    def to_json(self) -> dict[str, JSON]:
        """Stored form."""
        return {
            "seizure_id": self.seizure_id, "unit_number": self.unit_number, "authority_org": self.authority_org,
            "order_no": self.order_no, "kind": self.kind.value, "start_date": self.start_date,
            "end_date": self.end_date, "queue_order": self.queue_order, "queued": self.queued,
            "delivered_ms": self.delivered_ms, "released_ms": self.released_ms,
            "release_order_no": self.release_order_no, "renewals": self.renewals,
            "source_txs": list(self.source_txs),
        }

    @staticmethod
    def from_json(data: Record, field: str = "") -> Seizure:
        """Decode and validate the shape."""
        return Seizure(
            seizure_id=fields.ident(data, "seizure_id", field),
            unit_number=fields.text(data, "unit_number", field, max_len=28),
            authority_org=fields.text(data, "authority_org", field, max_len=64),
            order_no=fields.text(data, "order_no", field, max_len=100),
            kind=SeizureKind(fields.choice(data, "kind", _SEIZURE_KIND_VALUES, field)),
            start_date=fields.text(data, "start_date", field, max_len=10),
            end_date=fields.text(data, "end_date", field, max_len=10),
            queue_order=fields.integer(data, "queue_order", field, low=1, high=999_999),
            queued=fields.boolean(data, "queued", field),
            delivered_ms=fields.integer(data, "delivered_ms", field),
            released_ms=fields.opt_integer(data, "released_ms", field),
            release_order_no=fields.opt_text(data, "release_order_no", field, max_len=100),
            renewals=fields.integer(data, "renewals", field, high=1000),
            source_txs=tx_ids(data, "source_txs"),
        )
