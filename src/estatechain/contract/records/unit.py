"""The property unit (不动产单元): the register's unit of registration (细则 5, 条例 8)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from estatechain.contract.effects import JSON, Record
from estatechain.contract.records import fields
from estatechain.contract.records.party import tx_ids


class UnitKind(StrEnum):
    """预测户 (pre-sale, predicted) or 户 (surveyed after completion) [S: C1 unit types 032 / 031]."""

    PREDICTED = "predicted"
    SURVEYED = "surveyed"


class UnitUse(StrEnum):
    """Registered use (用途), coarse enough for platform scope checks (V2) [A: codes are ours]."""

    RESIDENTIAL = "residential"
    COMMERCIAL = "commercial"
    OFFICE = "office"
    INDUSTRIAL = "industrial"
    PARKING = "parking"
    OTHER = "other"


_UNIT_KIND_VALUES = frozenset(UnitKind)
_UNIT_USE_VALUES = frozenset(UnitUse)
"""The allowed stored values, built once rather than on every decode."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Unit:
    """A unit's natural state as the register keeps it.

    ``location_code`` is the registry's address code for 坐落; the address text itself lives with the
    encrypted records at the edge [A]. ``area_centi_m2`` is the floor area in 0.01 m² (JZMJ has two
    decimals). ``registry`` names the member org whose jurisdiction the unit is in. A predicted unit is
    replaced by its surveyed ``successor`` at completion; the link is never removed (domain.md §4.1).
    """

    unit_number: str
    kind: UnitKind
    use: UnitUse
    area_centi_m2: int
    location_code: str
    registry: str
    predecessor: str | None = None
    successor: str | None = None
    source_txs: tuple[str, ...] = ()

    @property
    def county_code(self) -> str:
        """QXDM: the first six characters of the unit number."""
        return self.unit_number[:6]

    def to_json(self) -> dict[str, JSON]:
        """Stored form."""
        return {
            "unit_number": self.unit_number,
            "kind": self.kind.value,
            "use": self.use.value,
            "area_centi_m2": self.area_centi_m2,
            "location_code": self.location_code,
            "registry": self.registry,
            "predecessor": self.predecessor,
            "successor": self.successor,
            "source_txs": list(self.source_txs),
        }

    @staticmethod
    def from_json(data: Record, field: str = "") -> Unit:
        """Decode and validate the shape (the unit number's grammar is rule V1, checked by the rules)."""
        return Unit(
            unit_number=fields.text(data, "unit_number", field, max_len=28),
            kind=UnitKind(fields.choice(data, "kind", _UNIT_KIND_VALUES, field)),
            use=UnitUse(fields.choice(data, "use", _UNIT_USE_VALUES, field)),
            area_centi_m2=fields.integer(data, "area_centi_m2", field, low=1, high=10**10),
            location_code=fields.ident(data, "location_code", field),
            registry=fields.text(data, "registry", field, max_len=64),
            predecessor=fields.opt_text(data, "predecessor", field, max_len=28),
            successor=fields.opt_text(data, "successor", field, max_len=28),
            source_txs=tx_ids(data, "source_txs") if "source_txs" in data else (),
        )
