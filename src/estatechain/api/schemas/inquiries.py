"""Bodies of the inquiry endpoints: the signed answer and the owner's list of who looked."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class AnswerOut(BaseModel):
    """A registry-signed answer: verify ``signature`` over ``canonical`` with ``certificate``'s key."""

    answer: dict[str, Any] = Field(description="type estatechain.inquiry-answer.v1, chain_id, inquiry_id, height, "
                                   "block_hash, unit_number, answer (FULL or LIMITED), result …")
    canonical: str = Field(description="The RFC 8785 bytes of ``answer`` as a UTF-8 string: what was signed.")
    signature: str = Field(description="base64 Ed25519 signature of the registry's node over ``canonical``.")
    certificate: str = Field(description="base64 DER of the registry node's certificate (role node).")


class WhoLookedOut(BaseModel):
    """Every inquiry of one unit in ledger order, granted or refused."""

    unit_number: str
    inquiries: list[dict[str, Any]]
