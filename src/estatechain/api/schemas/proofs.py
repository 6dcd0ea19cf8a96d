"""RFC 9162 proof bodies (hashes in lower-case hex)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from estatechain.node.service import ConsistencyProof, InclusionProof


class InclusionProofOut(BaseModel):
    """Audit path of one leaf; check it with RFC 9162 §2.1.3.2 against a block header's size and root."""

    seq: int
    size: int
    tx_id: str
    leaf_hash: str
    root: str
    proof: list[str] = Field(description="Sibling hashes, leaf to root.")

    @classmethod
    def of(cls, proof: InclusionProof) -> InclusionProofOut:
        """The body for a proof."""
        return cls(seq=proof.seq, size=proof.size, tx_id=proof.tx_id, leaf_hash=proof.leaf_hash.hex(),
                   root=proof.root.hex(), proof=[p.hex() for p in proof.path])


class ConsistencyProofOut(BaseModel):
    """Proof that the older tree is a prefix of the newer (RFC 9162 §2.1.4.2)."""

    old_size: int
    size: int
    old_root: str
    root: str
    proof: list[str]

    @classmethod
    def of(cls, proof: ConsistencyProof) -> ConsistencyProofOut:
        """The body for a proof."""
        return cls(old_size=proof.old_size, size=proof.size, old_root=proof.old_root.hex(), root=proof.root.hex(),
                   proof=[p.hex() for p in proof.path])
