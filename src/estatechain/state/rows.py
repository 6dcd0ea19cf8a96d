"""State rows, their history chain, and what the commitment tree holds for each key.

Every write (``Put`` or the tombstone of a ``Delete``) becomes a new row version named by the tx-log
sequence number of the transaction it rests on; older versions stay as history. Each key's versions
form a hash chain, and the chain head is the value committed in the sparse Merkle tree, so a block's
state root commits to the whole state *with its history* (design §3.15)::

    row_bytes  = canonical({"height": h, "key": k, "seq": s, "type": "estatechain.staterow.v1", "value": v | null})
    chain_head = H(previous chain_head ‖ H(row_bytes))        (previous = 32 zero bytes for a new key)
    key_hash   = H(utf-8 key)                                 (the tree position)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from estatechain import canonical
from estatechain.canonical import JSONValue

ROW_TYPE: Final = "estatechain.staterow.v1"
NO_HISTORY: Final = bytes(32)

HashFn = Callable[[bytes], bytes]


@dataclass(frozen=True, slots=True, kw_only=True)
class StateRow:
    """One version of one key. ``value`` None is a tombstone (the key was deleted here)."""

    key: str
    seq: int
    height: int
    value: dict[str, JSONValue] | None

    def to_bytes(self, *, value_checked: bool = False) -> bytes:
        """Canonical bytes of this version; hashed into the key's chain.

        ``value_checked`` skips re-validating a value the caller has just encoded with
        ``canonical.encode`` (the commit path does, to store it).
        """
        encode = canonical.encode_checked if value_checked else canonical.encode
        return encode(
            {"height": self.height, "key": self.key, "seq": self.seq, "type": ROW_TYPE, "value": self.value}
        )

    def to_bytes_around(self, value_bytes: bytes | None) -> bytes:
        """``to_bytes()``, byte for byte, given ``canonical.encode(self.value)`` (None for a tombstone).

        The commit path has just encoded the value to store it; serialising it a second time inside
        the row is the larger part of a row's cost for a big record. ``value`` is the last key in
        sorted order and the canonical form is compact, so the row is its other fields' object with
        ``,"value":<value bytes>`` spliced in before the closing brace.
        """
        head = canonical.encode_checked({"height": self.height, "key": self.key, "seq": self.seq, "type": ROW_TYPE})
        return b"".join((head[:-1], b',"value":', b"null" if value_bytes is None else value_bytes, b"}"))


def chain_head(h: HashFn, previous: bytes, row_bytes: bytes) -> bytes:
    """Extend a key's history chain by one version."""
    return h(previous + h(row_bytes))


def key_hash(h: HashFn, key: str) -> bytes:
    """The key's position in the commitment tree."""
    return h(key.encode("utf-8"))
