"""The contract's read-only window onto state."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Protocol

from estatechain.contract.effects import Delete, Effect, Put, Record


class StateView(Protocol):
    """**Protocol:** current state as of the transaction being executed (earlier txs of the block included)."""

    def get(self, key: str) -> Record | None:
        """The current version of ``key``, or None when absent or deleted."""
        ...

    def scan(self, prefix: str) -> Iterator[tuple[str, Record]]:
        """Current rows whose key starts with ``prefix``, in ascending key order."""
        ...


class OverlayView:
    """``base`` with ``effects`` applied on top, without writing: what the register would read after them.

    A combined case (转移 + 抵押, ``rules.transfer_mortgage``) checks and records its second part
    against the register as its first part leaves it, inside one transaction. ``scan`` merges the two
    layers and yields in ascending key order like the store, so no order depends on insertion.
    """

    def __init__(self, base: StateView, effects: Iterable[Effect]) -> None:
        self._base = base
        self._rows: dict[str, Record | None] = {}
        for effect in effects:
            if isinstance(effect, Put):
                self._rows[effect.key] = effect.value
            elif isinstance(effect, Delete):
                self._rows[effect.key] = None

    def get(self, key: str) -> Record | None:
        """The overlaid value of ``key``, else the base's."""
        if key in self._rows:
            return self._rows[key]
        return self._base.get(key)

    def scan(self, prefix: str) -> Iterator[tuple[str, Record]]:
        """Rows under ``prefix`` of both layers, the overlay winning, in ascending key order."""
        merged = dict(self._base.scan(prefix))
        for key in sorted(self._rows):
            if key.startswith(prefix):
                value = self._rows[key]
                if value is None:
                    merged.pop(key, None)
                else:
                    merged[key] = value
        for key in sorted(merged):
            yield key, merged[key]
