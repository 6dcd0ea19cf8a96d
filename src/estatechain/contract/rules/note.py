"""``note.put``: a keyed, signed note. The minimal business family the ledger foundation needs.

It exercises every path of the pipeline (valid writes, overwrites that turn the old version into
history, and a rule rejection) without the register's rules, which arrive with the register itself.
"""

from __future__ import annotations

import re
from typing import Final

from estatechain.contract.command import Accepted, Command, Outcome, Rejected
from estatechain.contract.context import BlockContext
from estatechain.contract.effects import JSON, Put
from estatechain.contract.rejections import Rejection, RejectionCode
from estatechain.contract.rule import Rule, malformed
from estatechain.contract.view import StateView

_KEY: Final = re.compile(r"^[A-Za-z0-9._:/-]{1,128}$")

WRITER_ROLES: Final = frozenset(
    {
        "registry.intake", "registry.reviewer", "registry.recorder", "registry.issuer", "registry.admin",
        "bank.operator", "bank.approver", "court", "state_organ", "developer", "person",
        "identity.officer", "org.admin", "node",
    }
)
"""Everyone but the regulator's auditors, who may only read (domain.md §2)."""


def note_key(key: str) -> str:
    """The state key of the note named ``key``."""
    return f"note/{key}"


def put_note(view: StateView, ctx: BlockContext, command: Command) -> Outcome:
    """Store ``data`` under ``key``; with ``if_absent`` refuse to overwrite an existing note."""
    key = command.body.get("key")
    data = command.body.get("data")
    if_absent = command.body.get("if_absent", False)
    if not isinstance(key, str) or not _KEY.fullmatch(key):
        return malformed("key", "must be 1-128 characters of A-Z a-z 0-9 . _ : / -")
    if not isinstance(data, dict):
        return malformed("data", "must be a JSON object")
    if not isinstance(if_absent, bool):
        return malformed("if_absent", "must be true or false")
    if if_absent and view.get(note_key(key)) is not None:
        return Rejected(
            rejection=Rejection(
                code=RejectionCode.NOTE_EXISTS,
                message=f"A note named '{key}' already exists; choose another key or drop if_absent.",
                detail={"key": key},
            )
        )
    value: dict[str, JSON] = {"data": data, "by": ctx.signer, "org": ctx.signer_org, "at_ms": ctx.block_time_ms}
    return Accepted(effects=(Put(key=note_key(key), value=value),))


RULES: Final = {"note.put": Rule(roles=WRITER_ROLES, decide=put_note)}
