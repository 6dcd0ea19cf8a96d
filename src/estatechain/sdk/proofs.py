"""Blocks and RFC 9162 proofs, and ``verify_inclusion``, which trusts nothing the node says about hashes.

Kept together because each read here is checked locally: a block's header is hashed again, and an
inclusion is verified from the envelope bytes the caller sent, the committed result, the header's
tree size and root and the audit path.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from estatechain.crypto.merkle import leaf_hash, verify_inclusion
from estatechain.ledger.block import BlockHeader
from estatechain.ledger.results import TxResult, leaf_bytes
from estatechain.sdk.errors import ProofInvalid
from estatechain.sdk.transactions import TxStatus, read_status
from estatechain.sdk.transport import Transport


@dataclass(frozen=True, slots=True, kw_only=True)
class Block:
    """A committed block; ``header.hash`` has been checked against ``hash``."""

    hash: str
    header: BlockHeader
    txs: tuple[TxStatus, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class VerifiedInclusion:
    """What ``verify_inclusion`` established: this leaf is in the tree that ``header`` commits to."""

    tx_id: str
    seq: int
    header: BlockHeader
    block_hash: str
    proof: tuple[bytes, ...]


class ProofMethods(Transport):
    """Read blocks and proofs, and verify a transaction's inclusion locally (a part of ``Client``)."""

    async def block(self, height: int | str) -> Block:
        """The block at ``height`` (or ``"head"``), its hash checked against its header.

        Raises:
            ProofInvalid: the header does not hash to the hash the node gave.

        """
        data = await self._send("GET", f"/v1/blocks/{height}")
        fields = {k: v for k, v in data["header"].items() if k != "type"}
        header = BlockHeader(**fields)
        if header.hash(self._suite) != data["hash"]:
            raise ProofInvalid(f"block {height}: header does not hash to {data['hash']}")
        return Block(hash=data["hash"], header=header, txs=tuple(read_status(t) for t in data["txs"]))

    async def head(self) -> Block:
        """The last committed block."""
        return await self.block("head")

    async def inclusion_proof(self, seq: int, size: int | None = None) -> dict[str, Any]:
        """The node's RFC 9162 inclusion proof of tx-log leaf ``seq`` (unverified)."""
        data: dict[str, Any] = await self._send("GET", f"/v1/proofs/inclusion/{seq}",
                                                params={"size": size} if size is not None else None)
        return data

    async def consistency_proof(self, old_size: int, size: int | None = None) -> dict[str, Any]:
        """The node's RFC 9162 consistency proof between two tree sizes (unverified)."""
        params: dict[str, int | str] = {"from": old_size}
        if size is not None:
            params["to"] = size
        data: dict[str, Any] = await self._send("GET", "/v1/proofs/consistency", params=params)
        return data

    async def verify_inclusion(self, envelope: bytes, status: TxStatus) -> VerifiedInclusion:
        """Check locally that ``envelope``, with its committed result, is in the log its block commits to.

        Raises:
            ProofInvalid: the header, the recomputed leaf or the audit path does not check out.

        """
        if not status.committed or status.height is None or status.seq is None or status.position is None:
            raise ProofInvalid(f"transaction {status.tx_id} is not committed yet")
        block = await self.block(status.height)
        h = self._suite.hash
        leaf = leaf_bytes(tx_id=status.tx_id, envelope_hash=h(envelope).hex(), height=status.height,
                          position=status.position,
                          result=TxResult(valid=status.result == "valid", code=status.code))
        data = await self.inclusion_proof(status.seq, block.header.txlog_size)
        proof = tuple(bytes.fromhex(p) for p in data["proof"])
        if not verify_inclusion(h, leaf_hash(h, leaf), status.seq, block.header.txlog_size, proof,
                                bytes.fromhex(block.header.txlog_root)):
            raise ProofInvalid(f"the inclusion proof of {status.tx_id} does not verify against block "
                               f"{status.height}'s tx-log root")
        return VerifiedInclusion(tx_id=status.tx_id, seq=status.seq, header=block.header, block_hash=block.hash,
                                 proof=proof)
