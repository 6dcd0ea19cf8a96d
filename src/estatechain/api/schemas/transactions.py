"""Transaction submission and status bodies."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from estatechain.node.service import TxStatus


class TxStatusOut(BaseModel):
    """Where a transaction stands."""

    tx_id: str = Field(description="Hex SHA-256 of the canonical signed payload.")
    status: Literal["pending", "committed"]
    result: Literal["valid", "invalid"] | None = Field(None, description="Set once committed.")
    code: str | None = Field(None, description="Why it was marked invalid (stable rule code).")
    message: str | None = None
    detail: dict[str, str] | None = None
    height: int | None = Field(None, description="Block height that holds it.")
    seq: int | None = Field(None, description="Its index in the RFC 9162 tx log.")
    position: int | None = Field(None, description="Its position within the block.")

    @classmethod
    def of(cls, status: TxStatus) -> TxStatusOut:
        """The body for a node status."""
        return cls.model_validate(status, from_attributes=True)


ENVELOPE_SCHEMA = {
    "description": "The signed envelope: RFC 8785 canonical JSON bytes exactly as signed (see docs/api.md).",
    "required": True,
    "content": {"application/json": {"schema": {
        "type": "object",
        "required": ["payload", "signature"],
        "properties": {
            "certificate": {"type": "string", "description": "base64 DER of the signer certificate (optional once "
                            "it is on the ledger)"},
            "payload": {"type": "object", "required": ["body", "chain_id", "command", "created_at", "nonce",
                                                       "signer", "type"]},
            "signature": {"type": "string", "description": "base64 signature over the canonical payload bytes"},
        },
    }}},
}
"""OpenAPI request body of POST /v1/transactions (the route reads raw bytes, so it is declared by hand)."""
