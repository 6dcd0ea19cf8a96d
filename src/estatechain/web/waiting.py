"""The transactions a session has waiting for confirmation, and the forms given back unsigned.

A person may prepare actions in several tabs before signing any. Each confirmation page signs its
own payload, found by its tx id, so one tab never signs, drops or silently replaces another's. A
case holds at most one waiting action: preparing another on the same case replaces the first, and
the tab still showing the first is told so when it submits (nothing is signed) and is sent back to
the case with its text in the form. A cancelled confirmation gives its text back the same way.
Both lists live in the session's row (``AccountStore``) and are short: the oldest entries beyond
``MAX_WAITING`` and ``MAX_RETURNED`` are dropped (a waiting one is then given back as replaced).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, replace
from typing import Final

from estatechain.canonical import JSONValue
from estatechain.web.custody import Pending

MAX_WAITING: Final = 8
"""Confirmations a session may have open at once (tabs); more replace the oldest."""
MAX_RETURNED: Final = 8
"""Forms kept to be given back after a cancel or a replacement."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Returned:
    """A payload that was not signed: the page it came from, and the form as typed."""

    tx_id: str
    back: str
    draft: dict[str, JSONValue] | None
    replaced: bool
    """True: another action prepared later took its place; False: its signer cancelled it."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Waiting:
    """A session's waiting payloads (oldest first) and the forms given back (oldest first)."""

    pending: tuple[Pending, ...] = ()
    returned: tuple[Returned, ...] = ()

    @staticmethod
    def read(text: str | None) -> Waiting:
        """What ``to_json`` stored; a row of the earlier single-payload form reads as that one payload."""
        if not text:
            return Waiting()
        data = json.loads(text)
        if "tx_id" in data:
            return Waiting(pending=(Pending(**data),))
        return Waiting(pending=tuple(Pending(**item) for item in data["pending"]),
                       returned=tuple(Returned(**item) for item in data["returned"]))

    def to_json(self) -> str | None:
        """Stored in the session row (None when nothing waits and nothing is kept)."""
        if not self.pending and not self.returned:
            return None
        return json.dumps({"pending": [asdict(p) for p in self.pending],
                           "returned": [asdict(r) for r in self.returned]}, ensure_ascii=False)

    def find(self, tx_id: str | None) -> Pending | None:
        """The waiting payload ``tx_id``; without one, the newest."""
        if tx_id is None:
            return self.pending[-1] if self.pending else None
        return next((p for p in self.pending if p.tx_id == tx_id), None)

    def given_back(self, tx_id: str) -> Returned | None:
        """The form of ``tx_id`` if it was cancelled or replaced."""
        return next((r for r in self.returned if r.tx_id == tx_id), None)

    def put(self, pending: Pending) -> Waiting:
        """Add ``pending``: it replaces the action waiting on the same case, and the oldest beyond the limit."""
        case = pending.body.get("application_id")
        kept: list[Pending] = []
        displaced: list[Pending] = []
        for other in self.pending:
            same_case = case is not None and other.body.get("application_id") == case
            (displaced if same_case else kept).append(other)
        kept.append(pending)
        displaced.extend(kept[:-MAX_WAITING])
        result = replace(self, pending=tuple(kept[-MAX_WAITING:]))
        for other in displaced:
            result = result.give_back(other, replaced=True)
        return result

    def take(self, tx_id: str) -> tuple[Waiting, Pending | None]:
        """``tx_id``'s payload taken out (it can then be signed once), and what remains."""
        found = self.find(tx_id)
        if found is None:
            return self, None
        return replace(self, pending=tuple(p for p in self.pending if p.tx_id != tx_id)), found

    def give_back(self, pending: Pending, *, replaced: bool) -> Waiting:
        """Keep ``pending``'s form to be given back to its page (it is no longer waiting)."""
        entry = Returned(tx_id=pending.tx_id, back=pending.back, draft=pending.draft, replaced=replaced)
        returned = (*(r for r in self.returned if r.tx_id != pending.tx_id), entry)
        return replace(self, pending=tuple(p for p in self.pending if p.tx_id != pending.tx_id),
                       returned=returned[-MAX_RETURNED:])
