"""Crypto-shredding as a ledger fact (design §3.10, §3.22): ``record.shred`` by the identity authority.

A party's personal record is sealed off the ledger; the ledger holds only its salted commitment.
Erasing it means destroying its wrapped data keys wherever they are kept. Making the order a
transaction puts it in the one sequence every node follows: each node, on committing it, destroys
the keys it holds, and a node that restarts, restores a backup or joins from a snapshot finds the
mark in state and destroys them too. No hash changes: ciphertext and commitment stay as they were.
The identity authority, which vouches for persons' identities, is the one that orders it.
"""

from __future__ import annotations

import re
from typing import Final

from estatechain.contract import keys
from estatechain.contract.command import Accepted, Command, Outcome
from estatechain.contract.context import BlockContext
from estatechain.contract.effects import JSON, Put
from estatechain.contract.rule import Rule, malformed
from estatechain.contract.view import StateView

_PARTY_ID: Final = re.compile(r"^[0-9a-f]{64}$")


def shred(view: StateView, ctx: BlockContext, command: Command) -> Outcome:
    """Mark ``party_id``'s sealed personal record shredded from this block on (idempotent)."""
    del view  # a second order for the same record only records who asked again
    party_id = command.body.get("party_id")
    reason = command.body.get("reason")
    if not isinstance(party_id, str) or not _PARTY_ID.fullmatch(party_id):
        return malformed("party_id", "must be a party id (64 lower-case hex characters)")
    if not isinstance(reason, str) or not 1 <= len(reason) <= 500:
        return malformed("reason", "must be a text of 1-500 characters")
    value: dict[str, JSON] = {"party_id": party_id, "reason": reason, "height": ctx.height, "tx_id": ctx.tx_id,
                              "by": ctx.signer}
    return Accepted(effects=(Put(key=keys.shredded(party_id), value=value),))


RULES: Final = {"record.shred": Rule(roles=frozenset({"identity.officer"}), decide=shred)}
