"""What a verified evidence package establishes: the values the report prints.

Only ``verify.verify_package`` creates these, after every check passed, so a ``Verified`` in hand
means the facts in it are proven by the package alone (see ``docs/evidence.md``).
"""

from __future__ import annotations

from dataclasses import dataclass

from estatechain.canonical import JSONValue
from estatechain.identity.membership import Signer


@dataclass(frozen=True, slots=True, kw_only=True)
class Binding:
    """What the identity authority bound a subject to, and where it first said so.

    The place matters because a binding says whom a key acts for *from then on*: a transaction
    signed before the first binding was not, at signing time, known to act for anyone.
    """

    value: str
    """The party id (of a certificate) or the member org id (of an organisation party)."""
    height: int
    position: int

    def before(self, height: int, position: int) -> bool:
        """Whether the binding was committed before the transaction at (``height``, ``position``)."""
        return (self.height, self.position) < (height, position)


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
    cert_parties: dict[str, Binding]
    """signer fingerprint -> its party, from the identity authority's valid ``identity.bind_party`` in the package."""
    org_parties: dict[str, Binding]
    """party id -> its member org, from the identity authority's valid ``identity.bind_party`` in the package."""
