"""What the contract knows about the transaction it executes, all of it taken from the ledger."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True, kw_only=True)
class BlockContext:
    """The execution context of one transaction: its block, its position and its authenticated signer.

    ``block_time_ms`` is the block header's time and the contract's only clock. ``signer_*`` fields
    were established by the ledger from the signer's X.509 certificate before execution.
    """

    chain_id: str
    height: int
    block_time_ms: int
    tx_id: str
    tx_seq: int
    signer: str
    signer_org: str
    signer_org_type: str
    signer_role: str
