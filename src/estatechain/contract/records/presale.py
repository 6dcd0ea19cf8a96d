"""Pre-sale contracts (商品房预售合同) signed by the developer and the buyers, filed (备案) on the ledger."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from estatechain.contract.effects import JSON, Record
from estatechain.contract.money import Money
from estatechain.contract.records import fields
from estatechain.contract.records.mortgage import Cancellation
from estatechain.contract.records.party import PartyRef, parties_from, parties_json, tx_ids


class PresaleState(StrEnum):
    """The developer filed it and waits for the buyers' signatures, every party has signed, or it was terminated."""

    AWAITING_BUYERS = "AWAITING_BUYERS"
    SIGNED = "SIGNED"
    TERMINATED = "TERMINATED"


_PRESALE_STATE_VALUES = frozenset(PresaleState)
"""The allowed stored values, built once rather than on every decode."""


@dataclass(frozen=True, slots=True, kw_only=True)
class PresaleContract:
    """A pre-sale contract on one predicted unit: the basis of the purchase notice (domain.md §5.4).

    The developer files it (its filing tx is its signature); each buyer signs the exact content with
    their own key. ``document_sha256`` is the hash of the contract document held off the ledger
    (design §3.11); ``contract_no`` is the developer's number and ``filing_no`` the housing
    authority's filing (备案) number [A: the filing itself happens in the housing system].
    """

    contract_id: str
    unit_number: str
    developer: PartyRef
    buyers: tuple[PartyRef, ...]
    price: Money
    contract_no: str
    filing_no: str
    document_sha256: str
    filed_ms: int
    state: PresaleState = PresaleState.AWAITING_BUYERS
    signed_by: tuple[str, ...] = ()
    source_txs: tuple[str, ...] = ()
    termination: Cancellation | None = None
    """预售合同解除: the recording application (business no), the cause and the time (``rules.presale_terminate``)."""

    def buyer_ids(self) -> frozenset[str]:
        """Party ids of the buyers."""
        return frozenset(party.party_id for party in self.buyers)

    def to_json(self) -> dict[str, JSON]:
        """Stored form."""
        return {
            "contract_id": self.contract_id, "unit_number": self.unit_number, "developer": self.developer.to_json(),
            "buyers": parties_json(self.buyers), "price": self.price.to_json(), "contract_no": self.contract_no,
            "filing_no": self.filing_no, "document_sha256": self.document_sha256, "filed_ms": self.filed_ms,
            "state": self.state.value, "signed_by": list(self.signed_by), "source_txs": list(self.source_txs),
            # only a terminated contract carries the key, so contracts stored before termination existed keep
            # their exact bytes (state hashes of earlier blocks do not change)
            **({"termination": self.termination.to_json()} if self.termination is not None else {}),
        }

    @staticmethod
    def from_json(data: Record, field: str = "") -> PresaleContract:
        """Decode and validate the shape."""
        return PresaleContract(
            contract_id=fields.ident(data, "contract_id", field),
            unit_number=fields.text(data, "unit_number", field, max_len=28),
            developer=PartyRef.from_json(fields.obj(data.get("developer"), f"{field}developer"), f"{field}developer."),
            buyers=parties_from(data, "buyers", field, low=1, high=10),
            price=Money.from_json(fields.obj(data.get("price"), f"{field}price")),
            contract_no=fields.ident(data, "contract_no", field),
            filing_no=fields.ident(data, "filing_no", field),
            document_sha256=fields.hex64(data, "document_sha256", field),
            filed_ms=fields.integer(data, "filed_ms", field),
            state=PresaleState(fields.choice(data, "state", _PRESALE_STATE_VALUES, field)),
            signed_by=fields.texts(data, "signed_by", field, high=10),
            source_txs=tx_ids(data, "source_txs"),
            termination=(None if data.get("termination") is None else
                         Cancellation.from_json(fields.obj(data.get("termination"), f"{field}termination"),
                                                f"{field}termination.")),
        )
