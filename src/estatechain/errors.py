"""The shell's exception tree.

Rule violations are *values* (``estatechain.contract.rejections.Rejection``), recorded in the block
with the transaction that caused them. Exceptions are for everything else, and they never turn into
an "invalid" mark on a transaction::

    EstatechainError
    ├── InputError (ValueError)     bad input from a caller: refused, nothing stored
    │   └── Refused                 a transaction refused at submission, with a stable code
    ├── NotFound (LookupError)      the thing asked for does not exist
    ├── Conflict                    the request clashes with what is already stored
    ├── IntegrityFault              stored bytes do not check out (tampering, corruption)
    └── Unavailable                 a dependency (disk, orderer) cannot serve now

Every message says what was wrong, where, and how to fix it.
"""

from __future__ import annotations

from collections.abc import Mapping


class EstatechainError(Exception):
    """Root of every fault raised by estatechain's shell code."""


class InputError(EstatechainError, ValueError):
    """Input that cannot be accepted as given; the caller can fix it and retry."""


class Refused(InputError):
    """A transaction refused at submission: never ordered, never stored.

    ``code`` is a stable machine-readable reason (see ``estatechain.ledger.refusals``);
    ``detail`` names the offending field or value.
    """

    def __init__(self, code: str, message: str, detail: Mapping[str, str] | None = None) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.detail: dict[str, str] = dict(detail or {})


class NotFound(EstatechainError, LookupError):
    """The requested object is not stored here."""


class Conflict(EstatechainError):
    """The request clashes with stored data (for example a directory that already holds a ledger)."""


class IntegrityFault(EstatechainError):
    """Stored data fails a check; ``where`` names the first bad place (table, row, column or height)."""

    def __init__(self, where: str, message: str) -> None:
        super().__init__(f"{where}: {message}")
        self.where = where
        self.message = message


class Unavailable(EstatechainError):
    """A dependency cannot serve right now; retrying later may succeed."""
