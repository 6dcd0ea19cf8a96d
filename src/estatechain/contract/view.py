"""The contract's read-only window onto state."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol

from estatechain.contract.effects import Record


class StateView(Protocol):
    """**Protocol:** current state as of the transaction being executed (earlier txs of the block included)."""

    def get(self, key: str) -> Record | None:
        """The current version of ``key``, or None when absent or deleted."""
        ...

    def scan(self, prefix: str) -> Iterator[tuple[str, Record]]:
        """Current rows whose key starts with ``prefix``, in ascending key order."""
        ...
