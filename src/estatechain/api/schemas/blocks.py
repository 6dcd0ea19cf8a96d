"""Block bodies."""

from __future__ import annotations

from pydantic import BaseModel, Field

from estatechain.api.schemas.transactions import TxStatusOut
from estatechain.node.service import StoredBlock


class HeaderOut(BaseModel):
    """A block header; its canonical JSON (with ``type``) hashes to the block hash."""

    type: str = "estatechain.block.v1"
    chain_id: str
    height: int
    prev_hash: str
    time_ms: int
    tx_count: int
    txlog_size: int = Field(description="RFC 9162 tree size after this block.")
    txlog_root: str = Field(description="RFC 9162 tree root after this block (hex).")
    state_root: str


class BlockOut(BaseModel):
    """A committed block with its transactions' results in order."""

    hash: str
    header: HeaderOut
    txs: list[TxStatusOut]

    @classmethod
    def of(cls, block: StoredBlock) -> BlockOut:
        """The body for a stored block."""
        return cls(hash=block.block_hash, header=HeaderOut.model_validate(block.header, from_attributes=True),
                   txs=[TxStatusOut.of(tx) for tx in block.txs])
