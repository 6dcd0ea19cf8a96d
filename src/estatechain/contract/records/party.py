"""Parties and record status: the pieces every register record shares."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from estatechain.contract.effects import JSON, Record
from estatechain.contract.records import fields


class Status(StrEnum):
    """QSZT: a register record is current (现势) or historic (历史); history is never deleted."""

    CURRENT = "current"
    HISTORIC = "historic"


@dataclass(frozen=True, slots=True, kw_only=True)
class PartyRef:
    """A person or company as the ledger knows it: never a name or an ID number.

    ``party_id`` is the HMAC of ID type and number under the identity authority's key, computed at the
    edge (design §3.18); ``record_ref`` optionally points to the envelope-encrypted personal record
    held off the shared state (its salted commitment), which entitled orgs open at their own edge.
    """

    party_id: str
    record_ref: str | None = None

    def to_json(self) -> dict[str, JSON]:
        """Stored form."""
        return {"party_id": self.party_id, "record_ref": self.record_ref}

    @staticmethod
    def from_json(data: Record, field: str = "") -> PartyRef:
        """Decode and validate (``field`` prefixes error paths)."""
        return PartyRef(
            party_id=fields.hex64(data, "party_id", field),
            record_ref=fields.opt_pattern(data, "record_ref", fields.HEX64, field, what="64 lower-case hex characters"),
        )

    @staticmethod
    def from_stored(data: fields.StoredRow) -> PartyRef:
        """Rebuild from a stored record without re-validating (see ``Application.from_stored``)."""
        return PartyRef(party_id=data["party_id"], record_ref=data.get("record_ref"))


def parties_json(parties: tuple[PartyRef, ...]) -> list[JSON]:
    """A tuple of parties as a JSON list."""
    return [party.to_json() for party in parties]


def parties_from(data: Record, name: str, field: str = "", *, low: int = 0, high: int = 50) -> tuple[PartyRef, ...]:
    """A list of parties under ``name``."""
    items = fields.objects(data, name, field, low=low, high=high)
    return tuple(PartyRef.from_json(item, f"{field}{name}[{index}].") for index, item in enumerate(items))


def stored_parties(data: fields.StoredRow, name: str) -> tuple[PartyRef, ...]:
    """A stored record's list of parties under ``name``, without re-validating."""
    return tuple([PartyRef.from_stored(item) for item in data[name]])


MAX_TX_IDS = 10_000
"""At most this many ids in a row's ``source_txs``."""


def tx_ids(data: Record, name: str) -> tuple[str, ...]:
    """The ``source_txs`` list: ids of the transactions a row rests on."""
    return fields.texts(data, name, high=MAX_TX_IDS)


def stored_tx_ids(data: Record, name: str) -> tuple[str, ...]:
    """``tx_ids`` of a stored row, checking only the bound no writer enforces (a row can grow one id a step).

    The ``from_stored`` readers skip the field checks a row the contract wrote has passed already; this
    one they keep, so a row past the bound is refused by the contract exactly as ``from_json`` refuses it.
    """
    ids = data[name]
    if not isinstance(ids, list) or len(ids) > MAX_TX_IDS:
        raise fields.FieldError(name, f"must be a list of 0-{MAX_TX_IDS} items")
    return tuple(str(item) for item in ids)
