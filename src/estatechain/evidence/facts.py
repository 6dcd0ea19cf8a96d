"""What a verified evidence package establishes: the values the report prints.

Only ``verify.verify_package`` creates these, after every check passed, so a ``Verified`` in hand
means the facts in it are proven by the package alone (see ``docs/evidence.md``).
"""

from __future__ import annotations

from dataclasses import dataclass

from estatechain.canonical import JSONValue
from estatechain.identity.membership import Signer


@dataclass(frozen=True, slots=True, kw_only=True)
class VerifiedTx:
    """One transaction, authenticated, included in its block's tx log and chained to the head."""

    seq: int
    tx_id: str
    height: int
    position: int
    time_ms: int
    command: str
    body: dict[str, JSONValue]
    signer: Signer
    valid: bool
    code: str | None
    context: bool
    attested_by: tuple[str, ...]
    revoked_at: tuple[int, int] | None
    """(height, position) of a later valid revocation of the signer's certificate in this package."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Verified:
    """Everything a verified package proves, ready for the report."""

    chain_id: str
    consortium: str
    subject: dict[str, JSONValue]
    exporter_org: str
    head_height: int
    head_hash: str
    head_time_ms: int
    head_attested_by: tuple[str, ...]
    quorum: int
    headers: int
    txs: tuple[VerifiedTx, ...]
    openings: dict[str, dict[str, JSONValue]]
    """Opened personal records by commitment (``record_ref``)."""
    party_refs: dict[str, str]
    """party id -> commitment of its personal record, as the package's transactions pair them."""
    cert_parties: dict[str, str]
    """signer fingerprint -> party id, from valid ``identity.bind_party`` transactions in the package."""
    org_parties: dict[str, str]
    """party id -> member org, from valid ``identity.bind_party`` transactions in the package."""
