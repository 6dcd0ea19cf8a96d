"""The command a transaction carries, and the two outcomes of executing it."""

from __future__ import annotations

from dataclasses import dataclass

from estatechain.contract.effects import Effect, Record
from estatechain.contract.rejections import Rejection


@dataclass(frozen=True, slots=True, kw_only=True)
class Command:
    """A command name (``note.put``, ``identity.revoke`` …) and its JSON body.

    ``facts`` holds values the ledger derived deterministically from the signed bytes before
    execution (for example the org and role inside a certificate, which the pure contract cannot
    parse). Every node derives the same facts from the same bytes.
    """

    name: str
    body: Record
    facts: Record


@dataclass(frozen=True, slots=True, kw_only=True)
class Accepted:
    """The transaction is valid; the ledger applies ``effects`` in order."""

    effects: tuple[Effect, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Rejected:
    """The transaction is invalid and changes nothing; ``rejection`` is recorded with it."""

    rejection: Rejection


Outcome = Accepted | Rejected
