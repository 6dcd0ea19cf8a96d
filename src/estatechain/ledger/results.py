"""A transaction's validation result and the tx-log leaf that commits to it (design §3.5).

Leaf bytes are canonical JSON, so an outsider can recompute every leaf from the stored envelope::

    {"envelope_hash": "<hex digest of the envelope bytes>", "height": 7, "position": 3,
     "result": {"status": "valid"} | {"code": "NOTE_EXISTS", "status": "invalid"},
     "tx_id": "<hex>", "type": "estatechain.leaf.v1"}
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

from estatechain import canonical
from estatechain.canonical import JSONValue
from estatechain.ledger.envelope import SignedTx

LEAF_TYPE: Final = "estatechain.leaf.v1"


@dataclass(frozen=True, slots=True, kw_only=True)
class TxResult:
    """Valid, or invalid with a stable code, an English message and a detail map."""

    valid: bool
    code: str | None = None
    message: str | None = None
    detail: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, JSONValue]:
        """The result as committed in the leaf (code only: messages may be reworded, codes never)."""
        if self.valid:
            return {"status": "valid"}
        return {"code": self.code, "status": "invalid"}


VALID: Final = TxResult(valid=True)


def leaf_bytes(*, tx_id: str, envelope_hash: str, height: int, position: int, result: TxResult) -> bytes:
    """The canonical bytes of one tx-log leaf."""
    return canonical.encode_checked(  # hex strings, integers and a rule code: always in the subset
        {
            "envelope_hash": envelope_hash,
            "height": height,
            "position": position,
            "result": result.to_json(),
            "tx_id": tx_id,
            "type": LEAF_TYPE,
        }
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class ExecutedTx:
    """An ordered transaction with its result, ready to be committed in a block."""

    tx: SignedTx
    result: TxResult
