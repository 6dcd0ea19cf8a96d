"""Ownership rights with their co-owners (共有): who may dispose of or burden a unit (V6)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from estatechain.contract.effects import JSON, Record
from estatechain.contract.records import fields
from estatechain.contract.records.party import PartyRef, Status, stored_tx_ids, tx_ids


class CoOwnership(StrEnum):
    """单独所有 sole, 共同共有 joint, 按份共有 by shares (民法典 297-301)."""

    SOLE = "sole"
    JOINT = "joint"
    SHARES = "shares"


_CO_OWNERSHIP_VALUES = frozenset(CoOwnership)
_STATUS_VALUES = frozenset(Status)
"""The allowed stored values, built once rather than on every decode."""

_CO_OWNERSHIPS: dict[str, CoOwnership] = {form.value: form for form in CoOwnership}
_STATUSES: dict[str, Status] = {status.value: status for status in Status}
"""Stored value to member for ``from_stored``: a dict lookup rather than the enum metaclass's call."""


@dataclass(frozen=True, slots=True, kw_only=True)
class CoOwner:
    """A holder and, for 按份共有, its share as an exact fraction ``numerator/denominator``."""

    party: PartyRef
    share_numerator: int = 1
    share_denominator: int = 1

    def to_json(self) -> dict[str, JSON]:
        """Stored form."""
        return {**self.party.to_json(), "share_numerator": self.share_numerator,
                "share_denominator": self.share_denominator}

    @staticmethod
    def from_json(data: Record, field: str = "") -> CoOwner:
        """Decode and validate."""
        return CoOwner(
            party=PartyRef.from_json(data, field),
            share_numerator=fields.integer(data, "share_numerator", field, low=1, high=10**9),
            share_denominator=fields.integer(data, "share_denominator", field, low=1, high=10**9),
        )

    @staticmethod
    def from_stored(data: fields.StoredRow) -> CoOwner:
        """Rebuild from a stored ownership right without re-validating (``OwnershipRight.from_stored``)."""
        return CoOwner(party=PartyRef.from_stored(data), share_numerator=data["share_numerator"],
                       share_denominator=data["share_denominator"])


@dataclass(frozen=True, slots=True, kw_only=True)
class OwnershipRight:
    """The ownership right of a unit and its holders.

    ``agreed_threshold`` is the disposal quorum of a recorded co-owners' agreement (细则 10, 民法典 301
    "unless agreed otherwise") as (numerator, denominator); None means the statutory rule: all joint
    owners, or shares of at least 2/3. ``title_number`` is the 不动产权证书号 (V4).
    """

    right_id: str
    unit_number: str
    title_number: str
    form: CoOwnership
    holders: tuple[CoOwner, ...]
    status: Status = Status.CURRENT
    agreed_threshold: tuple[int, int] | None = None
    successor: str | None = None
    source_txs: tuple[str, ...] = ()

    def to_json(self) -> dict[str, JSON]:
        """Stored form."""
        threshold: JSON = None if self.agreed_threshold is None else list(self.agreed_threshold)
        return {
            "right_id": self.right_id,
            "unit_number": self.unit_number,
            "title_number": self.title_number,
            "form": self.form.value,
            "holders": [holder.to_json() for holder in self.holders],
            "status": self.status.value,
            "agreed_threshold": threshold,
            "successor": self.successor,
            "source_txs": list(self.source_txs),
        }

    @staticmethod
    def from_json(data: Record, field: str = "") -> OwnershipRight:
        """Decode and validate the shape; share arithmetic is checked by ``shares_complete``."""
        holders = fields.objects(data, "holders", field, low=1, high=50)
        threshold = data.get("agreed_threshold")
        agreed: tuple[int, int] | None = None
        if threshold is not None:
            pair = fields.obj({"n": threshold[0], "d": threshold[1]} if isinstance(threshold, list)
                              and len(threshold) == 2 else None, f"{field}agreed_threshold")
            agreed = (fields.integer(pair, "n", f"{field}agreed_threshold.", low=1, high=10**9),
                      fields.integer(pair, "d", f"{field}agreed_threshold.", low=1, high=10**9))
            if agreed[0] > agreed[1]:
                raise fields.FieldError(f"{field}agreed_threshold", "must be a fraction of at most 1")
        return OwnershipRight(
            right_id=fields.ident(data, "right_id", field),
            unit_number=fields.text(data, "unit_number", field, max_len=28),
            title_number=fields.text(data, "title_number", field, max_len=64),
            form=CoOwnership(fields.choice(data, "form", _CO_OWNERSHIP_VALUES, field)),
            holders=tuple(CoOwner.from_json(item, f"{field}holders[{i}].") for i, item in enumerate(holders)),
            status=Status(fields.choice(data, "status", _STATUS_VALUES, field)),
            agreed_threshold=agreed,
            successor=fields.opt_text(data, "successor", field, max_len=96),
            source_txs=tx_ids(data, "source_txs") if "source_txs" in data else (),
        )

    @staticmethod
    def from_stored(data: fields.StoredRow) -> OwnershipRight:
        """Rebuild an ownership right the contract stored, without re-validating each field.

        For a row read from the ledger's state, never for an import payload or a command body
        (``from_json`` is for those). Every stored right is the ``to_json`` of one the contract built
        from a validated import, survey or transfer, so ``from_json`` of it succeeds and gives this
        same value; the mortgage lifecycle reads the unit's right at filing, review and recording
        (8.2 µs a read validated, a right of three co-owners). A corrupt row is caught by the state
        tree's commitment and by the audit, as for ``Application.from_stored``.
        """
        threshold = data.get("agreed_threshold")
        return OwnershipRight(
            right_id=data["right_id"], unit_number=data["unit_number"], title_number=data["title_number"],
            form=_CO_OWNERSHIPS[data["form"]], holders=tuple([CoOwner.from_stored(item) for item in data["holders"]]),
            status=_STATUSES[data["status"]],
            agreed_threshold=None if threshold is None else (threshold[0], threshold[1]),
            successor=data.get("successor"),
            source_txs=stored_tx_ids(data, "source_txs") if "source_txs" in data else (),
        )

    def holder_ids(self) -> frozenset[str]:
        """Party ids of all holders."""
        return frozenset(holder.party.party_id for holder in self.holders)


def shares_complete(right: OwnershipRight) -> bool:
    """Shares of a 按份共有 right add up to exactly 1; other forms carry no shares."""
    if right.form is not CoOwnership.SHARES:
        return True
    numerator, denominator = 0, 1
    for holder in right.holders:
        numerator = numerator * holder.share_denominator + holder.share_numerator * denominator
        denominator *= holder.share_denominator
    return numerator == denominator
