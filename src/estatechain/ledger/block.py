"""Block headers: what every node signs and every auditor re-derives.

A header commits to the previous block, the block time (the contract's only clock), the number of
transactions, the RFC 9162 tx-log size and root after the block (every tx with its validation result
is a leaf), and the state commitment after the block. The block hash is the digest of the canonical
header bytes. Block 1's ``prev_hash`` is the chain id (the genesis hash).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Final

from estatechain import canonical
from estatechain.crypto.suites import SignatureSuite
from estatechain.errors import IntegrityFault

BLOCK_TYPE: Final = "estatechain.block.v1"


@dataclass(frozen=True, slots=True, kw_only=True)
class BlockHeader:
    """One block's header; hex strings for digests so the JSON is readable by a court's expert."""

    chain_id: str
    height: int
    prev_hash: str
    time_ms: int
    tx_count: int
    txlog_size: int
    txlog_root: str
    state_root: str

    def to_bytes(self) -> bytes:
        """The canonical header bytes that are hashed and stored."""
        return canonical.encode({"type": BLOCK_TYPE, **asdict(self)})

    def hash(self, suite: SignatureSuite) -> str:
        """The block hash: hex digest of the canonical header."""
        return suite.hash(self.to_bytes()).hex()

    @classmethod
    def from_bytes(cls, data: bytes, *, where: str) -> BlockHeader:
        """Parse stored header bytes, which must be canonical and complete.

        Raises:
            IntegrityFault: the bytes are not a canonical header.

        """
        try:
            value = canonical.decode(data, what=where)
        except ValueError as exc:
            raise IntegrityFault(where, f"header is not canonical JSON: {exc}") from None
        fields = {"type", "chain_id", "height", "prev_hash", "time_ms", "tx_count", "txlog_size",
                  "txlog_root", "state_root"}
        if not isinstance(value, dict) or value.keys() != fields or value["type"] != BLOCK_TYPE:
            raise IntegrityFault(where, "header does not have the fields of an estatechain.block.v1 header")
        try:
            header = cls(**{k: v for k, v in value.items() if k != "type"})  # type: ignore[arg-type]
        except TypeError as exc:
            raise IntegrityFault(where, f"header fields have wrong types: {exc}") from None
        for name in ("height", "time_ms", "tx_count", "txlog_size"):
            if not isinstance(getattr(header, name), int):
                raise IntegrityFault(where, f"header field {name} must be an integer")
        return header
